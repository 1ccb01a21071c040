#include "hpcad/features/lags.hpp"

#include <algorithm>
#include <cmath>

namespace hpcad {
namespace {

constexpr std::int64_t kMaxLag = 1'000'000;

/// x[t - k] when row t has k earlier rows in its series, else NaN.
double lagged(const SeriesRows& rows, std::span<const double> x, Index t, Index k) {
  return t - k >= rows.series_begin(t) ? x[t - k] : std::nan("");
}

}  // namespace

std::vector<ParamSpec> Diff::param_specs() {
  return feature_step_specs(
      {ParamSpec::integer("lag", 1, 1, kMaxLag, "rows back: adds <col>_diff<lag>")});
}

std::vector<std::string> Diff::derived_suffixes() const {
  return {"_diff" + std::to_string(params_.integer("lag"))};
}

void Diff::derive(const SeriesRows& rows, std::span<const double> x, double* out,
                  Index stride) const {
  const Index lag = params_.integer("lag");
  for (Index t = rows.history(); t < rows.size(); ++t)
    out[(t - rows.history()) * stride] = x[t] - lagged(rows, x, t, lag);
}

std::vector<ParamSpec> Lag::param_specs() {
  return feature_step_specs(
      {ParamSpec::integer_list("lags", {1}, 1, kMaxLag, "rows back: adds <col>_lag<k> per k")});
}

Index Lag::lookback() const {
  const auto& lags = params_.integers("lags");
  return lags.empty() ? 0 : *std::max_element(lags.begin(), lags.end());
}

std::vector<std::string> Lag::derived_suffixes() const {
  std::vector<std::string> suffixes;
  for (const auto k : params_.integers("lags")) suffixes.push_back("_lag" + std::to_string(k));
  return suffixes;
}

void Lag::derive(const SeriesRows& rows, std::span<const double> x, double* out,
                 Index stride) const {
  const auto& lags = params_.integers("lags");
  for (Index t = rows.history(); t < rows.size(); ++t)
    for (std::size_t k = 0; k < lags.size(); ++k)
      out[(t - rows.history()) * stride + static_cast<Index>(k)] = lagged(rows, x, t, lags[k]);
}

}  // namespace hpcad
