#include "hpcad/features/ewm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace hpcad {
namespace {

/// pandas' ewm recursion (aggregations.pyx, adjust=False, ignore_na=False) over x[begin..end),
/// writing the values of rows [emit, end) to out (stride apart, from row `emit`).
void ewm_mean(std::span<const double> x, Index begin, Index emit, Index end, double alpha,
              double* out, Index stride) {
  double weighted = std::nan("");
  double old_weight = 1.0;
  for (Index t = begin; t < end; ++t) {
    const double current = x[t];
    const bool observed = !std::isnan(current);
    if (!std::isnan(weighted)) {
      old_weight *= 1.0 - alpha;
      if (observed) {
        // pandas skips the update on equal values to keep constant series exact
        if (weighted != current)
          weighted = (old_weight * weighted + alpha * current) / (old_weight + alpha);
        old_weight = 1.0;
      }
    } else if (observed) {
      weighted = current;
    }
    if (t >= emit) out[(t - emit) * stride] = weighted;
  }
}

}  // namespace

std::vector<ParamSpec> Ewm::param_specs() {
  return feature_step_specs({ParamSpec::real(
      "alpha", 0.1, 1e-3, 1.0, "smoothing factor in [0.001, 1]: adds <col>_ewm<alpha>")});
}

Index Ewm::horizon() const {
  const double alpha = params_.real("alpha");
  // (1 - alpha)^n < 2^-60  <=>  n > -60 ln 2 / ln(1 - alpha); alpha = 1 forgets at once.
  if (alpha >= 1.0) return 1;
  return std::max<Index>(1, static_cast<Index>(std::ceil(-60 * std::log(2.0) / std::log1p(-alpha))));
}

std::vector<std::string> Ewm::derived_suffixes() const {
  return {fmt::format("_ewm{}", params_.real("alpha"))};
}

void Ewm::derive(const SeriesRows& rows, std::span<const double> x, double* out,
                 Index stride) const {
  const Index h = horizon();
  const double alpha = params_.real("alpha");
  // Runs of rows sharing one start row (series begin or anchor), each recursed once.
  for (Index t = rows.history(); t < rows.size();) {
    const Index global = rows.global(t);
    const Index anchor = std::max<Index>(0, (global / h - 1) * h);
    const Index begin = std::max(rows.series_begin(t), anchor - rows.global(0));
    Index end = t + 1;
    while (end < rows.size() && rows.series_begin(end) == rows.series_begin(t) &&
           rows.global(end) / h == global / h)
      ++end;
    ewm_mean(x, begin, t, end, alpha, out + (t - rows.history()) * stride, stride);
    t = end;
  }
}

}  // namespace hpcad
