#include "hpcad/features/rolling.hpp"

#include <algorithm>
#include <cmath>

namespace hpcad {

std::vector<ParamSpec> Rolling::param_specs() {
  ParamSpec stats = ParamSpec::string_list("stats", {"mean", "std"},
                                           "any of mean, std, zscore, min, max");
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
  const bool needs_std = std::any_of(stats.begin(), stats.end(), [](Stat s) {
    return s == Stat::kStd || s == Stat::kZscore;
  });
  const Index w = params_.integer("window");
  const double nan = std::nan("");
  for (Index t = rows.history(); t < rows.size(); ++t) {
    double* row_out = out + (t - rows.history()) * stride;
    const Index first = t - w + 1;
    double sum = first >= rows.series_begin(t) ? 0.0 : nan;
    for (Index k = first; k <= t && !std::isnan(sum); ++k) sum += x[k];
    if (std::isnan(sum)) {  // a short window, or a NaN in it
      std::fill_n(row_out, stats.size(), nan);
      continue;
    }
    const auto window = x.subspan(first, w);
    const double mean = sum / static_cast<double>(w);
    double std = nan;
    if (needs_std && w > 1) {
      double squares = 0;
      for (const double v : window) squares += (v - mean) * (v - mean);
      std = std::sqrt(squares / static_cast<double>(w - 1));
    }
    for (std::size_t k = 0; k < stats.size(); ++k) switch (stats[k]) {
        case Stat::kMean:
          row_out[k] = mean;
          break;
        case Stat::kStd:
          row_out[k] = std;
          break;
        case Stat::kZscore:
          row_out[k] = (x[t] - mean) / std;
          break;
        case Stat::kMin:
          row_out[k] = *std::min_element(window.begin(), window.end());
          break;
        case Stat::kMax:
          row_out[k] = *std::max_element(window.begin(), window.end());
          break;
      }
  }
}

}  // namespace hpcad
