// Counters, histograms and scrape-time samples rendered in the Prometheus
// text exposition format (version 0.0.4). One registry per process, passed
// to what records into it; nothing here is global.
#ifndef PSREC_COMMON_PROMETHEUS_H_
#define PSREC_COMMON_PROMETHEUS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace psrec {

// Monotonic; Add is lock-free.
class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Cumulative buckets with fixed upper bounds; Observe is lock-free.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Per bucket (not cumulative), then the +Inf bucket last.
  std::vector<uint64_t> bucket_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Request latencies from 100 µs to 10 s.
std::vector<double> LatencyBucketsSeconds();

// A value computed when scraped (table rows, resident memory, ...).
struct Sample {
  std::string labels;  // e.g. table="item" (without braces), may be empty
  double value = 0;
};

class PrometheusRegistry {
 public:
  enum class Type { kCounter, kGauge };

  // `labels` is the series' label set without braces, e.g. method="Pull".
  // The returned pointer lives as long as the registry. Thread-safe.
  Counter* AddCounter(const std::string& name, const std::string& help,
                      const std::string& labels = "");
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          const std::string& labels, std::vector<double> upper_bounds);
  // Declares a family whose samples `collect` appends at every scrape.
  // `collect` must be thread-safe and outlive the registry's use.
  void AddCollector(const std::string& name, const std::string& help, Type type,
                    std::function<void(std::vector<Sample>*)> collect);

  // Every family, HELP and TYPE once each, in the order first added.
  std::string Render() const;

 private:
  struct Family {
    std::string name, help, type;
    std::vector<std::pair<std::string, std::unique_ptr<Counter>>> counters;
    std::vector<std::pair<std::string, std::unique_ptr<Histogram>>> histograms;
    std::function<void(std::vector<Sample>*)> collect;
  };
  Family* FamilyFor(const std::string& name, const std::string& help, const std::string& type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace psrec

#endif  // PSREC_COMMON_PROMETHEUS_H_
