#include "common/item_titles.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/data_reader.h"

namespace psrec {
namespace {

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra;
    if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string Latin1ToUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// One line of a comma-separated file, with RFC 4180 quoting ("a, b" and "").
std::vector<std::string> SplitCsv(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  return fields;
}

std::vector<std::string> SplitFields(absl::string_view line, absl::string_view delimiter) {
  if (delimiter == ",") return SplitCsv(line);
  return absl::StrSplit(line, delimiter);
}

absl::string_view DetectDelimiter(absl::string_view first_line) {
  if (absl::StrContains(first_line, "::")) return "::";
  const size_t at = first_line.find_first_of("|\t,");
  if (at == absl::string_view::npos) return "|";
  return first_line.substr(at, 1);
}

std::string CleanTitle(absl::string_view title) {
  std::string out(absl::StripAsciiWhitespace(title));
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

absl::StatusOr<ItemTitles> ParseItemTitles(absl::string_view raw, const std::string& source) {
  std::string converted;
  absl::string_view text = raw;
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM
  if (!IsValidUtf8(text)) {
    converted = Latin1ToUtf8(text);
    text = converted;
  }
  ItemTitles titles;
  absl::string_view delimiter;
  size_t title_col = 1;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const bool first = delimiter.empty();
    if (first) delimiter = DetectDelimiter(line);
    const std::vector<std::string> fields = SplitFields(line, delimiter);
    uint64_t id = 0;
    const absl::string_view id_field = absl::StripAsciiWhitespace(fields[0]);
    if (!absl::SimpleAtoi(id_field, &id)) {
      if (first) {  // a header: find the title column by name
        for (size_t c = 0; c < fields.size(); ++c) {
          if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(fields[c]), "title")) {
            title_col = c;
          }
        }
        continue;
      }
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s:%d: item id '%s' is not an unsigned integer", source, line_no, id_field));
    }
    if (title_col >= fields.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: no title in column %d (lines are id%stitle...)", source, line_no,
                          title_col, delimiter == "\t" ? "<TAB>" : std::string(delimiter)));
    }
    titles[id] = CleanTitle(fields[title_col]);
  }
  return titles;
}

absl::StatusOr<ItemTitles> ReadItemTitles(const std::string& path) {
  auto text = ReadFileMaybeGz(path);
  if (!text.ok()) return text.status();
  return ParseItemTitles(*text, path);
}

}  // namespace psrec
