#include "cli/tools.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "cli/test_set.h"
#include "common/data_reader.h"
#include "common/file_util.h"
#include "common/rpc_util.h"
#include "common/synthetic.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

int Fail(const char* role, const absl::Status& s) {
  std::fprintf(stderr, "psrec %s: %s\n", role, std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int RunGen(const GenOptions& o) {
  SyntheticOptions so;
  so.num_users = o.users;
  so.num_items = o.items;
  so.interactions_per_user = o.per_user;
  so.implicit = o.implicit;
  so.rank = o.rank;
  so.noise = o.noise;
  so.seed = o.seed;
  SyntheticData data = GenerateSynthetic(so);
  if (auto s = MakeDirs(o.out_dir); !s.ok()) return Fail("gen", s);
  if (auto s = WriteInteractions(o.out_dir + "/train.rating", data.train); !s.ok()) {
    return Fail("gen", s);
  }
  if (auto s = WriteInteractions(o.out_dir + "/test.rating", data.test); !s.ok()) {
    return Fail("gen", s);
  }
  if (o.implicit) {
    if (auto s = WriteNegatives(o.out_dir + "/test.negative", data.ranking); !s.ok()) {
      return Fail("gen", s);
    }
  }
  std::printf("wrote %zu training and %zu test interactions%s to %s\n", data.train.size(),
              data.test.size(), o.implicit ? " (+ test.negative)" : "", o.out_dir.c_str());
  return 0;
}

int RunEval(const EvalOptions& o) {
  auto saved = SavedModel::Load(o.model_dir);
  if (!saved.ok()) return Fail("eval", saved.status());
  const rpc::RunConfig& config = (*saved)->config();
  auto test = LoadTestSet(config, o.test_path, o.test_negatives_path);
  if (!test.ok()) return Fail("eval", test.status());
  if (test->empty()) {
    return Fail("eval", absl::InvalidArgumentError(absl::StrFormat(
                            "the model is for --task=%s: give %s", config.task(),
                            config.task() == "ranking" ? "--test_negatives=FILE" : "--test=FILE")));
  }
  Evaluator evaluator(&(*saved)->model(), (*saved)->ps());
  auto r = EvaluateTestSet(evaluator, *test, config);
  if (!r.ok()) return Fail("eval", r.status());
  std::printf("%s  (%llu rows; cold test users %llu, items %llu)\n",
              FormatMetrics(config.task(), *r).c_str(),
              static_cast<unsigned long long>((*saved)->rows()),
              static_cast<unsigned long long>(r->cold_users),
              static_cast<unsigned long long>(r->cold_items));
  if (!o.metrics_json.empty()) {
    std::string json = absl::StrFormat("{\"task\": \"%s\", \"model\": \"%s\", %s}\n", config.task(),
                                       config.model(), MetricsJsonFields(config.task(), *r));
    if (auto s = WriteFileAtomically(o.metrics_json, json); !s.ok()) return Fail("eval", s);
  }
  return 0;
}

}  // namespace psrec
