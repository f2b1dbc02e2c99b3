#include "cli/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psrec {
namespace {

constexpr double kWidth = 560, kHeight = 300;
constexpr double kLeft = 64, kRight = 16, kTop = 36, kBottom = 44;
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c",
                                   "#ff7f0e", "#9467bd", "#8c564b"};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // A non-empty range, padded a little so that lines do not sit on the frame.
  void Settle(bool from_zero) {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (from_zero) lo = std::min(lo, 0.0);
    if (hi - lo < 1e-12) {
      const double pad = std::max(std::fabs(hi) * 0.1, 1e-3);
      lo -= pad;
      hi += pad;
    }
  }
};

std::string Tick(double v) {
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3)) return absl::StrFormat("%.2g", v);
  return absl::StrFormat("%.4g", v);
}

std::string Open(const std::string& id, const std::string& title) {
  return absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"%s\" width=\"%.0f\" "
      "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<title>%s</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
      XmlEscape(id), kWidth, kHeight, kWidth, kHeight, XmlEscape(title), kLeft, XmlEscape(title));
}

// Frame and y ticks; returns the SVG.
std::string Axes(const Range& y) {
  std::string out = absl::StrFormat(
      "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
      "stroke=\"#999\"/>\n",
      kLeft, kTop, kWidth - kLeft - kRight, kHeight - kTop - kBottom);
  for (int i = 0; i <= 4; ++i) {
    const double v = y.lo + (y.hi - y.lo) * i / 4;
    const double py = kHeight - kBottom - (kHeight - kTop - kBottom) * i / 4;
    absl::StrAppend(&out,
                    absl::StrFormat("<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                                    "stroke=\"#eee\"/>\n<text x=\"%.0f\" y=\"%.1f\" "
                                    "text-anchor=\"end\">%s</text>\n",
                                    kLeft, py, kWidth - kRight, py, kLeft - 4, py + 4, Tick(v)));
  }
  return out;
}

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string LineChartSvg(const std::string& id, const std::string& title,
                         const std::string& x_label, const std::vector<ChartSeries>& series) {
  Range x, y;
  for (const ChartSeries& s : series) {
    for (const auto& [px, py] : s.points) {
      if (!std::isfinite(px) || !std::isfinite(py)) continue;
      x.Add(px);
      y.Add(py);
    }
  }
  x.Settle(false);
  y.Settle(false);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto sx = [&](double v) { return kLeft + (v - x.lo) / (x.hi - x.lo) * plot_w; };
  auto sy = [&](double v) { return kHeight - kBottom - (v - y.lo) / (y.hi - y.lo) * plot_h; };
  std::string out = Open(id, title) + Axes(y);
  for (int i = 0; i <= 4; ++i) {
    const double v = x.lo + (x.hi - x.lo) * i / 4;
    absl::StrAppend(
        &out, absl::StrFormat("<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                              sx(v), kHeight - kBottom + 14, Tick(v)));
  }
  absl::StrAppend(&out,
                  absl::StrFormat("<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                                  kLeft + plot_w / 2, kHeight - 8, XmlEscape(x_label)));
  for (size_t i = 0; i < series.size(); ++i) {
    const ChartSeries& s = series[i];
    const char* color = kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
    std::string points, dots;
    int n = 0;
    for (const auto& [px, py] : s.points) {
      if (!std::isfinite(px) || !std::isfinite(py)) continue;
      absl::StrAppend(&points, n ? " " : "", absl::StrFormat("%.1f,%.1f", sx(px), sy(py)));
      absl::StrAppend(&dots, absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                                             "fill=\"%s\"><title>%s: %s</title></circle>\n",
                                             sx(px), sy(py), color, XmlEscape(s.name), Tick(py)));
      ++n;
    }
    absl::StrAppend(
        &out,
        absl::StrFormat("<polyline class=\"series\" data-series=\"%s\" data-points=\"%d\" "
                        "fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n",
                        XmlEscape(s.name), n, color, points),
        dots);
    const double ly = kTop + 14 + 14.0 * i;
    absl::StrAppend(
        &out, absl::StrFormat("<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"3\" fill=\"%s\"/>"
                              "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                              kWidth - kRight - 150, ly - 4, color, kWidth - kRight - 136, ly,
                              XmlEscape(s.name)));
  }
  return out + "</svg>\n";
}

std::string BarChartSvg(const std::string& id, const std::string& title,
                        const std::vector<std::pair<std::string, double>>& bars) {
  Range y;
  for (const auto& [label, v] : bars) {
    if (std::isfinite(v)) y.Add(v);
  }
  y.Settle(true);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  std::string out = Open(id, title) + Axes(y);
  const double slot = bars.empty() ? plot_w : plot_w / bars.size();
  for (size_t i = 0; i < bars.size(); ++i) {
    const double v = std::isfinite(bars[i].second) ? bars[i].second : 0;
    const double h = (v - y.lo) / (y.hi - y.lo) * plot_h;
    const double bx = kLeft + slot * i + slot * 0.15;
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "<rect class=\"bar\" data-series=\"%s\" data-value=\"%.17g\" x=\"%.1f\" y=\"%.1f\" "
            "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>\n"
            "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
            XmlEscape(bars[i].first), v, bx, kHeight - kBottom - h, slot * 0.7, h, kColors[0],
            XmlEscape(bars[i].first), Tick(v), bx + slot * 0.35, kHeight - kBottom + 14,
            XmlEscape(bars[i].first)));
  }
  return out + "</svg>\n";
}

}  // namespace psrec
