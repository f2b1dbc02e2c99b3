// What a model stores on the servers: one sparse row per user and per item
// (everything the model needs for that entity, so a batch costs one pull per
// table per server) and dense tensors for shared weights. The worker's model
// code and the server's tables both follow this layout.
#ifndef PSREC_COMMON_MODEL_SPEC_H_
#define PSREC_COMMON_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace psrec {

inline constexpr uint32_t kUserTable = 0;
inline constexpr uint32_t kItemTable = 1;
inline constexpr uint32_t kDenseTable = 2;  // first dense tensor; more follow

struct TableConfig {
  uint32_t id = 0;
  std::string name;
  uint32_t dim = 0;
  bool dense = false;
  float init_std = 0.0f;
  float init_uniform = 0.0f;
  uint32_t zero_prefix = 0;  // leading floats (biases): start at 0, no L2
  float lr_scale = 1.0f;
  float l2 = 0.0f;
};

struct ModelOptions {
  std::string model = "gmf";  // mf | gmf
  uint32_t dim = 32;
  float init_std = 0.01f;
  float l2 = 0.0f;  // on embedding rows
};

// Settings a user gets for a model when the flags leave them unset: good
// defaults are part of the product (figures in README.md).
struct ModelDefaults {
  std::string task;  // ranking | rating
  uint32_t dim = 32;
  uint32_t epochs = 20;
  uint32_t batch_size = 256;
  float lr = 0.001f;
  std::string optimizer = "adam";
  float l2 = 0.0f;
  float init_std = 0.01f;
};
// InvalidArgument naming the valid models when `model` is unknown.
absl::StatusOr<ModelDefaults> DefaultsFor(const std::string& model);

// The models psrec knows, for flag validation and --help.
const std::vector<std::string>& KnownModels();

// The tables of `options.model`; InvalidArgument naming the valid models
// when it is unknown, or when dim is 0.
absl::StatusOr<std::vector<TableConfig>> TablesForModel(const ModelOptions& options);

}  // namespace psrec

#endif  // PSREC_COMMON_MODEL_SPEC_H_
