// Small self-contained SVG charts for the training report: no scripts, no
// fonts or styles from the network. Every series is one <polyline> (or one
// <rect> per bar) carrying data-series and data-points attributes, so that a
// reader or a test can tell what a chart holds without reading pixels.
#ifndef PSREC_CLI_SVG_CHART_H_
#define PSREC_CLI_SVG_CHART_H_

#include <string>
#include <utility>
#include <vector>

namespace psrec {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite y skipped
};

// A line chart with axes, ticks and a legend; `id` becomes data-chart.
std::string LineChartSvg(const std::string& id, const std::string& title,
                         const std::string& x_label, const std::vector<ChartSeries>& series);

// One bar per (label, value).
std::string BarChartSvg(const std::string& id, const std::string& title,
                        const std::vector<std::pair<std::string, double>>& bars);

// Escapes &, <, >, " and ' for text and attribute values.
std::string XmlEscape(const std::string& text);

}  // namespace psrec

#endif  // PSREC_CLI_SVG_CHART_H_
