// The models' forward and backward passes, as dense Eigen matrices over a
// batch. Every model is one composition of the parts in common/model_spec.h
// (biases, dot product, GMF branch, MLP tower, output layer), so one class
// computes them all. Parameters arrive already gathered (one user row and
// one item row per example) and gradients leave per example; the trainer
// does the pulling, deduplication and summing per key.
#ifndef PSREC_WORKER_MODELS_H_
#define PSREC_WORKER_MODELS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model_spec.h"
#include "proto/psrec.pb.h"
#include "worker/loss.h"
#include "worker/mlp_tower.h"

namespace psrec {

// One batch in row-major arrays. users: B x user_dim, items: B x item_dim;
// dense[t]: the flat parameters of dense table t (in dense_tables() order).
struct BatchView {
  int size = 0;
  const float* users = nullptr;
  const float* items = nullptr;
  const float* labels = nullptr;  // 0/1 for logistic loss, ratings for squared
  // Per-example loss weights (recency weighting; bpr: of pair k, rows k and
  // P + k alike); nullptr: every example weighs 1.
  const float* weights = nullptr;
  std::vector<const float*> dense;
  uint64_t dropout_seed = 0;  // != 0: training, dropout on (if configured)
};

struct BatchGrads {
  std::vector<float> users;               // B x user_dim
  std::vector<float> items;               // B x item_dim
  std::vector<std::vector<float>> dense;  // like BatchView::dense
};

// The intermediates of one forward and backward pass. A caller that keeps
// one across batches (the trainer) reuses its buffers: a batch no larger
// than the last allocates nothing (a pass used to allocate ~20 matrices).
struct ModelWorkspace {
  Eigen::VectorXf scores;
  RowMatrix z;      // output layer input: [gmf product | tower output]
  RowMatrix heads;  // n x heads: each head's score
  RowMatrix tower_in;
  MlpTower::Cache tower;
  std::vector<const float*> layer_params;
  // Backward.
  Eigen::VectorXf d, head_score, d_head;
  RowMatrix d_heads, dz, d_tower, d_x;
  std::vector<float*> d_layers;
};

class Model {
 public:
  // `global_mean` is the training set's mean rating (rating models add it).
  // InvalidArgument when the tables do not have the spec's shapes.
  static absl::StatusOr<std::unique_ptr<Model>> Create(const ModelSpec& spec,
                                                       const std::vector<TableConfig>& tables,
                                                       double global_mean);
  // The model a run configuration describes (what every process uses).
  static absl::StatusOr<std::unique_ptr<Model>> FromConfig(const rpc::RunConfig& config);

  const ModelSpec& spec() const { return spec_; }
  uint32_t user_dim() const { return spec_.row_dim(); }
  uint32_t item_dim() const { return spec_.row_dim(); }
  // Dense tables the model reads, with their sizes.
  const std::vector<TableConfig>& dense_tables() const { return dense_tables_; }
  // The table of SVD++'s y_j when spec().implicit_dim > 0. The model itself
  // never reads it: BatchAssembler adds the implicit term into the user rows
  // it hands over, and spreads their gradient back onto y.
  const TableConfig& implicit_table() const { return implicit_table_; }

  // Mean loss over the batch; fills grads of the mean loss (sized here).
  // `separate_heads`: a two-headed model (neumf) trains each head on its
  // own, loss = loss(gmf head) + loss(mlp head): pre-training in one run.
  // `workspace`: buffers to reuse (nullptr: a fresh one for this call).
  double ForwardBackward(const BatchView& batch, Loss loss, BatchGrads* grads,
                         bool separate_heads = false, ModelWorkspace* workspace = nullptr) const;
  // Scores (logits for ranking models, predicted ratings for rating models).
  void Score(const BatchView& batch, float* out) const;

 private:
  Model(const ModelSpec& spec, std::vector<TableConfig> dense, float mean, Activation act);
  void Forward(const BatchView& batch, ModelWorkspace* pass) const;

  ModelSpec spec_;
  std::vector<TableConfig> dense_tables_;
  float mean_;
  MlpTower tower_;
  TableConfig implicit_table_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_MODELS_H_
