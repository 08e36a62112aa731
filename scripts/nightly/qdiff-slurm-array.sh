#!/bin/bash
# Slurm array: 8 shards of one campaign. qdiff reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
# (and SLURM_ARRAY_TASK_MIN) itself. Submit with: sbatch scripts/nightly/qdiff-slurm-array.sh
# then, after the array finishes: build/qdiff merge out/slurm-shard-* --out out/slurm-merged
#SBATCH --job-name=qdiff-nightly
#SBATCH --array=0-7
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=out/slurm-%A_%a.log
# Runs ./build/qdiff of this checkout, or with QDIFF_IMAGE set (the Containerfile's image,
# registry.example.com/qdiff:latest) the image's qdiff under podman, writing to ./out.
set -euo pipefail
args=(run --cases 200000 --seed 20261126 --out "out/slurm-shard-${SLURM_ARRAY_TASK_ID}")
if [ -n "${QDIFF_IMAGE:-}" ]; then
  mkdir -p out
  podman run --rm -v "$PWD/out:/opt/qdiff/out" -e SLURM_ARRAY_TASK_ID -e SLURM_ARRAY_TASK_COUNT \
    -e SLURM_ARRAY_TASK_MIN "$QDIFF_IMAGE" "${args[@]}"
else
  ./build/qdiff "${args[@]}"
fi
