// The on-disk form of a server's shard of a trained model ("Model files" in
// README.md). Little-endian:
//   magic "PSRECMD1" | u32 format_version | u32 crc32(payload) | u64 payload_bytes
//   payload: u32 num_tables, then per table:
//     u32 table_id | u32 dim | u64 rows | rows x (u64 id, dim x f32)
// Parameters only: optimizer state is not part of a model.
#ifndef PSREC_SERVER_MODEL_FILE_H_
#define PSREC_SERVER_MODEL_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/embedding_table.h"

namespace psrec {

inline constexpr uint32_t kModelFormatVersion = 1;

// Serializes the tables and writes them to `path` atomically.
absl::Status WriteModelShard(const std::string& path,
                             const std::vector<const EmbeddingTable*>& tables);

// Reads a shard file and inserts its rows into `tables` (indexed by table id).
// DataLoss when the checksum does not match, InvalidArgument for a bad header
// or a table whose dim differs; the message names the file.
absl::Status ReadModelShard(const std::string& path,
                            const std::vector<EmbeddingTable*>& tables,
                            uint64_t* rows_read);

}  // namespace psrec

#endif  // PSREC_SERVER_MODEL_FILE_H_
