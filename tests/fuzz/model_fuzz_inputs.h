// Model shard files (server/model_file.h) for the fuzz targets and their seed
// writer: the model_file target's table layout, and the CRC set right when
// asked, so most inputs get past the checksum to the header and layout checks.
#ifndef PSREC_TESTS_FUZZ_MODEL_FUZZ_INPUTS_H_
#define PSREC_TESTS_FUZZ_MODEL_FUZZ_INPUTS_H_

#include <zlib.h>

#include <cstring>
#include <string>

#include "proto/psrec.pb.h"

namespace psrec::fuzz {

// Sparse "user" dim 4 (id 0), dense "mlp" dim 3 (id 1), sparse "bias" dim 1
// (id 3; id 2 is a gap).
inline rpc::RunConfig ModelFileLayout() {
  rpc::RunConfig c;
  c.set_model("mf");
  c.set_optimizer("adam");
  c.set_lr(0.01f);
  auto add = [&](uint32_t id, const char* name, uint32_t dim, bool dense) {
    rpc::TableSpec* t = c.add_tables();
    t->set_id(id);
    t->set_name(name);
    t->set_dim(dim);
    t->set_dense(dense);
  };
  add(0, "user", 4, false);
  add(1, "mlp", 3, true);
  add(3, "bias", 1, false);
  return c;
}

inline std::string WithValidCrc(std::string file) {
  constexpr size_t kCrcAt = 12, kCoveredFrom = 16;
  if (file.size() < kCoveredFrom) return file;
  const uint32_t crc = static_cast<uint32_t>(crc32_z(
      0, reinterpret_cast<const Bytef*>(file.data() + kCoveredFrom), file.size() - kCoveredFrom));
  std::memcpy(file.data() + kCrcAt, &crc, sizeof(crc));
  return file;
}

}  // namespace psrec::fuzz

#endif  // PSREC_TESTS_FUZZ_MODEL_FUZZ_INPUTS_H_
