#include "cli/flagfile.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace psrec {
namespace {

// Deep enough for any sane nesting, shallow enough to stop a file that names itself.
constexpr int kMaxFlagfileDepth = 8;

bool IsFlagfileFlag(const std::string& arg) { return arg == "--flagfile" || arg == "-flagfile"; }

absl::StatusOr<std::string> ReadFlagfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read (--flagfile)"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status ExpandInto(const std::vector<std::string>& args, int depth,
                        const FlagfileReader& read, std::vector<std::string>* out);

absl::Status ExpandFile(const std::string& path, int depth, const FlagfileReader& read,
                        std::vector<std::string>* out) {
  if (depth > kMaxFlagfileDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": --flagfile nested more than ", kMaxFlagfileDepth, " deep (does it name itself?)"));
  }
  absl::StatusOr<std::string> contents = read(path);
  if (!contents.ok()) return contents.status();
  std::vector<std::string> flags;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(*contents, '\n')) {
    ++number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    if (!absl::StartsWith(text, "-")) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", number, ": '", text, "' is not a flag (one --name=value per line)"));
    }
    flags.emplace_back(text);
  }
  return ExpandInto(flags, depth, read, out);
}

absl::Status ExpandList(absl::string_view list, int depth, const FlagfileReader& read,
                        std::vector<std::string>* out) {
  if (list.empty()) return absl::InvalidArgumentError("--flagfile needs a file name");
  for (absl::string_view path : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    if (auto s = ExpandFile(std::string(path), depth + 1, read, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ExpandInto(const std::vector<std::string>& args, int depth,
                        const FlagfileReader& read, std::vector<std::string>* out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (absl::StartsWith(a, "--flagfile=") || absl::StartsWith(a, "-flagfile=")) {
      if (auto s = ExpandList(a.substr(a.find('=') + 1), depth, read, out); !s.ok()) return s;
    } else if (IsFlagfileFlag(a)) {
      if (i + 1 == args.size()) return absl::InvalidArgumentError("--flagfile needs a file name");
      if (auto s = ExpandList(args[++i], depth, read, out); !s.ok()) return s;
    } else {
      out->push_back(a);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandFlagfiles(const std::vector<std::string>& args) {
  return ExpandFlagfiles(args, ReadFlagfile);
}

absl::StatusOr<std::vector<std::string>> ExpandFlagfiles(const std::vector<std::string>& args,
                                                         const FlagfileReader& read) {
  std::vector<std::string> out;
  if (auto s = ExpandInto(args, 0, read, &out); !s.ok()) return s;
  return out;
}

}  // namespace psrec
