// Item titles from a catalogue file, to print beside recommendations:
// MovieLens-100K `u.item` (`id|title|date|...`, latin-1), ML-1M `movies.dat`
// (`id::title::genres`) and ML-20M/25M `movies.csv` (`movieId,title,genres`,
// a header, quoted titles), or any file whose lines start `id<DELIM>title`
// with DELIM one of `::`, `|`, tab, comma. Gzip is read transparently.
//
// The delimiter comes from the first non-blank line: `::` if it occurs, else
// the first of `|`, tab, comma. That line is a header when its first field is
// not an unsigned integer; the title column is then the one named `title`
// (case-insensitive), else column 1. Titles come back as UTF-8: a file that is
// not valid UTF-8 is read as latin-1 (as MovieLens' older files are); tabs
// and line breaks inside titles become spaces.
#ifndef PSREC_COMMON_ITEM_TITLES_H_
#define PSREC_COMMON_ITEM_TITLES_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace psrec {

using ItemTitles = absl::flat_hash_map<uint64_t, std::string>;

// Errors read "FILE:LINE: message" (1-based lines); a missing file is
// NotFound naming the path. A later line for the same id wins.
absl::StatusOr<ItemTitles> ReadItemTitles(const std::string& path);

// The parser behind ReadItemTitles; `source` names the text in errors.
absl::StatusOr<ItemTitles> ParseItemTitles(absl::string_view text, const std::string& source);

}  // namespace psrec

#endif  // PSREC_COMMON_ITEM_TITLES_H_
