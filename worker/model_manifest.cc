#include "worker/model_manifest.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

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
  std::string doc = absl::StrCat("{\n\"format\": \"psrec-model\",\n\"format_version\": 1,\n",
                                 "\"num_shards\": ", manifest.num_shards, ",\n\"config\": ", json,
                                 "}\n");
  return WriteFileAtomically(dir + "/model.json", doc);
}

absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir) {
  const std::string path = dir + "/model.json";
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat(path, ": no model here (train with --model_out=", dir, ")"));
  }
  // The manifest is our own output: find the two fields we need.
  ModelManifest m;
  auto shards_at = text->find("\"num_shards\":");
  auto config_at = text->find("\"config\":");
  auto end = text->rfind('}');
  if (shards_at == std::string::npos || config_at == std::string::npos || end <= config_at) {
    return absl::InvalidArgumentError(path + ": not a psrec model manifest");
  }
  size_t digits = text->find_first_of("0123456789", shards_at);
  size_t digits_end = text->find_first_not_of("0123456789", digits);
  if (digits == std::string::npos ||
      !absl::SimpleAtoi(text->substr(digits, digits_end - digits), &m.num_shards) ||
      m.num_shards == 0) {
    return absl::InvalidArgumentError(path + ": num_shards is not a positive number");
  }
  std::string config_json = text->substr(config_at + 9, end - config_at - 9);
  if (!google::protobuf::util::JsonStringToMessage(config_json, &m.config).ok()) {
    return absl::InvalidArgumentError(path + ": config is not valid");
  }
  return m;
}

}  // namespace psrec
