// The MLP tower of the neural models: fully connected layers, each followed
// by an activation and (in training) inverted dropout. Layer l's parameters
// are one dense tensor [bias (out) | weights (out x in), row-major], so
// y = act(x W^T + b).
#ifndef PSREC_WORKER_MLP_TOWER_H_
#define PSREC_WORKER_MLP_TOWER_H_

#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "absl/status/statusor.h"
#include "common/model_spec.h"

namespace psrec {

// Batches are row-major (one example per row), as the gathered rows arrive;
// the maps view packed parameter and gradient arrays without copying.
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using MutMap = Eigen::Map<RowMatrix>;

enum class Activation { kRelu, kTanh, kSigmoid, kNone };
absl::StatusOr<Activation> ParseActivation(const std::string& name);

class MlpTower {
 public:
  // What a forward pass keeps for the backward pass.
  // Kept across batches, its buffers are reused.
  struct Cache {
    std::vector<RowMatrix> outputs;  // per layer, after activation and dropout
    std::vector<RowMatrix> masks;    // per layer, dropout scale (empty: none)
    // Backward's scratch: d loss / d output of layers 0..L-2, and the
    // unmasked output of a dropout layer.
    std::vector<RowMatrix> grads;
    RowMatrix unmasked;
  };

  MlpTower(const ModelSpec& spec, Activation activation);

  size_t num_layers() const { return widths_.size(); }

  // x: B x input. `dropout_seed` != 0 turns dropout on (training); the
  // mask is a pure function of (seed, layer, position). Returns the last
  // layer's output (or x itself when there are no layers).
  const RowMatrix& Forward(const RowMatrix& x, const std::vector<const float*>& params,
                           uint64_t dropout_seed, Cache* cache) const;
  // d_out: gradient w.r.t. Forward's result (overwritten as scratch).
  // Writes d_x (B x input) and adds nothing: d_params[l] is assigned.
  // `cache` is Forward's, and Backward's scratch.
  void Backward(const RowMatrix& x, const std::vector<const float*>& params, Cache* cache,
                RowMatrix* d_out, RowMatrix* d_x, const std::vector<float*>& d_params) const;

 private:
  std::vector<uint32_t> inputs_, widths_;
  Activation activation_;
  float dropout_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_MLP_TOWER_H_
