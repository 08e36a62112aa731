// Which shard of a campaign this process runs: --shard i/N, or the environment of a test
// runner, a Slurm array or a Kubernetes Indexed Job (harness/campaign/campaign.h ResolveShard).
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "harness/campaign/campaign.h"

namespace qdiff {

namespace {

int64_t ParseShardNumber(const std::string& text, const std::string& what) {
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < 0) {
    throw std::invalid_argument(what + ": expected a non-negative integer, got '" + text + "'");
  }
  return v;
}

std::pair<int64_t, int64_t> CheckedShard(int64_t index, int64_t count, const std::string& what) {
  if (count < 1 || index < 0 || index >= count) {
    throw std::invalid_argument(what + ": shard " + std::to_string(index) + " of " +
                                std::to_string(count) + " does not exist");
  }
  return {index, count};
}

}  // namespace

std::pair<int64_t, int64_t> ResolveShard(const std::string& flag) {
  if (!flag.empty()) {
    const size_t slash = flag.find('/');
    if (slash == std::string::npos) throw std::invalid_argument("--shard: expected i/N, got '" + flag + "'");
    return CheckedShard(ParseShardNumber(flag.substr(0, slash), "--shard"),
                        ParseShardNumber(flag.substr(slash + 1), "--shard"), "--shard");
  }
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  if (!env("GTEST_TOTAL_SHARDS").empty()) {
    return CheckedShard(ParseShardNumber(env("GTEST_SHARD_INDEX"), "GTEST_SHARD_INDEX"),
                        ParseShardNumber(env("GTEST_TOTAL_SHARDS"), "GTEST_TOTAL_SHARDS"),
                        "GTEST_SHARD_INDEX");
  }
  if (!env("SLURM_ARRAY_TASK_COUNT").empty()) {
    const int64_t min = env("SLURM_ARRAY_TASK_MIN").empty()
                            ? 0 : ParseShardNumber(env("SLURM_ARRAY_TASK_MIN"), "SLURM_ARRAY_TASK_MIN");
    return CheckedShard(ParseShardNumber(env("SLURM_ARRAY_TASK_ID"), "SLURM_ARRAY_TASK_ID") - min,
                        ParseShardNumber(env("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_COUNT"),
                        "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN");
  }
  if (!env("JOB_COMPLETION_INDEX").empty()) {
    if (env("QDIFF_TOTAL_SHARDS").empty()) {
      throw std::invalid_argument("JOB_COMPLETION_INDEX is set: set QDIFF_TOTAL_SHARDS to the Job's completions");
    }
    return CheckedShard(ParseShardNumber(env("JOB_COMPLETION_INDEX"), "JOB_COMPLETION_INDEX"),
                        ParseShardNumber(env("QDIFF_TOTAL_SHARDS"), "QDIFF_TOTAL_SHARDS"),
                        "JOB_COMPLETION_INDEX");
  }
  return {0, 1};
}

}  // namespace qdiff
