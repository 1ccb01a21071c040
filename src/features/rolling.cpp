#include "hpcad/features/rolling.hpp"

#include <algorithm>
#include <cmath>

namespace hpcad {

std::vector<ParamSpec> Rolling::param_specs() {
  ParamSpec stats =
      ParamSpec::string_list("stats", {"mean", "std"}, "any of mean, std, zscore, min, max");
  stats.choices = {"mean", "std", "zscore", "min", "max"};
  return feature_step_specs(
      {ParamSpec::integer("window", 10, 1, 1'000'000, "rows per window, including the row"),
       stats});
}

std::vector<std::string> Rolling::derived_suffixes() const {
  std::vector<std::string> suffixes;
  for (const auto& stat : params_.strings("stats"))
    suffixes.push_back("_rolling" + std::to_string(params_.integer("window")) + "_" + stat);
  return suffixes;
}

namespace {

/// Welford's running count, mean and sum of squared deviations of a run of values; NaN
/// once a NaN joined.
struct Moments {
  double count = 0, mean = 0, m2 = 0;

  void add(double x) {
    count += 1;
    const double delta = x - mean;
    mean += delta / count;
    m2 += delta * (x - mean);
  }
  /// The moments of this run followed by `later` (Chan et al.'s pairwise update).
  Moments merged(const Moments& later) const {
    const double n = count + later.count;
    const double delta = later.mean - mean;
    return {n, mean + delta * (later.count / n),
            m2 + later.m2 + delta * delta * (count * later.count / n)};
  }
};

/// min / max that propagate NaN, as a window with a NaN has no minimum in pandas.
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }
double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }

}  // namespace

void Rolling::derive(const SeriesRows& rows, std::span<const double> x, double* out,
                     Index stride) const {
  enum class Stat { kMean, kStd, kZscore, kMin, kMax };
  std::vector<Stat> stats;
  for (const auto& name : params_.strings("stats"))
    stats.push_back(name == "mean"     ? Stat::kMean
                    : name == "std"    ? Stat::kStd
                    : name == "zscore" ? Stat::kZscore
                    : name == "min"    ? Stat::kMin
                                       : Stat::kMax);
  const Index w = params_.integer("window");
  const Index n = rows.size();
  // The rows are cut into runs of w rows aligned on global row index (van Herk /
  // Gil-Werman): a window [t - w + 1, t] is the tail of the previous run from its first row
  // (a suffix summary) followed by the head of t's run up to t (a prefix summary). Each
  // summary depends on its rows and their global indices only, so the value is the same for
  // any block or rank boundary; O(1) per value, O(w) memory.
  const bool extremes = std::any_of(stats.begin(), stats.end(),
                                    [](Stat s) { return s == Stat::kMin || s == Stat::kMax; });
  struct Summary {
    Moments moments;
    double min = 0, max = 0;
    void start(double x) { *this = {Moments{1, x, 0}, x, x}; }
    void add(double x, bool extremes) {
      moments.add(x);
      if (!extremes) return;  // two NaN-checked comparisons per value, only when asked for
      min = nan_min(min, x);
      max = nan_max(max, x);
    }
  };
  std::vector<Summary> suffix(static_cast<std::size_t>(w));  // of the previous run, by offset
  Summary prefix;
  const double nan = std::nan("");
  Index offset = n > 0 ? rows.global(0) % w : 0;  // of row t within its run
  for (Index t = 0; t < n; ++t, offset = offset + 1 == w ? 0 : offset + 1) {
    if (offset == 0) {
      // suffix[k]: rows [t - w + k, t); only those within the rows (windows that reach
      // further back are short).
      if (t > 0) suffix[w - 1].start(x[t - 1]);
      for (Index k = w - 2; k >= std::max<Index>(0, w - t); --k)
        (suffix[k] = suffix[k + 1]).add(x[t - w + k], extremes);
      prefix.start(x[t]);
    } else {
      prefix.add(x[t], extremes);  // meaningless while t's run began before row 0; never used then
    }
    if (t < rows.history()) continue;
    double* row_out = out + (t - rows.history()) * stride;
    const Index first = t - w + 1;
    if (first < rows.series_begin(t) || first < 0) {  // a short window
      std::fill_n(row_out, stats.size(), nan);
      continue;
    }
    const bool one_run = offset == w - 1;
    // first >= 0, so t's run began within the rows and head holds rows [first, that begin).
    const Summary& head = suffix[static_cast<std::size_t>(offset + 1 == w ? 0 : offset + 1)];
    const Moments moments = one_run ? prefix.moments : head.moments.merged(prefix.moments);
    const double std = w > 1 ? std::sqrt(moments.m2 / static_cast<double>(w - 1)) : nan;
    for (std::size_t k = 0; k < stats.size(); ++k) switch (stats[k]) {
        case Stat::kMean:
          row_out[k] = moments.mean;
          break;
        case Stat::kStd:
          row_out[k] = std;
          break;
        case Stat::kZscore:
          row_out[k] = (x[t] - moments.mean) / std;
          break;
        case Stat::kMin:
          row_out[k] = one_run ? prefix.min : nan_min(head.min, prefix.min);
          break;
        case Stat::kMax:
          row_out[k] = one_run ? prefix.max : nan_max(head.max, prefix.max);
          break;
      }
  }
}

}  // namespace hpcad
