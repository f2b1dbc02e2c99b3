// Progress within an epoch, from the coordinator's status: the numbers, the
// line, and what is written when stdout is not a terminal.
#include "cli/progress_line.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace psrec {
namespace {

rpc::StatusResponse TrainingStatus() {
  rpc::StatusResponse s;
  s.set_epochs(4);
  rpc::EpochSummary* first = s.add_history();
  first->set_epoch(0);
  first->set_complete(true);
  first->set_examples(1000);
  first->set_loss(0.5);
  first->set_seconds(10);
  rpc::EpochSummary* second = s.add_history();
  second->set_epoch(1);
  second->set_examples(200);  // in completed shards
  second->set_loss(0.4);
  second->set_examples_so_far(250);
  second->set_expected_examples(1000);
  second->set_seconds(2.5);
  second->set_done_shards(1);
  second->set_data_shards(4);
  return s;
}

TEST(ProgressLineTest, SnapshotOfTheEpochInProgress) {
  auto p = ProgressFromStatus(TrainingStatus());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->epoch, 2u);
  EXPECT_EQ(p->epochs, 4u);
  EXPECT_DOUBLE_EQ(p->epoch_fraction, 0.25);
  EXPECT_DOUBLE_EQ(p->examples_per_second, 100);
  ASSERT_TRUE(p->loss.has_value());
  EXPECT_DOUBLE_EQ(*p->loss, 0.4);
  // 750 left in this epoch and 2 x 1000 after it, at 100 ex/s.
  ASSERT_TRUE(p->eta_seconds.has_value());
  EXPECT_DOUBLE_EQ(*p->eta_seconds, 27.5);
  EXPECT_EQ(FormatProgress(*p), "epoch 2/4   25.0%      100 ex/s  loss 0.4000  ETA 28s");
}

TEST(ProgressLineTest, NothingBetweenEpochsOrAtTheEnd) {
  rpc::StatusResponse s = TrainingStatus();
  s.mutable_history(1)->set_complete(true);
  EXPECT_FALSE(ProgressFromStatus(s).has_value());
  s = TrainingStatus();
  s.set_done(true);
  EXPECT_FALSE(ProgressFromStatus(s).has_value());
  EXPECT_FALSE(ProgressFromStatus(rpc::StatusResponse()).has_value());
}

TEST(ProgressLineTest, ShardsStandInBeforeAnyCountIsKnown) {
  rpc::StatusResponse s = TrainingStatus();
  s.mutable_history(1)->set_expected_examples(0);
  auto p = ProgressFromStatus(s);
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(p->epoch_fraction, 0.25);
  EXPECT_FALSE(p->eta_seconds.has_value());
}

std::string Written(ProgressStyle style, absl::Duration interval, int updates) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  {
    ProgressReporter reporter(out, style, interval);
    absl::Time now = absl::UnixEpoch();
    for (int i = 0; i < updates; ++i) {
      reporter.Update(TrainingStatus(), now);
      now += absl::Seconds(1);
    }
    reporter.Clear();
  }
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(ProgressLineTest, PlainLinesWhenNotATerminal) {
  // Every 2 s over 5 updates a second apart: at 0, 2 and 4 s.
  const std::string text = Written(ProgressStyle::kPlainLines, absl::Seconds(2), 5);
  const std::string line = "progress: epoch 2/4   25.0%      100 ex/s  loss 0.4000  ETA 28s\n";
  EXPECT_EQ(text, line + line + line);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\033'), std::string::npos);
}

TEST(ProgressLineTest, OneRedrawnLineOnATerminal) {
  const std::string text = Written(ProgressStyle::kRedrawnLine, absl::Seconds(1), 2);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text,
            "\repoch 2/4   25.0%      100 ex/s  loss 0.4000  ETA 28s\033[K"
            "\repoch 2/4   25.0%      100 ex/s  loss 0.4000  ETA 28s\033[K"
            "\r\033[K");
}

TEST(ProgressLineTest, StyleFollowsTheFlagAndTheTerminal) {
  EXPECT_EQ(ChooseProgressStyle("auto", true), ProgressStyle::kRedrawnLine);
  EXPECT_EQ(ChooseProgressStyle("auto", false), ProgressStyle::kPlainLines);
  EXPECT_EQ(ChooseProgressStyle("plain", true), ProgressStyle::kPlainLines);
  EXPECT_EQ(ChooseProgressStyle("line", false), ProgressStyle::kRedrawnLine);
  EXPECT_EQ(ChooseProgressStyle("off", true), ProgressStyle::kOff);
}

}  // namespace
}  // namespace psrec
