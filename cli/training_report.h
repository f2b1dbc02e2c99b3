// `psrec train --report=DIR`: DIR/report.html, one self-contained page (inline
// SVG, inline CSS, no scripts) with how the run learned: training loss, test
// and validation metrics per epoch, throughput, rows per server, the
// configuration and the final figures.
#ifndef PSREC_CLI_TRAINING_REPORT_H_
#define PSREC_CLI_TRAINING_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace psrec {

struct ReportEpoch {
  uint32_t epoch = 0;  // 1-based
  double loss = 0;
  double seconds = 0;  // training time of the epoch
  uint64_t examples = 0;
  // (metric name, value), e.g. ("HR@10", 0.67); empty when not evaluated.
  std::vector<std::pair<std::string, double>> test;
  std::vector<std::pair<std::string, double>> validation;
};

struct ReportServer {
  uint32_t index = 0;
  std::string address;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct TrainingReport {
  std::string title;  // e.g. "gmf on ml-100k-loo/train.rating"
  std::vector<std::pair<std::string, std::string>> config;  // name, value
  std::vector<std::pair<std::string, std::string>> final_figures;
  std::vector<ReportEpoch> epochs;
  std::vector<ReportServer> servers;
};

std::string TrainingReportHtml(const TrainingReport& report);

// Writes DIR/report.html (creating DIR), atomically; errors name the file.
absl::Status WriteTrainingReport(const std::string& dir, const TrainingReport& report);

}  // namespace psrec

#endif  // PSREC_CLI_TRAINING_REPORT_H_
