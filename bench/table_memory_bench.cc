// Resident memory per row of an EmbeddingTable (issue 4, item 5): fills a
// table of `--rows` rows of dim 32 with Adagrad state, the way pushes create
// rows on a server, and reports resident bytes per row against the raw 256
// bytes (32 parameters + 32 accumulators). One JSON line.
//
//   psrec_table_memory_bench [--rows=10000000] [--dim=32]
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "server/embedding_table.h"
#include "server/optimizer.h"

int main(int argc, char** argv) {
  uint64_t rows = 10'000'000;
  uint32_t dim = 32;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool ok = false;
    if (absl::StartsWith(a, "--rows=")) ok = absl::SimpleAtoi(a.substr(7), &rows);
    if (absl::StartsWith(a, "--dim=")) ok = absl::SimpleAtoi(a.substr(6), &dim);
    if (!ok) {
      std::fprintf(stderr, "usage: %s [--rows=N] [--dim=D]\n", argv[0]);
      return 2;
    }
  }
  psrec::OptimizerOptions oo;
  oo.name = "adagrad";
  oo.lr = 0.05f;
  auto optimizer = psrec::MakeOptimizer(oo);
  if (!optimizer.ok()) return 1;
  psrec::TableConfig config;
  config.id = 0;
  config.name = "bench";
  config.dim = dim;
  config.init_std = 0.01f;

  const uint64_t rss_before = psrec::ResidentBytes();
  const absl::Time start = absl::Now();
  {
    psrec::EmbeddingTable table(config, optimizer->get(), /*seed=*/1);
    // Ids spread over 64 bits, as hashed or raw ids of real data are.
    constexpr size_t kBatch = 100'000;
    std::vector<uint64_t> keys(kBatch);
    std::vector<float> grads(kBatch * dim, 0.01f);
    for (uint64_t done = 0; done < rows; done += kBatch) {
      const size_t n = std::min<uint64_t>(kBatch, rows - done);
      for (size_t i = 0; i < n; ++i) keys[i] = (done + i) * 0x9E3779B97F4A7C15ull;
      table.Push({keys.data(), n}, grads.data(), 1.0f);
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    const uint64_t rss = psrec::ResidentBytes() - rss_before;
    const double raw = 2.0 * dim * sizeof(float);
    std::printf(
        "{\"bench\":\"table_memory\",\"rows\":%llu,\"dim\":%u,\"optimizer\":\"adagrad\","
        "\"resident_bytes\":%llu,\"bytes_per_row\":%.1f,\"raw_bytes_per_row\":%.0f,"
        "\"ratio\":%.3f,\"table_bytes_per_row\":%.1f,\"fill_seconds\":%.2f,"
        "\"rows_per_s\":%.0f}\n",
        static_cast<unsigned long long>(table.rows()), dim,
        static_cast<unsigned long long>(rss), static_cast<double>(rss) / table.rows(), raw,
        rss / raw / table.rows(), static_cast<double>(table.bytes()) / table.rows(), seconds,
        table.rows() / seconds);
  }
  return 0;
}
