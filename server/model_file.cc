#include "server/model_file.h"

#include <zlib.h>

#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "proto/model_file.pb.h"

namespace psrec {
namespace {

constexpr char kMagic[8] = {'P', 'S', 'R', 'E', 'C', 'M', 'D', '1'};
constexpr size_t kVersionAt = 8;
constexpr size_t kCrcAt = 12;
constexpr size_t kHeaderBytesAt = 16;
constexpr size_t kShardIndexAt = 20;
constexpr size_t kPayloadBytesAt = 24;
constexpr size_t kFixedBytes = 32;

template <typename T>
void Append(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
T Load(const std::string& data, size_t at) {
  T v;
  std::memcpy(&v, data.data() + at, sizeof(T));
  return v;
}

uint32_t Crc32(const char* p, size_t n) {
  return static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(p), n));
}

std::string Describe(const std::string& name, uint32_t dim, bool dense) {
  return absl::StrFormat("'%s' of dim %d (%s)", name, dim, dense ? "dense" : "sparse");
}

// Checks that the file's tables are exactly the model's (by id, name, dim and
// kind) and that the payload is as long as they say.
absl::Status CheckLayout(const std::string& path, const rpc::ModelFileHeader& header,
                         uint64_t payload_bytes, const std::vector<EmbeddingTable*>& tables) {
  std::vector<bool> seen(tables.size(), false);
  uint64_t needed = 0;
  for (const rpc::ModelFileTable& t : header.tables()) {
    if (t.id() >= tables.size() || tables[t.id()] == nullptr) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: holds table %d %s, which the model's layout (model.json) does not have", path,
          t.id(), Describe(t.name(), t.dim(), t.dense())));
    }
    const TableConfig& want = tables[t.id()]->config();
    if (t.name() != want.name || t.dim() != want.dim || t.dense() != want.dense) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: table %d is %s, but the model's layout (model.json) says %s", path, t.id(),
          Describe(t.name(), t.dim(), t.dense()), Describe(want.name, want.dim, want.dense)));
    }
    if (seen[t.id()]) {
      return absl::DataLossError(absl::StrFormat("%s: lists table %d twice", path, t.id()));
    }
    seen[t.id()] = true;
    const uint64_t row_bytes = sizeof(uint64_t) + uint64_t{t.dim()} * sizeof(float);
    if (t.rows() > (payload_bytes - needed) / row_bytes) {
      return absl::DataLossError(absl::StrFormat(
          "%s: truncated or damaged: table '%s' has %d rows, more than the %d payload bytes hold",
          path, t.name(), t.rows(), payload_bytes));
    }
    needed += t.rows() * row_bytes;
  }
  for (size_t id = 0; id < tables.size(); ++id) {
    if (tables[id] != nullptr && !seen[id]) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: has no table %d '%s', which the model's layout (model.json) lists",
                          path, id, tables[id]->config().name));
    }
  }
  if (needed != payload_bytes) {
    return absl::DataLossError(
        absl::StrFormat("%s: damaged: its tables need %d payload bytes, the header says %d", path,
                        needed, payload_bytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteModelShard(const std::string& path, const rpc::RunConfig& config,
                             uint32_t shard_index,
                             const std::vector<const EmbeddingTable*>& tables) {
  rpc::ModelFileHeader header;
  *header.mutable_config() = config;
  header.mutable_config()->clear_item_ids();  // a dataset fact for training only
  std::string payload;
  for (const EmbeddingTable* t : tables) {
    const uint32_t dim = t->dim();
    uint64_t rows = 0;
    t->ForEach([&](uint64_t id, const float* params) {
      Append<uint64_t>(&payload, id);
      payload.append(reinterpret_cast<const char*>(params), dim * sizeof(float));
      ++rows;
    });
    rpc::ModelFileTable* layout = header.add_tables();
    layout->set_id(t->config().id);
    layout->set_name(t->config().name);
    layout->set_dim(dim);
    layout->set_dense(t->config().dense);
    layout->set_rows(rows);
  }
  const std::string header_bytes = header.SerializeAsString();
  std::string file(kMagic, sizeof(kMagic));
  Append<uint32_t>(&file, kModelFormatVersion);
  Append<uint32_t>(&file, 0);  // crc32, filled in below
  Append<uint32_t>(&file, static_cast<uint32_t>(header_bytes.size()));
  Append<uint32_t>(&file, shard_index);
  Append<uint64_t>(&file, payload.size());
  file += header_bytes;
  file += payload;
  const uint32_t crc = Crc32(file.data() + kHeaderBytesAt, file.size() - kHeaderBytesAt);
  std::memcpy(file.data() + kCrcAt, &crc, sizeof(crc));
  return WriteFileAtomically(path, file);
}

absl::StatusOr<ModelShardInfo> ReadModelShard(const std::string& path,
                                              const std::vector<EmbeddingTable*>& tables) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  if (data->size() < sizeof(kMagic) || std::memcmp(data->data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: not a psrec model shard (no PSRECMD1 magic)", path));
  }
  auto truncated = [&] {
    return absl::DataLossError(
        absl::StrFormat("%s: truncated: %d bytes, shorter than the %d-byte fixed header", path,
                        data->size(), kFixedBytes));
  };
  // The version first: another version's header may be shorter.
  if (data->size() < kVersionAt + sizeof(uint32_t)) return truncated();
  const uint32_t version = Load<uint32_t>(*data, kVersionAt);
  if (version != kModelFormatVersion) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: model format version %d, this psrec reads version %d; retrain or use the psrec "
        "that wrote it",
        path, version, kModelFormatVersion));
  }
  if (data->size() < kFixedBytes) return truncated();
  const uint32_t header_bytes = Load<uint32_t>(*data, kHeaderBytesAt);
  const uint64_t payload_bytes = Load<uint64_t>(*data, kPayloadBytesAt);
  const uint64_t after_fixed = data->size() - kFixedBytes;
  if (header_bytes > after_fixed || payload_bytes != after_fixed - header_bytes) {
    return absl::DataLossError(absl::StrFormat(
        "%s: truncated or damaged: %d bytes, its header says %d + %d header + %d payload bytes",
        path, data->size(), kFixedBytes, header_bytes, payload_bytes));
  }
  const uint32_t stored_crc = Load<uint32_t>(*data, kCrcAt);
  const uint32_t crc = Crc32(data->data() + kHeaderBytesAt, data->size() - kHeaderBytesAt);
  if (crc != stored_crc) {
    return absl::DataLossError(
        absl::StrFormat("%s: checksum mismatch (stored %08x, computed %08x): the file is damaged",
                        path, stored_crc, crc));
  }
  rpc::ModelFileHeader header;
  if (header_bytes > static_cast<uint32_t>(std::numeric_limits<int>::max()) ||
      !header.ParseFromArray(data->data() + kFixedBytes, static_cast<int>(header_bytes))) {
    return absl::DataLossError(absl::StrFormat("%s: the header does not parse", path));
  }
  if (auto s = CheckLayout(path, header, payload_bytes, tables); !s.ok()) return s;

  ModelShardInfo info;
  info.shard_index = Load<uint32_t>(*data, kShardIndexAt);
  info.config = header.config();
  const char* p = data->data() + kFixedBytes + header_bytes;
  for (const rpc::ModelFileTable& t : header.tables()) {
    EmbeddingTable* table = tables[t.id()];
    std::vector<float> row(t.dim());
    for (uint64_t r = 0; r < t.rows(); ++r) {
      uint64_t id;
      std::memcpy(&id, p, sizeof(id));
      std::memcpy(row.data(), p + sizeof(id), row.size() * sizeof(float));
      p += sizeof(id) + row.size() * sizeof(float);
      table->Insert(id, row.data());
    }
    info.rows += t.rows();
  }
  return info;
}

}  // namespace psrec
