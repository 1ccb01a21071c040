#include "hpcad/features/impute.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"

namespace hpcad {
namespace {

/// The largest ffill limit: its rows are every rank's halo and every block's history.
constexpr std::int64_t kMaxFillLimit = 1'000'000;

}  // namespace

std::vector<ParamSpec> Impute::param_specs() {
  return feature_step_specs(
      {ParamSpec::string("strategy", "mean", {"mean", "median", "constant", "ffill"},
                         "the fill value: a statistic of the training rows' finite values per "
                         "column, `value`, or the last finite value of the row's series"),
       ParamSpec::optional_real("value", -std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::max(),
                                "strategy = \"constant\": the fill value"),
       ParamSpec::integer("limit", 1000, 1, kMaxFillLimit,
                          "strategy = \"ffill\": rows a finite value is carried forward at most "
                          "(pandas ffill(limit=...)); the step's window")});
}

Impute::Impute(ParamSet params) : params_(std::move(params)) {
  const bool constant = params_.string("strategy") == "constant";
  if (constant == std::isnan(params_.real("value")))
    throw ConfigError(constant ? "step 'impute': strategy = \"constant\" needs a `value`"
                               : fmt::format("step 'impute': `value` applies only to strategy = "
                                             "\"constant\", not \"{}\"",
                                             params_.string("strategy")));
}

Index Impute::history_rows() const { return is_ffill() ? params_.integer("limit") : 0; }

void Impute::fit(FitContext& context, RowSource& input) {
  const Schema& schema = input.info().schema;
  columns_ = resolve_step_columns(type(), params_, schema);
  const std::vector<Index>& columns = columns_.columns;
  const std::string& strategy = params_.string("strategy");
  if (strategy == "constant" || strategy == "ffill") {
    fill_.assign(strategy == "constant" ? columns.size() : 0, params_.real("value"));
    return;
  }
  if (strategy == "median") {
    const double half[] = {0.5};
    fill_.clear();
    for (const auto& quantiles : finite_column_quantiles(input, columns, half))
      fill_.push_back(quantiles[0]);
  } else {
    fill_ = finite_column_stats(input, columns, false).mean;
  }
  // Without finite values the statistic is NaN.
  for (std::size_t c = 0; c < columns.size(); ++c)
    if (std::isnan(fill_[c]))
      throw DataError(fmt::format("impute: column {} has no finite value to compute a {} from",
                                  column_label(schema, columns[c]), strategy));
  context.log.debug("impute: {} fill values computed from {} rows", strategy,
                    input.global_rows());
}

void Impute::apply(const RowBlock& block, std::span<const double> history,
                   std::vector<double>& out) const {
  out.assign(block.values.begin(), block.values.end());
  if (is_ffill()) return fill_forward(block, history, out);
  const Index d = block.n_features;
  for (Index i = 0; i < block.n_rows; ++i)
    for (std::size_t c = 0; c < columns_.columns.size(); ++c)
      if (double& x = out[i * d + columns_.columns[c]]; !std::isfinite(x)) x = fill_[c];
}

void Impute::fill_forward(const RowBlock& block, std::span<const double> history,
                          std::vector<double>& out) const {
  const SeriesRows rows(block, history, columns_, type());
  const Index limit = params_.integer("limit");
  const Index d = block.n_features;
  thread_local std::vector<double> x;  // reused block after block, as in SeriesStep
  for (const Index j : columns_.columns) {
    rows.column(j, x);
    Index last = -1;  // the latest row with a finite value, -1 for none
    for (Index t = 0; t < rows.size(); ++t) {
      if (std::isfinite(x[t])) {
        last = t;
      } else if (t >= rows.history() && last >= rows.series_begin(t) && t - last <= limit) {
        out[(t - rows.history()) * d + j] = x[last];
      }
    }
  }
}

ModelState Impute::save_state() const {
  ModelState state;
  state.reals["fill"] = fill_;
  return state;
}

void Impute::load_state(const Schema& input, const ModelState& state) {
  auto columns = stored_columns(params_, input, type(), state);
  const auto& fill = state.real("fill", is_ffill() ? 0 : columns.columns.size());
  state.require_finite({"fill"}, "impute");
  columns_ = std::move(columns);
  fill_ = fill;
}

}  // namespace hpcad
