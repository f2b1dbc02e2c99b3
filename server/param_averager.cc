#include "server/param_averager.h"

namespace psrec {

uint32_t ParameterAverager::Accumulate(const ShardState& shard) {
  absl::MutexLock lock(&mu_);
  if (tables_.size() < shard.num_tables()) tables_.resize(shard.num_tables());
  for (size_t t = 0; t < shard.num_tables(); ++t) {
    const EmbeddingTable* table = shard.table(static_cast<uint32_t>(t));
    if (table == nullptr) continue;
    TableSums& sums = tables_[t];
    sums.dim = table->dim();
    table->ForEach([&sums](uint64_t id, const float* params) {
      auto [it, inserted] = sums.index.try_emplace(id, static_cast<uint32_t>(sums.ids.size()));
      if (inserted) {
        sums.ids.push_back(id);
        sums.counts.push_back(0);
        sums.sums.resize(sums.sums.size() + sums.dim, 0.0f);
      }
      const uint32_t r = it->second;
      float* sum = sums.sums.data() + static_cast<size_t>(r) * sums.dim;
      for (uint32_t k = 0; k < sums.dim; ++k) sum[k] += params[k];
      ++sums.counts[r];
    });
  }
  return ++snapshots_;
}

uint32_t ParameterAverager::Apply(ShardState& shard) {
  absl::MutexLock lock(&mu_);
  const uint32_t averaged = snapshots_;
  for (size_t t = 0; t < tables_.size() && t < shard.num_tables(); ++t) {
    EmbeddingTable* table = shard.table(static_cast<uint32_t>(t));
    if (table == nullptr) continue;
    const TableSums& sums = tables_[t];
    std::vector<float> mean(sums.dim);
    for (size_t r = 0; r < sums.ids.size(); ++r) {
      const float* sum = sums.sums.data() + r * sums.dim;
      for (uint32_t k = 0; k < sums.dim; ++k) {
        mean[k] = sum[k] / static_cast<float>(sums.counts[r]);
      }
      table->SetParameters(sums.ids[r], mean.data());
    }
  }
  tables_.clear();
  snapshots_ = 0;
  return averaged;
}

uint32_t ParameterAverager::snapshots() const {
  absl::MutexLock lock(&mu_);
  return snapshots_;
}

}  // namespace psrec
