// A small model trained by the real binary for the tests of the commands that
// use a saved model (recommend, export): psrec gen writes a small synthetic
// data set, psrec train --model_out trains on it for two epochs (about a
// second).
#ifndef PSREC_TESTS_INTEGRATION_TRAINED_MODEL_H_
#define PSREC_TESTS_INTEGRATION_TRAINED_MODEL_H_

#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec::testing_util {

struct TrainedModel {
  std::string dir;    // scratch directory of the test
  std::string train;  // the training file
  std::string model;  // the model directory
  // From the training file: each user's items.
  std::map<uint64_t, std::set<uint64_t>> items_of;
  std::set<uint64_t> items;
};

// "gmf" (implicit, ranking) or "mf" (ratings). Fails the test on error.
inline TrainedModel TrainSmallModel(const std::string& name, const std::string& model) {
  TrainedModel t;
  t.dir = MakeTempDir(name);
  const bool implicit = model != "mf";
  auto gen = RunPsrec({"gen", "--out=" + t.dir + "/data", "--gen_users=150", "--gen_items=80",
                       "--gen_per_user=20", implicit ? "--implicit=true" : "--implicit=false"});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  t.train = t.dir + "/data/train.rating";
  t.model = t.dir + "/model";
  const std::string test = implicit ? "--test_negatives=" + t.dir + "/data/test.negative"
                                    : "--test=" + t.dir + "/data/test.rating";
  auto train = RunPsrec({"train", "--model=" + model, "--train=" + t.train, test, "--epochs=2",
                         "--model_out=" + t.model, "--log_level=warn"});
  EXPECT_EQ(train.exit_code, 0) << train.err;
  std::istringstream lines(ReadFile(t.train));
  uint64_t user, item;
  std::string rest;
  while (lines >> user >> item && std::getline(lines, rest)) {
    t.items_of[user].insert(item);
    t.items.insert(item);
  }
  EXPECT_FALSE(t.items_of.empty());
  return t;
}

}  // namespace psrec::testing_util

#endif  // PSREC_TESTS_INTEGRATION_TRAINED_MODEL_H_
