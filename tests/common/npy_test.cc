#include "common/npy.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = std::filesystem::path(::testing::TempDir()) / "npy_test" / info->name();
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

template <typename T>
std::vector<T> Values(const NpyArray& a) {
  std::vector<T> v(a.data.size() / sizeof(T));
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

TEST(NpyTest, Float32MatrixRoundTrips) {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  const uint64_t shape[] = {2, 3};
  const std::string path = TempPath("m.npy");
  ASSERT_TRUE(WriteNpy(path, "<f4", shape, AsBytes(absl::MakeConstSpan(values))).ok());
  auto a = ReadNpy(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<f4");
  EXPECT_FALSE(a->fortran_order);
  EXPECT_EQ(a->shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(Values<float>(*a), values);
}

TEST(NpyTest, HeaderIsVersion1AlignedTo64BytesAsNumpyWritesIt) {
  const std::vector<int64_t> ids = {3, 1, 2};
  const uint64_t shape[] = {3};
  auto file = EncodeNpy("<i8", shape, AsBytes(absl::MakeConstSpan(ids)));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->substr(0, 6), "\x93NUMPY");
  EXPECT_EQ((*file)[6], '\x01');
  EXPECT_EQ((*file)[7], '\x00');
  const size_t header_len =
      static_cast<unsigned char>((*file)[8]) | static_cast<unsigned char>((*file)[9]) << 8;
  const size_t data_at = 10 + header_len;
  EXPECT_EQ(data_at % 64, 0u);
  EXPECT_EQ(file->size(), data_at + 3 * 8);
  const std::string header = file->substr(10, header_len);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_THAT(header,
              ::testing::StartsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"));
  auto a = ParseNpy(*file, "ids");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(Values<int64_t>(*a), ids);
}

TEST(NpyTest, EmptyAndUint64ArraysRoundTrip) {
  const uint64_t empty_shape[] = {0, 8};
  auto empty = EncodeNpy("<f4", empty_shape, "");
  ASSERT_TRUE(empty.ok());
  auto a = ParseNpy(*empty, "empty");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->shape, (std::vector<uint64_t>{0, 8}));
  EXPECT_TRUE(a->data.empty());

  const std::vector<uint64_t> big = {UINT64_MAX, 0, 1ULL << 63};
  const uint64_t shape[] = {3};
  auto file = EncodeNpy("<u8", shape, AsBytes(absl::MakeConstSpan(big)));
  ASSERT_TRUE(file.ok());
  auto b = ParseNpy(*file, "big");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->descr, "<u8");
  EXPECT_EQ(Values<uint64_t>(*b), big);
}

TEST(NpyTest, EncodeRefusesAShapeTheDataDoesNotHold) {
  const std::vector<float> values(5);
  const uint64_t shape[] = {2, 3};
  auto file = EncodeNpy("<f4", shape, AsBytes(absl::MakeConstSpan(values)));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeNpy("<c8", shape, "").status().code(), absl::StatusCode::kInvalidArgument);
  const uint64_t huge[] = {1ULL << 40, 1ULL << 40};
  EXPECT_FALSE(EncodeNpy("<f4", huge, "").ok());
}

TEST(NpyTest, ReadsHeadersWrittenOtherWays) {
  // Version 2.0 (u32 header length), double quotes, no trailing comma, keys
  // in another order, 'L' suffixes of Python 2.
  std::string header = "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<f8\"}\n";
  std::string file = "\x93NUMPY";
  file.push_back('\x02');
  file.push_back('\x00');
  const uint32_t len = static_cast<uint32_t>(header.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += header;
  const double values[] = {0.5, -1.5};
  file.append(reinterpret_cast<const char*>(values), sizeof(values));
  auto a = ParseNpy(file, "v2");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<f8");
  EXPECT_EQ(a->shape, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(Values<double>(*a), (std::vector<double>{0.5, -1.5}));
}

TEST(NpyTest, BadFilesAreErrorsNamingTheSource) {
  const uint64_t shape[] = {2, 2};
  const std::vector<float> values = {1, 2, 3, 4};
  const std::string good = *EncodeNpy("<f4", shape, AsBytes(absl::MakeConstSpan(values)));
  EXPECT_THAT(ParseNpy("hello", "x.npy").status().message(), HasSubstr("x.npy: not a .npy"));
  EXPECT_THAT(ParseNpy(good.substr(0, good.size() - 1), "x.npy").status().message(),
              HasSubstr("x.npy: .npy data is 15 bytes"));
  std::string v9 = good;
  v9[6] = 9;
  EXPECT_THAT(ParseNpy(v9, "x.npy").status().message(), HasSubstr("version 9.0"));
  std::string fortran = good;
  const size_t at = fortran.find("'descr'");
  fortran.replace(at, 7, "'dxxxx'");
  EXPECT_THAT(ParseNpy(fortran, "x.npy").status().message(), HasSubstr("unknown key 'dxxxx'"));
  EXPECT_THAT(ReadNpy(TempPath("missing.npy")).status().message(), HasSubstr("missing.npy"));
}

TEST(NpyTest, FuzzedFilesAreErrorsOrArraysNeverCrashes) {
  const uint64_t shape[] = {3, 2};
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  const std::string good = *EncodeNpy("<f4", shape, AsBytes(absl::MakeConstSpan(values)));
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string file = good;
    if (trial % 4 == 0) file.resize(rng() % good.size());
    for (int f = 0; f < 3; ++f) {
      if (file.empty()) break;
      // Mostly inside the header, where the parser works.
      const size_t at = rng() % 2 ? rng() % std::min<size_t>(file.size(), 80) : rng() % file.size();
      file[at] = static_cast<char>(rng());
    }
    auto a = ParseNpy(file, "fuzz");
    if (a.ok()) {
      uint64_t n = 1;
      for (uint64_t d : a->shape) n *= d;
      EXPECT_LE(a->data.size(), file.size());
      EXPECT_EQ(a->data.size() % std::max<uint64_t>(n, 1), 0u);
    }
  }
}

// numpy itself, when the machine has it (Debian's python3-numpy imports from
// /usr/bin/python3; a pyenv python3 first on PATH may lack it).
TEST(NpyTest, NumpyLoadsWhatPsrecWrites) {
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    const std::string probe = absl::StrCat(candidate, " -c 'import numpy' >/dev/null 2>&1");
    if (std::system(probe.c_str()) == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) GTEST_SKIP() << "numpy is not installed; skipping the numpy.load check";
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -7.0f};
  const uint64_t shape[] = {3, 2};
  const std::string matrix = TempPath("m.npy");
  ASSERT_TRUE(WriteNpy(matrix, "<f4", shape, AsBytes(absl::MakeConstSpan(values))).ok());
  const std::vector<int64_t> ids = {10, 20, 30};
  const std::string id_path = TempPath("ids.npy");
  ASSERT_TRUE(
      WriteNpy(id_path, "<i8", absl::MakeConstSpan(shape, 1), AsBytes(absl::MakeConstSpan(ids)))
          .ok());
  const std::string script = absl::StrCat(
      python, " -c \"import numpy as np, sys\n", "m = np.load('", matrix, "')\n", "i = np.load('",
      id_path, "')\n",
      "assert m.dtype == np.float32 and m.shape == (3, 2) and m.flags['C_CONTIGUOUS'], m\n",
      "assert m[0, 0] == 1.5 and m[2, 1] == -7.0, m\n",
      "assert i.dtype == np.int64 and i.tolist() == [10, 20, 30], i\n\"");
  EXPECT_EQ(std::system(script.c_str()), 0) << script;
}

}  // namespace
}  // namespace psrec
