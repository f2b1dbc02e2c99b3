// The models' forward and backward passes, as dense Eigen matrices over a
// batch. Parameters arrive already gathered (one user row and one item row
// per example) and gradients leave per example; the trainer does the
// pulling, deduplication and summing per key.
#ifndef PSREC_WORKER_MODELS_H_
#define PSREC_WORKER_MODELS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model_spec.h"

namespace psrec {

// One batch in row-major arrays. users: B x user_dim, items: B x item_dim;
// dense[t]: the flat parameters of dense table t (in dense_tables() order).
struct BatchView {
  int size = 0;
  const float* users = nullptr;
  const float* items = nullptr;
  const float* labels = nullptr;  // 0/1 for logistic loss, ratings for squared
  std::vector<const float*> dense;
};

struct BatchGrads {
  std::vector<float> users;               // B x user_dim
  std::vector<float> items;               // B x item_dim
  std::vector<std::vector<float>> dense;  // like BatchView::dense
};

class Model {
 public:
  virtual ~Model() = default;
  // `global_mean` is the training set's mean rating (rating models add it).
  static absl::StatusOr<std::unique_ptr<Model>> Create(const std::string& model,
                                                       const std::vector<TableConfig>& tables,
                                                       double global_mean);

  uint32_t user_dim() const { return user_dim_; }
  uint32_t item_dim() const { return item_dim_; }
  // Dense tables the model reads, with their sizes.
  const std::vector<TableConfig>& dense_tables() const { return dense_tables_; }

  // Mean loss over the batch; fills grads of the mean loss (sized here).
  virtual double ForwardBackward(const BatchView& batch, BatchGrads* grads) const = 0;
  // Scores (logits for ranking models, predicted ratings for rating models).
  virtual void Score(const BatchView& batch, float* out) const = 0;

 protected:
  uint32_t user_dim_ = 0, item_dim_ = 0;
  std::vector<TableConfig> dense_tables_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_MODELS_H_
