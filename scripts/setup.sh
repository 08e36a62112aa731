#!/usr/bin/env bash
# Installs the Debian 12 packages qdiff needs, then configures and builds into build/.
# Run as root (or with sudo) on a fresh Debian 12 machine. Nothing is downloaded besides
# Debian packages. Extra CMake arguments pass through, e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch
# to build against an official LibTorch (which brings the FBGEMM and X86 engines).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache git
  libtorch-dev librapidcheck-dev libgtest-dev libgmock-dev libfccp-dev
  nlohmann-json3-dev libcli11-dev libbenchmark-dev
  python3-torch  # runs the scripts of `qdiff reproduce` in the tests (/usr/bin/python3)
  python3-torchvision  # builds the real-model fixtures of `qdiff model` (scripts/fixtures/)
  chromium       # renders report.html in the tests (tests/e2e/html_render_test.cc)
  libxml2-utils  # xmllint checks junit.xml against a JUnit schema (tests/e2e/junit_layout_test.cc)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build build -j "$(nproc)"
