// psrec train --model=neumf --init_gmf=DIR --init_mlp=DIR end to end: a
// neumf run starts from a trained gmf and mlp model (He et al.'s
// pre-training), and refuses models that do not fit it, naming the flag.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;
using testing_util::MakeTempDir;
using testing_util::NpyFloats;
using testing_util::NpyInt64s;
using testing_util::RunPsrec;

using Data = testing_util::ImplicitData;

std::vector<std::string> TrainFlags(const Data& data, const std::string& model) {
  return {"train", "--train=" + data.train, "--test_negatives=" + data.negatives,
          "--model=" + model, "--dim=8", "--mlp_dim=8", "--layers=16,8", "--seed=5",
          "--log_level=warn"};
}

// Trains `model` for 3 epochs into OUT/model and exports it to OUT/npy.
void TrainAndExport(const Data& data, const std::string& model, const std::string& out,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args = TrainFlags(data, model);
  if (model == "gmf") args.erase(args.begin() + 5, args.begin() + 7);  // no tower
  args.push_back("--model_out=" + out + "/model");
  args.insert(args.end(), extra.begin(), extra.end());
  if (extra.empty()) args.push_back("--epochs=3");
  auto r = RunPsrec(args, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto e = RunPsrec(
      {"export", "--model_dir=" + out + "/model", "--format=npy", "--out=" + out + "/npy"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
}

class NeuMfInitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("neumf-init"));
    data_ = new Data(testing_util::GenerateImplicitData(*dir_, 200, 150, 15));
    TrainAndExport(*data_, "gmf", *dir_ + "/gmf");
    TrainAndExport(*data_, "mlp", *dir_ + "/mlp");
  }
  static std::string* dir_;
  static Data* data_;
};
std::string* NeuMfInitTest::dir_ = nullptr;
Data* NeuMfInitTest::data_ = nullptr;

TEST_F(NeuMfInitTest, TheRunStartsFromBothModels) {
  // A learning rate of 1e-9 leaves the parameters where they started, to
  // within Adam's step of ~lr per push.
  const std::string out = *dir_ + "/neumf";
  TrainAndExport(*data_, "neumf", out,
                 {"--init_gmf=" + *dir_ + "/gmf/model", "--init_mlp=" + *dir_ + "/mlp/model",
                  "--epochs=1", "--lr=1e-9", "--average_epochs=0"});
  const std::string gmf = *dir_ + "/gmf/npy/", mlp = *dir_ + "/mlp/npy/", neumf = out + "/npy/";
  for (const std::string table : {"user", "item"}) {
    const std::vector<int64_t> ids = NpyInt64s(neumf + table + "_ids.npy");
    ASSERT_EQ(ids, NpyInt64s(gmf + table + "_ids.npy")) << table;
    ASSERT_EQ(ids, NpyInt64s(mlp + table + "_ids.npy")) << table;
    const std::vector<float> n = NpyFloats(neumf + table + "_embeddings.npy");
    const std::vector<float> g = NpyFloats(gmf + table + "_embeddings.npy");
    const std::vector<float> m = NpyFloats(mlp + table + "_embeddings.npy");
    ASSERT_EQ(n.size(), ids.size() * 16) << table;
    ASSERT_EQ(g.size(), ids.size() * 8) << table;
    ASSERT_EQ(m.size(), ids.size() * 8) << table;
    for (size_t r = 0; r < ids.size(); ++r) {
      for (size_t k = 0; k < 8; ++k) {
        ASSERT_NEAR(n[r * 16 + k], g[r * 8 + k], 1e-5) << table << " row " << r << " gmf " << k;
        ASSERT_NEAR(n[r * 16 + 8 + k], m[r * 8 + k], 1e-5) << table << " row " << r << " mlp " << k;
      }
    }
  }
  for (const std::string layer : {"layer1.npy", "layer2.npy"}) {
    const std::vector<float> n = NpyFloats(neumf + layer), m = NpyFloats(mlp + layer);
    ASSERT_EQ(n.size(), m.size()) << layer;
    for (size_t i = 0; i < n.size(); ++i) ASSERT_NEAR(n[i], m[i], 1e-5) << layer << " " << i;
  }
  // neumf's output [b_gmf, b_mlp, h_gmf (8), h_mlp (8)]; each model's [b, h (8)].
  const std::vector<float> n = NpyFloats(neumf + "output.npy");
  const std::vector<float> g = NpyFloats(gmf + "output.npy"), m = NpyFloats(mlp + "output.npy");
  ASSERT_EQ(n.size(), 18u);
  ASSERT_EQ(g.size(), 9u);
  ASSERT_EQ(m.size(), 9u);
  EXPECT_NEAR(n[0], g[0], 1e-5);
  EXPECT_NEAR(n[1], m[0], 1e-5);
  for (size_t k = 0; k < 8; ++k) {
    EXPECT_NEAR(n[2 + k], g[1 + k], 1e-5) << k;
    EXPECT_NEAR(n[10 + k], m[1 + k], 1e-5) << k;
  }
}

TEST_F(NeuMfInitTest, RefusesModelsThatDoNotFit) {
  const std::string gmf = *dir_ + "/gmf/model", mlp = *dir_ + "/mlp/model";
  auto run = [&](std::vector<std::string> extra, const std::string& model = "neumf") {
    std::vector<std::string> args = TrainFlags(*data_, model);
    if (model == "gmf") args.erase(args.begin() + 5, args.begin() + 7);
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--epochs=1");
    return RunPsrec(args, 120);
  };
  auto swapped = run({"--init_gmf=" + mlp});
  EXPECT_NE(swapped.exit_code, 0);
  EXPECT_THAT(swapped.err, HasSubstr("--init_gmf=" + mlp + ": a --model=mlp model; --init_gmf "
                                     "takes a --model=gmf model directory"));
  auto dim = run({"--init_gmf=" + gmf, "--dim=16"});
  EXPECT_NE(dim.exit_code, 0);
  EXPECT_THAT(dim.err, HasSubstr("its factors have 8 floats, this neumf's GMF branch 16 (pass "
                                 "--dim=8)"));
  auto layers = run({"--init_mlp=" + mlp, "--layers=32,8"});
  EXPECT_NE(layers.exit_code, 0);
  EXPECT_THAT(layers.err, HasSubstr("its tower is 16,8, this neumf's 32,8 (pass --layers=16,8)"));
  auto missing = run({"--init_mlp=" + *dir_ + "/nothing"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("--init_mlp=" + *dir_ + "/nothing: "));
  auto not_neumf = run({"--init_gmf=" + gmf}, "gmf");
  EXPECT_NE(not_neumf.exit_code, 0);
  EXPECT_THAT(not_neumf.err, HasSubstr("only --model=neumf has GMF and MLP branches"));
  auto in_process = run({"--init_gmf=" + gmf, "--servers=0"});
  EXPECT_NE(in_process.exit_code, 0);
  EXPECT_THAT(in_process.err, HasSubstr("--servers=0 trains in this process"));
}

}  // namespace
}  // namespace psrec
