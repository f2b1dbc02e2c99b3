#include "common/item_titles.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;

TEST(ItemTitlesTest, ReadsMovieLens100kUItemInLatin1) {
  // u.item lines, with the latin-1 byte 0xE9 (e acute) as MovieLens ships it.
  const std::string text =
      "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|"
      "0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
      "12|Usual Suspects, The (1995)|14-Aug-1995||http://x|0|0|0|0|0\n"
      "1300|Mis\xE9rables, Les (1995)|01-Jan-1995||http://x|0|0\n";
  auto titles = ParseItemTitles(text, "u.item");
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_EQ(titles->size(), 3u);
  EXPECT_EQ(titles->at(1), "Toy Story (1995)");
  EXPECT_EQ(titles->at(12), "Usual Suspects, The (1995)");
  EXPECT_EQ(titles->at(1300), "Mis\xC3\xA9rables, Les (1995)");  // UTF-8
}

TEST(ItemTitlesTest, ReadsMovieLens1mMoviesDat) {
  const std::string text =
      "1::Toy Story (1995)::Animation|Children's|Comedy\r\n"
      "2::Jumanji (1995)::Adventure|Children's|Fantasy\r\n";
  auto titles = ParseItemTitles(text, "movies.dat");
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_EQ(titles->at(1), "Toy Story (1995)");
  EXPECT_EQ(titles->at(2), "Jumanji (1995)");
}

TEST(ItemTitlesTest, ReadsMoviesCsvWithHeaderQuotesAndUtf8) {
  const std::string text =
      "movieId,title,genres\n"
      "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
      "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
      "99,\"Say \"\"Hi\"\" (2001)\",Comedy\n"
      "7,Am\xC3\xA9lie (2001),Comedy\n";
  auto titles = ParseItemTitles(text, "movies.csv");
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_EQ(titles->size(), 4u);
  EXPECT_EQ(titles->at(1), "Toy Story (1995)");
  EXPECT_EQ(titles->at(11), "American President, The (1995)");
  EXPECT_EQ(titles->at(99), "Say \"Hi\" (2001)");
  EXPECT_EQ(titles->at(7), "Am\xC3\xA9lie (2001)");  // already UTF-8: kept
}

TEST(ItemTitlesTest, HeaderNamesTheTitleColumn) {
  auto titles = ParseItemTitles("item_id\tyear\tTitle\n5\t1999\tMatrix\tjunk\n", "t.tsv");
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_EQ(titles->at(5), "Matrix");
}

TEST(ItemTitlesTest, BadLinesNameFileAndLine) {
  auto bad_id = ParseItemTitles("1|A\n\nx|B\n", "u.item");
  EXPECT_EQ(bad_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_id.status().message(), HasSubstr("u.item:3: item id 'x'"));
  auto no_title = ParseItemTitles("1|A\n2\n", "u.item");
  EXPECT_THAT(no_title.status().message(), HasSubstr("u.item:2: no title"));
  auto missing = ReadItemTitles("/nonexistent/u.item");
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/u.item"));
}

TEST(ItemTitlesTest, TabsInsideTitlesBecomeSpaces) {
  auto titles = ParseItemTitles("1::A\tB::x\n", "movies.dat");
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_EQ(titles->at(1), "A B");
}

}  // namespace
}  // namespace psrec
