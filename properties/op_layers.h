// Generators of the layers without weights (add, mul, cat, pools, activations): each draws one
// layer of an op reading a node of a model under construction, with attributes drawn towards the
// corners where the engines' recipes disagree (exact ties, zero-point order, vector vs scalar
// channel tails, padded windows) and kept in the legal region of every engine
// (OpRejectionReason), so that rejections stay rare. Inside rc::gen::exec only.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

// The tensor of every node (index j = layer j) as the exact pipeline computes it.
std::vector<QTensor> ExactNodeTensors(const Model& m);

// A model under construction with its nodes' tensors as ExactNodeTensors computes them, each
// layer evaluated once, when a node at or after it is first read: drawing an L-layer model
// evaluates L layers, not O(L²). Invariant: the model input, once a node is read, and every layer
// up to the last node read, stay unchanged (layers are only appended).
class ModelDraft {
 public:
  explicit ModelDraft(Model* m) : m_(*m) {}
  Model& model() { return m_; }
  // Node `id`: the model input (−1) or layer id's output. References stay valid (a deque).
  const QTensor& Node(int id);
  // The model's last node (the input when it has no layers yet).
  const QTensor& Last() { return Node(static_cast<int>(m_.layers.size()) - 1); }

 private:
  Model& m_;
  std::deque<QTensor> nodes_;  // nodes_[j]: layer j's output, for the layers evaluated so far
};

// Output scale and zero point of a layer with its own output qparams (add, mul, cat, hardswish,
// leaky_relu) as MinMaxObserver would choose them from the float oracle's real outputs on
// `inputs` (range extended to include 0), optionally rounded to a power of two (exact ties).
void DeriveOpOutputQParams(Layer* layer, const std::vector<QTensor>& inputs, bool power_of_two);

// Appends a layer of `op` reading node `src` (−1 = model input). add, mul and cat read a second
// node of the same shape and dtype; when there is none, an activation layer on `src` is appended
// first to provide one (a residual edge). Returns false, leaving the model unchanged, when `op`
// cannot read `src` (a pool on a tensor that is not 4-D) or no legal attributes were found.
bool AppendOpLayer(ModelDraft* draft, OpKind op, int src, const std::string& scale_kind);

// A quantized activation tensor for a model that starts with an op without weights: quint8 or
// qint8 (quint8 if `quint8`), mostly 4-D NCHW (always if `four_d`) with channel counts below and
// above the kernels' vector widths.
QTensor DrawActivationInput(const std::string& scale_kind, const std::string& value_kind,
                            bool four_d, bool quint8);

}  // namespace qdiff
