// `psrec recommend`: the top-K items of a saved model for one user or for a
// file of users.
#ifndef PSREC_CLI_RECOMMEND_H_
#define PSREC_CLI_RECOMMEND_H_

#include "cli/options.h"

namespace psrec {

// Exit code 0; 1 when the model or a file cannot be read, or when a user is
// not in the model (with --users: after the other users were written).
int RunRecommend(const RecommendOptions& options);

}  // namespace psrec

#endif  // PSREC_CLI_RECOMMEND_H_
