// Starts a neumf run from trained gmf and mlp models, as He et al. (2017,
// section 3.4.1) pre-train NeuMF: `psrec train --model=neumf
// --init_gmf=DIR --init_mlp=DIR`. The GMF branch's factors and head come from
// the gmf model, the MLP branch's factors, tower and head from the mlp model.
#ifndef PSREC_WORKER_NEUMF_INIT_H_
#define PSREC_WORKER_NEUMF_INIT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "worker/models.h"
#include "worker/ps_client.h"

namespace psrec {

struct NeuMfInitDirs {
  std::string gmf;  // a --model_out directory of --model=gmf; "": none
  std::string mlp;  // a --model_out directory of --model=mlp; "": none
};

struct NeuMfInitCounts {
  uint64_t users = 0, items = 0;  // rows set (a row either model has)
};

// Sets the parameters on the servers behind `ps` before the first epoch:
// every user and item row either model has (a branch the other model does
// not cover keeps the run's random initialisation) and the dense tensors the
// given models cover. Rows are assigned, so their optimizer state starts
// afresh. Errors name the flag and directory and what does not match: model
// type, factor sizes, tower layers or activation (and the flag to change).
absl::StatusOr<NeuMfInitCounts> InitNeuMfFromSavedModels(const Model& neumf,
                                                         const NeuMfInitDirs& dirs, PsClient* ps);

}  // namespace psrec

#endif  // PSREC_WORKER_NEUMF_INIT_H_
