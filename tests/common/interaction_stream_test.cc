// The streaming reader: the same interactions and errors as reading the
// whole text at once, whatever the block size (lines, CRLF and gzip
// members cut across blocks), and progress on long reads.
#include "common/interaction_stream.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data_reader.h"
#include "common/text_source.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;

class InteractionStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "interaction_stream_test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string WriteGzip(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    gzFile gz = gzopen(path.c_str(), "wb");
    gzwrite(gz, content.data(), content.size());
    gzclose(gz);
    return path;
  }
  // Every interaction, streamed with `block` bytes per read.
  absl::StatusOr<std::vector<Interaction>> Stream(const std::string& path, size_t block,
                                                  const ReaderOptions& options = {}) {
    std::vector<Interaction> out;
    StreamOptions stream;
    stream.block_bytes = block;
    absl::Status s = StreamInteractions(
        path, options,
        [&out](absl::Span<const Interaction> rows) {
          out.insert(out.end(), rows.begin(), rows.end());
          return absl::OkStatus();
        },
        stream);
    if (!s.ok()) return s;
    return out;
  }
  std::filesystem::path dir_;
};

bool Same(const std::vector<Interaction>& a, const std::vector<Interaction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].user != b[i].user || a[i].item != b[i].item || a[i].rating != b[i].rating ||
        a[i].timestamp != b[i].timestamp) {
      return false;
    }
  }
  return true;
}

TEST_F(InteractionStreamTest, AnyBlockSizeGivesWhatTheWholeTextGives) {
  std::string text = "userId,movieId,rating,timestamp\r\n\r\n";
  for (int i = 0; i < 500; ++i) {
    text += absl::StrCat(i % 37, ",", i * 13 % 101, ",", (i % 9) / 2.0, ",", 1000 + i, "\r\n");
    if (i % 50 == 0) text += "  \n";
  }
  text += "7,8,2.5,99";  // no final newline
  const std::string plain = Write("ratings.csv", text);
  const std::string gz = WriteGzip("ratings.csv.gz", text);
  auto whole = ParseInteractions(text, "x", {});
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->size(), 501u);
  for (size_t block : {1, 2, 3, 7, 64, 1000, 1 << 20}) {
    for (const std::string& path : {plain, gz}) {
      auto streamed = Stream(path, block);
      ASSERT_TRUE(streamed.ok()) << streamed.status() << " block " << block;
      EXPECT_TRUE(Same(*whole, *streamed)) << path << " block " << block;
    }
  }
}

TEST_F(InteractionStreamTest, ErrorsNameFileAndLineAcrossBlocks) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += absl::StrCat(i, "\t", i, "\t4\n");
  text += "\n12\tbad\t3\n";  // line 302 (a blank line before it)
  const std::string path = Write("bad.tsv", text);
  for (size_t block : {5, 4096}) {
    auto rows = Stream(path, block);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.status().message(),
              path + ":302: item id 'bad' is not an unsigned 64-bit integer");
  }
  EXPECT_EQ(Stream(Write("empty", " \n\n"), 1).status().message(),
            (dir_ / "empty").string() + ": no interactions");
}

TEST_F(InteractionStreamTest, ASinkErrorStopsTheRead) {
  const std::string path = Write("a.tsv", "1\t2\n3\t4\n5\t6\n");
  int calls = 0;
  StreamOptions stream;
  stream.block_bytes = 4;
  absl::Status s = StreamInteractions(
      path, {},
      [&calls](absl::Span<const Interaction>) {
        ++calls;
        return absl::ResourceExhaustedError("full");
      },
      stream);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1);
}

TEST_F(InteractionStreamTest, LongReadsReportProgressAndPlainFilesAnEstimate) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += absl::StrCat(i, "\t", i % 100, "\t3\n");
  const std::string path = Write("long.tsv", text);
  std::vector<ReadProgress> reports;
  uint64_t estimate = 0;
  StreamOptions stream;
  stream.block_bytes = 1024;
  stream.progress_every = absl::ZeroDuration();
  stream.on_progress = [&reports](const ReadProgress& p) { reports.push_back(p); };
  stream.on_estimate = [&estimate](uint64_t n) { estimate = n; };
  ASSERT_TRUE(StreamInteractions(
                  path, {}, [](absl::Span<const Interaction>) { return absl::OkStatus(); }, stream)
                  .ok());
  ASSERT_GT(reports.size(), 10u);
  EXPECT_EQ(reports.back().path, path);
  EXPECT_EQ(reports.back().bytes_total, text.size());
  EXPECT_LE(reports.back().bytes_read, text.size());
  EXPECT_GT(reports.back().interactions, reports.front().interactions);
  EXPECT_THAT(FormatReadProgress(reports.back()), HasSubstr("% read"));
  // From the first block's lines, which are shorter here than the last ones.
  EXPECT_GT(estimate, 15000u);
  EXPECT_LT(estimate, 40000u);
}

TEST_F(InteractionStreamTest, DirectoriesStreamTheirPartsInNameOrder) {
  std::filesystem::create_directories(dir_ / "parts");
  Write("parts/part-00001.csv", "userId,movieId\n3,30\n");
  Write("parts/part-00000.csv", "userId,movieId\n1,10\n2,20\n");
  Write("parts/part-00002.csv", "userId,movieId\n");  // header only: empty
  Write("parts/_SUCCESS", "");
  auto rows = Stream((dir_ / "parts").string(), 3);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].user, 1u);
  EXPECT_EQ((*rows)[2].user, 3u);
}

TEST(TextSourceTest, TruncatedGzipIsDataLossInAnyBlockSize) {
  const std::string path = ::testing::TempDir() + "/text_source_truncated.gz";
  std::string content;
  for (int i = 0; i < 5000; ++i) content += absl::StrCat(i, "\t", i * 7, "\n");
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, content.data(), content.size());
  gzclose(gz);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto source = TextSource::Open(path);
  ASSERT_TRUE(source.ok());
  std::string text;
  absl::Status error;
  while (true) {
    auto n = (*source)->Read(100, &text);
    if (!n.ok()) {
      error = n.status();
      break;
    }
    ASSERT_GT(*n, 0u) << "ended without an error";
  }
  EXPECT_EQ(error.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(error.message()), HasSubstr(path));
  EXPECT_TRUE(absl::string_view(content).substr(0, text.size()) == text);
}

}  // namespace
}  // namespace psrec
