// `psrec export` end to end on a model trained by the real binary.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"
#include "tests/integration/trained_model.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;
using testing_util::ReadFile;
using testing_util::RunPsrec;
using testing_util::TrainedModel;
using testing_util::TrainSmallModel;

std::vector<int64_t> Ids(const NpyArray& a) {
  std::vector<int64_t> ids(a.data.size() / sizeof(int64_t));
  std::memcpy(ids.data(), a.data.data(), a.data.size());
  return ids;
}

// The python3 that imports numpy, or empty (see tests/common/npy_test.cc).
std::string PythonWithNumpy() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    const std::string probe = absl::StrCat(candidate, " -c 'import numpy' >/dev/null 2>&1");
    if (std::system(probe.c_str()) == 0) return candidate;
  }
  return "";
}

TEST(ExportTest, WritesNpyFilesShapedLikeTheModel) {
  const TrainedModel m = TrainSmallModel("export_gmf", "gmf");
  const std::string out = m.dir + "/npy";
  auto r = RunPsrec({"export", "--model_dir=" + m.model, "--format=npy", "--out=" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote " + out + "/export.json"));

  // Every training user and item has a row (sampled negatives come from the
  // training items); dim is gmf's default, 64.
  auto users = ReadNpy(out + "/user_embeddings.npy");
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ(users->descr, "<f4");
  EXPECT_EQ(users->shape, (std::vector<uint64_t>{m.items_of.size(), 64}));
  auto user_ids = ReadNpy(out + "/user_ids.npy");
  ASSERT_TRUE(user_ids.ok()) << user_ids.status();
  EXPECT_EQ(user_ids->descr, "<i8");
  std::vector<int64_t> expected_users;
  for (const auto& [user, items] : m.items_of) expected_users.push_back(static_cast<int64_t>(user));
  EXPECT_EQ(Ids(*user_ids), expected_users) << "sorted by id, one per user";

  auto items = ReadNpy(out + "/item_embeddings.npy");
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(items->shape, (std::vector<uint64_t>{m.items.size(), 64}));
  auto item_ids = ReadNpy(out + "/item_ids.npy");
  ASSERT_TRUE(item_ids.ok());
  EXPECT_EQ(Ids(*item_ids), std::vector<int64_t>(m.items.begin(), m.items.end()));

  auto dense = ReadNpy(out + "/output.npy");
  ASSERT_TRUE(dense.ok()) << dense.status();
  EXPECT_EQ(dense->shape, (std::vector<uint64_t>{65}));

  const std::string json = ReadFile(out + "/export.json");
  EXPECT_THAT(json, HasSubstr("\"model\": \"gmf\""));
  EXPECT_THAT(json, HasSubstr("\"ids_file\": \"user_ids.npy\""));
}

// NumPy loads the files and, from them alone, finds recommend's top item.
TEST(ExportTest, NumpyRecomputesRecommendsTopItem) {
  const std::string python = PythonWithNumpy();
  if (python.empty()) GTEST_SKIP() << "numpy is not installed; skipping the numpy.load check";
  const TrainedModel m = TrainSmallModel("export_numpy", "gmf");
  const std::string out = m.dir + "/npy";
  auto r = RunPsrec({"export", "--model_dir=" + m.model, "--out=" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const uint64_t user = m.items_of.begin()->first;
  auto top =
      RunPsrec({"recommend", "--model_dir=" + m.model, absl::StrCat("--user=", user), "--k=1"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  const std::string script = absl::StrCat(
      python, " -c \"import numpy as np\n", "d = '", out, "/'\n",
      "u, i = np.load(d + 'user_embeddings.npy'), np.load(d + 'item_embeddings.npy')\n",
      "ui, ii = np.load(d + 'user_ids.npy'), np.load(d + 'item_ids.npy')\n",
      "assert u.dtype == np.float32 and ui.dtype == np.int64 and len(u) == len(ui)\n",
      "g = np.load(d + 'output.npy')\n", "s = g[0] + (u[np.searchsorted(ui, ", user,
      ")] * i) @ g[1:]\n", "print(ii[np.argmax(s)])\n\" > ", m.dir, "/numpy_top.txt");
  ASSERT_EQ(std::system(script.c_str()), 0) << script;
  EXPECT_EQ(ReadFile(m.dir + "/numpy_top.txt"), top.out.substr(0, top.out.find('\t')) + "\n");
}

TEST(ExportTest, OtherFormatsAndMissingFlagsAreUsageErrors) {
  auto csv = RunPsrec({"export", "--model_dir=x", "--out=y", "--format=csv"});
  EXPECT_EQ(csv.exit_code, 2);
  EXPECT_THAT(csv.err, HasSubstr("--format=csv: export writes npy; valid: npy (auto means npy)"));
  auto no_out = RunPsrec({"export", "--model_dir=x"});
  EXPECT_EQ(no_out.exit_code, 2);
  EXPECT_THAT(no_out.err, HasSubstr("--out=DIR"));
  auto no_model = RunPsrec({"export", "--model_dir=/nonexistent/m", "--out=/tmp/unused"});
  EXPECT_EQ(no_model.exit_code, 1);
  EXPECT_THAT(no_model.err, HasSubstr("/nonexistent/m/model.json"));
  auto help = RunPsrec({"export", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("user_embeddings.npy"));
}

}  // namespace
}  // namespace psrec
