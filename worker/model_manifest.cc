#include "worker/model_manifest.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "server/model_file.h"

namespace psrec {

absl::Status WriteModelManifest(const std::string& dir, const ModelManifest& manifest) {
  if (auto s = MakeDirs(dir); !s.ok()) return s;
  rpc::RunConfig config = manifest.config;
  config.clear_item_ids();
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(config, &json, opts).ok()) {
    return absl::InternalError("cannot render the model manifest");
  }
  std::string doc = absl::StrCat("{\n\"format\": \"psrec-model\",\n\"format_version\": ",
                                 kModelFormatVersion, ",\n\"num_shards\": ", manifest.num_shards,
                                 ",\n\"config\": ", json, "}\n");
  return WriteFileAtomically(dir + "/model.json", doc);
}

namespace {

// The unsigned number after `"key":` in our own JSON output.
bool FindNumber(const std::string& text, const std::string& key, uint32_t* out) {
  const size_t at = text.find("\"" + key + "\":");
  if (at == std::string::npos) return false;
  const size_t digits = text.find_first_not_of(" \t\r\n", at + key.size() + 3);
  if (digits == std::string::npos) return false;
  const size_t end = text.find_first_not_of("0123456789", digits);
  return absl::SimpleAtoi(text.substr(digits, end - digits), out);
}

}  // namespace

absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir) {
  const std::string path = dir + "/model.json";
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat(path, ": no model here (train with --model_out=", dir, ")"));
  }
  // The manifest is our own output: find the fields we need.
  uint32_t version = 0;
  if (!FindNumber(*text, "format_version", &version)) {
    return absl::InvalidArgumentError(path + ": not a psrec model manifest (no format_version)");
  }
  if (version != kModelFormatVersion) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: model format version %d, this psrec reads version %d; retrain or use the psrec "
        "that wrote it",
        path, version, kModelFormatVersion));
  }
  ModelManifest m;
  auto config_at = text->find("\"config\":");
  auto end = text->rfind('}');
  if (config_at == std::string::npos || end == std::string::npos || end <= config_at) {
    return absl::InvalidArgumentError(path + ": not a psrec model manifest");
  }
  if (!FindNumber(*text, "num_shards", &m.num_shards) || m.num_shards == 0) {
    return absl::InvalidArgumentError(path + ": num_shards is not a positive number");
  }
  std::string config_json = text->substr(config_at + 9, end - config_at - 9);
  if (!google::protobuf::util::JsonStringToMessage(config_json, &m.config).ok()) {
    return absl::InvalidArgumentError(path + ": config is not valid");
  }
  return m;
}

}  // namespace psrec
