#include "hpcad/features/transform.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "hpcad/core/error.hpp"
#include "hpcad/core/registry.hpp"
#include "hpcad/features/drop_constant.hpp"
#include "hpcad/features/impute.hpp"
#include "hpcad/features/scale.hpp"

namespace hpcad {

const std::vector<TransformInfo>& transform_registry() {
  static const std::vector<TransformInfo> registry = {
      {"impute", "replace non-finite values by a training-time statistic of the column",
       Impute::param_specs(), [](const ParamSet& p) { return std::make_unique<Impute>(p); }},
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

ParamSpec columns_param() {
  return ParamSpec::string_list("columns", {}, "input columns by name; empty = every column");
}

std::vector<Index> selected_columns(const ParamSet& params, const Schema& input,
                                    const std::string& type) {
  const auto& wanted = params.strings("columns");
  std::vector<Index> columns;
  if (wanted.empty()) {
    for (Index j = 0; j < input.n_features; ++j) columns.push_back(j);
    return columns;
  }
  const auto& names = input.feature_names;
  for (const std::string& name : wanted) {
    const auto at = std::find(names.begin(), names.end(), name);
    if (at == names.end())
      throw ConfigError(fmt::format("step '{}': column '{}' is not among its input columns ({})",
                                    type, name,
                                    names.empty() ? "unnamed" : fmt::format("{}", fmt::join(names, ", "))));
    columns.push_back(static_cast<Index>(at - names.begin()));
  }
  std::sort(columns.begin(), columns.end());
  if (std::adjacent_find(columns.begin(), columns.end()) != columns.end())
    throw ConfigError(fmt::format("step '{}': a column is listed twice in columns", type));
  return columns;
}

std::vector<Index> stored_columns(const ParamSet& params, const Schema& input,
                                  const std::string& type, const ModelState& state) {
  try {
    return selected_columns(params, input, type);
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
