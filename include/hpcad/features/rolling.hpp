#pragma once
/// `rolling`: statistics of the last `window` rows of the row's series, as pandas
/// rolling(window).<stat>() with its default min_periods = window: a row with fewer than
/// `window` rows in its series so far, or a NaN among them, gets NaN (so a later `impute`
/// step must fill them before the detector). Adds `<col>_rolling<window>_<stat>` for stat in
/// mean, std (ddof = 1), zscore ((x - mean) / std), min, max.
///
/// O(1) per value and exact across blocks and ranks (van Herk / Gil-Werman): the rows are
/// cut into runs of `window` rows aligned on global row index; a window is the tail of one
/// run followed by the head of the next, whose summaries (Welford count, mean and sum of
/// squared deviations, merged by Chan et al.'s update — a stable std, not running sums of
/// squares; min and max) depend on their rows and global indices only, never on where a block
/// or rank began, which the halo exchange relies on (see series.hpp).
#include "hpcad/features/series.hpp"

namespace hpcad {

class Rolling final : public SeriesStep {
 public:
  static std::vector<ParamSpec> param_specs();
  using SeriesStep::SeriesStep;
  std::string type() const override { return "rolling"; }
  Index lookback() const override { return params_.integer("window") - 1; }

 protected:
  std::vector<std::string> derived_suffixes() const override;
  void derive(const SeriesRows& rows, std::span<const double> x, double* out,
              Index stride) const override;
};

}  // namespace hpcad
