// The on-disk form of a server's shard of a trained model ("Model files" in
// README.md). Little-endian, format version 2:
//   0   char[8] magic "PSRECMD1"
//   8   u32     format_version (2)
//   12  u32     crc32 (zlib) of every byte from offset 16 to the end
//   16  u32     header_bytes H
//   20  u32     shard_index
//   24  u64     payload_bytes P
//   32  H bytes header: rpc::ModelFileHeader (proto/model_file.proto), binary
//   32+H P bytes payload: per header table, in order: rows x (u64 id, dim x f32)
// The magic and the version field sit where version 1 had them, so any
// version is recognised and refused by name. Parameters only: optimizer state
// is not part of a model (checkpoints, below, carry it).
#ifndef PSREC_SERVER_MODEL_FILE_H_
#define PSREC_SERVER_MODEL_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/psrec.pb.h"
#include "server/embedding_table.h"

namespace psrec {

inline constexpr uint32_t kModelFormatVersion = 2;
// Checkpoint shards: the same layout with magic "PSRECCK1", format version 1;
// each payload row is (u64 id, u32 step, dim x (1 + state_floats) f32): the
// parameters, then the optimizer state, so a restore continues exactly.
inline constexpr uint32_t kCheckpointFormatVersion = 1;

// Serializes `tables` with a header holding `config` (without its item list),
// `shard_index` and the tables' layout, and writes it to `path` atomically.
absl::Status WriteModelShard(const std::string& path, const rpc::RunConfig& config,
                             uint32_t shard_index,
                             const std::vector<const EmbeddingTable*>& tables);

// What a shard file says about itself.
struct ModelShardInfo {
  rpc::RunConfig config;  // as the server that wrote the file had it
  uint32_t shard_index = 0;
  uint64_t rows = 0;  // rows read, over all tables
};

// Verifies a shard file completely, then inserts its rows into `tables`
// (indexed by table id; the model's layout, from model.json). Every error
// names the file: InvalidArgument for something that is not a model shard or
// another format version, DataLoss for truncation or a checksum mismatch,
// FailedPrecondition when the file's tables (id, name, dim, dense) differ from
// `tables`. Nothing is inserted unless the whole file verified.
absl::StatusOr<ModelShardInfo> ReadModelShard(const std::string& path,
                                              const std::vector<EmbeddingTable*>& tables);

// Which state a checkpoint shard holds (server/checkpoint_store.h).
struct CheckpointTag {
  uint64_t round = 0;           // the round's number, or the base round of a final snapshot
  bool final_snapshot = false;  // written on SIGTERM, outside any round
};

// Writes a checkpoint shard of `tables` (optimizer state included)
// atomically; returns the bytes written.
absl::StatusOr<uint64_t> WriteCheckpointShard(const std::string& path,
                                              const rpc::RunConfig& config, uint32_t shard_index,
                                              const CheckpointTag& tag,
                                              const std::vector<const EmbeddingTable*>& tables);

struct CheckpointShardInfo : ModelShardInfo {
  CheckpointTag tag;
};

// As ReadModelShard, for checkpoint shards: rows are restored with their
// optimizer state and step counts. A table whose optimizer state size differs
// from `tables`' is FailedPrecondition.
absl::StatusOr<CheckpointShardInfo> ReadCheckpointShard(
    const std::string& path, const std::vector<EmbeddingTable*>& tables);

// The tag in a checkpoint shard's header, without verifying the payload
// (ReadCheckpointShard does that).
absl::StatusOr<CheckpointTag> ReadCheckpointTag(const std::string& path);

}  // namespace psrec

#endif  // PSREC_SERVER_MODEL_FILE_H_
