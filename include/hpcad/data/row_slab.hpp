#pragma once
/// A rank's contiguous block of rows, held row-major as doubles.
#include <span>
#include <string>
#include <vector>

#include "hpcad/core/types.hpp"

namespace hpcad {

/// Column names of a table; may be empty (unnamed features) in `names` and sized by count.
struct Schema {
  Index n_features = 0;
  std::vector<std::string> feature_names;  ///< empty, or exactly n_features names
};

/// This rank's rows [global_begin, global_begin + n_rows()) of a table with
/// `global_rows` rows in total. Values are row-major: row r, feature j at r*n_features + j.
struct RowSlab {
  Schema schema;
  Index global_begin = 0;
  Index global_rows = 0;
  std::vector<double> values;
  bool has_labels = false;     ///< the input has a label column (the same on every rank)
  std::vector<double> labels;  ///< one per row when has_labels (0 = normal, 1 = anomaly)

  Index n_features() const { return schema.n_features; }
  Index n_rows() const {
    return schema.n_features == 0 ? 0 : static_cast<Index>(values.size()) / schema.n_features;
  }
  std::span<const double> row(Index r) const {
    return {values.data() + r * schema.n_features, static_cast<std::size_t>(schema.n_features)};
  }
};

}  // namespace hpcad
