#include "cli/training_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/svg_chart.h"
#include "common/file_util.h"

namespace psrec {
namespace {

// One series per metric name of `pick(epoch)`, in first-seen order.
std::vector<ChartSeries> MetricSeries(
    const std::vector<ReportEpoch>& epochs, const std::string& prefix,
    const std::vector<std::pair<std::string, double>> ReportEpoch::*field) {
  std::vector<ChartSeries> series;
  for (const ReportEpoch& e : epochs) {
    for (const auto& [name, value] : e.*field) {
      const std::string full = prefix + name;
      auto it = std::find_if(series.begin(), series.end(),
                             [&](const ChartSeries& s) { return s.name == full; });
      if (it == series.end()) {
        series.push_back({full, {}});
        it = series.end() - 1;
      }
      it->points.emplace_back(e.epoch, value);
    }
  }
  return series;
}

std::string Table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string out = "<table>\n";
  for (const auto& [k, v] : rows) {
    absl::StrAppend(&out, "<tr><th>", XmlEscape(k), "</th><td>", XmlEscape(v), "</td></tr>\n");
  }
  return out + "</table>\n";
}

}  // namespace

std::string TrainingReportHtml(const TrainingReport& r) {
  std::string charts;
  ChartSeries loss{"training loss", {}};
  ChartSeries throughput{"examples/s", {}};
  double elapsed = 0;
  for (const ReportEpoch& e : r.epochs) {
    loss.points.emplace_back(e.epoch, e.loss);
    elapsed += e.seconds;
    if (e.seconds > 0) throughput.points.emplace_back(elapsed, e.examples / e.seconds);
  }
  absl::StrAppend(&charts, LineChartSvg("loss", "Training loss per epoch", "epoch", {loss}));
  std::vector<ChartSeries> metrics = MetricSeries(r.epochs, "test ", &ReportEpoch::test);
  for (ChartSeries& s : MetricSeries(r.epochs, "validation ", &ReportEpoch::validation)) {
    metrics.push_back(std::move(s));
  }
  if (!metrics.empty()) {
    absl::StrAppend(&charts, LineChartSvg("metrics", "Test and validation metrics per epoch",
                                          "epoch", metrics));
  }
  absl::StrAppend(&charts, LineChartSvg("throughput", "Throughput (each epoch's examples/s)",
                                        "training seconds", {throughput}));
  if (!r.servers.empty()) {
    std::vector<std::pair<std::string, double>> rows;
    for (const ReportServer& s : r.servers) {
      rows.emplace_back(absl::StrCat("server ", s.index), static_cast<double>(s.rows));
    }
    absl::StrAppend(&charts, BarChartSvg("rows", "Rows per server (all tables)", rows));
  }
  std::vector<std::pair<std::string, std::string>> epoch_rows;
  std::string history = "<table>\n<tr><th>epoch</th><th>loss</th><th>examples/s</th>";
  std::vector<std::string> metric_names;
  if (!r.epochs.empty()) {
    for (const auto& [n, v] : r.epochs.front().test) metric_names.push_back("test " + n);
    for (const auto& [n, v] : r.epochs.front().validation)
      metric_names.push_back("validation " + n);
  }
  for (const std::string& n : metric_names)
    absl::StrAppend(&history, "<th>", XmlEscape(n), "</th>");
  absl::StrAppend(&history, "</tr>\n");
  for (const ReportEpoch& e : r.epochs) {
    absl::StrAppend(&history,
                    absl::StrFormat("<tr><td>%d</td><td>%.4f</td><td>%.0f</td>", e.epoch, e.loss,
                                    e.seconds > 0 ? e.examples / e.seconds : 0.0));
    for (const auto& [n, v] : e.test)
      absl::StrAppend(&history, absl::StrFormat("<td>%.4f</td>", v));
    for (const auto& [n, v] : e.validation) {
      absl::StrAppend(&history, absl::StrFormat("<td>%.4f</td>", v));
    }
    absl::StrAppend(&history, "</tr>\n");
  }
  absl::StrAppend(&history, "</table>\n");
  std::string servers;
  if (!r.servers.empty()) {
    servers = "<table>\n<tr><th>server</th><th>address</th><th>rows</th><th>bytes</th></tr>\n";
    for (const ReportServer& s : r.servers) {
      absl::StrAppend(&servers,
                      absl::StrFormat("<tr><td>%d</td><td>%s</td><td>%d</td><td>%d</td></tr>\n",
                                      s.index, XmlEscape(s.address), s.rows, s.bytes));
    }
    absl::StrAppend(&servers, "</table>\n");
  }
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>psrec: ",
      XmlEscape(r.title),
      "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}\n"
      "svg{margin:0 1em 1em 0;border:1px solid #ddd}\ntable{border-collapse:collapse;margin-bottom:"
      "1.5em}\nth,td{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}\n"
      "</style>\n</head>\n<body>\n<h1>psrec training report</h1>\n<p>",
      XmlEscape(r.title), "</p>\n<h2>Final figures</h2>\n", Table(r.final_figures),
      "<h2>Charts</h2>\n<div class=\"charts\">\n", charts, "</div>\n<h2>Epochs</h2>\n", history,
      servers.empty() ? "" : "<h2>Servers</h2>\n", servers, "<h2>Configuration</h2>\n",
      Table(r.config), "</body>\n</html>\n");
}

absl::Status WriteTrainingReport(const std::string& dir, const TrainingReport& report) {
  if (auto s = MakeDirs(dir); !s.ok()) return s;
  return WriteFileAtomically(dir + "/report.html", TrainingReportHtml(report));
}

}  // namespace psrec
