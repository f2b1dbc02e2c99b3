#include "worker/loss.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace psrec {
namespace {

// log(1 + e^z) without overflow.
double Softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace

absl::StatusOr<Loss> ParseLoss(const std::string& name, const std::string& task) {
  if (name.empty()) return task == "rating" ? Loss::kSquared : Loss::kLogistic;
  if (name == "logistic") return Loss::kLogistic;
  if (name == "bpr") return Loss::kBpr;
  if (name == "squared") return Loss::kSquared;
  return absl::InvalidArgumentError(
      absl::StrFormat("--loss=%s: valid: logistic, bpr (ranking), squared (rating)", name));
}

const char* LossName(Loss loss) {
  switch (loss) {
    case Loss::kLogistic:
      return "logistic";
    case Loss::kBpr:
      return "bpr";
    case Loss::kSquared:
      return "squared";
  }
  return "?";
}

double LossAndGradient(Loss loss, const float* s, const float* y, int n, float* d,
                       const float* w) {
  auto weight = [w](int r) { return w != nullptr ? static_cast<double>(w[r]) : 1.0; };
  double sum = 0;
  switch (loss) {
    case Loss::kLogistic:
      for (int r = 0; r < n; ++r) {
        sum += weight(r) * (Softplus(s[r]) - y[r] * static_cast<double>(s[r]));
        d[r] = static_cast<float>(weight(r) * (Sigmoid(s[r]) - y[r]) / n);
      }
      return n > 0 ? sum / n : 0.0;
    case Loss::kBpr: {
      const int pairs = n / 2;
      for (int k = 0; k < pairs; ++k) {
        const double margin = static_cast<double>(s[k]) - s[pairs + k];
        sum += weight(k) * Softplus(-margin);
        const double g = -weight(k) * Sigmoid(-margin) / pairs;
        d[k] = static_cast<float>(g);
        d[pairs + k] = static_cast<float>(-g);
      }
      return pairs > 0 ? sum / pairs : 0.0;
    }
    case Loss::kSquared:
      for (int r = 0; r < n; ++r) {
        const double e = static_cast<double>(s[r]) - y[r];
        sum += weight(r) * e * e;
        d[r] = static_cast<float>(weight(r) * 2.0 * e / n);
      }
      return n > 0 ? sum / n : 0.0;
  }
  return 0.0;
}

}  // namespace psrec
