#pragma once
/// Steps that look a fixed number of rows back in the row's series: `diff` adds
/// `<col>_diff<lag>` = x[t] - x[t - lag], `lag` adds `<col>_lag<k>` = x[t - k] per k (pandas
/// diff(lag) and shift(k)). Rows without that many earlier rows in their series get NaN.
#include "hpcad/features/series.hpp"

namespace hpcad {

class Diff final : public SeriesStep {
 public:
  static std::vector<ParamSpec> param_specs();
  using SeriesStep::SeriesStep;
  std::string type() const override { return "diff"; }
  Index lookback() const override { return params_.integer("lag"); }

 protected:
  std::vector<std::string> derived_suffixes() const override;
  void derive(const SeriesRows& rows, std::span<const double> x, double* out,
              Index stride) const override;
};

class Lag final : public SeriesStep {
 public:
  static std::vector<ParamSpec> param_specs();
  using SeriesStep::SeriesStep;
  std::string type() const override { return "lag"; }
  Index lookback() const override;

 protected:
  std::vector<std::string> derived_suffixes() const override;
  void derive(const SeriesRows& rows, std::span<const double> x, double* out,
              Index stride) const override;
};

}  // namespace hpcad
