// `psrec train` as an operator sees it: trained from Spark part-file
// directories (gzip, header in every part, _SUCCESS), with plain progress
// lines when stdout is not a terminal, and a report with its charts.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::JsonNumber;
using testing_util::MakeTempDir;
using testing_util::ReadFile;
using testing_util::RunPsrec;

void WriteGzip(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr) << path;
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  gzclose(gz);
}

// Splits a tab-separated ratings file into `parts` gzipped CSV part files
// with a header each, as Spark writes them; returns the number of rows.
size_t WriteSparkDirectory(const std::string& tsv, const std::string& dir, int parts) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> texts(parts, "userId,movieId,rating,timestamp\n");
  size_t rows = 0;
  for (absl::string_view line : absl::StrSplit(ReadFile(tsv), '\n', absl::SkipEmpty())) {
    absl::StrAppend(&texts[rows++ % parts], absl::StrReplaceAll(line, {{"\t", ","}}), "\n");
  }
  for (int p = 0; p < parts; ++p) {
    WriteGzip(absl::StrCat(dir, "/part-0000", p, "-5f1e.c000.csv.gz"), texts[p]);
  }
  std::ofstream(dir + "/_SUCCESS");
  std::ofstream(dir + "/.part-00000-5f1e.c000.csv.gz.crc") << "checksum";
  return rows;
}

TEST(TrainOpsTest, SparkInputPlainProgressAndReport) {
  const std::string dir = MakeTempDir("train_ops");
  auto gen =
      RunPsrec({"gen", "--out=" + dir + "/data", "--implicit=false", "--gen_users=1500"}, 60);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const size_t train_rows =
      WriteSparkDirectory(dir + "/data/train.rating", dir + "/spark-train", 3);
  WriteSparkDirectory(dir + "/data/test.rating", dir + "/spark-test", 2);

  auto r = RunPsrec(
      {"train", "--model=mf", "--train=" + dir + "/spark-train", "--test=" + dir + "/spark-test",
       "--epochs=3", "--progress=plain", "--progress_seconds=0.05", "--report=" + dir + "/report",
       "--metrics_json=" + dir + "/m.json", "--log_level=warn"},
      300);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Every interaction of every part trained on, once per epoch.
  const std::string json = ReadFile(dir + "/m.json");
  EXPECT_EQ(JsonNumber(json, "train_examples"), 3.0 * train_rows) << json;
  EXPECT_LT(JsonNumber(json, "rmse"), 1.5) << json;

  // Not a terminal: whole lines, no carriage returns or escape sequences.
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  static const std::regex kProgress(
      R"(^progress: epoch ([1-3])/3 +(\d+\.\d)% +\d+ ex/s( +loss \d+\.\d{4})?( +ETA \d+(h\d\dm|m\d\ds|s))?$)");
  int progress_lines = 0;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    if (!absl::StartsWith(line, "progress:")) continue;
    const std::string l(line);
    std::smatch m;
    EXPECT_TRUE(std::regex_match(l, m, kProgress)) << l;
    if (!m.empty()) EXPECT_LE(std::stod(m[2]), 100.0) << l;
    ++progress_lines;
  }
  EXPECT_GT(progress_lines, 0) << r.out;
  // Epoch lines stay as they were, each on its own line.
  EXPECT_TRUE(absl::StrContains(r.out, "\nepoch   3/3  loss ")) << r.out;

  const std::string html = ReadFile(dir + "/report/report.html");
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_FALSE(absl::StrContains(html, "<script"));
  for (const char* chart : {"loss", "metrics", "throughput", "rows"}) {
    EXPECT_TRUE(absl::StrContains(html, absl::StrCat("data-chart=\"", chart, "\""))) << chart;
  }
  EXPECT_TRUE(absl::StrContains(html, "data-series=\"training loss\" data-points=\"3\""));
  EXPECT_TRUE(absl::StrContains(html, "data-series=\"test RMSE\" data-points=\"3\""));
  EXPECT_TRUE(absl::StrContains(html, "data-series=\"server 1\""));
  EXPECT_TRUE(absl::StrContains(r.out, "report written to " + dir + "/report/report.html"));
}

// Part files are the data shards: each worker reads only the parts it is
// leased. Under bsp worker w owns shards w, w + 2, ..., so each part is read
// exactly once, by its owner, and every interaction is trained every epoch.
TEST(TrainOpsTest, SparkPartFilesAreDataShardsReadByTheWorkers) {
  const std::string dir = MakeTempDir("train_parts");
  auto gen =
      RunPsrec({"gen", "--out=" + dir + "/data", "--implicit=false", "--gen_users=800"}, 60);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const size_t train_rows =
      WriteSparkDirectory(dir + "/data/train.rating", dir + "/spark-train", 4);
  auto r = RunPsrec({"train", "--model=mf", "--train=" + dir + "/spark-train",
                     "--test=" + dir + "/data/test.rating", "--epochs=2", "--workers=2",
                     "--consistency=bsp", "--metrics_json=" + dir + "/m.json",
                     "--log_level=info"},
                    300);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(JsonNumber(ReadFile(dir + "/m.json"), "train_examples"), 2.0 * train_rows);

  static const std::regex kRead(R"(worker (\d+).*data shard (\d+): read .*part-0000(\d)-)");
  std::vector<int> reads(4, 0);
  for (absl::string_view line : absl::StrSplit(r.err, '\n')) {
    const std::string l(line);
    std::smatch m;
    if (!std::regex_search(l, m, kRead)) continue;
    const int worker = std::stoi(m[1]), shard = std::stoi(m[2]), part = std::stoi(m[3]);
    ASSERT_LT(shard, 4) << l;
    EXPECT_EQ(shard, part) << l;           // shard s is the s-th part file
    EXPECT_EQ(shard % 2, worker) << l;     // read by its owner only
    ++reads[shard];
  }
  EXPECT_EQ(reads, std::vector<int>({1, 1, 1, 1})) << r.err;
}

}  // namespace
}  // namespace psrec
