#include "hpcad/data/partition.hpp"

#include <algorithm>

#include "hpcad/core/error.hpp"

namespace hpcad {

IndexRange partition_rows(Index total, int parts, int part) {
  check_internal(total >= 0 && parts > 0 && part >= 0 && part < parts, "partition_rows arguments");
  const Index base = total / parts;
  const Index extra = total % parts;
  const Index begin = part * base + std::min<Index>(part, extra);
  return {begin, begin + base + (part < extra ? 1 : 0)};
}

IndexRange partition_groups(std::span<const Index> group_rows, int parts, int part) {
  check_internal(parts > 0 && part >= 0 && part < parts, "partition_groups arguments");
  Index total = 0;
  for (Index rows : group_rows) total += rows;
  // Owner of group g: the part whose balanced row range contains the group's middle row.
  // Owners are non-decreasing in g, so each part gets a contiguous run of groups.
  auto owner = [&](Index first_row, Index rows) -> int {
    if (total == 0) return 0;
    const Index middle = first_row + rows / 2;
    // Inverse of partition_rows: find the part containing `middle`.
    const Index base = total / parts;
    const Index extra = total % parts;
    const Index big = extra * (base + 1);
    const Index part_of_middle = middle < big ? middle / (base + 1) : extra + (middle - big) / base;
    return static_cast<int>(std::min<Index>(part_of_middle, parts - 1));  // an empty last group
  };
  IndexRange range{0, 0};
  bool found = false;
  Index first_row = 0;
  Index g = 0;
  for (; g < static_cast<Index>(group_rows.size()); ++g) {
    const int o = owner(first_row, group_rows[g]);
    first_row += group_rows[g];
    if (o == part && !found) {
      range.begin = g;
      found = true;
    }
    if (o > part) break;
  }
  if (!found) range.begin = g;
  range.end = g;
  return range;
}

}  // namespace hpcad
