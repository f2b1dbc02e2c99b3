// What the parameter-server service tests start: a gmf run's configuration
// with a user and an item table, and the shard map of one server.
#ifndef PSREC_TESTS_SERVER_SERVICE_TEST_CONFIG_H_
#define PSREC_TESTS_SERVER_SERVICE_TEST_CONFIG_H_

#include <string>

#include "common/config_proto.h"
#include "common/model_spec.h"
#include "common/shard_map.h"
#include "proto/psrec.pb.h"

namespace psrec {
namespace testing_util {

inline rpc::RunConfig TwoTableConfig(const std::string& optimizer, float lr, uint32_t dim,
                                     uint64_t seed) {
  rpc::RunConfig c;
  c.set_model("gmf");
  c.set_task("ranking");
  c.set_optimizer(optimizer);
  c.set_lr(lr);
  c.set_seed(seed);
  for (uint32_t id : {kUserTable, kItemTable}) {
    TableConfig t;
    t.id = id;
    t.name = id == kUserTable ? "user" : "item";
    t.dim = dim;
    t.init_std = 0.1f;
    *c.add_tables() = ToProto(t);
  }
  return c;
}

inline rpc::ShardMap OneServerMap(const std::string& address) {
  rpc::ShardMap map;
  map.add_server_addresses(address);
  Ring ring = Ring::Build(1);
  for (uint64_t p : ring.positions()) map.add_ring_positions(p);
  for (uint32_t o : ring.owners()) map.add_ring_owners(o);
  return map;
}

}  // namespace testing_util
}  // namespace psrec

#endif  // PSREC_TESTS_SERVER_SERVICE_TEST_CONFIG_H_
