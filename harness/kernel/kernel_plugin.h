// KernelPlugin: a user's integer kernel loaded from a shared object that implements the C ABI of
// include/qdiff/kernel_plugin.h (docs/kernel_plugin.md). The loader fills the C structs from
// plain C++ calls; every requantization form (float multiplier, Q31 multiplier and shift, int32
// bias) is computed from the scales by the oracles (PrepareChannel), so the plugin sees exactly
// the values qdiff's recipes use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "oracles/model.h"
#include "oracles/recipe.h"
#include "qdiff/kernel_plugin.h"

namespace qdiff {

// A message naming the plugin file and what is wrong (load error, bad call, or the plugin
// declined with a nonzero return code).
struct KernelError {
  std::string message;
};

// The value, or the reason there is none.
template <typename T>
using KernelResult = std::variant<T, KernelError>;

// Requantization only: acc already includes the bias and zero-point corrections (int32).
struct KernelRequantizeCall {
  std::vector<int32_t> acc;           // [outer, channels.size(), inner]
  int64_t outer = 1;
  int64_t inner = 1;
  std::vector<ChannelQuant> channels;  // per output channel: scales, bias, z_y, clamp range
};

// What conv2d and linear share: the quint8 input, the qint8 weight and the output channels.
struct KernelGemmCall {
  std::vector<int64_t> input_shape;  // conv2d [N, C, H, W]; linear [N, K]
  std::vector<uint8_t> input;        // int_repr, row-major (NCHW)
  int32_t input_zero_point = 0;
  std::vector<int8_t> weight;        // conv2d OIHW [O, C/groups, KH, KW]; linear [O, K]
  std::vector<int32_t> weight_zero_points;  // 1 (per tensor) or O entries
  std::vector<ChannelQuant> channels;       // O entries: scales, bias, z_y, clamp range
};

struct KernelConv2dCall : KernelGemmCall {
  std::vector<int64_t> weight_shape;  // [O, C/groups, KH, KW]
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
};

struct KernelLinearCall : KernelGemmCall {};

// add / mul on two quint8 tensors of the same shape.
struct KernelBinaryCall {
  std::vector<uint8_t> a;
  double a_scale = 1.0;
  int32_t a_zero_point = 0;
  std::vector<uint8_t> b;
  double b_scale = 1.0;
  int32_t b_zero_point = 0;
  double output_scale = 1.0;
  int32_t output_zero_point = 0;
  bool relu = false;  // qmin = max(0, z_y)
};

// The C parameters of one output channel, every form computed from `quant` by the oracles:
// multiplier_f32 = f32(s_x·s_w/s_y in double), Q31 = QuantizeMultiplier of that double with
// right_shift = −shift, bias_int32 = LibTorch's QuantizeBias (ChannelTerms::bias_int32).
qdiff_requant_channel KernelRequantChannel(const ChannelQuant& quant);

// The calls for a conv2d / linear layer of the model on input `x` (quint8, per tensor).
KernelConv2dCall Conv2dCallOf(const Layer& layer, const QTensor& x);
KernelLinearCall LinearCallOf(const Layer& layer, const QTensor& x);

class KernelPlugin {
 public:
  // dlopen(path, RTLD_NOW | RTLD_LOCAL), then checks qdiff_kernel_info_v1, the ABI version, the
  // capability bits and that every capability's function is exported.
  static KernelResult<KernelPlugin> Load(const std::string& path);

  const std::string& path() const { return path_; }
  std::string name() const { return info_->name; }
  std::string engine() const { return info_->engine; }
  uint32_t capabilities() const { return info_->capabilities; }

  // Each op: the outputs, or an error when the plugin lacks the op, the call is inconsistent
  // (sizes do not match the shapes) or the plugin returns nonzero.
  KernelResult<std::vector<uint8_t>> Requantize(const KernelRequantizeCall& call) const;
  KernelResult<std::vector<uint8_t>> Conv2d(const KernelConv2dCall& call) const;
  KernelResult<std::vector<uint8_t>> Linear(const KernelLinearCall& call) const;
  KernelResult<std::vector<uint8_t>> Add(const KernelBinaryCall& call) const;
  KernelResult<std::vector<uint8_t>> Mul(const KernelBinaryCall& call) const;

 private:
  struct Functions {
    qdiff_kernel_requantize_fn requantize = nullptr;
    qdiff_kernel_conv2d_fn conv2d = nullptr;
    qdiff_kernel_linear_fn linear = nullptr;
    qdiff_kernel_binary_fn add = nullptr;
    qdiff_kernel_binary_fn mul = nullptr;
  };
  struct HandleCloser {
    void operator()(void* handle) const;
  };

  KernelPlugin() = default;
  KernelError Error(const std::string& what) const;
  KernelResult<std::vector<uint8_t>> Binary(qdiff_kernel_binary_fn fn, const char* op,
                                            const KernelBinaryCall& call) const;

  std::string path_;
  std::unique_ptr<void, HandleCloser> handle_;
  const qdiff_kernel_info* info_ = nullptr;
  Functions fn_;
};

}  // namespace qdiff
