// The trainer pushes every batch with the run's lr schedule at the middle of
// the batch's share of the shard.
#include <vector>

#include "common/config_proto.h"
#include "common/lr_schedule.h"
#include "common/model_spec.h"
#include "gtest/gtest.h"
#include "worker/data_shards.h"
#include "worker/trainer.h"

namespace psrec {
namespace {

// Rows read as zeros; pushes are only recorded.
class RecordingPsClient : public PsClient {
 public:
  absl::Status Pull(absl::Span<const PullOp> ops, bool) override {
    for (const PullOp& op : ops) {
      std::fill(op.values, op.values + op.keys.size() * dim_, 0.0f);
    }
    return absl::OkStatus();
  }
  absl::Status Push(absl::Span<const PushOp> ops) override {
    std::vector<float> scales;
    for (const PushOp& op : ops) scales.push_back(op.lr_scale);
    pushes.push_back(scales);
    return absl::OkStatus();
  }
  explicit RecordingPsClient(uint32_t dim) : dim_(dim) {}
  std::vector<std::vector<float>> pushes;  // per batch: each op's lr_scale

 private:
  uint32_t dim_;
};

TEST(TrainerLrScheduleTest, EachBatchPushesTheScheduleAtItsMidpoint) {
  rpc::RunConfig config;
  config.set_model("mf");
  config.set_dim(3);
  config.set_task("rating");
  config.set_batch_size(10);
  config.set_epochs(4);
  config.set_lr_schedule("cosine");
  config.set_lr_min_ratio(0.2f);
  config.set_warmup_epochs(1.5f);
  ModelOptions mo;
  mo.model = "mf";
  mo.dim = 3;
  auto tables = TablesForModel(mo);
  ASSERT_TRUE(tables.ok()) << tables.status();
  for (const TableConfig& t : *tables) *config.add_tables() = ToProto(t);
  config.set_global_mean(3.0);
  auto model = Model::FromConfig(config);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE((*model)->dense_tables().empty());
  RecordingPsClient ps((*model)->user_dim());
  ASSERT_EQ((*model)->user_dim(), (*model)->item_dim());
  Trainer trainer(config, model->get(), &ps, nullptr);

  std::vector<Interaction> shard;
  for (uint64_t i = 0; i < 25; ++i) shard.push_back({i % 4, i, 4.0f, 0});
  auto shards = DataShards::FromInteractions(shard, 1);
  ASSERT_TRUE(shards.ok()) << shards.status();
  bool first_read = false;
  auto view = (*shards)->Shard(0, &first_read);
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_TRUE(trainer.TrainShard(*view, /*epoch=*/1, /*shard_id=*/0).ok());
  // Batches [0,10), [10,20), [20,25): midpoints 0.2, 0.6 and 0.9 of the shard.
  const LrSchedule schedule(LrScheduleFromConfig(config));
  const double fractions[] = {0.2, 0.6, 0.9};
  ASSERT_EQ(ps.pushes.size(), 3u);
  for (size_t b = 0; b < 3; ++b) {
    const float want = static_cast<float>(schedule.Multiplier(1, fractions[b]));
    ASSERT_FALSE(ps.pushes[b].empty());
    for (float scale : ps.pushes[b]) EXPECT_FLOAT_EQ(scale, want) << "batch " << b;
  }
  // Warm-up still ramping in epoch 1, then cosine: a growing lr here.
  EXPECT_LT(ps.pushes[0][0], ps.pushes[1][0]);
  EXPECT_NE(ps.pushes[0][0], 1.0f);
}

}  // namespace
}  // namespace psrec
