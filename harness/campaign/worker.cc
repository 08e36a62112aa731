// The worker side of a campaign (`qdiff __worker`): reads "case I" and "shrink I PREV SIGNATURE"
// lines on stdin and answers one line each on stdout (harness/campaign/campaign.h).
#include <malloc.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/campaign/answer.h"
#include "harness/campaign/campaign.h"
#include "harness/campaign/case_index.h"
#include "harness/campaign/fresh_process.h"
#include "harness/case/case_json.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/shrink.h"
#include "harness/torch/libtorch_runner.h"
#include "reports/example_rows.h"

namespace qdiff {

using nlohmann::json;

namespace {

std::map<int64_t, std::string> FaultsFromEnvironment() {
  std::map<int64_t, std::string> faults;
  const char* env = std::getenv("QDIFF_FAULT_INJECTION");
  if (!env) return faults;
  std::stringstream s(env);
  std::string item;
  while (std::getline(s, item, ',')) {
    const size_t colon = item.find(':');
    if (colon != std::string::npos) faults[std::stoll(item.substr(colon + 1))] = item.substr(0, colon);
  }
  return faults;
}

void InjectFault(const std::string& kind) {
  if (kind == "segfault") std::raise(SIGSEGV);
  if (kind == "abort") std::abort();
  if (kind == "hang") std::this_thread::sleep_for(std::chrono::hours(24));
  if (kind == "throw") throw std::runtime_error("injected exception");  // escapes: terminate
}

// A finding: shrunk (same op, engine, scheme and class), saved over the raw case file, and
// confirmed by `qdiff replay` in a fresh process; if it does not reproduce alone, the case that
// ran before it in the same worker is saved beside it.
json ShrinkAndConfirm(const CampaignSettings& s, const KernelColumn* kernel, int64_t index,
                      int64_t previous, const FailureSignature& sig) {
  Case c = CaseForIndex(s, index, nullptr);
  // The raw case is already saved as findings/<id>.json; the shrunk one gets a file per
  // signature, since a case can fail on several engines and schemes.
  const std::string file =
      s.out_dir + "/findings/" + c.id + "." + EngineName(sig.engine) + "." + sig.SchemeName() +
      // a kernel can fail one case in several layers and classes: one file each
      (sig.scheme ? "" : std::string(".") + sig.op + "." + DiffClassName(sig.cls)) + ".shrunk.json";
  c.description = (sig.scheme ? "unexplained difference (" : "kernel differs from LibTorch (") +
                  sig.ToString() + ") found by a campaign" +
                  (sig.scheme ? "" : "; replay it with --kernel " + s.kernel_path);
  ShrinkStats stats;
  const Case shrunk = ShrinkFinding(c, sig, &stats, kernel);
  SaveCaseFile(shrunk, file);
  const std::optional<ElementRef> element = FindingElement(shrunk, sig, kernel);  // for explain
  bool state_dependent = false;
  std::vector<std::string> replay = {"replay", "--quiet", file};
  if (!sig.scheme) replay.insert(replay.end(), {"--kernel", s.kernel_path});
  const int replay_exit = s.confirm_in_fresh_process ? RunSelfInFreshProcess(replay) : 1;
  if (replay_exit == -1) {
    std::cerr << "qdiff: could not start a fresh process to confirm " << file << "\n";
  } else if (replay_exit != 1) {
    state_dependent = true;
    if (previous >= 0) {
      Case before = CaseForIndex(s, previous, nullptr);
      before.description = "ran just before " + c.id + ", whose finding did not reproduce alone";
      SaveCaseFile(before, s.out_dir + "/findings/" + c.id + ".previous.json");
    }
  }
  return json{{"type", "finding"}, {"index", index}, {"signature", sig.ToString()},
              {"file", file}, {"size_before", stats.elements_before},
              {"size_after", stats.elements_after}, {"attempts", stats.attempts},
              {"seconds", stats.seconds}, {"state_dependent", state_dependent},
              {"element", element ? element->index : -1}, {"layer", element ? element->layer : -1}};
}

}  // namespace

std::vector<std::string> WorkerArguments(const CampaignSettings& s) {
  const std::string engines = EngineList(s.engines, ",");
  std::string schemes, ops;
  for (Scheme id : s.schemes) schemes += (schemes.empty() ? "" : ",") + std::string(GetScheme(id).name);
  for (OpKind op : s.generator.ops) ops += (ops.empty() ? "" : ",") + std::string(OpKindName(op));
  std::vector<std::string> args = {"__worker", "--seed", std::to_string(s.seed), "--engines", engines,
                                   "--schemes", schemes, "--ops", ops, "--out", s.out_dir,
                                   "--real-sizes", std::to_string(s.generator.real_size_percent),
                                   "--max-example-rows", std::to_string(s.max_example_rows),
                                   "--all-rows-cases", std::to_string(s.all_rows_cases)};
  if (!s.injected_defect.empty()) {
    args.push_back("--inject-defect");
    args.push_back(s.injected_defect);
  }
  if (!s.kernel_path.empty()) {
    args.push_back("--kernel");
    args.push_back(s.kernel_path);
  }
  return args;
}

int RunCampaignWorker(const CampaignSettings& s) {
  // Free memory at the top of a heap goes back to the system once it exceeds 2 MiB: that bounds
  // what a worker keeps resident beyond its live data over hours of cases. With main's 64 MiB
  // the main heap kept up to 64 MiB of free top, rising with the largest case seen so far
  // (+18 MiB between case 1,000 and 20,000), and the heap of the ONEDNN thread's arena was never
  // trimmed (glibc trims a thread arena's heap only when its free top reaches the threshold, and
  // such a heap is at most 64 MiB). With 8 MiB a worker still grew 7% after case 1,000 in 10
  // minutes, with 2 MiB 1% (malloc_info of running workers; figures in the README). The cost is
  // page faults in cases whose buffers exceed 2 MiB: none measurable in a default campaign's
  // cases/s, 30-50% on layers of millions of elements, which is why only workers trim this soon.
  mallopt(M_TRIM_THRESHOLD, 2 << 20);
  InitLibTorch();
  // The kernel runs inside this worker: a crash or hang in it is this case's crashed/timeout row.
  const std::unique_ptr<KernelColumn> kernel = LoadKernelOrThrow(s.kernel_path);
  const KernelColumn* k = kernel.get();
  const std::map<int64_t, std::string> faults = FaultsFromEnvironment();
  int64_t previous = -1;
  WorkerRows worker_rows(s.all_rows_cases, s.max_example_rows);  // the run keeps a subset of what it sends
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    int64_t index = -1;
    in >> cmd >> index;
    if (cmd == "quit") break;
    std::string out;
    if (cmd == "case") {
      if (auto f = faults.find(index); f != faults.end()) InjectFault(f->second);
      const auto t0 = std::chrono::steady_clock::now();
      CaseAnswer a;
      a.index = index;
      a.previous = previous;
      SharedValues<int64_t> first_layer_acc;
      const Case c = CaseForIndex(s, index, &a.corners, &first_layer_acc);
      const CaseRuns runs = RunCase(c, s.engines, s.schemes, k, std::move(first_layer_acc));
      CaseEvaluation ev = EvaluateRuns(c, runs);
      ExampleRowBound case_bound(s.max_example_rows);  // findings are read from the case's own examples
      KeepExampleRows(&ev.discrepancies, &case_bound);
      for (const FailureSignature& sig : AllFindings(ev)) a.signatures.push_back(sig.ToString());
      a.rows = worker_rows.Pack(index, std::move(ev.case_rows), std::move(ev.discrepancies));
      if (!a.signatures.empty()) {  // every failing case is saved at once, as found
        Case saved = c;
        saved.description = "unexplained difference(s) " + json(a.signatures).dump() + " found by a campaign";
        SaveCaseFile(saved, s.out_dir + "/findings/" + c.id + ".json");
      }
      a.size = CaseSize(c);
      a.libtorch_s = runs.libtorch_seconds;
      a.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      a.rss_kb = RssKb();
      out = FormatCaseAnswer(a);
      previous = index;
    } else if (cmd == "shrink") {
      int64_t prev = -1;
      std::string signature;
      in >> prev >> signature;
      const std::optional<FailureSignature> sig = FailureSignature::Parse(signature);
      if (!sig) continue;
      for (int64_t key : {index, int64_t{-1}}) {  // -1: every shrink
        if (auto f = faults.find(key); f != faults.end() && f->second == "hang_shrink") InjectFault("hang");
      }
      out = ShrinkAndConfirm(s, k, index, prev, *sig).dump();
    } else {
      continue;
    }
    std::cout << out << "\n" << std::flush;
  }
  // Every answer is written and every file closed: the worker ends without LibTorch's static
  // destructors, which took ~90 ms while the coordinator waited for it.
  std::_Exit(0);
}

}  // namespace qdiff
