#include "worker/models.h"

#include "absl/strings/str_format.h"
#include "common/config_proto.h"

namespace psrec {
namespace {

using ConstVec = Eigen::Map<const Eigen::VectorXf>;
using MutVec = Eigen::Map<Eigen::VectorXf>;

}  // namespace

Model::Model(const ModelSpec& spec, std::vector<TableConfig> dense, float mean, Activation act)
    : spec_(spec), dense_tables_(std::move(dense)), mean_(mean), tower_(spec, act) {}

absl::StatusOr<std::unique_ptr<Model>> Model::Create(const ModelSpec& spec,
                                                     const std::vector<TableConfig>& tables,
                                                     double global_mean) {
  auto activation = ParseActivation(spec.activation);
  if (!activation.ok()) return activation.status();
  if (tables.size() < 2 || tables[kUserTable].dim != spec.row_dim() ||
      tables[kItemTable].dim != spec.row_dim()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "model %s needs user and item tables of %d floats per row", spec.model, spec.row_dim()));
  }
  std::vector<TableConfig> dense(tables.begin() + 2, tables.end());
  TableConfig implicit;
  if (spec.implicit_dim > 0) {
    if (dense.empty() || dense.back().dense || dense.back().dim != spec.implicit_dim) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "model %s with implicit feedback needs a last, sparse table of %d floats per row",
          spec.model, spec.implicit_dim));
    }
    implicit = dense.back();
    dense.pop_back();
  }
  const size_t want = spec.layers.size() + (spec.has_output() ? 1 : 0);
  if (dense.size() != want) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "model %s needs %d dense tables, the configuration has %d", spec.model, want,
        dense.size()));
  }
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    if (dense[l].dim != spec.layer_params(l)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "dense table %s: %d floats, layer %d needs %d", dense[l].name, dense[l].dim, l + 1,
          spec.layer_params(l)));
    }
  }
  if (spec.has_output() && dense.back().dim != spec.output_dim()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "dense table %s: %d floats, the output layer needs %d", dense.back().name,
        dense.back().dim, spec.output_dim()));
  }
  auto model = std::unique_ptr<Model>(
      new Model(spec, std::move(dense), static_cast<float>(global_mean), *activation));
  model->implicit_table_ = implicit;
  return model;
}

absl::StatusOr<std::unique_ptr<Model>> Model::FromConfig(const rpc::RunConfig& config) {
  auto spec = ModelSpecFromConfig(config);
  if (!spec.ok()) return spec.status();
  return Create(*spec, TablesFromConfig(config), config.global_mean());
}

void Model::Forward(const BatchView& b, ModelWorkspace* p) const {
  const int n = b.size;
  const int row = static_cast<int>(spec_.row_dim());
  ConstMap u(b.users, n, row), i(b.items, n, row);
  p->scores.setConstant(n, spec_.add_mean ? mean_ : 0.0f);
  int off = 0;
  if (spec_.bias) {
    p->scores += u.col(0) + i.col(0);
    off += 1;
  }
  if (spec_.dot_dim) {
    const int k = static_cast<int>(spec_.dot_dim);
    p->scores += u.middleCols(off, k).cwiseProduct(i.middleCols(off, k)).rowwise().sum();
    off += k;
  }
  if (!spec_.has_output()) return;
  const int g = static_cast<int>(spec_.gmf_dim), t = static_cast<int>(spec_.tower_out());
  p->z.resize(n, g + t);
  if (g) {
    p->z.leftCols(g) = u.middleCols(off, g).cwiseProduct(i.middleCols(off, g));
    off += g;
  }
  if (spec_.mlp_dim) {
    const int m = static_cast<int>(spec_.mlp_dim);
    p->tower_in.resize(n, 2 * m);
    p->tower_in.leftCols(m) = u.middleCols(off, m);
    p->tower_in.rightCols(m) = i.middleCols(off, m);
    p->layer_params.assign(b.dense.begin(), b.dense.begin() + spec_.layers.size());
    p->z.rightCols(t) = tower_.Forward(p->tower_in, p->layer_params, b.dropout_seed, &p->tower);
  }
  // Head k reads columns [begin_k, begin_k + width_k) of z.
  const float* out = b.dense.back();
  const int heads = static_cast<int>(spec_.heads());
  p->heads.resize(n, heads);
  for (int k = 0; k < heads; ++k) {
    const int begin = static_cast<int>(spec_.head_begin(k));
    const int width = static_cast<int>(spec_.head_width(k));
    p->heads.col(k) = p->z.middleCols(begin, width) * ConstVec(out + heads + begin, width);
    p->heads.col(k).array() += out[k];
  }
  if (heads == 1) {
    p->scores += p->heads.col(0);
  } else {
    p->scores += spec_.alpha * p->heads.col(0) + (1.0f - spec_.alpha) * p->heads.col(1);
  }
}

void Model::Score(const BatchView& b, float* out) const {
  BatchView inference = b;
  inference.dropout_seed = 0;
  ModelWorkspace p;
  Forward(inference, &p);
  MutVec(out, b.size) = p.scores;
}

double Model::ForwardBackward(const BatchView& b, Loss loss, BatchGrads* g, bool separate_heads,
                              ModelWorkspace* workspace) const {
  ModelWorkspace local;
  ModelWorkspace& p = workspace != nullptr ? *workspace : local;
  Forward(b, &p);
  const int n = b.size;
  const int row = static_cast<int>(spec_.row_dim());
  const int heads = static_cast<int>(spec_.heads());
  Eigen::VectorXf& d = p.d;  // d loss / d score (the parts outside the heads)
  d.resize(n);
  RowMatrix& d_heads = p.d_heads;
  d_heads.resize(n, heads);
  double mean_loss = 0;
  if (separate_heads && heads == 2) {
    // Each head is its own model with its own loss (the pre-training of He
    // et al.); the score's other parts (none for neumf) see both.
    Eigen::VectorXf& head_score = p.head_score;
    Eigen::VectorXf& d_head = p.d_head;
    head_score.resize(n);
    d_head.resize(n);
    d.setZero();
    for (int k = 0; k < heads; ++k) {
      head_score = p.scores - (spec_.alpha * p.heads.col(0) + (1 - spec_.alpha) * p.heads.col(1)) +
                   p.heads.col(k);
      mean_loss += LossAndGradient(loss, head_score.data(), b.labels, n, d_head.data(),
                                   b.weights);
      d_heads.col(k) = d_head;
      d += d_head;
    }
  } else {
    mean_loss = LossAndGradient(loss, p.scores.data(), b.labels, n, d.data(), b.weights);
    if (heads == 1) d_heads.col(0) = d;
    if (heads == 2) {
      d_heads.col(0) = spec_.alpha * d;
      d_heads.col(1) = (1 - spec_.alpha) * d;
    }
  }

  ConstMap u(b.users, n, row), i(b.items, n, row);
  g->users.assign(static_cast<size_t>(n) * row, 0.0f);
  g->items.assign(static_cast<size_t>(n) * row, 0.0f);
  MutMap du(g->users.data(), n, row), di(g->items.data(), n, row);
  g->dense.resize(dense_tables_.size());
  for (size_t t = 0; t < dense_tables_.size(); ++t) g->dense[t].resize(dense_tables_[t].dim);

  int off = 0;
  if (spec_.bias) {
    du.col(0) = d;
    di.col(0) = d;
    off += 1;
  }
  if (spec_.dot_dim) {
    const int k = static_cast<int>(spec_.dot_dim);
    du.middleCols(off, k) = i.middleCols(off, k).array().colwise() * d.array();
    di.middleCols(off, k) = u.middleCols(off, k).array().colwise() * d.array();
    off += k;
  }
  if (!spec_.has_output()) return mean_loss;
  const int gd = static_cast<int>(spec_.gmf_dim), t = static_cast<int>(spec_.tower_out());
  const float* out = b.dense.back();
  std::vector<float>& d_out = g->dense.back();
  RowMatrix& dz = p.dz;
  dz.resize(n, gd + t);
  for (int k = 0; k < heads; ++k) {
    const int begin = static_cast<int>(spec_.head_begin(k));
    const int width = static_cast<int>(spec_.head_width(k));
    d_out[k] = d_heads.col(k).sum();
    MutVec(d_out.data() + heads + begin, width) =
        p.z.middleCols(begin, width).transpose() * d_heads.col(k);
    // d head / d z = h, per example scaled by d.
    dz.middleCols(begin, width) =
        d_heads.col(k) * ConstVec(out + heads + begin, width).transpose();
  }
  if (gd) {
    du.middleCols(off, gd) = dz.leftCols(gd).cwiseProduct(i.middleCols(off, gd));
    di.middleCols(off, gd) = dz.leftCols(gd).cwiseProduct(u.middleCols(off, gd));
    off += gd;
  }
  if (spec_.mlp_dim) {
    const int m = static_cast<int>(spec_.mlp_dim);
    p.d_tower = dz.rightCols(t);
    p.d_layers.clear();
    for (size_t l = 0; l < spec_.layers.size(); ++l) p.d_layers.push_back(g->dense[l].data());
    tower_.Backward(p.tower_in, p.layer_params, &p.tower, &p.d_tower, &p.d_x, p.d_layers);
    du.middleCols(off, m) = p.d_x.leftCols(m);
    di.middleCols(off, m) = p.d_x.rightCols(m);
  }
  return mean_loss;
}

}  // namespace psrec
