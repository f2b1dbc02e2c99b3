#include "worker/implicit_fold.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "common/model_spec.h"
#include "server/model_file.h"
#include "server/shard_state.h"
#include "worker/model_manifest.h"

namespace psrec {
namespace {

std::vector<EmbeddingTable*> TablesOf(const ShardState& state) {
  std::vector<EmbeddingTable*> tables;
  for (size_t t = 0; t < state.num_tables(); ++t) {
    tables.push_back(state.table(static_cast<uint32_t>(t)));
  }
  return tables;
}

}  // namespace

absl::Status FoldImplicitFeedback(const std::string& dir, const ImplicitFeedback& implicit) {
  auto manifest = ReadModelManifest(dir);
  if (!manifest.ok()) return manifest.status();
  const rpc::RunConfig& config = manifest->config;
  if (!config.implicit_feedback()) return absl::OkStatus();
  const int last = config.tables_size() - 1;
  if (last < 0 || config.tables(last).name() != "implicit" || config.tables(last).dense()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s/model.json: implicit feedback without a last table named 'implicit'", dir));
  }
  const uint32_t y_id = config.tables(last).id();
  const uint32_t y_dim = config.tables(last).dim();
  // Bias floats come first in a user row; the term adds to the factors after.
  const uint32_t bias = config.tables(kUserTable).zero_prefix();

  // Every y row, whichever shard holds it.
  auto all = ShardState::Create(config, 0);
  if (!all.ok()) return all.status();
  if (auto rows = (*all)->LoadAll(dir, manifest->num_shards); !rows.ok()) return rows.status();
  EmbeddingTable* y = (*all)->table(y_id);

  rpc::RunConfig folded = config;
  folded.set_implicit_feedback(false);
  folded.set_implicit_folded(true);
  folded.mutable_tables()->RemoveLast();

  std::vector<float> row, y_rows;
  std::vector<uint8_t> found;
  std::vector<const float*> y_ptrs;
  for (uint32_t i = 0; i < manifest->num_shards; ++i) {
    const std::string path = absl::StrFormat("%s/shard-%d.psm", dir, i);
    auto part = ShardState::Create(config, i);
    if (!part.ok()) return part.status();
    if (auto info = ReadModelShard(path, TablesOf(**part)); !info.ok()) return info.status();
    auto out = ShardState::Create(folded, i);
    if (!out.ok()) return out.status();
    for (const rpc::TableSpec& t : folded.tables()) {
      EmbeddingTable* from = (*part)->table(t.id());
      EmbeddingTable* to = (*out)->table(t.id());
      const bool users = t.id() == kUserTable;
      from->ForEach([&](uint64_t id, const float* params) {
        if (!users) {
          to->Insert(id, params);
          return;
        }
        row.assign(params, params + t.dim());
        absl::Span<const uint64_t> items = implicit.Items(id);
        y_rows.resize(items.size() * y_dim);
        found.resize(items.size());
        y->Pull(items, y_rows.data(), found.data());  // missing rows read as zeros
        y_ptrs.clear();
        for (size_t k = 0; k < items.size(); ++k) y_ptrs.push_back(y_rows.data() + k * y_dim);
        AddImplicitTerm(y_ptrs, y_dim, row.data() + bias);
        to->Insert(id, row.data());
      });
    }
    if (auto s = (*out)->Save(dir); !s.ok()) return s.status();
  }
  return WriteModelManifest(dir, {folded, manifest->num_shards});
}

}  // namespace psrec
