#include "worker/mlp_tower.h"

#include "absl/strings/str_format.h"
#include "common/hash.h"

namespace psrec {
namespace {

using ConstVec = Eigen::Map<const Eigen::RowVectorXf>;
using MutVec = Eigen::Map<Eigen::RowVectorXf>;

void Activate(Activation a, RowMatrix* y) {
  switch (a) {
    case Activation::kRelu:
      *y = y->cwiseMax(0.0f);
      break;
    case Activation::kTanh:
      *y = y->array().tanh();
      break;
    case Activation::kSigmoid:
      *y = (1.0f + (-y->array()).exp()).inverse();
      break;
    case Activation::kNone:
      break;
  }
}

// d *= act'(.), written in terms of the activation's output y.
void ActivationBackward(Activation a, const RowMatrix& y, RowMatrix* d) {
  switch (a) {
    case Activation::kRelu:
      *d = (y.array() > 0.0f).select(d->array(), 0.0f);
      break;
    case Activation::kTanh:
      d->array() *= 1.0f - y.array().square();
      break;
    case Activation::kSigmoid:
      d->array() *= y.array() * (1.0f - y.array());
      break;
    case Activation::kNone:
      break;
  }
}

}  // namespace

absl::StatusOr<Activation> ParseActivation(const std::string& name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "tanh") return Activation::kTanh;
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "none") return Activation::kNone;
  return absl::InvalidArgumentError(
      absl::StrFormat("--activation=%s: valid: relu, tanh, sigmoid, none", name));
}

MlpTower::MlpTower(const ModelSpec& spec, Activation activation)
    : widths_(spec.layers), activation_(activation), dropout_(spec.dropout) {
  for (size_t l = 0; l < spec.layers.size(); ++l) inputs_.push_back(spec.layer_in(l));
}

const RowMatrix& MlpTower::Forward(const RowMatrix& x, const std::vector<const float*>& params,
                                   uint64_t dropout_seed, Cache* cache) const {
  cache->outputs.resize(widths_.size());
  cache->masks.resize(widths_.size());
  const RowMatrix* in = &x;
  for (size_t l = 0; l < widths_.size(); ++l) {
    const int out = static_cast<int>(widths_[l]);
    ConstVec b(params[l], out);
    ConstMap w(params[l] + out, out, inputs_[l]);
    RowMatrix& y = cache->outputs[l];
    y.noalias() = (*in) * w.transpose();
    y.rowwise() += b;
    Activate(activation_, &y);
    RowMatrix& mask = cache->masks[l];
    if (dropout_seed != 0 && dropout_ > 0.0f) {
      // Inverted dropout: kept units are scaled so the expectation holds.
      CounterRng rng(dropout_seed, 0x64726f70ULL, l);
      const float keep_scale = 1.0f / (1.0f - dropout_);
      mask.resize(y.rows(), y.cols());
      for (Eigen::Index i = 0; i < mask.size(); ++i) {
        mask.data()[i] = rng.Uniform() < dropout_ ? 0.0f : keep_scale;
      }
      y.array() *= mask.array();
    } else {
      mask.resize(0, 0);
    }
    in = &y;
  }
  return *in;
}

void MlpTower::Backward(const RowMatrix& x, const std::vector<const float*>& params,
                        Cache* cache, RowMatrix* d_out, RowMatrix* d_x,
                        const std::vector<float*>& d_params) const {
  if (widths_.empty()) {
    *d_x = *d_out;
    return;
  }
  // Each layer's input gradient has a buffer of its own (cache->grads, then
  // d_x), so a batch of the same size as the last allocates nothing.
  cache->grads.resize(widths_.size());
  for (size_t l = widths_.size(); l-- > 0;) {
    const int out = static_cast<int>(widths_[l]);
    RowMatrix& d = l + 1 == widths_.size() ? *d_out : cache->grads[l];
    const RowMatrix& y = cache->outputs[l];
    const RowMatrix& mask = cache->masks[l];
    if (mask.size() > 0) {
      d.array() *= mask.array();
      // y already carries the mask; act' must see the unmasked output, and
      // where the mask is 0 the gradient is 0 anyway.
      cache->unmasked = (mask.array() > 0.0f).select(y.array() / mask.array(), 0.0f);
      ActivationBackward(activation_, cache->unmasked, &d);
    } else {
      ActivationBackward(activation_, y, &d);
    }
    const RowMatrix& in = l == 0 ? x : cache->outputs[l - 1];
    MutVec(d_params[l], out) = d.colwise().sum();
    MutMap(d_params[l] + out, out, inputs_[l]).noalias() = d.transpose() * in;
    ConstMap w(params[l] + out, out, inputs_[l]);
    RowMatrix& d_in = l == 0 ? *d_x : cache->grads[l - 1];
    d_in.noalias() = d * w;
  }
}

}  // namespace psrec
