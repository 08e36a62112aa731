#include "oracles/ops/libtorch_float.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qdiff {

namespace {

// static_cast<int64_t>(float) as x86-64 compiles it (cvttss2si): out of range or NaN → INT64_MIN.
int64_t TruncToInt64(float v) {
  if (!(v >= -9.2233720368547758e18f && v < 9.2233720368547758e18f)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

}  // namespace

float DequantFmaPremul(double scale, int32_t zp) {
  return F32(scale) * -static_cast<float>(zp);  // i_scale_vec * i_zero_point_vec.neg()
}

float DequantFma(double scale, int32_t zp, int32_t q) {
  return std::fma(F32(scale), static_cast<float>(q), DequantFmaPremul(scale, zp));
}

int32_t QuantizeVal(double scale, int32_t zp, float v, QuantRange r) {
  const float inv = 1.0f / F32(scale);
  const float sum = static_cast<float>(zp) + std::nearbyint(v * inv);  // int64 + float: a float
  const int64_t q = TruncToInt64(sum);
  return static_cast<int32_t>(std::clamp<int64_t>(q, r.qmin, r.qmax));
}

int32_t CvtPs2Dq(float t) {
  if (!(t >= -2147483648.0f && t < 2147483648.0f)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(std::nearbyint(t));
}

int32_t QuantizeVec(float inv, int32_t zp, float v, QuantRange r) {
  const float t = std::min(v * inv, 2147483520.0f);  // 2^31 − 128: the largest float below 2^31
  const uint32_t sum = static_cast<uint32_t>(CvtPs2Dq(t)) + static_cast<uint32_t>(zp);  // epi32 add
  const int32_t q = static_cast<int32_t>(sum);
  return std::clamp(q, r.qmin, r.qmax);
}

int64_t MemoryPosition(const std::vector<int64_t>& shape, bool channels_last, int64_t i) {
  if (!channels_last || shape.size() != 4) return i;
  const int64_t C = shape[1], H = shape[2], W = shape[3];
  const int64_t w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
  return ((n * H + h) * W + w) * C + c;
}

bool IsVectorLane(int64_t pos, int64_t n) { return pos < n - n % kVecBlock; }

bool IsVectorElement(const Layer& layer, const std::vector<int64_t>& shape, int64_t i) {
  const int64_t n = ShapeElements(shape);
  return IsVectorLane(MemoryPosition(shape, layer.channels_last, i), n);
}

bool IsChannelsLastContiguous(const std::vector<int64_t>& shape, bool channels_last) {
  if (shape.size() != 4) return false;
  return channels_last || shape[1] == 1 || (shape[2] == 1 && shape[3] == 1);
}

bool IsNchwContiguous(const std::vector<int64_t>& shape, bool channels_last) {
  if (shape.size() != 4) return true;
  return !channels_last || shape[1] == 1 || (shape[2] == 1 && shape[3] == 1);
}

bool IsNormalF32(double s) { return std::isnormal(F32(s)) && F32(s) > 0.0f; }

}  // namespace qdiff
