#include "hpcad/features/transform.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "hpcad/core/error.hpp"
#include "hpcad/core/registry.hpp"
#include "hpcad/features/column_steps.hpp"
#include "hpcad/features/drop_constant.hpp"
#include "hpcad/features/ewm.hpp"
#include "hpcad/features/impute.hpp"
#include "hpcad/features/lags.hpp"
#include "hpcad/features/rolling.hpp"
#include "hpcad/features/scale.hpp"
#include "hpcad/features/series.hpp"

namespace hpcad {

const std::vector<TransformInfo>& transform_registry() {
  static const std::vector<TransformInfo> registry = {
      {"impute", "replace non-finite values by a training-time statistic of the column",
       Impute::param_specs(), [](const ParamSet& p) { return std::make_unique<Impute>(p); }},
      {"log1p", "rewrite columns as log(1 + x)", Log1p::param_specs(),
       [](const ParamSet& p) { return std::make_unique<Log1p>(p); }},
      {"diff", "add <col>_diff<lag> = x[t] - x[t - lag] within the series", Diff::param_specs(),
       [](const ParamSet& p) { return std::make_unique<Diff>(p); }},
      {"lag", "add <col>_lag<k> = x[t - k] within the series", Lag::param_specs(),
       [](const ParamSet& p) { return std::make_unique<Lag>(p); }},
      {"rolling", "add <col>_rolling<w>_<stat>: statistics of the last w rows of the series",
       Rolling::param_specs(), [](const ParamSet& p) { return std::make_unique<Rolling>(p); }},
      {"ewm", "add <col>_ewm<alpha>: exponentially weighted mean (adjust=False)",
       Ewm::param_specs(), [](const ParamSet& p) { return std::make_unique<Ewm>(p); }},
      {"drop", "remove columns (the [features] group_by / order_by keys)", Drop::param_specs(),
       [](const ParamSet& p) { return std::make_unique<Drop>(p); }},
      {"scale", "rescale columns by training-time statistics (standard, robust or minmax)",
       Scale::param_specs(), [](const ParamSet& p) { return std::make_unique<Scale>(p); }},
      {"drop_constant", "drop columns whose training values are all equal",
       DropConstant::param_specs(),
       [](const ParamSet& p) { return std::make_unique<DropConstant>(p); }},
  };
  return registry;
}

const TransformInfo& find_transform(const std::string& type) {
  return find_registered(transform_registry(), type, "transform");
}

std::unique_ptr<Transform> make_transform(const std::string& type, const ParamSet& params) {
  return find_transform(type).make(params);
}

StepColumns stored_columns(const ParamSet& params, const Schema& input, const std::string& type,
                           const ModelState& state) {
  try {
    return resolve_step_columns(type, params, input);
  } catch (const ConfigError& e) {
    throw DataError(fmt::format("{}: {}", state.where, e.what()));
  }
}

std::string column_label(const Schema& schema, Index j) {
  return j < static_cast<Index>(schema.feature_names.size())
             ? fmt::format("'{}'", schema.feature_names[j])
             : std::to_string(j);
}

}  // namespace hpcad
