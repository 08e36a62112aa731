#include "harness/evaluation/shrink.h"

#include "harness/evaluation/engines.h"
#include "reports/findings.h"  // OpFamily

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace qdiff {

namespace {

// Restricts dimension `dim` of a row-major tensor to [start, start + len); per-channel
// parameters along that dimension are restricted with it.
QTensor SliceDim(const QTensor& t, size_t dim, int64_t start, int64_t len) {
  QTensor out = t;
  out.shape[dim] = len;
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < dim; ++d) outer *= t.shape[d];
  for (size_t d = dim + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  out.values.clear();
  for (int64_t o = 0; o < outer; ++o) {
    const auto begin = t.values.begin() + (o * t.shape[dim] + start) * inner;
    out.values.insert(out.values.end(), begin, begin + len * inner);
  }
  if (t.per_channel() && static_cast<size_t>(t.axis) == dim) {
    out.scales.assign(t.scales.begin() + start, t.scales.begin() + start + len);
    out.zero_points.assign(t.zero_points.begin() + start, t.zero_points.begin() + start + len);
  }
  return out;
}

// The model's input sliced along `dim`, and with it every extra graph input (the other operands
// of add, mul, cat from `qdiff model`), so that shapes keep matching; along a cat's own dimension
// each operand has its own length and the extra inputs stay whole.
void SliceModelInputs(Model* m, const Model& from, size_t dim, int64_t start, int64_t len) {
  m->input = SliceDim(from.input, dim, start, len);
  for (const Layer& l : from.layers) {
    if (l.op == OpKind::kCat && static_cast<size_t>(l.cat_dim) == dim) return;
  }
  for (size_t k = 0; k < from.extra_inputs.size(); ++k) {
    const QTensor& e = from.extra_inputs[k];
    if (dim < e.shape.size() && e.shape[dim] == from.input.shape[dim]) {
      m->extra_inputs[k] = SliceDim(e, dim, start, len);
    }
  }
}

// Sub-ranges (start, length) of a dimension of size n > 1 to try, smallest first: the first
// element, the last element, then the first and second halves.
std::vector<std::pair<int64_t, int64_t>> Halves(int64_t n) {
  if (n <= 1) return {};
  std::vector<std::pair<int64_t, int64_t>> h = {{0, 1}, {n - 1, 1}};
  if (n > 2) {
    h.push_back({0, n / 2});
    h.push_back({n / 2, n - n / 2});
  }
  return h;
}

// Sets values in [begin, end) of `values` to `v`; true if anything changed.
bool Fill(std::vector<int32_t>* values, size_t begin, size_t end, int32_t v) {
  bool changed = false;
  for (size_t i = begin; i < end; ++i) {
    changed |= (*values)[i] != v;
    (*values)[i] = v;
  }
  return changed;
}

// Candidates that simplify values: halves, then quarters, ... down to single elements (as long as
// the tensor is small), each set to the "nothing" value (zero point for x, 0 for w).
void ValueCandidates(const Case& c, bool input, std::vector<Case>* out) {
  const Layer& l = c.model.layers[0];
  const std::vector<int32_t>& values = input ? c.model.input.values : l.weight.values;
  const int32_t nothing = input ? c.model.input.zero_points[0] : 0;
  const size_t n = values.size();
  for (size_t chunk = std::max<size_t>(n / 2, 1);; chunk /= 2) {
    if (n / chunk > 256) break;  // keep the candidate count bounded
    for (size_t begin = 0; begin < n; begin += chunk) {
      Case s = c;
      std::vector<int32_t>* v = input ? &s.model.input.values : &s.model.layers[0].weight.values;
      if (Fill(v, begin, std::min(n, begin + chunk), nothing)) out->push_back(std::move(s));
    }
    if (chunk == 1) break;
  }
}

}  // namespace

int64_t CaseSize(const Case& c) {
  int64_t size = c.model.input.NumElements();
  const std::vector<std::vector<int64_t>> nodes = NodeShapes(c.model);
  for (size_t l = 0; l < nodes.size(); ++l) {
    size += ShapeElements(nodes[l]);
    if (IsGemmOp(c.model.layers[l].op)) size += c.model.layers[l].weight.NumElements();
  }
  return size;
}

std::string FailureSignature::SchemeName() const {
  return scheme ? GetScheme(*scheme).name : KernelColumnName();
}

std::string FailureSignature::ToString() const {
  return op + "/" + EngineName(engine) + "/" + SchemeName() + "/" + DiffClassName(cls);
}

std::optional<FailureSignature> FailureSignature::Parse(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream s(text);
  std::string p;
  while (std::getline(s, p, '/')) parts.push_back(p);
  if (parts.size() != 4) return std::nullopt;
  const std::optional<Engine> engine = ParseEngine(parts[1]);
  const std::optional<Scheme> scheme = ParseScheme(parts[2]);
  const std::optional<DiffClass> cls = ParseDiffClass(parts[3]);
  if (!engine || !(scheme || parts[2] == KernelColumnName()) || !cls) return std::nullopt;
  return FailureSignature{parts[0], *engine, scheme, *cls};
}

namespace {

// Unexplained elements of any column, and every difference of a kernel on its target engine.
bool IsFindingElement(const CaseEvaluation& ev, const DiscrepancyRow& d) {
  if (d.cls == DiffClass::kUnexplained) return true;
  return d.scheme == KernelColumnName() && ev.kernel_target && d.engine == EngineName(*ev.kernel_target);
}

// The signature of discrepancy `d` reported under `scheme`, given the case row of that engine and
// scheme. Rows carry the names the evaluation wrote from typed values, so they always parse.
std::optional<FailureSignature> SignatureOf(const CaseRow& r, const DiscrepancyRow& d,
                                            const std::string& scheme) {
  const std::optional<Engine> engine = ParseEngine(d.engine);
  const std::optional<Scheme> s = ParseScheme(scheme);
  if (!engine || !(s || scheme == KernelColumnName())) return std::nullopt;
  // Named by the layer it gets wrong: a scheme's by the op family ("conv2d" for "conv2d_relu"), a
  // kernel's by the layer op itself.
  (void)r;
  return FailureSignature{s ? OpFamily(d.layer_op) : d.layer_op, *engine, s, d.cls};
}

}  // namespace

std::vector<FailureSignature> AllFindings(const CaseEvaluation& ev) {
  // An unexplained element of an op without weights means the engine's recipe for that op missed
  // LibTorch, whatever the scheme: it is one finding, under the engine's own scheme when that
  // scheme shows it (not one per scheme).
  auto own_scheme_shows = [&](const DiscrepancyRow& d) {
    const std::string own = EngineOwnSchemeName(d.engine);
    return std::any_of(ev.discrepancies.begin(), ev.discrepancies.end(), [&](const DiscrepancyRow& o) {
      return o.engine == d.engine && o.scheme == own && o.layer == d.layer && o.cls == d.cls;
    });
  };
  std::vector<FailureSignature> out;
  for (const DiscrepancyRow& d : ev.discrepancies) {
    if (!IsFindingElement(ev, d)) continue;
    const bool op_layer = d.recipe != d.scheme;
    const std::string scheme = op_layer && own_scheme_shows(d) ? EngineOwnSchemeName(d.engine) : d.scheme;
    for (const CaseRow& r : ev.case_rows) {
      if (r.engine != d.engine || r.scheme != scheme) continue;
      const std::optional<FailureSignature> sig = SignatureOf(r, d, scheme);
      if (sig && std::find(out.begin(), out.end(), *sig) == out.end()) out.push_back(*sig);
      break;
    }
  }
  return out;
}

std::optional<FailureSignature> FirstFinding(const CaseEvaluation& ev) {
  for (const DiscrepancyRow& d : ev.discrepancies) {
    if (!IsFindingElement(ev, d)) continue;
    for (const CaseRow& r : ev.case_rows) {
      if (r.engine == d.engine && r.scheme == d.scheme) {
        if (std::optional<FailureSignature> sig = SignatureOf(r, d, d.scheme)) return sig;
      }
    }
  }
  return std::nullopt;
}

bool FailsTheSameWay(const Case& c, const FailureSignature& sig, const KernelColumn* kernel) {
  return FindingElement(c, sig, kernel).has_value();
}

std::optional<ElementRef> FindingElement(const Case& c, const FailureSignature& sig,
                                         const KernelColumn* kernel) {
  if (!sig.scheme && !kernel) return std::nullopt;
  // The kernel column reads its inputs from a pipeline trace: run it beside `exact`.
  const CaseEvaluation ev =
      EvaluateRuns(c, RunCase(c, {sig.engine}, {sig.scheme.value_or(Scheme::kExact)},
                              sig.scheme ? nullptr : kernel));
  // A finding keeps the op of the layer it gets wrong (a scheme's: its family) and may lose the
  // layers after it.
  const std::string column = sig.SchemeName();
  for (const DiscrepancyRow& d : ev.discrepancies) {
    if (d.scheme == column && d.cls == sig.cls && (sig.scheme ? OpFamily(d.layer_op) : d.layer_op) == sig.op) {
      return ElementRef{d.layer, d.index};
    }
  }
  return std::nullopt;
}

std::vector<Case> ShrinkCandidates(const Case& c) {
  std::vector<Case> out;
  const Model& m = c.model;
  const Layer& l = m.layers[0];
  const bool single = m.layers.size() == 1;
  const bool conv = IsConvOp(l.op);
  const bool transposed = IsTransposedConv(l.op);
  const bool gemm = IsGemmOp(l.op);
  // Weight dimensions of the output and input channels (conv_transpose2d: [C, OC/g, k...]).
  const size_t w_out_dim = transposed ? 1 : 0, w_in_dim = transposed ? 0 : 1;
  auto slice_bias = [](Layer& sl, const Layer& from, int64_t start, int64_t len) {
    if (sl.bias) sl.bias = std::vector<float>(from.bias->begin() + start, from.bias->begin() + start + len);
  };

  // Fewer layers.
  if (!single) {
    Case s = c;
    s.model.layers.pop_back();
    out.push_back(std::move(s));
  }
  // Smaller batch.
  for (auto [start, len] : Halves(m.input.shape[0])) {
    Case s = c;
    SliceModelInputs(&s.model, m, 0, start, len);
    out.push_back(std::move(s));
  }
  // One group of a grouped conv, as a dense conv.
  if (conv && l.conv.groups > 1 && single) {
    const int64_t groups = l.conv.groups;
    const int64_t icpg = m.input.shape[1] / groups, ocpg = LayerOutChannels(l) / groups;
    for (int64_t g = 0; g < groups; ++g) {
      Case s = c;
      Layer& sl = s.model.layers[0];
      SliceModelInputs(&s.model, m, 1, g * icpg, icpg);
      // conv: the group's output channels (weight dim 0); transposed: its input channels
      sl.weight = transposed ? SliceDim(l.weight, 0, g * icpg, icpg)
                             : SliceDim(l.weight, 0, g * ocpg, ocpg);
      slice_bias(sl, l, g * ocpg, ocpg);
      sl.conv.groups = 1;
      out.push_back(std::move(s));
    }
  }
  // Fewer output channels (the last layer's only, so later layers keep their input).
  if (gemm && single && (!conv || l.conv.groups == 1)) {
    for (auto [start, len] : Halves(l.weight.shape[w_out_dim])) {
      Case s = c;
      Layer& sl = s.model.layers[0];
      sl.weight = SliceDim(l.weight, w_out_dim, start, len);
      slice_bias(sl, l, start, len);
      out.push_back(std::move(s));
    }
  }
  // Ops without weights: a smaller input along any other dimension (ValidateModel below drops the
  // ones that no longer fit, e.g. a pooling window larger than the input).
  if (!gemm) {
    for (size_t d = 1; d < m.input.shape.size(); ++d) {
      for (auto [start, len] : Halves(m.input.shape[d])) {
        Case s = c;
        SliceModelInputs(&s.model, m, d, start, len);
        out.push_back(std::move(s));
      }
    }
  }
  // Fewer input channels / features.
  if (gemm && (!conv || l.conv.groups == 1)) {
    for (auto [start, len] : Halves(m.input.shape[1])) {
      Case s = c;
      SliceModelInputs(&s.model, m, 1, start, len);
      s.model.layers[0].weight = SliceDim(l.weight, w_in_dim, start, len);
      out.push_back(std::move(s));
    }
  }
  if (conv) {
    // Smaller spatial extent, smaller kernel, simpler stride/padding/output_padding/dilation.
    for (size_t d = 0; d < static_cast<size_t>(ConvSpatialDims(l.op)); ++d) {
      for (auto [start, len] : Halves(m.input.shape[2 + d])) {
        Case s = c;
        SliceModelInputs(&s.model, m, 2 + d, start, len);
        out.push_back(std::move(s));
      }
      for (auto [start, len] : Halves(l.weight.shape[2 + d])) {
        Case s = c;
        s.model.layers[0].weight = SliceDim(l.weight, 2 + d, start, len);
        out.push_back(std::move(s));
      }
      const ConvAttrs& a = l.conv;
      auto with = [&](int64_t (ConvAttrs::*field)[ConvAttrs::kMaxSpatialDims], int64_t value) {
        if ((a.*field)[d] == value) return;
        Case s = c;
        (s.model.layers[0].conv.*field)[d] = value;
        out.push_back(std::move(s));
      };
      with(&ConvAttrs::padding, 0);
      with(&ConvAttrs::output_padding, 0);
      with(&ConvAttrs::stride, 1);
      with(&ConvAttrs::dilation, 1);
    }
  }
  // No bias.
  if (l.bias) {
    Case s = c;
    s.model.layers[0].bias.reset();
    out.push_back(std::move(s));
  }
  // Simpler values.
  ValueCandidates(c, /*input=*/true, &out);
  if (gemm) ValueCandidates(c, /*input=*/false, &out);

  // Keep only valid, strictly smaller-or-simpler cases.
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const Case& s) { return !ValidateModel(s.model).empty(); }),
            out.end());
  return out;
}

Case ShrinkCase(const Case& c, const std::function<bool(const Case&)>& still_fails,
                ShrinkStats* stats, int64_t max_attempts) {
  const auto t0 = std::chrono::steady_clock::now();
  ShrinkStats local;
  ShrinkStats& st = stats ? *stats : local;
  st = ShrinkStats{};
  st.elements_before = CaseSize(c);
  Case best = c;
  bool progress = true;
  while (progress && st.attempts < max_attempts) {
    progress = false;
    for (Case& candidate : ShrinkCandidates(best)) {
      if (st.attempts >= max_attempts) break;
      ++st.attempts;
      if (still_fails(candidate)) {
        best = std::move(candidate);
        ++st.accepted;
        progress = true;
        break;
      }
    }
  }
  st.elements_after = CaseSize(best);
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return best;
}

Case ShrinkFinding(const Case& c, const FailureSignature& sig, ShrinkStats* stats,
                   const KernelColumn* kernel) {
  Case shrunk =
      ShrinkCase(c, [&](const Case& cand) { return FailsTheSameWay(cand, sig, kernel); }, stats);
  shrunk.engines = {sig.engine};
  shrunk.schemes = {GetScheme(sig.scheme.value_or(Scheme::kExact)).name};
  shrunk.expected_verdict = "unexplained";
  shrunk.description = c.description + "; shrunk from " + std::to_string(stats->elements_before) +
                       " to " + std::to_string(stats->elements_after) + " elements";
  return shrunk;
}

}  // namespace qdiff
