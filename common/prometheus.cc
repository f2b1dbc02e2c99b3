#include "common/prometheus.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psrec {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.17g", v);
}

std::string Series(const std::string& name, const std::string& labels) {
  return labels.empty() ? name : absl::StrCat(name, "{", labels, "}");
}

std::string WithLabel(const std::string& labels, const std::string& extra) {
  return labels.empty() ? extra : absl::StrCat(labels, ",", extra);
}

// HELP text escapes backslash and newline only.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

PrometheusRegistry::Family* PrometheusRegistry::FamilyFor(const std::string& name,
                                                          const std::string& help,
                                                          const std::string& type) {
  for (auto& f : families_) {
    if (f->name == name) return f.get();
  }
  families_.push_back(std::make_unique<Family>());
  Family* f = families_.back().get();
  f->name = name;
  f->help = help;
  f->type = type;
  return f;
}

Counter* PrometheusRegistry::AddCounter(const std::string& name, const std::string& help,
                                        const std::string& labels) {
  absl::MutexLock lock(&mu_);
  Family* f = FamilyFor(name, help, "counter");
  f->counters.emplace_back(labels, std::make_unique<Counter>());
  return f->counters.back().second.get();
}

Histogram* PrometheusRegistry::AddHistogram(const std::string& name, const std::string& help,
                                            const std::string& labels,
                                            std::vector<double> upper_bounds) {
  absl::MutexLock lock(&mu_);
  Family* f = FamilyFor(name, help, "histogram");
  f->histograms.emplace_back(labels, std::make_unique<Histogram>(std::move(upper_bounds)));
  return f->histograms.back().second.get();
}

void PrometheusRegistry::AddCollector(const std::string& name, const std::string& help, Type type,
                                      std::function<void(std::vector<Sample>*)> collect) {
  absl::MutexLock lock(&mu_);
  Family* f = FamilyFor(name, help, type == Type::kCounter ? "counter" : "gauge");
  f->collect = std::move(collect);
}

std::string PrometheusRegistry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& f : families_) {
    absl::StrAppend(&out, "# HELP ", f->name, " ", EscapeHelp(f->help), "\n# TYPE ", f->name, " ",
                    f->type, "\n");
    for (const auto& [labels, c] : f->counters) {
      absl::StrAppend(&out, Series(f->name, labels), " ", c->value(), "\n");
    }
    for (const auto& [labels, h] : f->histograms) {
      const std::vector<uint64_t> counts = h->bucket_counts();
      uint64_t cumulative = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        const std::string le =
            i < h->upper_bounds().size() ? FormatValue(h->upper_bounds()[i]) : "+Inf";
        absl::StrAppend(&out, Series(f->name + "_bucket", WithLabel(labels, "le=\"" + le + "\"")),
                        " ", cumulative, "\n");
      }
      absl::StrAppend(&out, Series(f->name + "_sum", labels), " ", FormatValue(h->sum()), "\n");
      absl::StrAppend(&out, Series(f->name + "_count", labels), " ", cumulative, "\n");
    }
    if (f->collect) {
      std::vector<Sample> samples;
      f->collect(&samples);
      for (const Sample& s : samples) {
        absl::StrAppend(&out, Series(f->name, s.labels), " ", FormatValue(s.value), "\n");
      }
    }
  }
  return out;
}

}  // namespace psrec
