// What a model is and what it stores on the servers. Every model psrec knows
// is one composition of the same parts (README "Models"):
//
//   score = [mean] + [b_u + b_i] + [p_u . q_i] + [h . concat(g_u * g_i, tower(m_u, m_i)) + b]
//
// A user's (and an item's) sparse row holds all of its parts side by side,
// [bias | dot factors | gmf factors | mlp factors], so a batch costs one pull
// per table per server. Shared weights (tower layers, output layer) are dense
// tensors: one row each, placed by the same shard map. The worker's model
// code and the servers' tables both follow this layout.
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
// A dense tensor is the single row with this key of its table.
inline constexpr uint64_t kDenseKey = 0;

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

// How the flags describe a model; DefaultsFor fills what they leave unset.
struct ModelOptions {
  std::string model = "gmf";  // mf | gmf | mlp | neumf | mf_mlp
  uint32_t dim = 32;          // dot / gmf factors per entity
  uint32_t mlp_dim = 0;       // mlp factors per entity (0: layers[0] / 2)
  std::vector<uint32_t> layers;  // hidden widths of the tower
  std::string activation = "relu";  // relu | tanh | sigmoid | none
  float dropout = 0.0f;             // on the tower's hidden outputs
  std::string init = "normal";      // normal | uniform, for embeddings
  float init_std = 0.01f;           // std of either distribution
  float l2 = 0.0f;                  // on touched embedding rows
  float dense_l2 = 0.0f;            // on the dense tensors
  float dense_lr_scale = 1.0f;      // dense tensors' lr = lr x this
  float alpha = 0.5f;               // neumf: weight of the GMF head
  bool implicit_feedback = false;   // rating models: SVD++'s implicit term
  float implicit_l2 = -1.0f;        // L2 on the implicit table (< 0: l2)
};

// Settings a user gets for a model when the flags leave them unset: good
// defaults are part of the product (figures in README.md).
struct ModelDefaults {
  std::string task;  // ranking | rating
  uint32_t dim = 32;
  uint32_t mlp_dim = 0;
  std::vector<uint32_t> layers;
  uint32_t epochs = 20;
  uint32_t batch_size = 256;
  float lr = 0.001f;
  std::string optimizer = "adam";
  float l2 = 0.0f;
  float dense_l2 = 0.0f;
  float init_std = 0.01f;
  uint32_t pretrain_epochs = 0;  // neumf: heads train apart first
  float alpha = 0.5f;            // neumf: weight of the GMF head
  uint32_t average_epochs = 0;   // the model is the mean of the last N epochs
  bool implicit_feedback = false;  // rating models: SVD++'s implicit term
  float implicit_l2 = -1.0f;       // < 0: the same as l2
  float recency_weight = 0.0f;     // common/recency.h; 0: off
  float recency_halflife = 7.0f;
};
// ModelDefaults::pretrain_epochs meaning "every epoch of the run".
inline constexpr uint32_t kAllEpochs = 0xffffffffu;
// InvalidArgument naming the valid models when `model` is unknown.
absl::StatusOr<ModelDefaults> DefaultsFor(const std::string& model);

// The models psrec knows, for flag validation and --help.
const std::vector<std::string>& KnownModels();

// The parts of a model, in the order they sit in a row.
struct ModelSpec {
  std::string model;
  uint32_t bias = 0;  // 1: rows start with a bias
  uint32_t dot_dim = 0;
  uint32_t gmf_dim = 0;
  uint32_t mlp_dim = 0;
  std::vector<uint32_t> layers;
  std::string activation = "relu";
  float dropout = 0.0f;
  bool add_mean = false;  // rating models add the training mean
  // SVD++'s implicit feedback: the user row's dot factors (floats
  // [bias, bias + implicit_dim)) get |N(u)|^-1/2 x sum_j y_j added before the
  // model sees them; y_j are rows of the sparse table "implicit", the last
  // table (worker/implicit_feedback.h). 0: off.
  uint32_t implicit_dim = 0;

  uint32_t row_dim() const { return bias + dot_dim + gmf_dim + mlp_dim; }
  // Width of what the tower hands the output layer (its input if no layers).
  uint32_t tower_out() const {
    if (mlp_dim == 0) return 0;
    return layers.empty() ? 2 * mlp_dim : layers.back();
  }
  bool has_output() const { return gmf_dim > 0 || mlp_dim > 0; }
  // neumf gives its GMF and MLP branches a head each and mixes them,
  // alpha x gmf + (1 - alpha) x mlp, which is He et al.'s output layer after
  // pre-training, written so the branches can also train on their own.
  // Other models have one head over everything.
  uint32_t heads() const { return gmf_dim > 0 && mlp_dim > 0 ? 2 : (has_output() ? 1 : 0); }
  float alpha = 0.5f;
  // Head k reads columns [head_begin(k), + head_width(k)) of the output
  // layer's input (gmf product, tower output).
  uint32_t head_begin(uint32_t k) const { return heads() == 2 && k == 1 ? gmf_dim : 0; }
  uint32_t head_width(uint32_t k) const {
    if (heads() == 2) return k == 0 ? gmf_dim : tower_out();
    return gmf_dim + tower_out();
  }
  // Output tensor: [bias per head | h over (gmf product, tower output)].
  uint32_t output_dim() const { return heads() + gmf_dim + tower_out(); }
  // Floats of tower layer l: [bias (out) | weights (out x in), row-major].
  uint32_t layer_in(size_t l) const { return l == 0 ? 2 * mlp_dim : layers[l - 1]; }
  uint32_t layer_params(size_t l) const { return layers[l] * (layer_in(l) + 1); }
};

// InvalidArgument naming the flag when the options do not make a model.
absl::StatusOr<ModelSpec> SpecFor(const ModelOptions& options);

// The tables of a model: user, item, then one dense tensor per tower layer
// ("layer1"...) and the output layer ("output") when the model has one, then
// the sparse table "implicit" when spec.implicit_dim > 0.
std::vector<TableConfig> TablesFor(const ModelSpec& spec, const ModelOptions& options);

// SpecFor + TablesFor.
absl::StatusOr<std::vector<TableConfig>> TablesForModel(const ModelOptions& options);

// Parses "64,32,16" (also with spaces); InvalidArgument naming --layers.
absl::StatusOr<std::vector<uint32_t>> ParseLayers(const std::string& text);

}  // namespace psrec

#endif  // PSREC_COMMON_MODEL_SPEC_H_
