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
  const Index w = params_.integer("window");
  const auto& stats = params_.strings("stats");
  const double nan = std::nan("");
  for (Index t = rows.history(); t < rows.size(); ++t) {
    double* row_out = out + (t - rows.history()) * stride;
    const Index first = t - w + 1;
    const auto window = first >= rows.series_begin(t) ? x.subspan(first, w) : x.first(0);
    const bool complete = !window.empty() && std::all_of(window.begin(), window.end(),
                                                         [](double v) { return !std::isnan(v); });
    if (!complete) {
      std::fill_n(row_out, stats.size(), nan);
      continue;
    }
    double sum = 0;
    for (const double v : window) sum += v;
    const double mean = sum / static_cast<double>(w);
    double squares = 0;
    for (const double v : window) squares += (v - mean) * (v - mean);
    const double std = w > 1 ? std::sqrt(squares / static_cast<double>(w - 1)) : nan;
    for (std::size_t k = 0; k < stats.size(); ++k) {
      const std::string& stat = stats[k];
      row_out[k] = stat == "mean"   ? mean
                   : stat == "std"  ? std
                   : stat == "zscore" ? (x[t] - mean) / std
                   : stat == "min"  ? *std::min_element(window.begin(), window.end())
                                    : *std::max_element(window.begin(), window.end());
    }
  }
}

}  // namespace hpcad
