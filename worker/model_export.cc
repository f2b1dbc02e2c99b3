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

// A dense tensor is the single row 0 of its table.
constexpr uint64_t kDenseKey = 0;

bool IsSafeFileStem(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// What the columns of a row are: psrec stores a table's leading biases
// (`zero_prefix`) in front of the rest. Only mf and gmf are described in
// detail; other models' rows may pack several embeddings, so they are
// called what they are: the row as stored.
std::string Columns(const std::string& model, const TableConfig& t) {
  const bool known = model == "mf" || model == "gmf";
  const char* rest = !known ? "the rest of the row as stored" : t.dense ? "weights" : "factors";
  if (t.zero_prefix == 0) {
    const char* all = !known ? "the row as stored" : t.dense ? "the weights" : "the embedding";
    return absl::StrFormat("columns 0..%d: %s", t.dim - 1, all);
  }
  if (t.zero_prefix >= t.dim) return "every column is a bias";
  const std::string biases = t.zero_prefix == 1
                                 ? std::string("column 0: bias")
                                 : absl::StrFormat("columns 0..%d: biases", t.zero_prefix - 1);
  if (!known)
    return absl::StrFormat("%s; columns %d..%d: %s", biases, t.zero_prefix, t.dim - 1, rest);
  return absl::StrFormat("%s; columns %d..%d: %s (the row as stored: [bias, %s...])", biases,
                         t.zero_prefix, t.dim - 1, rest, rest);
}

// How the model turns rows into a score, for the models whose rows say it
// all; empty for the others.
std::string ScoreFormula(const std::string& model) {
  if (model == "mf") {
    return "predicted rating = global_mean + user[0] + item[0] + dot(user[1:], item[1:])";
  }
  if (model == "gmf") return "logit = gmf_out[0] + dot(gmf_out[1:], user * item)";
  return "";
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
          t.zero_prefix, JsonString(Columns(config.model(), t)));
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
          JsonString(e.files[1]), ids_dtype, t.zero_prefix, JsonString(Columns(config.model(), t)));
    }
    table_json.push_back(std::move(json));
    exported.push_back(std::move(e));
  }
  auto config_json = ConfigJson(config);
  if (!config_json.ok()) return config_json.status();
  const std::string formula = ScoreFormula(config.model());
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
