#pragma once
/// Pure functions that split work across ranks.
#include <span>
#include <vector>

#include "hpcad/core/types.hpp"

namespace hpcad {

/// A half-open range [begin, end) of global indices.
struct IndexRange {
  Index begin = 0;
  Index end = 0;
  Index size() const { return end - begin; }
  bool operator==(const IndexRange&) const = default;
};

/// Contiguous balanced split of `total` rows over `parts`: sizes differ by at most one,
/// the larger parts come first. Part `part` in [0, parts).
IndexRange partition_rows(Index total, int parts, int part);

/// Contiguous split of whole groups (e.g. Parquet row groups with the given row counts)
/// over `parts`, balanced by row count: group g goes to the part whose share of the rows
/// contains the group's middle row. Returns the range of group indices for `part`.
IndexRange partition_groups(std::span<const Index> group_rows, int parts, int part);

}  // namespace hpcad
