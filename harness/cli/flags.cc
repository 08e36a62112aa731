#include "harness/cli/flags.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "harness/torch/libtorch_runner.h"
#include "reports/csv.h"  // Printable

namespace qdiff {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string AllowedOps() {
  std::vector<std::string> names;
  for (OpKind op : kAllOpKinds) names.emplace_back(OpKindName(op));
  return Join(names);
}

std::string AllowedSchemes() {
  std::vector<std::string> names;
  for (const SchemeDef* s : AllSchemes()) names.emplace_back(s->name);
  return Join(names);
}

std::string AllowedEngines() {
  const std::vector<Engine> available = AvailableEngines();
  std::vector<Engine> missing;
  for (Engine e : kAllEngines) {
    if (std::find(available.begin(), available.end(), e) == available.end()) missing.push_back(e);
  }
  return EngineList(available) + (missing.empty() ? "" : " (not in this LibTorch: " + EngineList(missing) + ")");
}

namespace {

// "  --flag: v1, v2, ..." wrapped at kHelpWidth columns, continuation lines indented under v1.
constexpr size_t kHelpWidth = 100;
std::string WrapEntry(const std::string& flag, const std::string& values) {
  const std::string head = "  " + flag + ": ";
  std::string out = head, line_sep = "\n" + std::string(head.size(), ' ');
  size_t column = head.size();
  std::stringstream words(values);
  for (std::string word; std::getline(words >> std::ws, word, ',');) {
    const std::string item = (column > head.size() ? " " : "") + word + ",";
    if (column > head.size() && column + item.size() > kHelpWidth) {
      out += line_sep;
      column = head.size();
      out += word + ",";
      column += word.size() + 1;
    } else {
      out += item;
      column += item.size();
    }
  }
  if (out.back() == ',') out.pop_back();
  return out + "\n";
}

}  // namespace

void SetHelpFooter(CLI::App* command, std::function<HelpValues()> values, std::string example) {
  command->footer([values = std::move(values), example = std::move(example)] {
    std::string text;
    const HelpValues v = values ? values() : HelpValues{};
    if (!v.empty()) text += "Allowed values:\n";
    for (const auto& [flag, names] : v) text += WrapEntry(flag, names);
    return text + "Example:\n  " + example;
  });
}

std::vector<Engine> ParseEngines(const std::string& flag) {
  const std::vector<Engine> available = AvailableEngines();
  if (flag.empty()) return available;
  std::vector<Engine> engines;
  for (const std::string& name : SplitList(flag)) {
    const std::optional<Engine> e = ParseEngine(name);
    if (!e || std::find(available.begin(), available.end(), *e) == available.end()) {
      throw UsageError("--engines: unknown or unavailable engine '" + name + "' (available: " +
                       EngineList(available) + ")");
    }
    engines.push_back(*e);
  }
  if (engines.empty()) throw UsageError("--engines: empty list");
  return engines;
}

std::vector<Scheme> ParseSchemes(const std::string& flag) {
  std::vector<Scheme> schemes;
  if (flag.empty()) {
    for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
    return schemes;
  }
  for (const std::string& name : SplitList(flag)) {
    std::optional<Scheme> s = ParseScheme(name);
    if (!s) throw UsageError("--schemes: unknown scheme '" + name + "' (known: " + AllowedSchemes() + ")");
    schemes.push_back(*s);
  }
  if (schemes.empty()) throw UsageError("--schemes: empty list");
  return schemes;
}

std::vector<OpKind> ParseOps(const std::string& flag) {
  if (flag.empty()) return std::vector<OpKind>(std::begin(kAllOpKinds), std::end(kAllOpKinds));
  std::vector<OpKind> ops;
  for (const std::string& name : SplitList(flag)) {
    if (std::optional<OpKind> op = ParseOpKind(name)) {
      ops.push_back(*op);
    } else {
      throw UsageError("--ops: unknown op '" + name + "' (known: " + AllowedOps() + ")");
    }
  }
  if (ops.empty()) throw UsageError("--ops: empty list");
  return ops;
}

int64_t ParseInteger(const std::string& text, const std::string& flag, int64_t lo, int64_t hi) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) {
    throw UsageError(flag + ": expected an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got '" + Printable(text) + "'");
  }
  return v;
}

double ParseNumber(const std::string& text, const std::string& flag, double lo, double hi,
                   bool open_lo) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v) || v > hi ||
      (open_lo ? v <= lo : v < lo)) {
    char range[64];
    std::snprintf(range, sizeof range, "%s%g, %g]", open_lo ? "(" : "[", lo, hi);
    throw UsageError(flag + ": expected a finite number in " + range + ", got '" + Printable(text) + "'");
  }
  return v;
}

// --jobs capped by the cores and by the memory a worker may need (a case at the memory limit plus
// LibTorch and the worker's own state, about 512 MiB); says so on stderr when it caps.
namespace {

// MemAvailable of /proc/meminfo (free memory plus what the kernel can reclaim, such as the page
// cache); the physical memory if it cannot be read.
int64_t AvailableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    in.ignore(64, '\n');
  }
  return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

}  // namespace

int64_t CapJobs(int64_t jobs, const CaseLimits& limits) {
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t available = AvailableMemoryBytes();
  const int64_t per_worker = limits.MaxBytes() + (int64_t{512} << 20);
  const int64_t by_memory = std::max<int64_t>(1, available / per_worker);
  const int64_t cap = std::min(cores, by_memory);
  if (jobs <= cap) return jobs;
  std::cerr << "qdiff: --jobs " << jobs << " capped to " << cap << " (" << cores
            << " cores; available memory holds " << by_memory << " workers of "
            << per_worker / (1 << 20) << " MiB)\n";
  return cap;
}

bool SamePath(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

namespace {

char g_timeout_message[1024];

void ExitOnTimeout(int) {
  const ssize_t ignored = write(STDERR_FILENO, g_timeout_message, std::strlen(g_timeout_message));
  (void)ignored;
  _exit(1);
}

}  // namespace

void ArmTimeout(double seconds, const std::string& what) {
  std::snprintf(g_timeout_message, sizeof g_timeout_message,
                "qdiff: %s: timeout: still running after %g s (--case-timeout)\n",
                Printable(what).c_str(), seconds);
  std::signal(SIGALRM, ExitOnTimeout);
  itimerval t{};
  t.it_value.tv_sec = static_cast<time_t>(seconds);
  t.it_value.tv_usec = static_cast<suseconds_t>((seconds - std::floor(seconds)) * 1e6);
  if (t.it_value.tv_sec == 0 && t.it_value.tv_usec == 0) t.it_value.tv_usec = 1;
  setitimer(ITIMER_REAL, &t, nullptr);
}

void CaseFlags::AddTo(CLI::App* command, const char* timeout_help) {
  command->add_option("case", path, "case JSON file")->required();
  command->add_option("--case-timeout", case_timeout, timeout_help);
  command->add_option("--max-case-gib", max_gib, "memory a case may need, GiB (default 2)");
  command->add_option("--max-case-work", max_work, "multiply-adds a case may need (default 2^30)");
}

void CaseFlags::AddKernelTo(CLI::App* command) {
  command->add_option("--kernel", kernel,
                      "your kernel plugin (.so): compared as one more column (README, kernel plugins)");
}

CaseLimits CaseFlags::Limits() const {
  try {
    return MakeCaseLimits(ParseNumber(max_gib, "--max-case-gib", 0, 1 << 20),
                          ParseNumber(max_work, "--max-case-work", 1, 1e18, false));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

double CaseFlags::TimeoutSeconds() const {
  return ParseNumber(case_timeout, "--case-timeout", 0, kMaxCaseTimeoutSeconds);
}

uint64_t ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seed);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError("--seed: expected an integer in [0, 2^64), got '" + Printable(text) + "'");
  }
  return seed;
}

}  // namespace qdiff
