// The dense layers and embeddings of a neural model, trained through real
// parameter servers (two gRPC services on loopback, keys placed by the
// ring): a pushed gradient moves every row and every dense tensor by exactly
// -lr x gradient (SGD), duplicate keys in a batch add up, and the loss after
// the step falls by lr x |g|^2 to first order, i.e. what the servers apply
// is the model's gradient.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config_proto.h"
#include "common/rpc_util.h"
#include "grpcpp/server.h"
#include "common/shard_map.h"
#include "gtest/gtest.h"
#include "server/ps_service.h"
#include "server/shard_state.h"
#include "worker/batch_assembler.h"
#include "worker/grpc_ps_client.h"
#include "worker/models.h"

namespace psrec {
namespace {

constexpr float kLr = 0.002f;

rpc::RunConfig NeumfConfig() {
  ModelOptions o;
  o.model = "neumf";
  o.dim = 4;
  o.mlp_dim = 3;
  o.layers = {5, 4};
  o.init_std = 0.3f;  // large enough that every part has a real gradient
  auto spec = SpecFor(o);
  EXPECT_TRUE(spec.ok()) << spec.status();
  rpc::RunConfig c;
  c.set_task("ranking");
  c.set_model("neumf");
  c.set_loss("logistic");
  c.set_dim(o.dim);
  c.set_mlp_dim(o.mlp_dim);
  for (uint32_t w : o.layers) c.add_layers(w);
  c.set_activation("relu");
  c.set_optimizer("sgd");
  c.set_lr(kLr);
  c.set_seed(7);
  for (const TableConfig& t : TablesFor(*spec, o)) *c.add_tables() = ToProto(t);
  return c;
}

struct Servers {
  std::vector<std::unique_ptr<ParameterServerService>> services;
  std::vector<std::unique_ptr<grpc::Server>> servers;
  rpc::ShardMap map;
};

Servers StartServers(const rpc::RunConfig& config, uint32_t n) {
  Servers s;
  Ring ring = Ring::Build(n);
  for (uint32_t i = 0; i < n; ++i) {
    s.services.push_back(std::make_unique<ParameterServerService>(nullptr));
    auto shard = ShardState::Create(config, i);
    EXPECT_TRUE(shard.ok()) << shard.status();
    s.services.back()->SetShard(std::move(*shard));
    int port = 0;
    auto server = StartGrpcServer("127.0.0.1", 0, {s.services.back().get()}, &port, RpcOptions());
    EXPECT_TRUE(server.ok()) << server.status();
    s.servers.push_back(std::move(*server));
    s.map.add_server_addresses(absl::StrCat("127.0.0.1:", port));
  }
  for (uint64_t p : ring.positions()) s.map.add_ring_positions(p);
  for (uint32_t o : ring.owners()) s.map.add_ring_owners(o);
  return s;
}

TEST(DenseThroughServersTest, ServersApplyTheModelsGradient) {
  const rpc::RunConfig config = NeumfConfig();
  Servers servers = StartServers(config, 2);
  auto ps = GrpcPsClient::Create(servers.map, TablesFromConfig(config), RpcOptions(),
                                 absl::Seconds(10));
  ASSERT_TRUE(ps.ok()) << ps.status();
  auto model = Model::FromConfig(config);
  ASSERT_TRUE(model.ok()) << model.status();
  const Model& m = **model;
  ASSERT_EQ(m.dense_tables().size(), 3u);  // layer1, layer2, output

  // User 1 and item 10 appear twice: their gradients must add up.
  const std::vector<uint64_t> users = {1, 2, 1, 3, 4, 5};
  const std::vector<uint64_t> items = {10, 11, 12, 10, 13, 14};
  const std::vector<float> labels = {1, 0, 1, 0, 1, 0};
  BatchAssembler assembler(&m, ps->get());

  ASSERT_TRUE(assembler.Gather(users, items, false).ok());
  BatchView before = assembler.View(labels.data());
  const int row = static_cast<int>(m.user_dim());
  std::vector<float> users0(before.users, before.users + users.size() * row);
  std::vector<float> items0(before.items, before.items + items.size() * row);
  std::vector<std::vector<float>> dense0;
  for (size_t t = 0; t < m.dense_tables().size(); ++t) {
    dense0.emplace_back(before.dense[t], before.dense[t] + m.dense_tables()[t].dim);
  }
  BatchGrads g;
  const double loss0 = m.ForwardBackward(before, Loss::kLogistic, &g);
  ASSERT_TRUE(assembler.Push(g).ok());

  // Expected step per unique key: -lr x (sum of its examples' gradients).
  auto expected = [&](const std::vector<uint64_t>& ids, const std::vector<float>& rows0,
                      const std::vector<float>& grads, size_t example) {
    std::vector<double> want(row);
    for (int d = 0; d < row; ++d) want[d] = rows0[example * row + d];
    for (size_t e = 0; e < ids.size(); ++e) {
      if (ids[e] != ids[example]) continue;
      for (int d = 0; d < row; ++d) want[d] -= kLr * grads[e * row + d];
    }
    return want;
  };
  ASSERT_TRUE(assembler.Gather(users, items, false).ok());
  BatchView after = assembler.View(labels.data());
  double g_norm2 = 0;
  for (size_t e = 0; e < users.size(); ++e) {
    const auto want_u = expected(users, users0, g.users, e);
    const auto want_i = expected(items, items0, g.items, e);
    for (int d = 0; d < row; ++d) {
      EXPECT_NEAR(after.users[e * row + d], want_u[d], 1e-6) << "user " << users[e] << " " << d;
      EXPECT_NEAR(after.items[e * row + d], want_i[d], 1e-6) << "item " << items[e] << " " << d;
    }
  }
  // |g|^2 over unique keys: per key, the summed gradient squared.
  auto add_norm = [&](const std::vector<uint64_t>& ids, const std::vector<float>& grads) {
    std::vector<uint64_t> seen;
    for (size_t e = 0; e < ids.size(); ++e) {
      if (std::find(seen.begin(), seen.end(), ids[e]) != seen.end()) continue;
      seen.push_back(ids[e]);
      for (int d = 0; d < row; ++d) {
        double sum = 0;
        for (size_t f = 0; f < ids.size(); ++f) {
          if (ids[f] == ids[e]) sum += grads[f * row + d];
        }
        g_norm2 += sum * sum;
      }
    }
  };
  add_norm(users, g.users);
  add_norm(items, g.items);
  for (size_t t = 0; t < m.dense_tables().size(); ++t) {
    for (uint32_t j = 0; j < m.dense_tables()[t].dim; ++j) {
      EXPECT_NEAR(after.dense[t][j], dense0[t][j] - kLr * g.dense[t][j], 1e-6)
          << m.dense_tables()[t].name << "[" << j << "]";
      g_norm2 += static_cast<double>(g.dense[t][j]) * g.dense[t][j];
    }
  }
  ASSERT_GT(g_norm2, 1e-4);
  BatchGrads unused;
  const double loss1 = m.ForwardBackward(after, Loss::kLogistic, &unused);
  // First order: loss1 - loss0 = -lr |g|^2 (+ O(lr^2)).
  EXPECT_NEAR((loss1 - loss0) / (-kLr * g_norm2), 1.0, 0.05)
      << "loss0 " << loss0 << " loss1 " << loss1 << " |g|^2 " << g_norm2;
  for (auto& s : servers.servers) s->Shutdown();
}

}  // namespace
}  // namespace psrec
