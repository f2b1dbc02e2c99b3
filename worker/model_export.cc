#include "worker/model_export.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/config_proto.h"
#include "common/file_util.h"
#include "common/npy.h"

namespace psrec {
namespace {

// export.json's own version, bumped when its fields change meaning.
constexpr int kExportFormatVersion = 1;

bool IsSafeFileStem(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string Range(uint32_t begin, uint32_t width) {
  return width == 1 ? absl::StrFormat("column %d", begin)
                    : absl::StrFormat("columns %d..%d", begin, begin + width - 1);
}

// What the columns of a row are, from the model's parts (common/model_spec.h).
std::string Columns(const ModelSpec& spec, const TableConfig& t) {
  std::vector<std::string> parts;
  if (!t.dense) {
    uint32_t at = 0;
    auto add = [&](uint32_t width, const char* what) {
      if (width == 0) return;
      parts.push_back(absl::StrCat(Range(at, width), ": ", what));
      at += width;
    };
    add(spec.bias, "bias");
    add(spec.dot_dim, "dot-product factors");
    add(spec.gmf_dim, "GMF factors");
    add(spec.mlp_dim, "MLP embedding");
  } else if (t.name == "output") {
    parts.push_back(absl::StrCat(Range(0, spec.heads()),
                                 spec.heads() == 2 ? ": head biases (gmf, mlp)" : ": bias"));
    for (uint32_t k = 0; k < spec.heads(); ++k) {
      const bool gmf_part = spec.gmf_dim > 0 && (spec.heads() == 1 ? spec.mlp_dim == 0 : k == 0);
      parts.push_back(absl::StrCat(Range(spec.heads() + spec.head_begin(k), spec.head_width(k)),
                                   gmf_part ? ": weights of the GMF product user * item"
                                            : ": weights of the tower output"));
    }
  } else {
    for (size_t l = 0; l < spec.layers.size(); ++l) {
      if (t.name != absl::StrCat("layer", l + 1)) continue;
      parts.push_back(absl::StrCat(Range(0, spec.layers[l]), ": biases"));
      parts.push_back(absl::StrFormat("%s: weights W (%d outputs x %d inputs, row-major)",
                                      Range(spec.layers[l], spec.layers[l] * spec.layer_in(l)),
                                      spec.layers[l], spec.layer_in(l)));
    }
  }
  return absl::StrJoin(parts, "; ");
}

// How the model turns rows into a score (README "Models").
std::string ScoreFormula(const ModelSpec& s) {
  std::vector<std::string> terms;
  uint32_t at = 0;
  if (s.add_mean) terms.push_back("global_mean");
  if (s.bias) {
    terms.push_back("user[0] + item[0]");
    at = 1;
  }
  if (s.dot_dim) {
    terms.push_back(absl::StrFormat("dot(user[%d:%d], item[%d:%d])", at, at + s.dot_dim, at,
                                    at + s.dot_dim));
    at += s.dot_dim;
  }
  const uint32_t h = s.heads();
  std::string gmf, tower;
  if (s.gmf_dim) {
    gmf = absl::StrFormat("dot(output[%d:%d], user[%d:%d] * item[%d:%d])", h, h + s.gmf_dim, at,
                          at + s.gmf_dim, at, at + s.gmf_dim);
    at += s.gmf_dim;
  }
  if (s.mlp_dim) {
    tower = absl::StrFormat(
        "dot(output[%d:%d], tower(concat(user[%d:%d], item[%d:%d])))", h + s.gmf_dim,
        h + s.gmf_dim + s.tower_out(), at, at + s.mlp_dim, at, at + s.mlp_dim);
  }
  if (h == 2) {
    terms.push_back(absl::StrFormat("%g * (output[0] + %s) + %g * (output[1] + %s)", s.alpha, gmf,
                                    1 - s.alpha, tower));
  } else if (h == 1) {
    terms.push_back(absl::StrCat("output[0] + ", gmf.empty() ? tower : gmf));
  }
  std::string formula = absl::StrCat(s.add_mean ? "predicted rating = " : "logit = ",
                                     absl::StrJoin(terms, " + "));
  if (!s.layers.empty()) {
    absl::StrAppend(&formula, "; tower(x): for each layerL in order, x = ", s.activation,
                    "(x . W^T + b) with layerL = [b | W]");
  }
  return formula;
}

absl::StatusOr<std::string> ConfigJson(const rpc::RunConfig& config) {
  rpc::RunConfig c = config;
  c.clear_item_ids();
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(c, &json, opts).ok()) {
    return absl::InternalError("cannot render the model's configuration as JSON");
  }
  return json;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ExportedTable>> ExportModelToNpy(SavedModel& model,
                                                            const std::string& out_dir) {
  if (auto s = MakeDirs(out_dir); !s.ok()) return s;
  const rpc::RunConfig& config = model.config();
  const ModelSpec& spec = model.model().spec();
  std::vector<ExportedTable> exported;
  std::vector<std::string> table_json;
  absl::flat_hash_set<std::string> files;
  auto claim = [&](const std::string& file) -> absl::Status {
    if (!files.insert(file).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two tables would both be exported as ", out_dir, "/", file));
    }
    return absl::OkStatus();
  };
  for (const TableConfig& t : TablesFromConfig(config)) {
    if (!IsSafeFileStem(t.name)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "table %d: name '%s' cannot name a file (letters, digits, '_' and '-' only)", t.id,
          t.name));
    }
    ExportedTable e;
    e.name = t.name;
    e.dense = t.dense;
    e.dim = t.dim;
    std::vector<uint64_t> ids = t.dense ? std::vector<uint64_t>{kDenseKey} : model.SortedIds(t.id);
    std::vector<float> values(ids.size() * t.dim);
    std::vector<uint8_t> found(ids.size());
    PullOp op{t.id, ids, values.data(), found.data()};
    if (auto s = model.ps()->Pull({&op, 1}, /*read_only=*/true); !s.ok()) return s;

    std::string json;
    if (t.dense) {
      e.rows = found[0] ? 1 : 0;
      e.files = {t.name + ".npy"};
      if (auto s = claim(e.files[0]); !s.ok()) return s;
      const uint64_t shape[] = {t.dim};
      auto s =
          WriteNpy(out_dir + "/" + e.files[0], "<f4", shape, AsBytes(absl::MakeConstSpan(values)));
      if (!s.ok()) return s;
      json = absl::StrFormat(
          "    {\"name\": %s, \"id\": %d, \"dense\": true, \"dim\": %d, \"trained\": %s,\n"
          "     \"file\": %s, \"shape\": [%d], \"dtype\": \"<f4\",\n"
          "     \"bias_columns\": %d, \"columns\": %s}",
          JsonString(t.name), t.id, t.dim, e.rows ? "true" : "false", JsonString(e.files[0]), t.dim,
          t.zero_prefix, JsonString(Columns(spec, t)));
    } else {
      e.rows = ids.size();
      e.files = {t.name + "_embeddings.npy", t.name + "_ids.npy"};
      for (const std::string& f : e.files) {
        if (auto s = claim(f); !s.ok()) return s;
      }
      // int64 loads everywhere (PyTorch, FAISS); uint64 only when an id needs it.
      const bool fits_int64 =
          ids.empty() || ids.back() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      const char* ids_dtype = fits_int64 ? "<i8" : "<u8";
      const uint64_t shape[] = {ids.size(), t.dim};
      auto s =
          WriteNpy(out_dir + "/" + e.files[0], "<f4", shape, AsBytes(absl::MakeConstSpan(values)));
      if (!s.ok()) return s;
      s = WriteNpy(out_dir + "/" + e.files[1], ids_dtype, absl::MakeConstSpan(shape, 1),
                   AsBytes(absl::MakeConstSpan(ids)));
      if (!s.ok()) return s;
      json = absl::StrFormat(
          "    {\"name\": %s, \"id\": %d, \"dense\": false, \"rows\": %d, \"dim\": %d,\n"
          "     \"file\": %s, \"shape\": [%d, %d], \"dtype\": \"<f4\",\n"
          "     \"ids_file\": %s, \"ids_dtype\": \"%s\", \"sorted_by_id\": true,\n"
          "     \"bias_columns\": %d, \"columns\": %s}",
          JsonString(t.name), t.id, e.rows, t.dim, JsonString(e.files[0]), e.rows, t.dim,
          JsonString(e.files[1]), ids_dtype, t.zero_prefix, JsonString(Columns(spec, t)));
    }
    table_json.push_back(std::move(json));
    exported.push_back(std::move(e));
  }
  auto config_json = ConfigJson(config);
  if (!config_json.ok()) return config_json.status();
  const std::string formula = ScoreFormula(spec);
  const std::string doc = absl::StrFormat(
      "{\n  \"format\": \"psrec-export\",\n  \"format_version\": %d,\n"
      "  \"model\": %s,\n  \"task\": %s,\n  \"score\": %s,\n  \"global_mean\": %.17g,\n"
      "  \"tables\": [\n%s\n  ],\n  \"config\": %s\n}\n",
      kExportFormatVersion, JsonString(config.model()), JsonString(config.task()),
      formula.empty() ? "null" : JsonString(formula), config.global_mean(),
      absl::StrJoin(table_json, ",\n"), *config_json);
  if (auto s = WriteFileAtomically(out_dir + "/export.json", doc); !s.ok()) return s;
  return exported;
}

}  // namespace psrec
