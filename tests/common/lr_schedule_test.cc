// The schedules give the learning rates README documents, at chosen points:
// warm-up ramp, step boundaries, cosine start, middle and end.
#include "common/lr_schedule.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;

LrScheduleOptions Options(LrScheduleKind kind, uint32_t epochs) {
  LrScheduleOptions o;
  o.kind = kind;
  o.epochs = epochs;
  return o;
}

TEST(LrScheduleTest, ConstantIsOneEverywhere) {
  LrSchedule s(Options(LrScheduleKind::kConstant, 5));
  EXPECT_EQ(s.Multiplier(0, 0.0), 1.0);
  EXPECT_EQ(s.Multiplier(2, 0.5), 1.0);
  EXPECT_EQ(s.Multiplier(4, 1.0), 1.0);
}

TEST(LrScheduleTest, WarmUpRampsLinearlyFromZeroOverFractionalEpochs) {
  LrScheduleOptions o = Options(LrScheduleKind::kConstant, 10);
  o.warmup_epochs = 2.5;
  LrSchedule s(o);
  EXPECT_EQ(s.Multiplier(0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(s.Multiplier(0, 0.5), 0.2);   // t = 0.5 of 2.5
  EXPECT_DOUBLE_EQ(s.Multiplier(1, 0.25), 0.5);  // t = 1.25
  EXPECT_DOUBLE_EQ(s.Multiplier(2, 0.0), 0.8);
  EXPECT_EQ(s.Multiplier(2, 0.5), 1.0);  // warm-up over
  EXPECT_EQ(s.Multiplier(7, 0.3), 1.0);
}

TEST(LrScheduleTest, StepDecaysAtEpochBoundaries) {
  LrScheduleOptions o = Options(LrScheduleKind::kStep, 10);
  o.decay_every = 3;
  o.decay_rate = 0.5;
  LrSchedule s(o);
  EXPECT_EQ(s.Multiplier(0, 0.0), 1.0);
  EXPECT_EQ(s.Multiplier(2, 0.99), 1.0);  // last batch before the first decay
  EXPECT_EQ(s.Multiplier(3, 0.0), 0.5);
  EXPECT_EQ(s.Multiplier(5, 1.0), 0.5);
  EXPECT_EQ(s.Multiplier(6, 0.0), 0.25);
  EXPECT_EQ(s.Multiplier(9, 0.5), 0.125);
}

TEST(LrScheduleTest, StepWithWarmUpMultipliesBoth) {
  LrScheduleOptions o = Options(LrScheduleKind::kStep, 4);
  o.decay_every = 1;
  o.decay_rate = 0.5;
  o.warmup_epochs = 2;
  LrSchedule s(o);
  EXPECT_DOUBLE_EQ(s.Multiplier(0, 0.5), 0.25);        // warm-up 0.25 x step 1
  EXPECT_DOUBLE_EQ(s.Multiplier(1, 0.5), 0.75 * 0.5);  // warm-up 0.75 x step 0.5
  EXPECT_EQ(s.Multiplier(2, 0.5), 0.25);               // warm-up done
}

TEST(LrScheduleTest, CosineFallsFromOneToMinRatioAtTheEndOfTheLastEpoch) {
  LrScheduleOptions o = Options(LrScheduleKind::kCosine, 10);
  o.min_ratio = 0.1;
  LrSchedule s(o);
  EXPECT_EQ(s.Multiplier(0, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(s.Multiplier(5, 0.0), 0.55);  // halfway: (1 + 0.1) / 2
  EXPECT_DOUBLE_EQ(s.Multiplier(2, 0.5), 0.1 + 0.45 * (1 + std::sqrt(0.5)));  // a quarter in
  EXPECT_DOUBLE_EQ(s.Multiplier(9, 1.0), 0.1);  // end of the last epoch
  EXPECT_GT(s.Multiplier(9, 0.99), 0.1);
  // Progress beyond the run is clamped to its end.
  EXPECT_DOUBLE_EQ(s.Multiplier(12, 0.5), 0.1);
}

TEST(LrScheduleTest, CosineWithWarmUp) {
  LrScheduleOptions o = Options(LrScheduleKind::kCosine, 4);
  o.warmup_epochs = 0.5;
  LrSchedule s(o);
  // t = 0.25: half of the warm-up, times cos at 1/16 of the run.
  EXPECT_DOUBLE_EQ(s.Multiplier(0, 0.25), 0.5 * 0.5 * (1 + std::cos(M_PI / 16)));
  EXPECT_DOUBLE_EQ(s.Multiplier(2, 0.0), 0.5);
  EXPECT_NEAR(s.Multiplier(3, 1.0), 0.0, 1e-15);
}

TEST(LrScheduleTest, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseLrScheduleKind(""), LrScheduleKind::kConstant);
  EXPECT_EQ(*ParseLrScheduleKind("constant"), LrScheduleKind::kConstant);
  EXPECT_EQ(*ParseLrScheduleKind("step"), LrScheduleKind::kStep);
  EXPECT_EQ(*ParseLrScheduleKind("cosine"), LrScheduleKind::kCosine);
  auto bad = ParseLrScheduleKind("linear");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("--lr_schedule=linear: valid: constant, step, cosine"));
}

TEST(LrScheduleTest, ValidationNamesTheFlag) {
  LrScheduleOptions step = Options(LrScheduleKind::kStep, 10);
  step.decay_rate = 0.5;
  EXPECT_TRUE(ValidateLrSchedule(step).ok());
  step.decay_every = 0;
  EXPECT_THAT(ValidateLrSchedule(step).message(), HasSubstr("--lr_decay_every"));
  step.decay_every = 2;
  for (double rate : {0.0, -0.5, 1.5, std::nan("")}) {
    step.decay_rate = rate;
    EXPECT_THAT(ValidateLrSchedule(step).message(), HasSubstr("--lr_decay_rate")) << rate;
  }
  LrScheduleOptions cosine = Options(LrScheduleKind::kCosine, 10);
  cosine.min_ratio = 1.5;
  EXPECT_THAT(ValidateLrSchedule(cosine).message(), HasSubstr("--lr_min_ratio"));
  cosine.min_ratio = 0;
  cosine.warmup_epochs = 11;
  EXPECT_THAT(ValidateLrSchedule(cosine).message(), HasSubstr("--warmup_epochs"));
  cosine.warmup_epochs = -1;
  EXPECT_THAT(ValidateLrSchedule(cosine).message(), HasSubstr("--warmup_epochs"));
  cosine.warmup_epochs = 10;
  EXPECT_TRUE(ValidateLrSchedule(cosine).ok());
}

TEST(LrScheduleTest, DescribesItself) {
  LrScheduleOptions o = Options(LrScheduleKind::kCosine, 10);
  o.min_ratio = 0.01;
  o.warmup_epochs = 0.5;
  EXPECT_EQ(DescribeLrSchedule(o), "cosine to 0.01x, warm-up 0.5 epochs");
}

}  // namespace
}  // namespace psrec
