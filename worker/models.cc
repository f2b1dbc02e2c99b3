#include "worker/models.h"

#include <Eigen/Dense>
#include <cmath>

#include "absl/strings/str_format.h"

namespace psrec {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using MutMap = Eigen::Map<RowMatrix>;
using ConstVec = Eigen::Map<const Eigen::VectorXf>;
using MutVec = Eigen::Map<Eigen::VectorXf>;

// Biased matrix factorization for explicit ratings (squared loss):
//   r^ = mu + b_u + b_i + p_u . q_i, rows [b, factors].
class MfModel : public Model {
 public:
  MfModel(uint32_t dim, double mean) : mean_(static_cast<float>(mean)) {
    user_dim_ = item_dim_ = dim + 1;
  }

  void Predict(const BatchView& b, Eigen::VectorXf* pred) const {
    ConstMap u(b.users, b.size, user_dim_), i(b.items, b.size, item_dim_);
    const int k = user_dim_ - 1;
    *pred = (u.rightCols(k).cwiseProduct(i.rightCols(k))).rowwise().sum();
    pred->array() += u.col(0).array() + i.col(0).array() + mean_;
  }

  double ForwardBackward(const BatchView& b, BatchGrads* g) const override {
    Eigen::VectorXf pred;
    Predict(b, &pred);
    ConstVec y(b.labels, b.size);
    Eigen::VectorXf err = pred - y;
    const double loss = err.squaredNorm() / b.size;
    Eigen::VectorXf d = err * (2.0f / b.size);
    g->users.resize(static_cast<size_t>(b.size) * user_dim_);
    g->items.resize(static_cast<size_t>(b.size) * item_dim_);
    ConstMap u(b.users, b.size, user_dim_), i(b.items, b.size, item_dim_);
    MutMap du(g->users.data(), b.size, user_dim_), di(g->items.data(), b.size, item_dim_);
    const int k = user_dim_ - 1;
    du.col(0) = d;
    di.col(0) = d;
    du.rightCols(k) = i.rightCols(k).array().colwise() * d.array();
    di.rightCols(k) = u.rightCols(k).array().colwise() * d.array();
    g->dense.clear();
    return loss;
  }

  void Score(const BatchView& b, float* out) const override {
    Eigen::VectorXf pred;
    Predict(b, &pred);
    MutVec(out, b.size) = pred;
  }

 private:
  float mean_;
};

// Generalized matrix factorization (He et al. 2017) for implicit feedback:
//   logit = h . (p_u * q_i) + b, logistic loss; dense table [b, h].
class GmfModel : public Model {
 public:
  GmfModel(uint32_t dim, const TableConfig& out) {
    user_dim_ = item_dim_ = dim;
    dense_tables_.push_back(out);
  }

  void Logits(const BatchView& b, RowMatrix* x, Eigen::VectorXf* logit) const {
    ConstMap u(b.users, b.size, user_dim_), i(b.items, b.size, item_dim_);
    ConstVec h(b.dense[0] + 1, user_dim_);
    *x = u.cwiseProduct(i);
    *logit = (*x) * h;
    logit->array() += b.dense[0][0];
  }

  double ForwardBackward(const BatchView& b, BatchGrads* g) const override {
    RowMatrix x;
    Eigen::VectorXf logit;
    Logits(b, &x, &logit);
    ConstVec y(b.labels, b.size);
    // Stable BCE-with-logits: softplus(z) - y z.
    double loss = 0;
    Eigen::VectorXf d(b.size);
    for (int r = 0; r < b.size; ++r) {
      const float z = logit[r];
      loss += std::max(z, 0.0f) + std::log1p(std::exp(-std::fabs(z))) - y[r] * z;
      d[r] = (1.0f / (1.0f + std::exp(-z)) - y[r]) / b.size;
    }
    ConstMap u(b.users, b.size, user_dim_), i(b.items, b.size, item_dim_);
    ConstVec h(b.dense[0] + 1, user_dim_);
    g->users.resize(static_cast<size_t>(b.size) * user_dim_);
    g->items.resize(static_cast<size_t>(b.size) * item_dim_);
    MutMap du(g->users.data(), b.size, user_dim_), di(g->items.data(), b.size, item_dim_);
    // d logit / d p_u = h * q_i, and symmetrically for q_i.
    du = (i.array().rowwise() * h.transpose().array()).colwise() * d.array();
    di = (u.array().rowwise() * h.transpose().array()).colwise() * d.array();
    g->dense.resize(1);
    g->dense[0].resize(user_dim_ + 1);
    g->dense[0][0] = d.sum();
    MutVec(g->dense[0].data() + 1, user_dim_) = x.transpose() * d;
    return loss / b.size;
  }

  void Score(const BatchView& b, float* out) const override {
    RowMatrix x;
    Eigen::VectorXf logit;
    Logits(b, &x, &logit);
    MutVec(out, b.size) = logit;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> Model::Create(const std::string& model,
                                                     const std::vector<TableConfig>& tables,
                                                     double global_mean) {
  if (tables.size() < 2) return absl::InvalidArgumentError("model needs user and item tables");
  const uint32_t user_dim = tables[kUserTable].dim;
  if (model == "mf") return std::make_unique<MfModel>(user_dim - 1, global_mean);
  if (model == "gmf") {
    if (tables.size() < 3) return absl::InvalidArgumentError("gmf needs its output table");
    return std::make_unique<GmfModel>(user_dim, tables[kDenseTable]);
  }
  return absl::InvalidArgumentError(absl::StrFormat("unknown model '%s'", model));
}

}  // namespace psrec
