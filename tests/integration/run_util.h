// Helpers for tests that run the real `psrec` binary as separate processes.
#ifndef PSREC_TESTS_INTEGRATION_RUN_UTIL_H_
#define PSREC_TESTS_INTEGRATION_RUN_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace psrec::testing_util {

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `psrec ARGS...` (the binary CMake built), in its own process group,
// killing the whole group after `timeout_seconds`.
RunResult RunPsrec(const std::vector<std::string>& args, int timeout_seconds = 300);

// A fresh empty directory under the test temp dir.
std::string MakeTempDir(const std::string& name);

std::string ReadFile(const std::string& path);

// `psrec gen` of a small planted rank-16 rating set (as bench/mf_scale.sh's
// 20M set: 1000 users x 500 items) into `dir`; returns `dir`.
std::string GeneratePlantedRatings(const std::string& dir);

// `psrec gen` of a small implicit set (NCF layout) into DIR/data.
struct ImplicitData {
  std::string train, negatives;  // DIR/data/train.rating, DIR/data/test.negative
};
ImplicitData GenerateImplicitData(const std::string& dir, int users, int items, int per_user);

// The values of a float32 / int64 .npy file (a test failure and nothing when
// it cannot be read).
std::vector<float> NpyFloats(const std::string& path);
std::vector<int64_t> NpyInt64s(const std::string& path);

// `psrec train` of mf with SGD (lr 2, batch 256, 8 epochs) on such a set,
// writing `metrics`: the MF runs the single-process and windowed modes are
// compared on.
std::vector<std::string> PlantedMfSgdFlags(const std::string& data, const std::string& metrics);

// GET /metrics on 127.0.0.1:`port` over a plain socket: the whole HTTP
// response, or "" when it fails.
std::string GetMetricsResponse(int port);
// Its body; "" when it fails.
std::string ScrapeMetrics(int port);

// The value of one Prometheus series ("name{labels}", exactly as exposed) in
// a /metrics body; NaN when absent.
double MetricValue(const std::string& body, const std::string& series);

// The number value of "key": in a flat JSON object (first occurrence);
// NaN when absent or null.
double JsonNumber(const std::string& json, const std::string& key);

// MovieLens directory: $PSREC_DATA_DIR or ../shared/data beside the source
// tree. Empty when absent.
std::string DataDir();

// Call at the start of a test that needs `what`: skips with a message, or
// fails when PSREC_REQUIRE_DATA=1 (CI) so that a skip cannot pass silently.
#define PSREC_REQUIRE(cond, what)                                                   \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      if (::psrec::testing_util::SkipsAreFailures()) {                              \
        FAIL() << what << " is missing and PSREC_REQUIRE_DATA=1";                   \
      }                                                                             \
      GTEST_SKIP() << what << " is missing (set PSREC_DATA_DIR); skipping";         \
    }                                                                               \
  } while (0)
bool SkipsAreFailures();

}  // namespace psrec::testing_util

#endif  // PSREC_TESTS_INTEGRATION_RUN_UTIL_H_
