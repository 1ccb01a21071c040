#include "hpcad/features/impute.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"
#include "hpcad/features/series.hpp"

namespace hpcad {

std::vector<ParamSpec> Impute::param_specs() {
  return feature_step_specs(
      {ParamSpec::string("strategy", "mean", {"mean", "median", "constant"},
                         "the fill value: a statistic of the training rows' finite values per "
                         "column, or `value`"),
       ParamSpec::optional_real("value", -std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::max(),
                                "strategy = \"constant\": the fill value")});
}

Impute::Impute(ParamSet params) : params_(std::move(params)) {
  const bool constant = params_.string("strategy") == "constant";
  if (constant == std::isnan(params_.real("value")))
    throw ConfigError(constant ? "step 'impute': strategy = \"constant\" needs a `value`"
                               : fmt::format("step 'impute': `value` applies only to strategy = "
                                             "\"constant\", not \"{}\"",
                                             params_.string("strategy")));
}

void Impute::fit(FitContext& context, RowSource& input) {
  const Schema& schema = input.info().schema;
  columns_ = resolve_step_columns(type(), params_, schema).columns;
  const std::string& strategy = params_.string("strategy");
  if (strategy == "constant") {
    fill_.assign(columns_.size(), params_.real("value"));
    return;
  }
  if (strategy == "median") {
    const double half[] = {0.5};
    fill_.clear();
    for (const auto& quantiles : finite_column_quantiles(input, columns_, half))
      fill_.push_back(quantiles[0]);
  } else {
    fill_ = finite_column_stats(input, columns_, false).mean;
  }
  // Without finite values the statistic is NaN.
  for (std::size_t c = 0; c < columns_.size(); ++c)
    if (std::isnan(fill_[c]))
      throw DataError(fmt::format("impute: column {} has no finite value to compute a {} from",
                                  column_label(schema, columns_[c]), strategy));
  context.log.debug("impute: {} fill values computed from {} rows", strategy,
                    input.global_rows());
}

void Impute::apply(const RowBlock& block, std::span<const double>, std::vector<double>& out) const {
  out.assign(block.values.begin(), block.values.end());
  const Index d = block.n_features;
  for (Index i = 0; i < block.n_rows; ++i)
    for (std::size_t c = 0; c < columns_.size(); ++c)
      if (double& x = out[i * d + columns_[c]]; !std::isfinite(x)) x = fill_[c];
}

ModelState Impute::save_state() const {
  ModelState state;
  state.reals["fill"] = fill_;
  return state;
}

void Impute::load_state(const Schema& input, const ModelState& state) {
  auto columns = stored_columns(params_, input, type(), state);
  const auto& fill = state.real("fill", columns.size());
  state.require_finite({"fill"}, "impute");
  columns_ = std::move(columns);
  fill_ = fill;
}

}  // namespace hpcad
