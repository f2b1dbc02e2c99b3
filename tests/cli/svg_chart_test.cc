// The report's SVG charts: well-formed XML, holding exactly the series and
// points they claim, with text escaped; and the whole report around them.
#include "cli/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cli/training_report.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

// A small XML well-formedness check: tags nest and close, attribute values
// are quoted, '&' only starts an entity, no stray '<' in text.
::testing::AssertionResult WellFormedXml(const std::string& xml) {
  std::vector<std::string> open;
  static const std::regex kTag(R"(^<([A-Za-z][\w:-]*)((\s+[\w:-]+="[^"<]*")*)\s*(/?)>)");
  static const std::regex kEntity(R"(^&(amp|lt|gt|quot|#\d+);)");
  size_t i = 0;
  while (i < xml.size()) {
    const std::string rest = xml.substr(i, 400);
    if (xml[i] == '&') {
      if (!std::regex_search(rest, kEntity)) {
        return ::testing::AssertionFailure() << "bare & at " << i << ": " << rest.substr(0, 40);
      }
      ++i;
      continue;
    }
    if (xml[i] != '<') {
      if (xml[i] == '>') return ::testing::AssertionFailure() << "stray > at " << i;
      ++i;
      continue;
    }
    if (absl::StartsWith(rest, "</")) {
      const size_t end = xml.find('>', i);
      const std::string name = xml.substr(i + 2, end - i - 2);
      if (open.empty() || open.back() != name) {
        return ::testing::AssertionFailure()
               << "</" << name << "> closes " << (open.empty() ? "nothing" : open.back());
      }
      open.pop_back();
      i = end + 1;
      continue;
    }
    std::smatch m;
    if (!std::regex_search(rest, m, kTag)) {
      return ::testing::AssertionFailure() << "bad tag at " << i << ": " << rest.substr(0, 80);
    }
    if (m[4].str().empty()) open.push_back(m[1]);
    i += m[0].length();
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> not closed";
  return ::testing::AssertionSuccess();
}

std::vector<std::string> Svgs(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("<svg "); at != std::string::npos; at = html.find("<svg ", at + 1)) {
    out.push_back(html.substr(at, html.find("</svg>", at) + 6 - at));
  }
  return out;
}

// data-series -> data-points of every polyline.
std::vector<std::pair<std::string, int>> Lines(const std::string& svg) {
  static const std::regex kLine(R"re(<polyline class="series" data-series="([^"]*)" data-points="(\d+)"[^>]* points="([^"]*)"/>)re");
  std::vector<std::pair<std::string, int>> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kLine); it != std::sregex_iterator();
       ++it) {
    const int n = std::stoi((*it)[2]);
    // The points attribute holds as many x,y pairs as data-points says.
    const std::string points = (*it)[3];
    const int pairs =
        points.empty() ? 0 : static_cast<int>(std::count(points.begin(), points.end(), ' ')) + 1;
    EXPECT_EQ(pairs, n) << (*it)[1];
    out.emplace_back((*it)[1], n);
  }
  return out;
}

TEST(SvgChartTest, LineChartIsWellFormedAndHoldsItsSeries) {
  const std::string svg = LineChartSvg(
      "m", "Metrics <per> epoch & more", "epoch",
      {{"test HR@10", {{1, 0.5}, {2, 0.6}, {3, 0.65}}}, {"a \"quoted\" name", {{1, 2}, {2, NAN}}}});
  EXPECT_TRUE(WellFormedXml(svg)) << svg;
  EXPECT_TRUE(absl::StrContains(svg, "data-chart=\"m\""));
  EXPECT_TRUE(absl::StrContains(svg, "Metrics &lt;per&gt; epoch &amp; more"));
  const auto lines = Lines(svg);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::make_pair(std::string("test HR@10"), 3));
  EXPECT_EQ(lines[1], std::make_pair(std::string("a &quot;quoted&quot; name"), 1));  // NaN skipped
}

TEST(SvgChartTest, FlatAndEmptySeriesStillDraw) {
  EXPECT_TRUE(WellFormedXml(LineChartSvg("flat", "Flat", "x", {{"c", {{1, 3}, {2, 3}}}})));
  EXPECT_TRUE(WellFormedXml(LineChartSvg("none", "None", "x", {})));
  EXPECT_TRUE(WellFormedXml(BarChartSvg("bars", "None", {})));
}

TEST(SvgChartTest, BarChartHoldsOneBarPerValue) {
  const std::string svg = BarChartSvg("rows", "Rows", {{"server 0", 120}, {"server 1", 80}});
  EXPECT_TRUE(WellFormedXml(svg)) << svg;
  EXPECT_TRUE(absl::StrContains(svg, "data-series=\"server 0\" data-value=\"120\""));
  EXPECT_TRUE(absl::StrContains(svg, "data-series=\"server 1\" data-value=\"80\""));
}

TEST(TrainingReportTest, PageHoldsEveryChartAndTable) {
  TrainingReport r;
  r.title = "gmf <test>";
  r.config = {{"model", "gmf"}, {"lr", "0.001"}};
  r.final_figures = {{"test HR@10", "0.6500"}};
  for (uint32_t e = 1; e <= 3; ++e) {
    ReportEpoch x;
    x.epoch = e;
    x.loss = 1.0 / e;
    x.seconds = 2;
    x.examples = 1000;
    x.test = {{"HR@10", 0.5 + 0.05 * e}, {"NDCG@10", 0.3}};
    x.validation = {{"HR@10", 0.4 + 0.05 * e}};
    r.epochs.push_back(x);
  }
  r.servers = {{0, "127.0.0.1:1", 50, 800}, {1, "127.0.0.1:2", 70, 1200}};
  const std::string html = TrainingReportHtml(r);
  EXPECT_FALSE(absl::StrContains(html, "<script"));
  EXPECT_FALSE(absl::StrContains(html, "http://") &&
               !absl::StrContains(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(absl::StrContains(html, "gmf &lt;test&gt;"));
  const auto svgs = Svgs(html);
  ASSERT_EQ(svgs.size(), 4u);
  for (const std::string& svg : svgs) EXPECT_TRUE(WellFormedXml(svg)) << svg;
  EXPECT_EQ(Lines(svgs[0]), (std::vector<std::pair<std::string, int>>{{"training loss", 3}}));
  EXPECT_EQ(Lines(svgs[1]), (std::vector<std::pair<std::string, int>>{
                                {"test HR@10", 3}, {"test NDCG@10", 3}, {"validation HR@10", 3}}));
  EXPECT_EQ(Lines(svgs[2]), (std::vector<std::pair<std::string, int>>{{"examples/s", 3}}));
  EXPECT_TRUE(absl::StrContains(svgs[3], "data-series=\"server 1\" data-value=\"70\""));
}

}  // namespace
}  // namespace psrec
