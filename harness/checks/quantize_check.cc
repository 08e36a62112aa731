#include "harness/checks/quantize_check.h"

#include <cmath>
#include <cstring>
#include <random>

#include "harness/torch/libtorch_runner.h"
#include "oracles/float_oracle.h"
#include "oracles/observers.h"

namespace qdiff {

QuantizeCheckResult RunQuantizeCheck(int64_t tensors, uint64_t seed, std::ostream& out) {
  InitLibTorch();
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1)); };
  QuantizeCheckResult r;
  for (int64_t t = 0; t < tensors; ++t) {
    QTensor p;
    p.dtype = rng() % 2 ? DType::kQUInt8 : DType::kQInt8;
    p.shape = {uniform(1, 3), uniform(1, 4), uniform(1, 5)};
    p.axis = rng() % 3 == 0 ? -1 : uniform(0, 2);
    const QuantRange range = TypeRange(p.dtype);
    const int64_t channels = p.per_channel() ? p.shape[p.axis] : 1;
    const bool pow2 = rng() % 2;
    for (int64_t c = 0; c < channels; ++c) {
      const double s = pow2 ? std::ldexp(1.0, -uniform(0, 10))
                            : static_cast<double>(static_cast<float>(std::ldexp(1.0 + (rng() % 1000000) / 1e6, -uniform(0, 10))));
      p.scales.push_back(s);
      p.zero_points.push_back(uniform(range.qmin, range.qmax));
    }
    const int64_t n = p.NumElements();
    int64_t inner = 1;
    if (p.per_channel()) {
      for (size_t d = p.axis + 1; d < p.shape.size(); ++d) inner *= p.shape[d];
    }
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = p.per_channel() ? (i / inner) % p.shape[p.axis] : 0;
      const double s = p.scales[c];
      switch (rng() % 3) {
        case 0: x[i] = static_cast<float>((uniform(-300, 300) + 0.5) * s); break;  // ties when s is 2^-k
        case 1: x[i] = static_cast<float>(uniform(-300, 300) * s); break;
        default: x[i] = static_cast<float>(((rng() >> 11) * 0x1.0p-53 * 2 - 1) * 200 * s);
      }
    }
    const QuantizeOutcome q = QuantizeOnLibTorch(x, p);
    ++r.tensors;
    if (q.rejected) {
      ++r.rejected;
      out << "rejected: " << q.message << "\n";
      continue;
    }
    QTensor ours = p;
    ours.values.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = p.per_channel() ? (i / inner) % p.shape[p.axis] : 0;
      ours.values[i] = QuantizeValue(x[i], p.scales[c], p.zero_points[c], p.dtype);
      const double scaled = static_cast<double>(x[i]) / p.scales[c];
      r.ties += std::fabs(scaled - std::floor(scaled) - 0.5) == 0;
      ++r.elements;
      if (ours.values[i] != q.values[i]) {
        ++r.quantize_mismatches;
        out << "quantize mismatch: x=" << x[i] << " scale=" << p.scales[c] << " zp=" << p.zero_points[c]
            << " qdiff=" << ours.values[i] << " libtorch=" << q.values[i] << "\n";
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      // Dequantize LibTorch's own integers, so each formula is checked on its own.
      ours.values[i] = q.values[i];
    }
    for (int64_t i = 0; i < n; ++i) {
      const float d = DequantizeElement(ours, i);
      if (std::memcmp(&d, &q.dequantized[i], sizeof d) != 0) {
        ++r.dequantize_mismatches;
        out << "dequantize mismatch: q=" << q.values[i] << " qdiff=" << d << " libtorch=" << q.dequantized[i] << "\n";
      }
    }
  }
  out << "quantize-check: " << r.tensors << " tensors, " << r.elements << " elements (" << r.ties
      << " exact ties), " << r.quantize_mismatches << " quantize and " << r.dequantize_mismatches
      << " dequantize mismatches, " << r.rejected << " rejected\n";
  return r;
}

}  // namespace qdiff
