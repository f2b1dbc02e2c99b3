#include "server/ordered_push_buffer.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "server/optimizer.h"

namespace psrec {
namespace {

constexpr uint32_t kDim = 4;

struct Table {
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<EmbeddingTable> table;
};

Table MakeTable() {
  OptimizerOptions oo;
  oo.name = "adam";
  oo.lr = 0.1f;
  Table t;
  t.optimizer = std::move(*MakeOptimizer(oo));
  TableConfig c;
  c.id = 0;
  c.name = "user";
  c.dim = kDim;
  c.init_std = 0.1f;
  t.table = std::make_unique<EmbeddingTable>(c, t.optimizer.get(), /*seed=*/3);
  return t;
}

std::vector<float> Row(EmbeddingTable& t, uint64_t key) {
  std::vector<float> out(kDim);
  const uint64_t k[] = {key};
  t.Pull(k, out.data(), nullptr);
  return out;
}

const std::vector<uint64_t> kKey = {42};
const std::vector<float> kGradA = {1, -2, 3, 0.5f};
const std::vector<float> kGradB = {-4, 0.25f, 1, 2};

// Two workers push the same row in one clock; applies the pushes arriving
// in `b_first` order and returns the row after the next clock's pull.
std::vector<float> RunClock(bool b_first) {
  Table t = MakeTable();
  OrderedPushBuffer buffer;
  const uint64_t clock = 7;
  if (b_first) {
    buffer.Add(clock, 1, t.table.get(), kKey, kGradB, 0.1f);
    buffer.Add(clock, 0, t.table.get(), kKey, kGradA, 0.1f);
  } else {
    buffer.Add(clock, 0, t.table.get(), kKey, kGradA, 0.1f);
    buffer.Add(clock, 1, t.table.get(), kKey, kGradB, 0.1f);
  }
  buffer.ApplyBefore(clock + 1);
  return Row(*t.table, 42);
}

TEST(OrderedPushBufferTest, ArrivalOrderDoesNotChangeTheResult) {
  // Adam is order-sensitive: applied in arrival order the rows would differ.
  Table ab = MakeTable(), ba = MakeTable();
  ab.table->Push(kKey, kGradA.data(), 0.1f);
  ab.table->Push(kKey, kGradB.data(), 0.1f);
  ba.table->Push(kKey, kGradB.data(), 0.1f);
  ba.table->Push(kKey, kGradA.data(), 0.1f);
  ASSERT_NE(Row(*ab.table, 42), Row(*ba.table, 42));
  const std::vector<float> a = RunClock(false), b = RunClock(true);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, Row(*ab.table, 42)) << "worker 0's push first";
  Table fresh = MakeTable();
  EXPECT_NE(a, Row(*fresh.table, 42)) << "the pushes were applied";
}

TEST(OrderedPushBufferTest, APullSeesExactlyTheEarlierClocks) {
  Table t = MakeTable();
  OrderedPushBuffer buffer;
  const std::vector<float> initial = Row(*t.table, 42);
  buffer.Add(5, 0, t.table.get(), kKey, kGradA, 0.1f);
  buffer.Add(6, 0, t.table.get(), kKey, kGradB, 0.1f);
  buffer.ApplyBefore(5);  // another request of clock 5: nothing older
  EXPECT_EQ(Row(*t.table, 42), initial);
  EXPECT_EQ(buffer.pending(), 2u);
  buffer.ApplyBefore(6);  // clock 6 sees clock 5, not its own
  EXPECT_EQ(buffer.pending(), 1u);
  EXPECT_EQ(buffer.applied(), 1u);
  const std::vector<float> after5 = Row(*t.table, 42);
  EXPECT_NE(after5, initial);
  buffer.ApplyAll();
  EXPECT_EQ(buffer.pending(), 0u);
  EXPECT_NE(Row(*t.table, 42), after5);
}

TEST(OrderedPushBufferTest, APushOlderThanWhatWasAppliedGoesInAtOnce) {
  Table t = MakeTable();
  OrderedPushBuffer buffer;
  buffer.ApplyBefore(10);
  const std::vector<float> initial = Row(*t.table, 42);
  buffer.Add(3, 1, t.table.get(), kKey, kGradA, 0.1f);
  EXPECT_EQ(buffer.pending(), 0u);
  EXPECT_NE(Row(*t.table, 42), initial);
}

}  // namespace
}  // namespace psrec
