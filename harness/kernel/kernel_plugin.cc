#include "harness/kernel/kernel_plugin.h"

#include <dlfcn.h>

#include <algorithm>
#include <utility>

#include "oracles/integer_pipeline.h"

namespace qdiff {

namespace {

template <typename To, typename From>
std::vector<To> Narrow(const std::vector<From>& values) {
  return std::vector<To>(values.begin(), values.end());
}

std::vector<int32_t> WeightZeroPoints(const Layer& layer) {
  std::vector<int32_t> zps(LayerOutChannels(layer));
  for (size_t oc = 0; oc < zps.size(); ++oc) {
    zps[oc] = layer.weight.ZeroPoint(WeightQuantIndex(layer, static_cast<int64_t>(oc)));
  }
  return zps;
}

std::vector<ChannelQuant> ChannelQuants(const Layer& layer, double s_x) {
  std::vector<ChannelQuant> quants;
  for (const ChannelTerms& t : LayerChannelTerms(layer, s_x)) quants.push_back(t.quant);
  return quants;
}

std::vector<qdiff_requant_channel> CChannels(const std::vector<ChannelQuant>& quants) {
  std::vector<qdiff_requant_channel> channels;
  for (const ChannelQuant& q : quants) channels.push_back(KernelRequantChannel(q));
  return channels;
}

// Weight zero points as the ABI passes them: one per output channel.
std::vector<int32_t> PerChannelZeroPoints(const std::vector<int32_t>& zps, size_t channels) {
  return zps.size() == 1 ? std::vector<int32_t>(channels, zps[0]) : zps;
}

// Output size of one conv dimension: floor((i + 2p − d(k−1) − 1) / s) + 1 (≤ 0: empty).
int64_t ConvOutSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace

qdiff_requant_channel KernelRequantChannel(const ChannelQuant& quant) {
  const ChannelTerms t = PrepareChannel(quant);
  qdiff_requant_channel c{};
  c.input_scale = quant.s_x;
  c.weight_scale = quant.s_w;
  c.output_scale = quant.s_y;
  c.has_bias = quant.bias.has_value() ? 1 : 0;
  c.bias = quant.bias.value_or(0.0f);
  c.multiplier_f32 = static_cast<float>(t.multiplier_double);
  c.multiplier_q31 = t.q31.multiplier;
  c.right_shift = -t.q31.shift;  // M ≈ m · 2^(shift − 31) = m · 2^(−31 − right_shift)
  c.bias_int32 = quant.bias ? static_cast<int32_t>(t.bias_int32) : 0;  // already saturated
  c.output_zero_point = quant.z_y;
  c.qmin = quant.range.qmin;
  c.qmax = quant.range.qmax;
  return c;
}

namespace {

KernelGemmCall GemmCallOf(const Layer& layer, const QTensor& x) {
  KernelGemmCall call;
  call.input_shape = x.shape;
  call.input = Narrow<uint8_t>(x.values);
  call.input_zero_point = x.ZeroPoint(0);
  call.weight = Narrow<int8_t>(layer.weight.values);
  call.weight_zero_points = WeightZeroPoints(layer);
  call.channels = ChannelQuants(layer, x.Scale(0));
  return call;
}

}  // namespace

KernelConv2dCall Conv2dCallOf(const Layer& layer, const QTensor& x) {
  KernelConv2dCall call;
  static_cast<KernelGemmCall&>(call) = GemmCallOf(layer, x);
  call.weight_shape = layer.weight.shape;
  for (int d = 0; d < 2; ++d) {
    call.stride[d] = layer.conv.stride[d];
    call.padding[d] = layer.conv.padding[d];
    call.dilation[d] = layer.conv.dilation[d];
  }
  call.groups = layer.conv.groups;
  return call;
}

KernelLinearCall LinearCallOf(const Layer& layer, const QTensor& x) {
  KernelLinearCall call;
  static_cast<KernelGemmCall&>(call) = GemmCallOf(layer, x);
  return call;
}

void KernelPlugin::HandleCloser::operator()(void* handle) const { dlclose(handle); }

KernelError KernelPlugin::Error(const std::string& what) const {
  return KernelError{path_ + ": " + what};
}

KernelResult<KernelPlugin> KernelPlugin::Load(const std::string& path) {
  KernelPlugin plugin;
  plugin.path_ = path;
  dlerror();
  plugin.handle_.reset(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!plugin.handle_) {
    const char* why = dlerror();
    return plugin.Error(std::string("not a loadable shared object (") + (why ? why : "?") + ")");
  }
  auto info_fn = reinterpret_cast<qdiff_kernel_info_v1_fn>(
      dlsym(plugin.handle_.get(), "qdiff_kernel_info_v1"));
  if (!info_fn) return plugin.Error("missing symbol qdiff_kernel_info_v1: not a qdiff kernel plugin");
  plugin.info_ = info_fn();
  const qdiff_kernel_info* info = plugin.info_;
  if (!info) return plugin.Error("qdiff_kernel_info_v1 returned NULL");
  if (info->abi_version != QDIFF_KERNEL_ABI_VERSION) {
    return plugin.Error("ABI version " + std::to_string(info->abi_version) + " not " +
                        std::to_string(QDIFF_KERNEL_ABI_VERSION) +
                        " (rebuild the plugin against this qdiff's kernel_plugin.h)");
  }
  if (!info->name || !info->engine) return plugin.Error("qdiff_kernel_info name or engine is NULL");
  if (info->capabilities & ~QDIFF_KERNEL_KNOWN_CAPABILITIES) {
    return plugin.Error("unknown capability bits " +
                        std::to_string(info->capabilities & ~QDIFF_KERNEL_KNOWN_CAPABILITIES));
  }
  // One row per capability: its bit, its symbol and where the resolved function goes.
  Functions& fn = plugin.fn_;
  const struct {
    uint32_t bit;
    const char* symbol;
    void** slot;
  } table[] = {
      {QDIFF_KERNEL_REQUANTIZE, "qdiff_kernel_requantize", reinterpret_cast<void**>(&fn.requantize)},
      {QDIFF_KERNEL_CONV2D, "qdiff_kernel_conv2d", reinterpret_cast<void**>(&fn.conv2d)},
      {QDIFF_KERNEL_LINEAR, "qdiff_kernel_linear", reinterpret_cast<void**>(&fn.linear)},
      {QDIFF_KERNEL_ADD, "qdiff_kernel_add", reinterpret_cast<void**>(&fn.add)},
      {QDIFF_KERNEL_MUL, "qdiff_kernel_mul", reinterpret_cast<void**>(&fn.mul)},
  };
  for (const auto& row : table) {
    if (!(info->capabilities & row.bit)) continue;
    *row.slot = dlsym(plugin.handle_.get(), row.symbol);
    if (!*row.slot) {
      return plugin.Error(std::string("capability bit for ") + row.symbol +
                          " is set but the function is missing");
    }
  }
  return KernelResult<KernelPlugin>(std::move(plugin));
}

#define QDIFF_KERNEL_CHECK(condition, message) \
  if (!(condition)) return Error(message)

KernelResult<std::vector<uint8_t>> KernelPlugin::Requantize(const KernelRequantizeCall& call) const {
  QDIFF_KERNEL_CHECK(fn_.requantize, "plugin has no qdiff_kernel_requantize");
  const int64_t channels = static_cast<int64_t>(call.channels.size());
  QDIFF_KERNEL_CHECK(static_cast<int64_t>(call.acc.size()) == call.outer * channels * call.inner,
                     "requantize: acc size is not outer · channels · inner");
  const std::vector<qdiff_requant_channel> c = CChannels(call.channels);
  std::vector<uint8_t> out(call.acc.size());
  const qdiff_requantize_args args{call.acc.data(), call.outer, channels, call.inner, c.data(),
                                   out.data()};
  const int rc = fn_.requantize(&args);
  QDIFF_KERNEL_CHECK(rc == 0, "qdiff_kernel_requantize returned " + std::to_string(rc));
  return out;
}

KernelResult<std::vector<uint8_t>> KernelPlugin::Conv2d(const KernelConv2dCall& call) const {
  QDIFF_KERNEL_CHECK(fn_.conv2d, "plugin has no qdiff_kernel_conv2d");
  const std::vector<int64_t>& xs = call.input_shape;
  const std::vector<int64_t>& ws = call.weight_shape;
  QDIFF_KERNEL_CHECK(xs.size() == 4 && ws.size() == 4 && ws[0] > 0 && call.groups > 0,
                     "conv2d: input and weight must be 4-D, out channels and groups > 0");
  const int64_t out_channels = ws[0];
  QDIFF_KERNEL_CHECK(
      static_cast<int64_t>(call.input.size()) == ShapeElements(xs) &&
          static_cast<int64_t>(call.weight.size()) == ShapeElements(ws) &&
          xs[1] == ws[1] * call.groups && out_channels % call.groups == 0 &&
          static_cast<int64_t>(call.channels.size()) == out_channels &&
          (call.weight_zero_points.size() == 1 ||
           static_cast<int64_t>(call.weight_zero_points.size()) == out_channels),
      "conv2d: buffer sizes, channels or groups do not match the shapes");
  const int64_t out_h = ConvOutSize(xs[2], ws[2], call.stride[0], call.padding[0], call.dilation[0]);
  const int64_t out_w = ConvOutSize(xs[3], ws[3], call.stride[1], call.padding[1], call.dilation[1]);
  const std::vector<qdiff_requant_channel> c = CChannels(call.channels);
  const std::vector<int32_t> zps = PerChannelZeroPoints(call.weight_zero_points, out_channels);
  std::vector<uint8_t> out(xs[0] * out_channels * out_h * out_w);
  qdiff_conv2d_args args{};
  args.input = call.input.data();
  args.n = xs[0];
  args.in_channels = xs[1];
  args.in_h = xs[2];
  args.in_w = xs[3];
  args.input_zero_point = call.input_zero_point;
  args.weight = call.weight.data();
  args.out_channels = out_channels;
  args.kernel_h = ws[2];
  args.kernel_w = ws[3];
  args.weight_zero_points = zps.data();
  args.weight_per_channel = call.channels[0].per_channel ? 1 : 0;
  args.stride_h = call.stride[0];
  args.stride_w = call.stride[1];
  args.padding_h = call.padding[0];
  args.padding_w = call.padding[1];
  args.dilation_h = call.dilation[0];
  args.dilation_w = call.dilation[1];
  args.groups = call.groups;
  args.channel = c.data();
  args.out_h = out_h;
  args.out_w = out_w;
  args.output = out.data();
  const int rc = fn_.conv2d(&args);
  QDIFF_KERNEL_CHECK(rc == 0, "qdiff_kernel_conv2d returned " + std::to_string(rc));
  return out;
}

KernelResult<std::vector<uint8_t>> KernelPlugin::Linear(const KernelLinearCall& call) const {
  QDIFF_KERNEL_CHECK(fn_.linear, "plugin has no qdiff_kernel_linear");
  const int64_t out_features = static_cast<int64_t>(call.channels.size());
  QDIFF_KERNEL_CHECK(
      call.input_shape.size() == 2 &&
          static_cast<int64_t>(call.input.size()) == ShapeElements(call.input_shape) &&
          static_cast<int64_t>(call.weight.size()) == out_features * call.input_shape[1] &&
          (call.weight_zero_points.size() == 1 ||
           static_cast<int64_t>(call.weight_zero_points.size()) == out_features),
      "linear: buffer sizes do not match [N, K] input, [O, K] weight, O channels");
  const std::vector<qdiff_requant_channel> c = CChannels(call.channels);
  const std::vector<int32_t> zps = PerChannelZeroPoints(call.weight_zero_points, out_features);
  std::vector<uint8_t> out(call.input_shape[0] * out_features);
  qdiff_linear_args args{};
  args.input = call.input.data();
  args.n = call.input_shape[0];
  args.in_features = call.input_shape[1];
  args.input_zero_point = call.input_zero_point;
  args.weight = call.weight.data();
  args.out_features = out_features;
  args.weight_zero_points = zps.data();
  args.weight_per_channel = out_features > 0 && call.channels[0].per_channel ? 1 : 0;
  args.channel = c.data();
  args.output = out.data();
  const int rc = fn_.linear(&args);
  QDIFF_KERNEL_CHECK(rc == 0, "qdiff_kernel_linear returned " + std::to_string(rc));
  return out;
}

KernelResult<std::vector<uint8_t>> KernelPlugin::Binary(qdiff_kernel_binary_fn fn, const char* op,
                                                        const KernelBinaryCall& call) const {
  const std::string symbol = std::string("qdiff_kernel_") + op;
  QDIFF_KERNEL_CHECK(fn, "plugin has no " + symbol);
  QDIFF_KERNEL_CHECK(call.a.size() == call.b.size(), std::string(op) + ": a and b differ in size");
  std::vector<uint8_t> out(call.a.size());
  qdiff_binary_args args{};
  args.a = call.a.data();
  args.a_scale = call.a_scale;
  args.a_zero_point = call.a_zero_point;
  args.b = call.b.data();
  args.b_scale = call.b_scale;
  args.b_zero_point = call.b_zero_point;
  args.count = static_cast<int64_t>(call.a.size());
  args.output_scale = call.output_scale;
  args.output_zero_point = call.output_zero_point;
  args.relu = call.relu ? 1 : 0;
  const QuantRange range = TypeRange(DType::kQUInt8);
  args.qmin = call.relu ? std::max(range.qmin, call.output_zero_point) : range.qmin;
  args.qmax = range.qmax;
  args.output = out.data();
  const int rc = fn(&args);
  QDIFF_KERNEL_CHECK(rc == 0, symbol + " returned " + std::to_string(rc));
  return out;
}

#undef QDIFF_KERNEL_CHECK

KernelResult<std::vector<uint8_t>> KernelPlugin::Add(const KernelBinaryCall& call) const {
  return Binary(fn_.add, "add", call);
}

KernelResult<std::vector<uint8_t>> KernelPlugin::Mul(const KernelBinaryCall& call) const {
  return Binary(fn_.mul, "mul", call);
}

}  // namespace qdiff
