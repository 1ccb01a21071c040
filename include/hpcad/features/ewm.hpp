#pragma once
/// `ewm`: exponentially weighted mean of the row's series, as pandas
/// ewm(alpha, adjust=False).mean() (ignore_na=False: NaN rows carry the mean and age its
/// weight). Adds `<col>_ewm<alpha>`, e.g. `power_w_ewm0.1`.
///
/// The recursion never forgets, but a row's weight after n rows is (1 - alpha)^n, below
/// 2^-60 after horizon() rows. To keep every value a function of a bounded, fixed range of
/// rows (series.hpp: what makes blocks and ranks bitwise invariant), the value at global row
/// t is the recursion started at the later of its series' first row and the anchor row
/// (floor(t / horizon) - 1) * horizon, so it covers at least horizon() rows: it differs from
/// the infinite recursion by less than 2^-60 relative, far below the 1e-12 pandas agreement.
#include "hpcad/features/series.hpp"

namespace hpcad {

class Ewm final : public SeriesStep {
 public:
  static std::vector<ParamSpec> param_specs();
  using SeriesStep::SeriesStep;
  std::string type() const override { return "ewm"; }
  Index lookback() const override { return 2 * horizon() - 1; }

  /// Rows after which an observation's weight is below 2^-60.
  Index horizon() const;

 protected:
  std::vector<std::string> derived_suffixes() const override;
  void derive(const SeriesRows& rows, std::span<const double> x, double* out,
              Index stride) const override;
};

}  // namespace hpcad
