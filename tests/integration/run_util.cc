#include "tests/integration/run_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/npy.h"
#include "gtest/gtest.h"

namespace psrec::testing_util {

RunResult RunPsrec(const std::vector<std::string>& args, int timeout_seconds) {
  static int counter = 0;
  const std::string base = absl::StrCat(::testing::TempDir(), "/psrec_run_", getpid(), "_", counter++);
  const std::string out_path = base + ".out", err_path = base + ".err";
  std::vector<std::string> argv_s = {PSREC_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  RunResult r;
  int status = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(timeout_seconds);
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (absl::Now() > give_up) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.exit_code = -1;
      ADD_FAILURE() << "psrec timed out after " << timeout_seconds << "s";
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Anything left in the group (there should be nothing) goes too.
  kill(-pid, SIGKILL);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

std::string MakeTempDir(const std::string& name) {
  static int counter = 0;
  std::string dir = absl::StrCat(::testing::TempDir(), "/", name, "_", getpid(), "_", counter++);
  std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << cmd;
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::string GeneratePlantedRatings(const std::string& dir) {
  auto r = RunPsrec({"gen", "--out=" + dir, "--implicit=false", "--gen_users=1000",
                     "--gen_items=500", "--gen_per_user=40", "--gen_rank=16", "--seed=3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir;
}

ImplicitData GenerateImplicitData(const std::string& dir, int users, int items, int per_user) {
  auto r = RunPsrec({"gen", "--out=" + dir + "/data", absl::StrCat("--gen_users=", users),
                     absl::StrCat("--gen_items=", items),
                     absl::StrCat("--gen_per_user=", per_user), "--implicit=true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return {dir + "/data/train.rating", dir + "/data/test.negative"};
}

namespace {

template <typename T>
std::vector<T> NpyValues(const std::string& path) {
  auto a = ReadNpy(path);
  EXPECT_TRUE(a.ok()) << a.status();
  if (!a.ok()) return {};
  std::vector<T> v(a->data.size() / sizeof(T));
  std::memcpy(v.data(), a->data.data(), v.size() * sizeof(T));
  return v;
}

}  // namespace

std::vector<float> NpyFloats(const std::string& path) { return NpyValues<float>(path); }
std::vector<int64_t> NpyInt64s(const std::string& path) { return NpyValues<int64_t>(path); }

std::vector<std::string> PlantedMfSgdFlags(const std::string& data, const std::string& metrics) {
  return {"train",
          "--model=mf",
          "--optimizer=sgd",
          "--lr=2",
          "--batch_size=256",
          "--epochs=8",
          "--train=" + data + "/train.rating",
          "--test=" + data + "/test.rating",
          "--metrics_json=" + metrics,
          "--log_level=warn",
          "--progress=off"};
}

std::string GetMetricsResponse(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  ::close(fd);
  return response;
}

std::string ScrapeMetrics(int port) {
  const std::string response = GetMetricsResponse(port);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

double MetricValue(const std::string& body, const std::string& series) {
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nan("");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double JsonNumber(const std::string& json, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  size_t at = json.find(needle);
  if (at == std::string::npos) return NAN;
  at += needle.size();
  while (at < json.size() && json[at] == ' ') ++at;
  size_t end = json.find_first_of(",}\n", at);
  double v;
  if (!absl::SimpleAtod(json.substr(at, end - at), &v)) return NAN;
  return v;
}

std::string DataDir() {
  const char* env = std::getenv("PSREC_DATA_DIR");
  std::string dir = env && *env ? env : std::string(PSREC_SOURCE_DIR) + "/../shared/data";
  struct stat st;
  if (stat((dir + "/ml-100k-loo/train.rating").c_str(), &st) != 0) return "";
  return dir;
}

bool SkipsAreFailures() {
  const char* v = std::getenv("PSREC_REQUIRE_DATA");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace psrec::testing_util
