// ParameterServerService's handlers, called in-process on a configured shard
// with a sequence of requests taken from the fuzz bytes: parsed protos and
// requests built from raw key/gradient bytes. Checks that a refused request
// is counted and leaves the tables unchanged, that an accepted pull answers
// keys x dim floats, that a dense tensor stays one row, and that a saved
// shard reads back.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc_util.h"
#include "server/model_file.h"
#include "server/ps_service.h"
#include "server/shard_state.h"
#include "tests/fuzz/fuzz_util.h"

namespace psrec::fuzz {
namespace {

rpc::RunConfig ConfigFrom(FuzzInput& in) {
  static const char* const kOptimizers[] = {"sgd", "adagrad", "adam"};
  const uint8_t b = in.Byte();
  rpc::RunConfig c;
  c.set_optimizer(kOptimizers[b % 3]);
  c.set_lr(0.05f);
  c.set_seed(7);
  // Tables 0 (sparse), 1 (dense) and 3 (sparse, dim 1); id 2 is a gap.
  rpc::TableSpec* t = c.add_tables();
  t->set_id(0);
  t->set_name("user");
  t->set_dim(1 + (b >> 2) % 8);
  t->set_init_std(0.1f);
  t->set_zero_prefix((b >> 5) % 2);
  t = c.add_tables();
  t->set_id(1);
  t->set_name("dense");
  t->set_dim(3);
  t->set_dense(true);
  t->set_init_uniform(0.5f);
  t = c.add_tables();
  t->set_id(3);
  t->set_name("bias");
  t->set_dim(1);
  t->set_l2(0.01f);
  return c;
}

uint64_t TotalRows(const ShardState& s) {
  uint64_t rows = 0;
  for (size_t i = 0; i < s.num_tables(); ++i) {
    if (const EmbeddingTable* t = s.table(static_cast<uint32_t>(i))) rows += t->rows();
  }
  return rows;
}

uint64_t Rejected(ParameterServerService& service) {
  rpc::StatsRequest req;
  rpc::StatsResponse resp;
  FUZZ_CHECK(service.Stats(nullptr, &req, &resp).ok(), "Stats failed");
  return resp.rejected();
}

uint32_t Version(FuzzInput& in) {
  // Mostly the right version, sometimes whatever the input says.
  const uint8_t b = in.Byte();
  return b < 240 ? kProtocolVersion : b;
}

// Raw key bytes: a count of whole keys, plus sometimes a stray byte.
std::string Keys(FuzzInput& in, uint8_t shape) {
  std::string keys = in.Bytes(8 * (shape % 16));
  if (shape & 0x80) keys += in.Bytes(1);
  return keys;
}

// Whether a refused request (status not OK) left the tables as they were
// and was counted; an accepted one may create rows.
void CheckOutcome(const grpc::Status& st, ParameterServerService& service, const ShardState& shard,
                  uint64_t rows_before, uint64_t rejected_before, const char* what) {
  if (st.ok()) return;
  FUZZ_CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                 st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED,
             absl::StrCat(what, ": unexpected code ", st.error_code(), " ", st.error_message()));
  FUZZ_CHECK(TotalRows(shard) == rows_before, absl::StrCat(what, " refused but rows changed"));
  FUZZ_CHECK(Rejected(service) == rejected_before + 1, absl::StrCat(what, " refused, not counted"));
}

// A dense tensor is one row, key 0, whatever the requests said.
void CheckDenseRows(const ShardState& shard) {
  FUZZ_CHECK(shard.table(1)->rows() <= 1,
             absl::StrCat("the dense tensor has ", shard.table(1)->rows(), " rows"));
}

void CheckPull(const rpc::PullRequest& req, ParameterServerService& service,
               const ShardState& shard) {
  const uint64_t rows = TotalRows(shard), rejected = Rejected(service);
  rpc::PullResponse resp;
  const grpc::Status st = service.Pull(nullptr, &req, &resp);
  CheckOutcome(st, service, shard, rows, rejected, "pull");
  CheckDenseRows(shard);
  if (!st.ok()) return;
  const size_t n = req.keys().size() / sizeof(uint64_t);
  FUZZ_CHECK(resp.values().size() == n * resp.dim() * sizeof(float), "pull: values size");
  if (req.read_only()) {
    FUZZ_CHECK(TotalRows(shard) == rows, "a read-only pull created rows");
    FUZZ_CHECK(resp.found().size() == n, "read-only pull: found size");
  }
}

void CheckPush(const rpc::PushRequest& req, ParameterServerService& service,
               const ShardState& shard) {
  const uint64_t rows = TotalRows(shard), rejected = Rejected(service);
  rpc::PushResponse resp;
  const grpc::Status st = service.Push(nullptr, &req, &resp);
  CheckOutcome(st, service, shard, rows, rejected, "push");
  CheckDenseRows(shard);
  if (st.ok()) {
    FUZZ_CHECK(resp.applied() == req.keys().size() / sizeof(uint64_t), "push: applied count");
  }
}

void CheckSave(const rpc::RunConfig& config, ParameterServerService& service,
               const ShardState& shard, bool empty_dir) {
  // Never a directory named by the input: the fuzzer would write anywhere.
  rpc::SaveRequest req;
  if (!empty_dir) req.set_dir(ScratchDir() + "/ps_save");
  rpc::SaveResponse resp;
  const grpc::Status st = service.Save(nullptr, &req, &resp);
  if (empty_dir) {
    FUZZ_CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT, "save to '' accepted");
    return;
  }
  FUZZ_CHECK(st.ok(), "save failed: " + st.error_message());
  FUZZ_CHECK(resp.rows() == TotalRows(shard), "save: row count");
  auto copy = ShardState::Create(config, 0);
  FUZZ_CHECK(copy.ok(), "ShardState::Create");
  std::vector<EmbeddingTable*> tables;
  for (size_t i = 0; i < (*copy)->num_tables(); ++i) {
    tables.push_back((*copy)->table(static_cast<uint32_t>(i)));
  }
  auto info = ReadModelShard(resp.path(), tables);
  FUZZ_CHECK(info.ok(), "saved shard does not read back: " + info.status().ToString());
  FUZZ_CHECK(info->rows == resp.rows(), "saved shard: row count");
}

}  // namespace
}  // namespace psrec::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  FuzzInput in(data, size);
  const rpc::RunConfig config = ConfigFrom(in);
  auto state = ShardState::Create(config, 0);
  FUZZ_CHECK(state.ok(), state.status().ToString());
  const ShardState& shard = **state;
  ParameterServerService service(nullptr);
  service.SetShard(std::move(*state));
  for (int ops = 0; ops < 64 && !in.empty(); ++ops) {
    const uint8_t op = in.Byte();
    switch (op % 6) {
      case 0: {  // a Pull request as the bytes parse
        rpc::PullRequest req;
        if (req.ParseFromString(in.Bytes(in.Byte()))) CheckPull(req, service, shard);
        break;
      }
      case 1: {  // a Pull built from raw key bytes
        rpc::PullRequest req;
        req.set_protocol_version(Version(in));
        req.set_table(in.Byte() % 5);
        req.set_read_only(op & 0x40);
        req.set_keys(Keys(in, in.Byte()));
        CheckPull(req, service, shard);
        break;
      }
      case 2: {  // a Push request as the bytes parse
        rpc::PushRequest req;
        if (req.ParseFromString(in.Bytes(in.Byte()))) CheckPush(req, service, shard);
        break;
      }
      case 3: {  // a Push built from raw key and gradient bytes
        rpc::PushRequest req;
        req.set_protocol_version(Version(in));
        const uint32_t table = in.Byte() % 5;
        req.set_table(table);
        req.set_keys(Keys(in, in.Byte()));
        const EmbeddingTable* t = shard.table(table);
        const size_t want = (req.keys().size() / 8) * (t != nullptr ? t->dim() : 1) * 4;
        const uint8_t skew = in.Byte();  // usually the right size, sometimes not
        req.set_grads(in.Bytes(skew < 224 ? want : want + skew % 8 - 4));
        if (op & 0x40) req.set_lr_scale(in.Float());
        CheckPush(req, service, shard);
        break;
      }
      case 4: {
        rpc::StatsRequest req;
        rpc::StatsResponse resp;
        FUZZ_CHECK(service.Stats(nullptr, &req, &resp).ok(), "Stats failed");
        break;
      }
      case 5:
        CheckSave(config, service, shard, op & 0x40);
        break;
    }
  }
  return 0;
}
