#include "common/data_reader.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/dataset.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

MATCHER_P4(Row, user, item, rating, timestamp, "") {
  return arg.user == static_cast<uint64_t>(user) &&
         arg.item == static_cast<uint64_t>(item) &&
         arg.rating == static_cast<float>(rating) &&
         arg.timestamp == static_cast<int64_t>(timestamp);
}

class DataReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) / "data_reader_test" /
           info->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }

  // Writes `content` byte for byte and returns the path.
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = Path(name);
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  std::string WriteGzip(const std::string& name, const std::string& content) {
    const std::string path = Path(name);
    gzFile gz = gzopen(path.c_str(), "wb");
    EXPECT_NE(gz, nullptr);
    EXPECT_EQ(gzwrite(gz, content.data(), content.size()),
              static_cast<int>(content.size()));
    gzclose(gz);
    return path;
  }

  std::vector<Interaction> ReadOk(const std::string& path,
                                  const ReaderOptions& options = {}) {
    absl::StatusOr<std::vector<Interaction>> rows =
        ReadInteractions(path, options);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<Interaction>{};
  }

  // The full message of a read expected to fail with InvalidArgument.
  std::string ReadError(const std::string& path,
                        const ReaderOptions& options = {}) {
    absl::StatusOr<std::vector<Interaction>> rows =
        ReadInteractions(path, options);
    EXPECT_FALSE(rows.ok());
    if (rows.ok()) return "";
    EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument)
        << rows.status();
    return std::string(rows.status().message());
  }

  static ReaderOptions Format(const std::string& format) {
    ReaderOptions options;
    options.format = format;
    return options;
  }

  std::filesystem::path dir_;
};

// ---- formats ----------------------------------------------------------------

TEST_F(DataReaderTest, NcfRating) {
  const std::string path = Write("train.rating",
                                 "0\t32\t4\t978824330\n"
                                 "0\t34\t4\t978824330\n"
                                 "1\t4\t5\t978300760\n");
  for (const char* format : {"ncf", "auto", "tsv"}) {
    EXPECT_THAT(ReadOk(path, Format(format)),
                ElementsAre(Row(0, 32, 4, 978824330), Row(0, 34, 4, 978824330),
                            Row(1, 4, 5, 978300760)))
        << format;
  }
}

TEST_F(DataReaderTest, TabSeparatedFourColumns) {
  const std::string path =
      Write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n");
  EXPECT_THAT(
      ReadOk(path, Format("tsv")),
      ElementsAre(Row(196, 242, 3, 881250949), Row(186, 302, 3, 891717742)));
}

TEST_F(DataReaderTest, DoubleColonDat) {
  const std::string path =
      Write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n");
  for (const char* format : {"dat", "auto"}) {
    EXPECT_THAT(
        ReadOk(path, Format(format)),
        ElementsAre(Row(1, 1193, 5, 978300760), Row(1, 661, 3, 978302109)))
        << format;
  }
}

TEST_F(DataReaderTest, CsvWithHeaderAndHalfStars) {
  const std::string path = Write("ratings.csv",
                                 "userId,movieId,rating,timestamp\n"
                                 "1,2,3.5,1112486027\n"
                                 "1,29,0.5,1112484676\n");
  for (const char* format : {"csv", "auto", "delimited"}) {
    EXPECT_THAT(
        ReadOk(path, Format(format)),
        ElementsAre(Row(1, 2, 3.5, 1112486027), Row(1, 29, 0.5, 1112484676)))
        << format;
  }
}

TEST_F(DataReaderTest, HeaderMapsReorderedColumnsByName) {
  const std::string path = Write("reordered.csv",
                                 "Timestamp,Rating,Item_ID,USER,extra\n"
                                 "100,4.5,7,3,x\n"
                                 "200,1,8,4,y\n");
  EXPECT_THAT(ReadOk(path),
              ElementsAre(Row(3, 7, 4.5, 100), Row(4, 8, 1, 200)));
}

TEST_F(DataReaderTest, HeaderAliases) {
  const std::string path =
      Write("aliases.txt", "ts;score;iid;uid\n5;2.5;10;20\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(20, 10, 2.5, 5)));
  const std::string movie =
      Write("movie.tsv", "movie_id\tuser_id\tlabel\ttime\n10\t20\t1\t5\n");
  EXPECT_THAT(ReadOk(movie), ElementsAre(Row(20, 10, 1, 5)));
}

TEST_F(DataReaderTest, HeaderWithoutRatingOrTimestampUsesDefaults) {
  const std::string path = Write("pairs.csv", "itemId,userId\n5,6\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(6, 5, 1, 0)));
}

TEST_F(DataReaderTest, HeaderWithUnknownNamesFallsBackToPositions) {
  const std::string path = Write("plain.csv", "a,b,c\n1,2,3\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 3, 0)));
}

TEST_F(DataReaderTest, HeaderWithoutUserColumnIsAnError) {
  const std::string path = Write("nouser.csv", "item,rating\n1,2\n");
  EXPECT_THAT(ReadError(path),
              HasSubstr(path + ":1: header has no user column"));
}

TEST_F(DataReaderTest, DetectsDelimiters) {
  struct Case {
    const char* name;
    const char* content;
  };
  for (const Case& c :
       {Case{"semicolon", "1;2;4;9\n"}, Case{"space", "1 2 4 9\n"},
        Case{"aligned", "  1    2  4   9\n"}, Case{"comma", "1,2,4,9\n"},
        Case{"comma_space", "1, 2, 4, 9\n"}, Case{"colons", "1::2::4::9\n"},
        Case{"tab", "1\t2\t4\t9\n"}}) {
    EXPECT_THAT(ReadOk(Write(c.name, c.content)), ElementsAre(Row(1, 2, 4, 9)))
        << c.name;
  }
}

TEST_F(DataReaderTest, DetectsDelimiterFromDataNotHeader) {
  // The header is space-separated but the data is tab-separated.
  const std::string path = Write("mixed", "userId movieId\n1\t2\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 1, 0)));
}

TEST_F(DataReaderTest, ExplicitDelimiterAndColumns) {
  // Rating stays at its default position 2; timestamp's default position 3
  // is taken by the user column, so there is none.
  const std::string path = Write("custom.txt", "x|7|2.5|3\nz|8|4|4\n");
  ReaderOptions options = Format("delimited");
  options.delimiter = "|";
  options.user_col = 3;
  options.item_col = 1;
  EXPECT_THAT(ReadOk(path, options),
              ElementsAre(Row(3, 7, 2.5, 0), Row(4, 8, 4, 0)));
  options.rating_col = 0;
  options.implicit = true;  // column 0 is not a rating, but is never parsed
  EXPECT_THAT(ReadOk(path, options),
              ElementsAre(Row(3, 7, 1, 0), Row(4, 8, 1, 0)));
}

TEST_F(DataReaderTest, ExplicitHeaderFlag) {
  const std::string path = Write("numeric_header", "1\t2\n3\t4\n");
  ReaderOptions options;
  options.header = 1;
  EXPECT_THAT(ReadOk(path, options), ElementsAre(Row(3, 4, 1, 0)));
}

TEST_F(DataReaderTest, TwoColumnsDefaultRatingAndTimestamp) {
  const std::string path = Write("pairs", "1\t2\n3\t4\t5\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 1, 0), Row(3, 4, 5, 0)));
}

TEST_F(DataReaderTest, ImplicitForcesRatingOne) {
  const std::string path = Write("ratings", "1\t2\t4.5\t10\n");
  ReaderOptions options;
  options.implicit = true;
  EXPECT_THAT(ReadOk(path, options), ElementsAre(Row(1, 2, 1, 10)));
}

TEST_F(DataReaderTest, CrlfLineEndings) {
  const std::string path =
      Write("crlf.csv",
            "userId,movieId,rating,timestamp\r\n1,2,3.5,7\r\n\r\n4,5,1,8\r\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 3.5, 7), Row(4, 5, 1, 8)));
}

TEST_F(DataReaderTest, NoTrailingNewlineAndBlankLines) {
  const std::string path = Write("blank", "\n  \n1\t2\t3\t4\n\n5\t6\t7\t8");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 3, 4), Row(5, 6, 7, 8)));
}

TEST_F(DataReaderTest, FullRangeUnsignedIds) {
  const std::string path =
      Write("big", "18446744073709551615\t18446744073709551614\t5\t0\n");
  std::vector<Interaction> rows = ReadOk(path);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].user, UINT64_MAX);
  EXPECT_EQ(rows[0].item, UINT64_MAX - 1);
}

TEST_F(DataReaderTest, HalfStarRatings) {
  const std::string path = Write("half", "1,1,0.5\n1,2,4.5\n1,3,2.5\n");
  std::vector<Interaction> rows = ReadOk(path);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].rating, 0.5f);
  EXPECT_EQ(rows[1].rating, 4.5f);
  EXPECT_EQ(rows[2].rating, 2.5f);
}

// ---- malformed lines: every message names file and 1-based line -------------

TEST_F(DataReaderTest, TooFewFields) {
  const std::string path = Write("short", "1\t2\t3\t4\n\n5\n");
  EXPECT_EQ(ReadError(path),
            path + ":3: expected at least 2 fields separated by '\\t', got 1");
}

TEST_F(DataReaderTest, TooFewFieldsCountsHeaderLine) {
  const std::string path = Write("short.csv", "user,item,rating\n1,2,3\n4\n");
  EXPECT_EQ(ReadError(path),
            path + ":3: expected at least 3 fields separated by ',', got 1");
}

TEST_F(DataReaderTest, SingleFieldFirstLineIsNotAHeader) {
  const std::string path = Write("single", "7\n");
  EXPECT_EQ(ReadError(path),
            path + ":1: expected at least 2 fields separated by '\\t', got 1");
}

TEST_F(DataReaderTest, BadUserId) {
  const std::string path = Write("bad_user", "1\t2\nabc\t3\n");
  EXPECT_EQ(ReadError(path),
            path + ":2: user id 'abc' is not an unsigned 64-bit integer");
}

TEST_F(DataReaderTest, BadItemIdOnFirstLineIsReportedNotTakenForHeader) {
  const std::string path = Write("bad_item", "1\tabc\t3\n2\t3\t4\n");
  EXPECT_EQ(ReadError(path),
            path + ":1: item id 'abc' is not an unsigned 64-bit integer");
}

TEST_F(DataReaderTest, NegativeAndOverflowingIds) {
  const std::string negative = Write("negative", "1\t2\n-1\t2\n");
  EXPECT_EQ(ReadError(negative),
            negative + ":2: user id '-1' is not an unsigned 64-bit integer");
  const std::string overflow =
      Write("overflow", "1\t2\n\n1\t18446744073709551616\n");
  EXPECT_EQ(ReadError(overflow),
            overflow +
                ":3: item id '18446744073709551616' is not an unsigned 64-bit "
                "integer");
}

TEST_F(DataReaderTest, NonFiniteRatings) {
  for (const char* bad : {"nan", "inf", "-inf", "1e50", "four"}) {
    const std::string path = Write(absl::StrCat("rating_", bad),
                                   absl::StrCat("1\t2\t3\n1\t3\t", bad, "\n"));
    EXPECT_EQ(ReadError(path), absl::StrCat(path, ":2: rating '", bad,
                                            "' is not a finite number"));
  }
}

TEST_F(DataReaderTest, BadTimestamp) {
  const std::string path = Write("ts.csv",
                                 "userId,movieId,rating,timestamp\n"
                                 "1,2,3,4\n"
                                 "1,2,3,yesterday\n");
  EXPECT_EQ(ReadError(path),
            path + ":3: timestamp 'yesterday' is not a 64-bit integer");
}

TEST_F(DataReaderTest, WrongDelimiterForFixedFormat) {
  const std::string path = Write("tabbed", "1\t2\t3\t4\n");
  EXPECT_EQ(ReadError(path, Format("dat")),
            path + ":1: expected at least 2 fields separated by '::', got 1");
}

TEST_F(DataReaderTest, ErrorLineInGzipFile) {
  const std::string path = WriteGzip("bad.gz", "1\t2\n3\t4\n5\tx\n");
  EXPECT_EQ(ReadError(path),
            path + ":3: item id 'x' is not an unsigned 64-bit integer");
}

// ---- file-level errors ------------------------------------------------------

TEST_F(DataReaderTest, MissingFile) {
  const std::string path = Path("does_not_exist.rating");
  absl::StatusOr<std::vector<Interaction>> rows = ReadInteractions(path, {});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rows.status().message(), path + ": no such file");
  absl::StatusOr<std::vector<RankingCase>> cases = ReadNegatives(path);
  EXPECT_EQ(cases.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DataReaderTest, EmptyFiles) {
  for (const char* content : {"", "\n\n", "  \r\n", "userId,movieId\n"}) {
    const std::string path = Write("empty", content);
    EXPECT_EQ(ReadError(path), path + ": no interactions") << content;
  }
  const std::string gz = WriteGzip("empty.gz", "");
  EXPECT_EQ(ReadError(gz), gz + ": no interactions");
}

TEST_F(DataReaderTest, BadFormatName) {
  const std::string path = Write("ok", "1\t2\n");
  const std::string message = ReadError(path, Format("parquet"));
  EXPECT_THAT(message, HasSubstr("'parquet'"));
  EXPECT_THAT(message, HasSubstr("auto, tsv, csv, dat, ncf, delimited"));
  // Reported even when the file is missing: the options are wrong regardless.
  EXPECT_THAT(ReadError(Path("missing"), Format("TSV")), HasSubstr("'TSV'"));
}

TEST_F(DataReaderTest, ConflictingColumnOptions) {
  const std::string path = Write("ok", "1\t2\n");
  ReaderOptions options;
  options.user_col = 1;
  options.item_col = 1;
  EXPECT_THAT(ReadError(path, options), HasSubstr("column 1"));
}

TEST_F(DataReaderTest, TruncatedGzipIsDataLoss) {
  std::string content;
  for (int i = 0; i < 5000; ++i) content += absl::StrCat(i, "\t", i * 7, "\n");
  const std::string path = WriteGzip("truncated.gz", content);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  absl::StatusOr<std::vector<Interaction>> rows = ReadInteractions(path, {});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(rows.status().message(), HasSubstr(path));
}

// ---- gzip and writing -------------------------------------------------------

TEST_F(DataReaderTest, GzipDetectedByMagicNotName) {
  const std::string path = WriteGzip("no_suffix", "1::2::3::4\n");
  absl::StatusOr<std::string> text = ReadFileMaybeGz(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "1::2::3::4\n");
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 3, 4)));
  // And a plain file named .gz is read as plain text.
  const std::string fake = Write("fake.gz", "5\t6\n");
  EXPECT_THAT(ReadOk(fake), ElementsAre(Row(5, 6, 1, 0)));
}

TEST_F(DataReaderTest, ConcatenatedGzipMembers) {
  // A large, very compressible first member and a tiny second one: the
  // trailer's size hint covers only the last member, so the buffer must grow.
  std::string first;
  for (int i = 0; i < 100000; ++i) first += "1\t2\t3\t4\n";
  const std::string path = WriteGzip("multi.gz", first);
  gzFile gz = gzopen(path.c_str(), "ab");  // appends a second member
  ASSERT_NE(gz, nullptr);
  const std::string second = "5\t6\t7\t8\n";
  gzwrite(gz, second.data(), second.size());
  gzclose(gz);
  std::vector<Interaction> rows = ReadOk(path);
  ASSERT_EQ(rows.size(), 100001u);
  EXPECT_THAT(rows.back(), Row(5, 6, 7, 8));
}

TEST_F(DataReaderTest, RoundTripPlainAndGzip) {
  const std::vector<Interaction> data = {
      {1, 2, 3.5f, 100},
      {UINT64_MAX, 0, 0.1f, -5},
      {7, 8, 1.0f / 3.0f, 1234567890123},
  };
  for (const char* name : {"out.tsv", "out.tsv.gz"}) {
    const std::string path = Path(name);
    ASSERT_TRUE(WriteInteractions(path, data).ok());
    std::vector<Interaction> back = ReadOk(path);
    ASSERT_EQ(back.size(), data.size()) << name;
    for (size_t i = 0; i < data.size(); ++i) {
      EXPECT_EQ(back[i].user, data[i].user);
      EXPECT_EQ(back[i].item, data[i].item);
      EXPECT_EQ(back[i].rating, data[i].rating);  // exact: shortest round-trip
      EXPECT_EQ(back[i].timestamp, data[i].timestamp);
    }
  }
  std::ifstream gz(Path("out.tsv.gz"), std::ios::binary);
  EXPECT_EQ(gz.get(), 0x1f);
  EXPECT_EQ(gz.get(), 0x8b);
  // Nothing but the two outputs remains: temporaries were renamed away.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST_F(DataReaderTest, WriteReplacesExistingFile) {
  const std::string path = Write("replace.tsv", "9\t9\t9\t9\n9\t9\t9\t9\n");
  ASSERT_TRUE(WriteInteractions(path, {{1, 2, 3, 4}}).ok());
  EXPECT_THAT(ReadOk(path), ElementsAre(Row(1, 2, 3, 4)));
}

TEST_F(DataReaderTest, WriteIntoMissingDirectoryFails) {
  absl::Status status =
      WriteInteractions(Path("no/such/dir/out.tsv"), {{1, 2, 3, 4}});
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("no/such/dir/out.tsv"));
}

// ---- negatives --------------------------------------------------------------

TEST_F(DataReaderTest, ReadsNegatives) {
  const std::string path = Write("test.negative",
                                 "(0,25)\t1064\t174\t2791\n"
                                 "\r\n"
                                 "(1,133)\t1072\t3000\t\r\n"
                                 "(18446744073709551615,2)\n");
  absl::StatusOr<std::vector<RankingCase>> cases = ReadNegatives(path);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 3u);
  EXPECT_EQ((*cases)[0].user, 0u);
  EXPECT_EQ((*cases)[0].test_item, 25u);
  EXPECT_THAT((*cases)[0].negatives, ElementsAre(1064, 174, 2791));
  EXPECT_EQ((*cases)[1].user, 1u);
  EXPECT_EQ((*cases)[1].test_item, 133u);
  EXPECT_THAT((*cases)[1].negatives, ElementsAre(1072, 3000));
  EXPECT_EQ((*cases)[2].user, UINT64_MAX);
  EXPECT_TRUE((*cases)[2].negatives.empty());
}

TEST_F(DataReaderTest, NegativesRoundTrip) {
  const std::vector<RankingCase> cases = {{1, 2, {3, 4, 5}},
                                          {6, 7, {UINT64_MAX}}};
  for (const char* name : {"rt.negative", "rt.negative.gz"}) {
    const std::string path = Path(name);
    ASSERT_TRUE(WriteNegatives(path, cases).ok());
    absl::StatusOr<std::vector<RankingCase>> back = ReadNegatives(path);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[1].user, 6u);
    EXPECT_EQ((*back)[1].test_item, 7u);
    EXPECT_THAT((*back)[0].negatives, ElementsAre(3, 4, 5));
    EXPECT_THAT((*back)[1].negatives, ElementsAre(UINT64_MAX));
  }
}

TEST_F(DataReaderTest, MalformedNegatives) {
  struct Case {
    const char* content;
    const char* message;
  };
  for (const Case& c : {
           Case{"(1,2)\t3\n0,25\t4\n",
                ":2: expected '(user,item)' as the first field, got '0,25'"},
           Case{"(1,2)\t3\n(1 2)\t4\n",
                ":2: expected '(user,item)' as the first field, got '(1 2)'"},
           Case{"\n(x,2)\t3\n",
                ":2: user id 'x' is not an unsigned 64-bit integer"},
           Case{"(1,2)\t3\n(1,2)\t3\n\n(1,-2)\t3\n",
                ":4: item id '-2' is not an unsigned 64-bit integer"},
           Case{"(1,2)\t3\t4\n(1,2)\t3\tfoo\t5\n",
                ":2: negative item id 'foo' is not an unsigned 64-bit "
                "integer"},
       }) {
    const std::string path = Write("bad.negative", c.content);
    absl::StatusOr<std::vector<RankingCase>> cases = ReadNegatives(path);
    ASSERT_FALSE(cases.ok()) << c.content;
    EXPECT_EQ(cases.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(cases.status().message(), path + c.message);
  }
  const std::string empty = Write("empty.negative", "\n");
  EXPECT_EQ(ReadNegatives(empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- facts ------------------------------------------------------------------

TEST(ComputeFactsTest, CountsAndSortedItems) {
  DatasetFacts facts = ComputeFacts(
      {{5, 30, 1.0f, 0}, {5, 10, 2.0f, 0}, {6, 30, 4.5f, 0}, {7, 20, 0.5f, 0}});
  EXPECT_EQ(facts.num_interactions, 4u);
  EXPECT_EQ(facts.num_users, 3u);
  EXPECT_EQ(facts.num_items, 3u);
  EXPECT_DOUBLE_EQ(facts.global_mean, 2.0);
  EXPECT_EQ(facts.min_rating, 0.5f);
  EXPECT_EQ(facts.max_rating, 4.5f);
  EXPECT_THAT(facts.item_ids, ElementsAre(10, 20, 30));
  EXPECT_EQ(ComputeFacts({}).num_items, 0u);
}

TEST(ComputeFactsTest, StreamedInBlocksGivesTheSameFacts) {
  std::vector<Interaction> data;
  for (uint64_t k = 0; k < 1000; ++k) data.push_back({k % 31, k * 17 % 89, 0.5f * (k % 11), 0});
  const DatasetFacts whole = ComputeFacts(data);
  DatasetFactsBuilder builder;
  for (size_t begin = 0; begin < data.size(); begin += 7) {
    builder.Add(absl::MakeConstSpan(data).subspan(begin, 7));
  }
  const DatasetFacts streamed = builder.Finish();
  EXPECT_EQ(streamed.num_interactions, whole.num_interactions);
  EXPECT_EQ(streamed.num_users, whole.num_users);
  EXPECT_EQ(streamed.num_items, whole.num_items);
  EXPECT_EQ(streamed.global_mean, whole.global_mean);  // the same order of additions
  EXPECT_EQ(streamed.min_rating, 0.0f);
  EXPECT_EQ(streamed.max_rating, 5.0f);
  EXPECT_EQ(streamed.item_ids, whole.item_ids);
  EXPECT_EQ(builder.Finish().num_interactions, 0u);  // Finish() left it empty
}

}  // namespace
}  // namespace psrec

// ---- Spark part-file directories ---------------------------------------------

namespace psrec {
namespace {

class SparkPartsTest : public DataReaderTest {};

TEST_F(SparkPartsTest, GzippedPartsWithHeadersSkippingMarkersAndEmptyParts) {
  std::filesystem::create_directories(Path("ratings"));
  // As df.write.option("header", True).option("compression", "gzip").csv(DIR)
  // writes: a header in every part, an empty part, a header-only part.
  WriteGzip("ratings/part-00000-abc.csv.gz", "userId,movieId,rating,timestamp\n1,10,4.0,100\n2,20,3.5,200\n");
  WriteGzip("ratings/part-00001-abc.csv.gz", "userId,movieId,rating,timestamp\n3,30,5.0,300\n");
  WriteGzip("ratings/part-00002-abc.csv.gz", "");
  WriteGzip("ratings/part-00003-abc.csv.gz", "userId,movieId,rating,timestamp\n");
  Write("ratings/_SUCCESS", "");
  Write("ratings/.part-00000-abc.csv.gz.crc", "not data");
  EXPECT_THAT(ReadOk(Path("ratings")),
              ElementsAre(Row(1, 10, 4.0, 100), Row(2, 20, 3.5, 200), Row(3, 30, 5.0, 300)));
}

TEST_F(SparkPartsTest, PlainPartsWithoutHeaderInNameOrder) {
  std::filesystem::create_directories(Path("plain"));
  Write("plain/part-00001.csv", "3,30,5,300\n");
  Write("plain/part-00000.csv", "1,10,4,100\n");
  Write("plain/_SUCCESS", "");
  EXPECT_THAT(ReadOk(Path("plain")), ElementsAre(Row(1, 10, 4, 100), Row(3, 30, 5, 300)));
}

TEST_F(SparkPartsTest, ErrorsNameThePartFileOrTheDirectory) {
  std::filesystem::create_directories(Path("bad"));
  Write("bad/part-00000.csv", "1,10,4,100\n");
  Write("bad/part-00001.csv", "1,10,4,100\nx,y,z,w\n2,20,3,200\n");
  EXPECT_THAT(ReadError(Path("bad")), HasSubstr("part-00001.csv:2:"));

  std::filesystem::create_directories(Path("none"));
  Write("none/_SUCCESS", "");
  auto rows = ReadInteractions(Path("none"), {});
  ASSERT_FALSE(rows.ok());
  EXPECT_THAT(std::string(rows.status().message()), HasSubstr("no part-* files"));
}

}  // namespace
}  // namespace psrec
