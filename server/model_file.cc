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
// Checkpoints share the layout; another magic keeps the two apart.
constexpr char kCheckpointMagic[8] = {'P', 'S', 'R', 'E', 'C', 'C', 'K', '1'};

// What differs between a model shard and a checkpoint shard.
struct FileKind {
  const char* magic;
  uint32_t version;
  bool with_state;  // rows carry their step count and optimizer state
  const char* what;
};
constexpr FileKind kModelKind = {kMagic, kModelFormatVersion, false, "model shard"};
constexpr FileKind kCheckpointKind = {kCheckpointMagic, kCheckpointFormatVersion, true,
                                      "checkpoint shard"};

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
                         uint64_t payload_bytes, const std::vector<EmbeddingTable*>& tables,
                         bool with_state) {
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
    if (with_state && t.state_floats() * want.dim + want.dim != tables[t.id()]->stride()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: table '%s' holds %d optimizer floats per parameter, this run's optimizer keeps "
          "%d (another --optimizer?)",
          path, t.name(), t.state_floats(), tables[t.id()]->stride() / want.dim - 1));
    }
    const uint64_t row_bytes = with_state ? sizeof(uint64_t) + sizeof(uint32_t) +
                                                uint64_t{t.dim()} * (1 + t.state_floats()) *
                                                    sizeof(float)
                                          : sizeof(uint64_t) + uint64_t{t.dim()} * sizeof(float);
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

std::string SerializeShard(const FileKind& kind, rpc::ModelFileHeader header,
                           const rpc::RunConfig& config, uint32_t shard_index,
                           const std::vector<const EmbeddingTable*>& tables) {
  *header.mutable_config() = config;
  header.mutable_config()->clear_item_ids();  // a dataset fact for training only
  // The file is built in one buffer reserved once: rows first, then the
  // header is inserted in front within the same capacity. Growing a payload
  // string by doubling and then copying it into the file held up to three
  // times the shard at once, the largest part of a server's peak memory.
  size_t estimate = 1 << 20;  // room for the header
  for (const EmbeddingTable* t : tables) {
    const size_t floats = kind.with_state ? t->stride() : t->dim();
    estimate += t->rows() * (sizeof(uint64_t) + (kind.with_state ? sizeof(uint32_t) : 0) +
                             floats * sizeof(float));
  }
  std::string payload;
  payload.reserve(estimate + estimate / 64);  // rows created meanwhile
  for (const EmbeddingTable* t : tables) {
    const uint32_t dim = t->dim();
    uint64_t rows = 0;
    if (kind.with_state) {
      const uint32_t stride = t->stride();
      t->ForEachWithState([&](uint64_t id, const float* row, uint32_t step) {
        Append<uint64_t>(&payload, id);
        Append<uint32_t>(&payload, step);
        payload.append(reinterpret_cast<const char*>(row), stride * sizeof(float));
        ++rows;
      });
    } else {
      t->ForEach([&](uint64_t id, const float* params) {
        Append<uint64_t>(&payload, id);
        payload.append(reinterpret_cast<const char*>(params), dim * sizeof(float));
        ++rows;
      });
    }
    rpc::ModelFileTable* layout = header.add_tables();
    if (kind.with_state) layout->set_state_floats(t->stride() / dim - 1);
    layout->set_id(t->config().id);
    layout->set_name(t->config().name);
    layout->set_dim(dim);
    layout->set_dense(t->config().dense);
    layout->set_rows(rows);
  }
  const std::string header_bytes = header.SerializeAsString();
  std::string file(kind.magic, sizeof(kMagic));
  Append<uint32_t>(&file, kind.version);
  Append<uint32_t>(&file, 0);  // crc32, filled in below
  Append<uint32_t>(&file, static_cast<uint32_t>(header_bytes.size()));
  Append<uint32_t>(&file, shard_index);
  Append<uint64_t>(&file, payload.size());
  file += header_bytes;
  payload.insert(0, file);  // in place when the reserve held
  file = std::move(payload);
  const uint32_t crc = Crc32(file.data() + kHeaderBytesAt, file.size() - kHeaderBytesAt);
  std::memcpy(file.data() + kCrcAt, &crc, sizeof(crc));
  return file;
}

// Verifies `path` completely, then inserts its rows; `*header` receives its
// header.
absl::StatusOr<ModelShardInfo> ReadShard(const FileKind& kind, const std::string& path,
                                         const std::vector<EmbeddingTable*>& tables,
                                         rpc::ModelFileHeader* header_out) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  if (data->size() < sizeof(kMagic) ||
      std::memcmp(data->data(), kind.magic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a psrec %s (no %s magic)", path,
                                                      kind.what,
                                                      std::string(kind.magic, sizeof(kMagic))));
  }
  auto truncated = [&] {
    return absl::DataLossError(
        absl::StrFormat("%s: truncated: %d bytes, shorter than the %d-byte fixed header", path,
                        data->size(), kFixedBytes));
  };
  // The version first: another version's header may be shorter.
  if (data->size() < kVersionAt + sizeof(uint32_t)) return truncated();
  const uint32_t version = Load<uint32_t>(*data, kVersionAt);
  if (version != kind.version) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s format version %d, this psrec reads version %d; retrain or use the psrec "
        "that wrote it",
        path, kind.what == std::string("model shard") ? "model" : "checkpoint", version,
        kind.version));
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
  if (auto s = CheckLayout(path, header, payload_bytes, tables, kind.with_state); !s.ok()) {
    return s;
  }

  ModelShardInfo info;
  info.shard_index = Load<uint32_t>(*data, kShardIndexAt);
  info.config = header.config();
  const char* p = data->data() + kFixedBytes + header_bytes;
  for (const rpc::ModelFileTable& t : header.tables()) {
    EmbeddingTable* table = tables[t.id()];
    std::vector<float> row(kind.with_state ? table->stride() : t.dim());
    for (uint64_t r = 0; r < t.rows(); ++r) {
      uint64_t id;
      uint32_t step = 0;
      std::memcpy(&id, p, sizeof(id));
      p += sizeof(id);
      if (kind.with_state) {
        std::memcpy(&step, p, sizeof(step));
        p += sizeof(step);
      }
      std::memcpy(row.data(), p, row.size() * sizeof(float));
      p += row.size() * sizeof(float);
      if (kind.with_state) {
        table->InsertWithState(id, row.data(), step);
      } else {
        table->Insert(id, row.data());
      }
    }
    info.rows += t.rows();
  }
  if (header_out != nullptr) *header_out = std::move(header);
  return info;
}

}  // namespace

absl::Status WriteModelShard(const std::string& path, const rpc::RunConfig& config,
                             uint32_t shard_index,
                             const std::vector<const EmbeddingTable*>& tables) {
  return WriteFileAtomically(
      path, SerializeShard(kModelKind, rpc::ModelFileHeader(), config, shard_index, tables));
}

absl::StatusOr<ModelShardInfo> ReadModelShard(const std::string& path,
                                              const std::vector<EmbeddingTable*>& tables) {
  return ReadShard(kModelKind, path, tables, nullptr);
}

absl::StatusOr<uint64_t> WriteCheckpointShard(const std::string& path,
                                              const rpc::RunConfig& config, uint32_t shard_index,
                                              const CheckpointTag& tag,
                                              const std::vector<const EmbeddingTable*>& tables) {
  rpc::ModelFileHeader header;
  header.set_checkpoint_round(tag.round);
  header.set_final_snapshot(tag.final_snapshot);
  const std::string file = SerializeShard(kCheckpointKind, header, config, shard_index, tables);
  if (auto s = WriteFileAtomically(path, file); !s.ok()) return s;
  return file.size();
}

absl::StatusOr<CheckpointTag> ReadCheckpointTag(const std::string& path) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  if (data->size() < kFixedBytes ||
      std::memcmp(data->data(), kCheckpointMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrFormat("%s: not a whole checkpoint shard", path));
  }
  const uint32_t header_bytes = Load<uint32_t>(*data, kHeaderBytesAt);
  rpc::ModelFileHeader header;
  if (header_bytes > data->size() - kFixedBytes ||
      !header.ParseFromArray(data->data() + kFixedBytes, static_cast<int>(header_bytes))) {
    return absl::DataLossError(absl::StrFormat("%s: the header does not parse", path));
  }
  return CheckpointTag{header.checkpoint_round(), header.final_snapshot()};
}

absl::StatusOr<CheckpointShardInfo> ReadCheckpointShard(
    const std::string& path, const std::vector<EmbeddingTable*>& tables) {
  rpc::ModelFileHeader header;
  auto info = ReadShard(kCheckpointKind, path, tables, &header);
  if (!info.ok()) return info.status();
  CheckpointShardInfo out;
  static_cast<ModelShardInfo&>(out) = std::move(*info);
  out.tag.round = header.checkpoint_round();
  out.tag.final_snapshot = header.final_snapshot();
  return out;
}

}  // namespace psrec
