#include "common/model_spec.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace psrec {
namespace {

absl::Status UnknownModel(const std::string& model) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "--model=%s: unknown model; valid: %s", model, absl::StrJoin(KnownModels(), ", ")));
}

// Widest tower layer. 16384 x (16384 + 1) parameters still fit the uint32
// that layer_params() and the dense tables' dims use.
constexpr uint32_t kMaxLayerWidth = 16384;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& KnownModels() {
  static const auto* models = new std::vector<std::string>{"mf", "gmf", "mlp", "neumf", "mf_mlp"};
  return *models;
}

absl::StatusOr<ModelDefaults> DefaultsFor(const std::string& model) {
  ModelDefaults d;
  // Ranking models weigh each user's latest interactions more
  // (common/recency.h): the next item is what the ranking protocol, and most
  // use, asks for. On ml-100k-loo, seeds 4-6, HR@10: gmf 0.670 -> 0.698, mlp
  // 0.629 -> 0.651, neumf 0.681 -> 0.712; on a random hold-out it costs
  // neumf 0.008 (README "Recency weighting"). Rating models are measured on
  // random folds (u1..u5): off.
  constexpr float kRankingRecencyWeight = 4.0f;
  if (model == "gmf") {
    // Chosen on ml-100k-loo (scripts/quality.sh): a wider embedding with a
    // little L2 beats dim 32 without it at the last epoch. Much more L2
    // collapses the product p*q towards zero.
    d.task = "ranking";
    d.dim = 64;
    d.l2 = 0.0002f;
    d.recency_weight = kRankingRecencyWeight;
    return d;
  }
  if (model == "mlp") {
    d.task = "ranking";
    d.mlp_dim = 32;
    d.layers = {64, 32, 16};
    d.l2 = 0.0002f;
    d.recency_weight = kRankingRecencyWeight;
    return d;
  }
  if (model == "neumf") {
    // The gmf and mlp architectures for the two branches, each head trained
    // on its own for the whole run (README "Models": on
    // ml-100k-loo a joint phase lowered HR@10 every way we tried).
    d.task = "ranking";
    d.dim = 64;
    d.mlp_dim = 32;
    d.layers = {64, 32, 16};
    d.pretrain_epochs = kAllEpochs;
    // The GMF branch is the stronger one here (alone 0.68 HR@10 vs the MLP's
    // 0.63): weighting it 0.7 gave +0.008 HR@10 over He et al.'s 0.5 on each
    // of seeds 1-3 (scored from the saved heads, README "Models").
    d.alpha = 0.7f;
    // Batches of 1024 at twice the learning rate run about twice the
    // examples/s of 256 (fewer, larger requests). L2 is added per push to the
    // touched rows while the data gradient is a batch mean, so it is scaled
    // by 256/1024 to keep the same balance. At this learning rate the last
    // epochs' parameters wander (HR@10 of single epochs 0.66-0.69); the mean
    // of the last 8 epoch ends is steadier and better (README "Quality").
    d.batch_size = 1024;
    d.lr = 0.002f;
    d.l2 = 0.00005f;
    d.average_epochs = 8;
    d.recency_weight = kRankingRecencyWeight;
    return d;
  }
  if (model == "mf") {
    // Chosen on ml-100k u1 (scripts/quality.sh reports all five folds):
    // lazy L2 on the factors (not the biases) carries most of the accuracy.
    d.task = "rating";
    d.epochs = 25;
    d.lr = 0.003f;
    d.l2 = 0.0012f;
    return d;
  }
  if (model == "mf_mlp") {
    // mf's defaults plus a tower that needs strong L2 on its dense layers:
    // without it the MLP branch overfits u1 within 6 epochs (RMSE 1.02 at
    // epoch 25); with 0.3 it improves on mf alone (scripts/quality.sh).
    d.task = "rating";
    d.epochs = 25;
    d.lr = 0.003f;
    d.l2 = 0.0012f;
    d.dense_l2 = 0.3f;
    d.mlp_dim = 32;
    d.layers = {64, 32};
    d.implicit_feedback = true;
    // The mean of the last 5 epoch ends: u1 RMSE 0.9107 -> 0.9091 (3 epochs
    // 0.9089, 8 epochs 0.9092; README "Quality").
    d.average_epochs = 5;
    return d;
  }
  return UnknownModel(model);
}

absl::StatusOr<std::vector<uint32_t>> ParseLayers(const std::string& text) {
  std::vector<uint32_t> layers;
  if (absl::StripAsciiWhitespace(text).empty()) return layers;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    uint32_t width = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &width) || width == 0 ||
        width > kMaxLayerWidth) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--layers=%s: '%s' is not a layer width (a whole number 1..16384); example: "
          "--layers=64,32,16",
          text, std::string(part)));
    }
    layers.push_back(width);
  }
  return layers;
}

absl::StatusOr<ModelSpec> SpecFor(const ModelOptions& o) {
  if (!Contains(KnownModels(), o.model)) return UnknownModel(o.model);
  const bool uses_dim = o.model != "mlp";
  if (uses_dim && (o.dim == 0 || o.dim > 4096)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--dim=%d: must be between 1 and 4096", o.dim));
  }
  ModelSpec s;
  s.model = o.model;
  s.alpha = o.alpha;
  if (!(o.alpha >= 0.0f && o.alpha <= 1.0f)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--fusion_alpha=%g: must be in [0, 1]", o.alpha));
  }
  s.activation = o.activation;
  s.dropout = o.dropout;
  if (o.activation != "relu" && o.activation != "tanh" && o.activation != "sigmoid" &&
      o.activation != "none") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--activation=%s: valid: relu, tanh, sigmoid, none", o.activation));
  }
  if (!(o.dropout >= 0.0f && o.dropout < 1.0f)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--dropout=%g: must be in [0, 1)", o.dropout));
  }
  const bool rating = o.model == "mf" || o.model == "mf_mlp";
  const bool tower = o.model == "mlp" || o.model == "neumf" || o.model == "mf_mlp";
  s.add_mean = rating;
  s.bias = rating ? 1 : 0;
  s.dot_dim = rating ? o.dim : 0;
  s.gmf_dim = (o.model == "gmf" || o.model == "neumf") ? o.dim : 0;
  if (tower) {
    // Layers also come from model.json and the wire, not only from --layers.
    for (uint32_t width : o.layers) {
      if (width == 0 || width > kMaxLayerWidth) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "layer width %d: must be between 1 and %d (--layers)", width, kMaxLayerWidth));
      }
    }
    s.layers = o.layers;
    s.mlp_dim = o.mlp_dim;
    if (s.mlp_dim == 0) s.mlp_dim = s.layers.empty() ? 0 : std::max<uint32_t>(1, s.layers[0] / 2);
    if (s.mlp_dim == 0 || s.mlp_dim > 4096) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--mlp_dim=%d: --model=%s needs an mlp embedding size between 1 and 4096 (or "
          "--layers, whose first width / 2 is the default)",
          s.mlp_dim, o.model));
    }
  } else if (!o.layers.empty() || o.mlp_dim != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--layers/--mlp_dim: --model=%s has no MLP tower (mlp, neumf and mf_mlp do)", o.model));
  }
  if (o.implicit_feedback) {
    if (!rating) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--implicit_feedback: --model=%s has no dot product to add it to (mf and mf_mlp do)",
          o.model));
    }
    s.implicit_dim = s.dot_dim;
  }
  return s;
}

std::vector<TableConfig> TablesFor(const ModelSpec& s, const ModelOptions& o) {
  std::vector<TableConfig> tables;
  // Embeddings: biases (the row's prefix) start at zero and have no L2.
  const float std = o.init == "uniform" ? 0.0f : o.init_std;
  const float uniform = o.init == "uniform" ? o.init_std * std::sqrt(3.0f) : 0.0f;
  tables.push_back({kUserTable, "user", s.row_dim(), false, std, uniform, s.bias, 1.0f, o.l2});
  tables.push_back({kItemTable, "item", s.row_dim(), false, std, uniform, s.bias, 1.0f, o.l2});
  uint32_t id = kDenseTable;
  for (size_t l = 0; l < s.layers.size(); ++l) {
    // Xavier-uniform weights and zero biases, as the NCF reference code.
    const float bound = std::sqrt(6.0f / static_cast<float>(s.layer_in(l) + s.layers[l]));
    tables.push_back({id++, absl::StrCat("layer", l + 1), s.layer_params(l), true, 0, bound,
                      s.layers[l], o.dense_lr_scale, o.dense_l2});
  }
  if (s.has_output()) {
    // Output layer [biases, h]: Kaiming-uniform bound sqrt(3 / fan_in), as
    // PyTorch's NCF code initialises its predict layer; biases start at 0.
    const uint32_t in = s.gmf_dim + s.tower_out();
    tables.push_back({id++, "output", s.output_dim(), true, 0,
                      static_cast<float>(std::sqrt(3.0 / in)), s.heads(), o.dense_lr_scale,
                      o.dense_l2});
  }
  if (s.implicit_dim > 0) {
    // y_j: initialised and regularised like the factors they add to.
    // y_j is touched by almost every batch (every user who rated j), so its
    // lazy L2 acts far more often than a user's: it gets its own.
    tables.push_back({id++, "implicit", s.implicit_dim, false, std, uniform, 0, 1.0f,
                      o.implicit_l2 < 0 ? o.l2 : o.implicit_l2});
  }
  return tables;
}

absl::StatusOr<std::vector<TableConfig>> TablesForModel(const ModelOptions& options) {
  auto spec = SpecFor(options);
  if (!spec.ok()) return spec.status();
  return TablesFor(*spec, options);
}

}  // namespace psrec
