// SlotIndex, the id -> slot map of an EmbeddingTable stripe: against a
// std::unordered_map over 200k random ids (through many growths), with ids
// 0 and 2^64-1, repeated inserts and lookups of absent ids.
#include "server/slot_index.h"

#include <random>
#include <unordered_map>

#include "gtest/gtest.h"

namespace psrec {
namespace {

TEST(SlotIndexTest, AgreesWithAReferenceMapThroughGrowth) {
  SlotIndex index;
  EXPECT_EQ(index.Find(0), SlotIndex::kMissing) << "empty";
  index.Prefetch(7);  // harmless when empty
  std::unordered_map<uint64_t, uint32_t> ref;
  std::mt19937_64 gen(3);
  std::vector<uint64_t> ids = {0, ~0ull, 1};
  for (int i = 0; i < 200000; ++i) ids.push_back(i % 5 == 0 ? gen() % 1000 : gen());
  for (uint64_t id : ids) {
    bool inserted = false;
    const uint32_t next = static_cast<uint32_t>(ref.size());
    const uint32_t slot = index.FindOrInsert(id, next, &inserted);
    auto [it, ref_inserted] = ref.try_emplace(id, next);
    ASSERT_EQ(inserted, ref_inserted) << id;
    ASSERT_EQ(slot, it->second) << id;
  }
  EXPECT_EQ(index.size(), ref.size());
  for (const auto& [id, slot] : ref) {
    index.Prefetch(id);
    ASSERT_EQ(index.Find(id), slot) << id;
  }
  int absent = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t id = gen();
    if (ref.count(id) == 0) {
      ++absent;
      ASSERT_EQ(index.Find(id), SlotIndex::kMissing) << id;
    }
  }
  EXPECT_GT(absent, 9000);
  // At most 3/4 full, 16 bytes an entry.
  EXPECT_GE(index.bytes(), ref.size() * 16 * 4 / 3);
  EXPECT_LE(index.bytes(), ref.size() * 16 * 4);
}

}  // namespace
}  // namespace psrec
