#include "hpcad/features/series.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "hpcad/core/error.hpp"
#include "hpcad/data/text_key.hpp"

namespace hpcad {

std::vector<ParamSpec> feature_step_specs() {
  return {ParamSpec::string_list("columns", {}, "columns to transform; empty = all but the keys"),
          ParamSpec::string("group_by", "", {}, "set from [features] group_by"),
          ParamSpec::string("order_by", "", {}, "set from [features] order_by")};
}

std::vector<ParamSpec> feature_step_specs(std::vector<ParamSpec> own) {
  std::vector<ParamSpec> specs = feature_step_specs();
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

std::string feature_name(const Schema& schema, Index j) {
  return j < static_cast<Index>(schema.feature_names.size()) ? schema.feature_names[j]
                                                               : std::to_string(j);
}

namespace {

Index find_column(const std::string& type, const std::string& key, const std::string& name,
                  const Schema& input) {
  std::vector<std::string> names;
  for (Index j = 0; j < input.n_features; ++j) names.push_back(feature_name(input, j));
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw ConfigError(fmt::format("{}: {} '{}' is not a column of the input; columns: {}", type,
                                  key, name, fmt::join(names, ", ")));
  return it - names.begin();
}

}  // namespace

StepColumns resolve_step_columns(const std::string& type, const ParamSet& params,
                                 const Schema& input) {
  StepColumns resolved;
  const std::string& group_by = params.string("group_by");
  const std::string& order_by = params.string("order_by");
  if (!group_by.empty()) resolved.group = find_column(type, "group_by", group_by, input);
  if (!order_by.empty()) resolved.order = find_column(type, "order_by", order_by, input);
  const auto is_key = [&](Index j) { return j == resolved.group || j == resolved.order; };
  const auto& names = params.strings("columns");
  for (const std::string& name : names) {
    const Index j = find_column(type, "columns", name, input);
    if (is_key(j))
      throw ConfigError(fmt::format(
          "{}: column '{}' is a group_by / order_by key, not a feature to transform", type, name));
    resolved.columns.push_back(j);
  }
  if (names.empty())
    for (Index j = 0; j < input.n_features; ++j)
      if (!is_key(j)) resolved.columns.push_back(j);
  return resolved;
}

SeriesRows::SeriesRows(const RowBlock& block, std::span<const double> history,
                       const StepColumns& keys, const std::string& step)
    : block_(block),
      history_values_(history),
      history_(block.n_features > 0 ? static_cast<Index>(history.size()) / block.n_features : 0) {
  if (keys.group < 0 && keys.order < 0) return;
  // One buffer per thread, reused block after block: a fresh one per block costs more in
  // page faults than the steps' arithmetic.
  thread_local std::vector<Index> series_begin;
  series_begin.assign(static_cast<std::size_t>(size()), 0);
  const auto key = [&](Index t, Index j) {
    const double value = at(t, j);
    if (!std::isfinite(value))
      throw DataError(fmt::format("row {}: {}: key column {} is {}", global(t), step,
                                  j == keys.group ? "group_by" : "order_by", value));
    if (j == keys.order && is_text_hash(value))
      throw DataError(fmt::format("row {}: {}: order_by holds text that is neither a number nor "
                                  "an ISO 8601 timestamp; rows cannot be ordered by it",
                                  global(t), step));
    return value;
  };
  // Text group keys are hashes: equal or not, never in order (text_key.hpp).
  const auto group_ordered = [&](Index t) {
    const double now = key(t, keys.group), before = key(t - 1, keys.group);
    return now >= before || is_text_hash(now) || is_text_hash(before);
  };
  for (Index t = 1; t < size(); ++t) {
    const bool same_group = keys.group < 0 || key(t, keys.group) == key(t - 1, keys.group);
    series_begin[t] = same_group ? series_begin[t - 1] : t;
    if (t < history_) continue;  // history rows were checked with their own block
    if (keys.group >= 0 && !group_ordered(t))
      throw DataError(fmt::format(
          "row {}: {}: group_by = {} follows {} on the row before; rows must be sorted by "
          "(group_by, order_by)",
          global(t), step, key(t, keys.group), key(t - 1, keys.group)));
    if (same_group && keys.order >= 0 && key(t, keys.order) < key(t - 1, keys.order))
      throw DataError(fmt::format(
          "row {}: {}: order_by = {} follows {} on the row before in the same group; rows must "
          "be sorted by (group_by, order_by)",
          global(t), step, key(t, keys.order), key(t - 1, keys.order)));
  }
  series_begin_ = series_begin;
}

double SeriesRows::at(Index t, Index j) const {
  const Index d = block_.n_features;
  return t < history_ ? history_values_[t * d + j] : block_.values[(t - history_) * d + j];
}

void SeriesRows::column(Index j, std::vector<double>& x) const {
  x.resize(static_cast<std::size_t>(size()));
  for (Index t = 0; t < size(); ++t) x[t] = at(t, j);
}

Schema SeriesStep::output_schema(const Schema& input) const {
  const StepColumns columns = resolve_step_columns(type(), params_, input);
  Schema out = input;
  if (out.feature_names.empty())
    for (Index j = 0; j < input.n_features; ++j) out.feature_names.push_back(std::to_string(j));
  const auto suffixes = derived_suffixes();
  for (const Index j : columns.columns)
    for (const auto& suffix : suffixes) out.feature_names.push_back(feature_name(input, j) + suffix);
  out.n_features = static_cast<Index>(out.feature_names.size());
  return out;
}

void FeatureStep::fit(FitContext&, RowSource& input) {
  columns_ = resolve_step_columns(type(), params_, input.info().schema);
}

void FeatureStep::load_state(const Schema& input, const ModelState&) {
  try {
    columns_ = resolve_step_columns(type(), params_, input);
  } catch (const ConfigError& e) {
    throw DataError(e.what());  // the model's steps do not fit its own input schema
  }
}

Index SeriesStep::history_rows() const {
  const bool keyed = !params_.string("group_by").empty() || !params_.string("order_by").empty();
  return std::max<Index>(lookback(), keyed ? 1 : 0);
}

void SeriesStep::apply(const RowBlock& block, std::span<const double> history,
                       std::vector<double>& out) const {
  const SeriesRows rows(block, history, columns_, type());
  const Index d = block.n_features;
  const auto per_column = static_cast<Index>(derived_suffixes().size());
  const Index width = d + static_cast<Index>(columns_.columns.size()) * per_column;
  out.resize(static_cast<std::size_t>(block.n_rows * width));
  for (Index i = 0; i < block.n_rows; ++i)
    std::copy_n(block.values.begin() + i * d, d, out.begin() + i * width);
  thread_local std::vector<double> x;  // reused, as SeriesRows' buffer
  for (std::size_t c = 0; c < columns_.columns.size(); ++c) {
    rows.column(columns_.columns[c], x);
    derive(rows, x, out.data() + d + static_cast<Index>(c) * per_column, width);
  }
}

}  // namespace hpcad
