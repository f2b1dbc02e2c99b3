#include "common/model_spec.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace psrec {

const std::vector<std::string>& KnownModels() {
  static const auto* models = new std::vector<std::string>{"mf", "gmf"};
  return *models;
}

absl::StatusOr<ModelDefaults> DefaultsFor(const std::string& model) {
  ModelDefaults d;
  if (model == "gmf") {
    // Chosen on ml-100k-loo (scripts/quality.sh): a wider embedding with a
    // little L2 beats dim 32 without it at the last epoch. Much more L2
    // collapses the product p*q towards zero.
    d.task = "ranking";
    d.dim = 64;
    d.l2 = 0.0002f;
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
  return absl::InvalidArgumentError(absl::StrFormat(
      "--model=%s: unknown model; valid: %s", model, absl::StrJoin(KnownModels(), ", ")));
}

absl::StatusOr<std::vector<TableConfig>> TablesForModel(const ModelOptions& o) {
  if (o.dim == 0 || o.dim > 4096) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--dim=%d: must be between 1 and 4096", o.dim));
  }
  std::vector<TableConfig> tables;
  if (o.model == "mf") {
    // Row = [bias, factors]: biases start at zero, factors small.
    tables.push_back({kUserTable, "user", o.dim + 1, false, o.init_std, 0, 1, 1.0f, o.l2});
    tables.push_back({kItemTable, "item", o.dim + 1, false, o.init_std, 0, 1, 1.0f, o.l2});
  } else if (o.model == "gmf") {
    tables.push_back({kUserTable, "user", o.dim, false, o.init_std, 0, 0, 1.0f, o.l2});
    tables.push_back({kItemTable, "item", o.dim, false, o.init_std, 0, 0, 1.0f, o.l2});
    // Output layer [bias, h]: Kaiming-uniform bound sqrt(3 / fan_in), as
    // PyTorch's NCF code initialises its predict layer.
    tables.push_back({kDenseTable, "gmf_out", o.dim + 1, true, 0,
                      static_cast<float>(std::sqrt(3.0 / o.dim)), 1, 1.0f, 0.0f});
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--model=%s: unknown model; valid: %s", o.model, absl::StrJoin(KnownModels(), ", ")));
  }
  return tables;
}

}  // namespace psrec
