#pragma once
/// Row-wise steps on named columns, without statistics: `log1p` rewrites its columns as
/// log(1 + x) (numpy.log1p); `drop` removes its columns (the [features] section appends one
/// for the group_by / order_by keys, which are read but never fed to the detector).
#include "hpcad/features/series.hpp"

namespace hpcad {

class Log1p final : public FeatureStep {
 public:
  static std::vector<ParamSpec> param_specs() { return feature_step_specs(); }
  using FeatureStep::FeatureStep;
  std::string type() const override { return "log1p"; }
  Schema output_schema(const Schema& input) const override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;
};

class Drop final : public FeatureStep {
 public:
  static std::vector<ParamSpec> param_specs() { return feature_step_specs(); }
  using FeatureStep::FeatureStep;
  std::string type() const override { return "drop"; }
  Schema output_schema(const Schema& input) const override;
  void apply(const RowBlock& block, std::span<const double> history,
             std::vector<double>& out) const override;

 private:
  /// The input columns kept, in order.
  static std::vector<Index> kept(const StepColumns& dropped, Index n_features);
};

}  // namespace hpcad
