#include "cli/export.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_join.h"
#include "worker/model_export.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "psrec export: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int RunExport(const ExportOptions& o) {
  auto saved = SavedModel::Load(o.model_dir);
  if (!saved.ok()) return Fail(saved.status());
  auto tables = ExportModelToNpy(**saved, o.out_dir);
  if (!tables.ok()) return Fail(tables.status());
  for (const ExportedTable& t : *tables) {
    if (t.dense) {
      std::printf("%-10s dense, %u floats -> %s\n", t.name.c_str(), t.dim,
                  absl::StrJoin(t.files, ", ").c_str());
    } else {
      std::printf("%-10s %llu rows x %u -> %s\n", t.name.c_str(),
                  static_cast<unsigned long long>(t.rows), t.dim,
                  absl::StrJoin(t.files, ", ").c_str());
    }
  }
  std::printf("wrote %s/export.json (%s model)\n", o.out_dir.c_str(),
              (*saved)->config().model().c_str());
  return 0;
}

}  // namespace psrec
