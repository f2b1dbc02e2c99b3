#include "cli/role_flags.h"

#include <algorithm>
#include <cstdint>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace psrec {
namespace {

const FlagGroup kTrainData = {"training data",
                              {"train", "format", "delimiter", "header", "user_col", "item_col",
                               "rating_col", "timestamp_col"}};
const FlagGroup kModel = {
    "model and optimisation",
    {"model",          "task",      "dim",  "epochs",          "batch_size",   "lr",
     "optimizer",      "l2",        "init", "init_std",        "layers",       "mlp_dim",
     "activation",     "dropout",   "loss", "pretrain_epochs", "fusion_alpha", "dense_l2",
     "dense_lr_scale", "implicit_feedback", "implicit_l2", "negatives", "seed", "data_shards",
     "average_epochs", "recency_weight", "recency_halflife"}};
const FlagGroup kSchedule = {
    "learning-rate schedule, validation, early stopping",
    {"lr_schedule", "lr_decay_every", "lr_decay_rate", "lr_min_ratio", "warmup_epochs",
     "validation", "validation_fraction", "early_stopping"}};
const FlagGroup kConsistency = {"consistency", {"consistency", "staleness", "sync_every"}};
const FlagGroup kCommon = {"every role", {"log_level", "flagfile"}};
// TLS and the token: every role that dials or serves gRPC (README "Security").
const FlagGroup kSecurity = {
    "security (README: Security)",
    {"tls_cert", "tls_key", "tls_ca", "tls_server_name", "auth_token_file"}};

// Abseil's own flags, handled by its parser; always accepted.
constexpr const char* kAbseilFlags[] = {"help",    "helpfull",   "helpshort", "helppackage",
                                        "helpon",  "helpmatch",  "version",   "flagfile",
                                        "fromenv", "tryfromenv", "undefok",   "only_check_args"};

bool IsAbseilFlag(const std::string& name) {
  return std::any_of(std::begin(kAbseilFlags), std::end(kAbseilFlags),
                     [&](const char* f) { return name == f; });
}

std::string TypeDescription(const absl::CommandLineFlag& f) {
  if (f.IsOfType<bool>()) return "true or false";
  if (f.IsOfType<int>() || f.IsOfType<int64_t>()) return "an integer";
  if (f.IsOfType<uint32_t>() || f.IsOfType<uint64_t>()) return "a whole number, 0 or more";
  if (f.IsOfType<double>() || f.IsOfType<float>()) return "a number";
  return "a string";
}

std::string ShownDefault(const absl::CommandLineFlag& f) {
  const std::string d = f.DefaultValue();
  if (f.IsOfType<std::string>()) return d.empty() ? "\"\"" : d;
  return d;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> RoleFlagNames(const std::string& role) {
  std::vector<std::string> names;
  for (const FlagGroup& g : FlagGroupsOfRole(role)) {
    names.insert(names.end(), g.flags.begin(), g.flags.end());
  }
  return names;
}

// Up to three flags close to `name`: the role's own first, then any other.
std::vector<std::string> NearestFlags(const std::string& role, const std::string& name) {
  std::vector<std::pair<size_t, std::string>> scored;
  const std::vector<std::string> own = RoleFlagNames(role);
  auto consider = [&](const std::string& candidate, size_t penalty) {
    size_t d = EditDistance(name, candidate);
    // A truncated name ("--epoch" for "--epochs") is as near as a typo.
    if (name.size() >= 4 && absl::StartsWith(candidate, name)) d = 1;
    if (d <= std::max<size_t>(2, name.size() / 3)) scored.emplace_back(d + penalty, candidate);
  };
  for (const std::string& f : own) consider(f, 0);
  for (const auto& [flag_name, flag] : absl::GetAllFlags()) {
    const std::string n(flag_name);
    if (std::find(own.begin(), own.end(), n) == own.end() && !IsAbseilFlag(n) &&
        !flag->IsRetired()) {
      consider(n, 1);
    }
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (const auto& [d, n] : scored) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    if (out.size() == 3) break;
  }
  return out;
}

std::string Wrap(const std::string& text, size_t indent, size_t width) {
  std::string out;
  size_t column = indent;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > indent && column + 1 + word.size() > width) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
  }
  return out;
}

}  // namespace

std::vector<FlagGroup> FlagGroupsOfRole(const std::string& role) {
  const FlagGroup cluster_train = {
      "cluster and outputs",
      {"servers", "workers", "replicas", "timeout_seconds", "metrics_port", "metrics_json",
       "model_out",
       "run_dir", "report",
       "progress", "progress_seconds"}};
  const FlagGroup durability_train = {
      "failure and recovery",
      {"checkpoint_dir", "checkpoint_every", "checkpoint_keep", "resume", "max_restarts"}};
  if (role == "train") {
    FlagGroup data = kTrainData;
    data.flags.insert(data.flags.begin() + 1, {"test", "test_negatives"});
    FlagGroup model = kModel;
    model.flags.insert(model.flags.end(), {"init_gmf", "init_mlp"});
    return {data,
            model,
            kSchedule,
            kConsistency,
            cluster_train,
            durability_train,
            kSecurity,
            {"limits", {"max_message_bytes", "max_keys_per_request", "max_concurrent_requests"}},
            kCommon};
  }
  if (role == "coordinator") {
    return {kTrainData,
            kModel,
            kSchedule,
            kConsistency,
            {"cluster",
             {"servers", "workers", "replicas", "host", "port", "metrics_port",
              "lease_timeout_seconds", "server_timeout_seconds", "linger_seconds",
              "model_out"}},
            {"failure and recovery",
             {"checkpoint_dir", "checkpoint_every", "checkpoint_keep", "resume"}},
            kSecurity,
            {"limits", {"max_message_bytes", "max_concurrent_requests"}},
            kCommon};
  }
  if (role == "server") {
    return {{"cluster",
             {"coordinator", "host", "advertise_host", "port", "metrics_port", "shard_index",
              "timeout_seconds", "checkpoint_dir"}},
            kSecurity,
            {"limits", {"max_message_bytes", "max_keys_per_request", "max_concurrent_requests"}},
            kCommon};
  }
  if (role == "worker") {
    return {{"cluster",
             {"coordinator", "worker_index", "host", "port", "metrics_port", "timeout_seconds"}},
            kSecurity,
            {"limits", {"max_message_bytes", "max_keys_per_request"}},
            kCommon};
  }
  if (role == "eval") {
    return {{"model and test data", {"model_dir", "test", "test_negatives", "metrics_json"}},
            kCommon};
  }
  if (role == "recommend") {
    return {{"recommendations", {"model_dir", "user", "users", "k", "items"}},
            {"excluded interactions",
             {"exclude", "format", "delimiter", "header", "user_col", "item_col", "rating_col",
              "timestamp_col"}},
            kCommon};
  }
  if (role == "export") return {{"export", {"model_dir", "out", "format"}}, kCommon};
  if (role == "gen") {
    return {
        {"synthetic data", {"out", "implicit", "gen_users", "gen_items", "gen_per_user", "gen_rank",
                            "gen_noise", "seed"}},
        kCommon};
  }
  if (role == "health") {
    return {{"probe", {"target", "health_service", "probe_timeout_seconds", "wait_seconds"}},
            kSecurity,
            kCommon};
  }
  if (role == "status") {
    return {{"cluster", {"coordinator", "json", "probe_timeout_seconds"}}, kSecurity, kCommon};
  }
  return {};
}

std::string RoleFlagsHelp(const std::string& role) {
  constexpr size_t kHelpColumn = 34;
  constexpr size_t kWidth = 100;
  std::string out;
  for (const FlagGroup& g : FlagGroupsOfRole(role)) {
    absl::StrAppend(&out, "\n", g.title, ":\n");
    for (const std::string& name : g.flags) {
      std::string left;
      std::string help;
      if (name == "flagfile") {
        left = "  --flagfile=FILE";
        help = "Read flags from FILE, one --name=value per line ('#' starts a comment line).";
      } else {
        const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
        if (f == nullptr) continue;
        left = absl::StrCat("  --", name, "=", ShownDefault(*f));
        help = f->Help();
      }
      if (left.size() + 2 > kHelpColumn) {
        absl::StrAppend(&out, left, "\n", std::string(kHelpColumn, ' '));
      } else {
        absl::StrAppend(&out, left, std::string(kHelpColumn - left.size(), ' '));
      }
      absl::StrAppend(&out, Wrap(help, kHelpColumn, kWidth), "\n");
    }
  }
  return out;
}

absl::Status CheckFlagArgs(const std::string& role, const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;  // the rest is positional
    if (!absl::StartsWith(a, "-") || a == "-") continue;
    const std::string body = a.substr(absl::StartsWith(a, "--") ? 2 : 1);
    const size_t eq = body.find('=');
    const std::string name = body.substr(0, eq);
    if (IsAbseilFlag(name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>() && eq == std::string::npos) continue;
    }
    if (flag == nullptr || flag->IsRetired()) {
      const std::vector<std::string> near = NearestFlags(role, name);
      std::string hint;
      if (!near.empty()) {
        hint = absl::StrCat("; did you mean ",
                            absl::StrJoin(near, ", ",
                                          [](std::string* o, const std::string& n) {
                                            absl::StrAppend(o, "--", n);
                                          }),
                            "?");
      }
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown flag --%s%s (psrec %s --help lists its flags)", name, hint, role));
    }
    std::string value;
    if (eq != std::string::npos) {
      value = body.substr(eq + 1);
    } else if (flag->IsOfType<bool>()) {
      continue;  // --flag alone means true
    } else if (i + 1 < args.size()) {
      value = args[++i];  // Abseil also takes "--flag value"
    } else {
      return absl::InvalidArgumentError(absl::StrFormat("--%s needs a value (%s, default %s): %s",
                                                        name, TypeDescription(*flag),
                                                        ShownDefault(*flag), flag->Help()));
    }
    // Parsing sets the flag; Abseil parses the same value again afterwards.
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s=%s: not valid; it takes %s (default %s): %s", name, value,
                          TypeDescription(*flag), ShownDefault(*flag), flag->Help()));
    }
  }
  return absl::OkStatus();
}

}  // namespace psrec
