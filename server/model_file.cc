#include "server/model_file.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "common/file_util.h"

namespace psrec {
namespace {

constexpr char kMagic[8] = {'P', 'S', 'R', 'E', 'C', 'M', 'D', '1'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;

template <typename T>
void Append(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Bounds-checked reader over the payload.
class Cursor {
 public:
  Cursor(const char* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  bool Read(T* v) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  const char* Take(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return nullptr;
    const char* r = p_;
    p_ += n;
    return r;
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

absl::Status WriteModelShard(const std::string& path,
                             const std::vector<const EmbeddingTable*>& tables) {
  std::string payload;
  Append<uint32_t>(&payload, static_cast<uint32_t>(tables.size()));
  for (const EmbeddingTable* t : tables) {
    const uint32_t dim = t->dim();
    Append<uint32_t>(&payload, t->config().id);
    Append<uint32_t>(&payload, dim);
    size_t rows_at = payload.size();
    Append<uint64_t>(&payload, 0);
    uint64_t rows = 0;
    t->ForEach([&](uint64_t id, const float* params) {
      Append<uint64_t>(&payload, id);
      payload.append(reinterpret_cast<const char*>(params), dim * sizeof(float));
      ++rows;
    });
    std::memcpy(payload.data() + rows_at, &rows, sizeof(rows));
  }
  std::string file(kMagic, sizeof(kMagic));
  Append<uint32_t>(&file, kModelFormatVersion);
  Append<uint32_t>(&file, static_cast<uint32_t>(
                              crc32_z(0, reinterpret_cast<const Bytef*>(payload.data()),
                                    payload.size())));
  Append<uint64_t>(&file, payload.size());
  file += payload;
  return WriteFileAtomically(path, file);
}

absl::Status ReadModelShard(const std::string& path, const std::vector<EmbeddingTable*>& tables,
                            uint64_t* rows_read) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  if (data->size() < kHeaderBytes || std::memcmp(data->data(), kMagic, 8) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a psrec model shard", path));
  }
  uint32_t version, crc;
  uint64_t payload_bytes;
  std::memcpy(&version, data->data() + 8, 4);
  std::memcpy(&crc, data->data() + 12, 4);
  std::memcpy(&payload_bytes, data->data() + 16, 8);
  if (version != kModelFormatVersion) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: model format version %d, this psrec reads %d", path, version, kModelFormatVersion));
  }
  if (payload_bytes != data->size() - kHeaderBytes) {
    return absl::DataLossError(absl::StrFormat("%s: truncated (%d payload bytes, header says %d)",
                                               path, data->size() - kHeaderBytes, payload_bytes));
  }
  const char* payload = data->data() + kHeaderBytes;
  if (crc32_z(0, reinterpret_cast<const Bytef*>(payload), payload_bytes) != crc) {
    return absl::DataLossError(absl::StrFormat("%s: checksum mismatch", path));
  }
  Cursor c(payload, payload_bytes);
  uint32_t num_tables = 0;
  if (!c.Read(&num_tables)) return absl::DataLossError(path + ": truncated");
  *rows_read = 0;
  for (uint32_t t = 0; t < num_tables; ++t) {
    uint32_t id, dim;
    uint64_t rows;
    if (!c.Read(&id) || !c.Read(&dim) || !c.Read(&rows)) {
      return absl::DataLossError(path + ": truncated table header");
    }
    if (id >= tables.size() || tables[id] == nullptr || tables[id]->dim() != dim) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: table %d of dim %d does not match the model's layout", path, id, dim));
    }
    for (uint64_t r = 0; r < rows; ++r) {
      uint64_t key;
      const char* params;
      if (!c.Read(&key) || (params = c.Take(dim * sizeof(float))) == nullptr) {
        return absl::DataLossError(path + ": truncated rows");
      }
      std::vector<float> row(dim);
      std::memcpy(row.data(), params, dim * sizeof(float));
      tables[id]->Insert(key, row.data());
      ++*rows_read;
    }
  }
  return absl::OkStatus();
}

}  // namespace psrec
