#include "worker/recommender.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/worker/test_model_dir.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

using testing_util::TestRow;

// mf with global mean 3 and rows [bias, f1, f2]: the predicted rating is
// 3 + b_u + b_i + p_u . q_i.
class RecommenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string dir =
        (std::filesystem::path(::testing::TempDir()) / "recommender_test" / info->name()).string();
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(testing_util::WriteTestModelDir(dir, testing_util::TestRunConfig("mf", 2, 3.0), 2,
                                                {{kUserTable, 1, {0.5f, 1, 0}},
                                                 {kUserTable, 2, {0, 0, 1}},
                                                 {kItemTable, 10, {0.25f, 2, 0}},
                                                 {kItemTable, 11, {0, 1, 1}},
                                                 {kItemTable, 12, {1, 0, 0}},
                                                 {kItemTable, 13, {-1, 0, 5}}})
                    .ok());
    auto saved = SavedModel::Load(dir);
    ASSERT_TRUE(saved.ok()) << saved.status();
    saved_ = std::move(*saved);
    recommender_ = std::make_unique<Recommender>(&saved_->model(), saved_->ps(),
                                                 saved_->SortedIds(kItemTable));
  }

  std::vector<uint64_t> Items(const std::vector<ScoredItem>& top) {
    std::vector<uint64_t> items;
    for (const ScoredItem& s : top) items.push_back(s.item);
    return items;
  }

  std::unique_ptr<SavedModel> saved_;
  std::unique_ptr<Recommender> recommender_;
};

TEST_F(RecommenderTest, RanksByPredictedRatingWithTiesBySmallerId) {
  auto top = recommender_->TopK(1, 10, {});
  ASSERT_TRUE(top.ok()) << top.status();
  // User 1: 10 -> 5.75, 11 -> 4.5, 12 -> 4.5, 13 -> 2.5.
  EXPECT_EQ(Items(*top), (std::vector<uint64_t>{10, 11, 12, 13}));
  EXPECT_FLOAT_EQ((*top)[0].score, 5.75f);
  EXPECT_FLOAT_EQ((*top)[1].score, 4.5f);
  EXPECT_FLOAT_EQ((*top)[3].score, 2.5f);

  // User 2: 13 -> 7, 11 -> 4, 12 -> 4, 10 -> 3.25.
  top = recommender_->TopK(2, 2, {});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(Items(*top), (std::vector<uint64_t>{13, 11}));
}

TEST_F(RecommenderTest, SkipsExcludedItems) {
  auto top = recommender_->TopK(2, 3, {13, 12, 999});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(Items(*top), (std::vector<uint64_t>{11, 10}));
  top = recommender_->TopK(2, 3, {10, 11, 12, 13});
  ASSERT_TRUE(top.ok());
  EXPECT_TRUE(top->empty());
}

TEST_F(RecommenderTest, ScoresManyBatchesAndCreatesNoRows) {
  // More candidates than one batch: unknown items score as zero rows.
  std::vector<uint64_t> candidates;
  for (uint64_t i = 0; i < 10000; ++i) candidates.push_back(1000 + i);
  candidates.push_back(13);
  Recommender many(&saved_->model(), saved_->ps(), candidates);
  auto top = many.TopK(2, 2, {});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ((*top)[0].item, 13u);
  EXPECT_FLOAT_EQ((*top)[1].score, 3.0f);  // a cold item: the global mean
  EXPECT_EQ((*top)[1].item, 1000u);
  EXPECT_FALSE(saved_->HasRow(kItemTable, 1000));
}

}  // namespace
}  // namespace psrec
