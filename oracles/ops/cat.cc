// cat — quantized::cat(xs, dim, s_y, z_y) (cpu/TensorShape.cpp, cpu/qconcat.cpp::
// quantized_cat_impl): the exact reference, the generic dequantize → cat → quantize path and the
// NHWC kernel (qcat_nhwc_kernel). Upstream paths relative to aten/src/ATen/native/quantized/
// (docs/semantics.md#ops-without-weights).
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_common.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

// Source of output element o: (input index, element index in that input).
struct CatSource {
  size_t input;
  int64_t index;
  int64_t along;  // coordinate along the cat dimension inside that input
};
CatSource CatSourceOf(const Layer& layer, const OpInputs& in, const OpShape& out_shape, int64_t o) {
  const int64_t dim = layer.cat_dim;
  int64_t inner = 1;
  for (size_t d = dim + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
  const int64_t inner_pos = o % inner;
  int64_t along = (o / inner) % out_shape[dim];
  const int64_t outer = o / (inner * out_shape[dim]);
  for (size_t t = 0; t < in.size(); ++t) {
    const int64_t len = in[t].shape[dim];
    if (along < len) return {t, (outer * len + along) * inner + inner_pos, along};
    along -= len;
  }
  return {0, 0, 0};  // unreachable for validated shapes
}

// cat.exact: y = clamp(RNE(s_i(q − z_i)/s_y) + z_y) exactly (identity when qparams are equal).
std::vector<int32_t> RunCatExact(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  std::vector<int32_t> out(ShapeElements(shape));
  for (size_t i = 0; i < out.size(); ++i) {
    const CatSource src = CatSourceOf(layer, in, shape, i);
    const long double approx = ExactInputLd(in[src.input], src.index) / o.scale;
    const std::optional<int32_t> y = FilteredExactQuantize(approx, o.zero_point, r);
    out[i] = y ? *y : ExactQuantize(ExactInput(in[src.input], src.index) / sy, o.zero_point, r);
  }
  return out;
}

// cat.generic's element: dequantize() (scalar f32(f32 s·f32(q−z))) then quantize_per_tensor:
// y = clamp(z_y + RNE(f32(d · f32(1/f32 s_y)))); also the scalar channel tail of cat.nhwc.
int32_t CatScalarElement(const QTensor& t, const OutputQParams& o, int32_t q) {
  return QuantizeVal(o.scale, o.zero_point, DequantScalar(t.scales[0], t.zero_points[0], q), TypeRange(o.dtype));
}

// cat.nhwc's vector channels: Vec::quantize(DequantFma, inv = f32(1/f64 s_y)).
int32_t CatVectorElement(const QTensor& t, const OutputQParams& o, int32_t q) {
  return QuantizeVec(F32(1.0 / o.scale), o.zero_point, DequantFma(t.scales[0], t.zero_points[0], q),
                     TypeRange(o.dtype));
}

// cat.nhwc copies an input whose qparams equal the output's (double compare).
bool CatCopies(const QTensor& t, const OutputQParams& o) {
  return t.scales[0] == o.scale && t.zero_points[0] == o.zero_point;
}

// cat.generic: dequantize() each input → at::cat → quantize_per_tensor (CatScalarElement). Inputs
// whose qparams equal the output's round-trip unchanged (|f32 error| ≪ 0.5 LSB).
std::vector<int32_t> RunCatGeneric(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  std::vector<int32_t> out(ShapeElements(shape));
  for (size_t i = 0; i < out.size(); ++i) {
    const CatSource src = CatSourceOf(layer, in, shape, i);
    out[i] = CatScalarElement(in[src.input], o, in[src.input].values[src.index]);
  }
  return out;
}

// Channels of one input handled by qcat_nhwc_kernel's vector code: whole Vectorized<scalar_t>
// blocks of 32 channels (AVX2), then, if ≥ 8 channels remain, one more partial vector covering
// floor(rest/8)·8 channels ("Vectorized loop for channel between 8 and 32"); the last C mod 8
// channels of each pixel use the scalar loop. [verified: C=63 takes the vector formula up to 56]
int64_t CatVectorChannels(int64_t c) {
  const int64_t blocks = c - c % 32;
  const int64_t rest = c - blocks;
  return blocks + (rest >= 8 ? rest - rest % 8 : 0);
}

// cat.nhwc (cpu/kernels/QuantizedOpKernels.cpp::qcat_nhwc_kernel; dim == 1, all inputs 4-D and
// channels-last contiguous): per input and pixel, memcpy if (s_i, z_i) == (s_y, z_y) (double
// compare); else channels c < CatVectorChannels(C_i) (32-channel blocks, then one 8-multiple
// partial block): Vec::quantize(DequantFma, inv = f32(1/f64 s_y)); the last C_i mod 8 channels:
// quantize_val(DequantScalar) (inv = f32(1/f32 s_y)).
std::vector<int32_t> RunCatNhwc(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  std::vector<int32_t> out(ShapeElements(shape));
  for (size_t i = 0; i < out.size(); ++i) {
    const CatSource src = CatSourceOf(layer, in, shape, i);
    const QTensor& t = in[src.input];
    const int32_t q = t.values[src.index];
    if (CatCopies(t, o)) {
      out[i] = q;  // memcpy
    } else if (src.along < CatVectorChannels(t.shape[1])) {
      out[i] = CatVectorElement(t, o, q);
    } else {
      out[i] = CatScalarElement(t, o, q);
    }
  }
  return out;
}

// qconcat.cpp::is_cat_nhwc_fast_path: dim == 1 (compared literally) and every input channels-last
// contiguous.
bool CatTakesNhwcPath(const Layer& layer, const OpInputs& in) {
  if (layer.cat_dim != 1) return false;
  for (const QTensor& t : in) {
    if (!IsChannelsLastContiguous(t.shape, layer.channels_last)) return false;
  }
  return true;
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kCatGenericMultiplier{"f32(1/f32(s_y))"};
constexpr OpFormula kCatNhwcMultiplier{"f32(1/f64 s_y) (fma dequant, 32/8-channel vectors); tail f32(1/f32 s_y)"};
constexpr OpFormula kCatExactMultiplier{"exact s_i/s_y"};

const OpRecipeDef kCatExact = {"cat.exact", OpKind::kCat, ExactIngredients(&kCatExactMultiplier),
                               "clamp(RNE(s_i(q-z_i)/s_y) + z_y), exact", RunCatExact};
const OpRecipeDef kCatGeneric = {
    "cat.generic", OpKind::kCat,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kCatGenericMultiplier},
    "quantize_per_tensor(cat(dequantize(x_i))): clamp(z_y + RNE(f32(f32(s_i(q-z_i))*f32(1/f32 "
    "s_y)))); qconcat.cpp quantized_cat_impl",
    RunCatGeneric};
const OpRecipeDef kCatNhwc = {
    "cat.nhwc", OpKind::kCat,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kNhwc,
     &kCatNhwcMultiplier},
    "memcpy if qparams equal, else clamp(RNE(f32(fma_dequant*f32(1/s_y))) + z_y), channel tail "
    "quantize_val; QuantizedOpKernels.cpp qcat_nhwc_kernel",
    RunCatNhwc};

const OpRecipeDef* const kCatRecipes[] = {&kCatExact, &kCatGeneric, &kCatNhwc};

const OpRecipeDef* CatEnginePath(Engine, const Layer& layer, const OpInputs& in) {
  return CatTakesNhwcPath(layer, in) ? &kCatNhwc : &kCatGeneric;
}

// y = the dequantized source element (the output quantization happens after).
std::vector<double> CatFloatReal(const Layer& layer, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const CatSource src = CatSourceOf(layer, in, out_shape, i);
    return static_cast<double>(DequantizeElement(in[src.input], src.index));
  });
}

}  // namespace

ElementTables CatRecipeTables(const OpRecipeDef& recipe, const Layer& layer, const OpInputs& in, size_t input) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QTensor& t = in.at(input);
  const QuantRange r = TypeRange(t.dtype);
  ElementTables tables;
  const bool nhwc = &recipe == &kCatNhwc;
  if (!nhwc && &recipe != &kCatGeneric) throw std::invalid_argument(std::string(recipe.name) + " has no tables");
  for (int32_t q = r.qmin; q <= r.qmax; ++q) {
    const bool copy = nhwc && CatCopies(t, o);
    tables.tail.push_back(copy ? q : CatScalarElement(t, o, q));
    tables.vector.push_back(copy ? q : nhwc ? CatVectorElement(t, o, q) : CatScalarElement(t, o, q));
  }
  tables.vector_along = nhwc ? CatVectorChannels(t.shape[1]) : 0;
  return tables;
}

extern const OpDef kCatOp = {OpKind::kCat,  kCatRecipes, std::size(kCatRecipes), CatEnginePath,
                             nullptr, CatFloatReal};

}  // namespace qdiff
