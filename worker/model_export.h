// Writes a loaded model's tables as NumPy files for use outside psrec (NumPy,
// PyTorch, an ANN index): per sparse table NAME, NAME_embeddings.npy
// (float32, rows x dim, rows sorted by id) and NAME_ids.npy (int64, or uint64
// when an id does not fit in int64); per dense table NAME.npy (float32, dim);
// and export.json describing the model, the files and the columns of a row.
#ifndef PSREC_WORKER_MODEL_EXPORT_H_
#define PSREC_WORKER_MODEL_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "worker/saved_model.h"

namespace psrec {

struct ExportedTable {
  std::string name;
  bool dense = false;
  uint64_t rows = 0;
  uint32_t dim = 0;
  std::vector<std::string> files;  // written, relative to the output directory
};

// Creates `out_dir` if needed and writes every file atomically. Errors name
// the file or table at fault.
absl::StatusOr<std::vector<ExportedTable>> ExportModelToNpy(SavedModel& model,
                                                            const std::string& out_dir);

}  // namespace psrec

#endif  // PSREC_WORKER_MODEL_EXPORT_H_
