#include "hpcad/features/scale.hpp"

#include <fmt/format.h>

#include <cmath>

#include "hpcad/core/error.hpp"
#include "hpcad/detectors/moments.hpp"
#include "hpcad/features/series.hpp"

namespace hpcad {
namespace {

/// A zero spread (a constant column) leaves the centred values at 0, as scikit-learn does.
double spread_or_one(double spread) { return spread > 0 ? spread : 1.0; }

}  // namespace

std::vector<ParamSpec> Scale::param_specs() {
  return feature_step_specs(
      {ParamSpec::string("method", "standard", {"standard", "robust", "minmax"},
                         "standard (mean, std), robust (median, IQR) or minmax (min, range)")});
}

void Scale::fit(FitContext& context, RowSource& input) {
  const Schema& schema = input.info().schema;
  columns_ = resolve_step_columns(type(), params_, schema).columns;
  const std::string& method = params_.string("method");
  center_.clear();
  scale_.clear();
  if (method == "robust") {
    const double quartiles[] = {0.25, 0.5, 0.75};
    for (const auto& q : finite_column_quantiles(input, columns_, quartiles)) {
      center_.push_back(q[1]);
      scale_.push_back(spread_or_one(q[2] - q[0]));
    }
  } else {
    const FiniteColumnStats stats = finite_column_stats(input, columns_, method == "standard");
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const bool standard = method == "standard";
      center_.push_back(standard ? stats.mean[c] : stats.minimum[c]);
      scale_.push_back(spread_or_one(standard ? std::sqrt(stats.variance[c])
                                              : stats.maximum[c] - stats.minimum[c]));
    }
  }
  // Without finite values the centre is NaN (mean, median) or +inf (minimum).
  for (std::size_t c = 0; c < columns_.size(); ++c)
    if (!std::isfinite(center_[c]))
      throw DataError(fmt::format("scale: column {} has no finite value to compute a {} scale from",
                                  column_label(schema, columns_[c]), method));
  context.log.debug("scale: {} statistics of {} columns from {} rows", method, columns_.size(),
                    input.global_rows());
}

void Scale::apply(const RowBlock& block, std::span<const double>, std::vector<double>& out) const {
  out.assign(block.values.begin(), block.values.end());
  const Index d = block.n_features;
  for (Index i = 0; i < block.n_rows; ++i)
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      double& x = out[i * d + columns_[c]];
      x = (x - center_[c]) / scale_[c];
    }
}

ModelState Scale::save_state() const {
  ModelState state;
  state.reals["center"] = center_;
  state.reals["scale"] = scale_;
  return state;
}

void Scale::load_state(const Schema& input, const ModelState& state) {
  auto columns = stored_columns(params_, input, type(), state).columns;
  const auto& center = state.real("center", columns.size());
  const auto& scale = state.real("scale", columns.size());
  state.require_finite({"center", "scale"}, "scale");
  for (const double s : scale)
    if (!(s > 0)) throw DataError(fmt::format("{}: scale state has a scale {} <= 0", state.where, s));
  columns_ = std::move(columns);
  center_ = center;
  scale_ = scale;
}

}  // namespace hpcad
