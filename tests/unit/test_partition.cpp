#include <gtest/gtest.h>

#include "hpcad/data/partition.hpp"

namespace hpcad {
namespace {

TEST(PartitionRows, BalancedContiguousCoversAll) {
  for (Index total : {0, 1, 2, 3, 7, 10, 1000, 1001}) {
    for (int parts = 1; parts <= 9; ++parts) {
      Index expected_begin = 0;
      for (int p = 0; p < parts; ++p) {
        const IndexRange r = partition_rows(total, parts, p);
        EXPECT_EQ(r.begin, expected_begin);
        EXPECT_TRUE(r.size() == total / parts || r.size() == total / parts + 1);
        expected_begin = r.end;
      }
      EXPECT_EQ(expected_begin, total);
    }
  }
}

TEST(PartitionRows, MoreRanksThanRows) {
  EXPECT_EQ(partition_rows(2, 4, 0), (IndexRange{0, 1}));
  EXPECT_EQ(partition_rows(2, 4, 1), (IndexRange{1, 2}));
  EXPECT_EQ(partition_rows(2, 4, 2), (IndexRange{2, 2}));
  EXPECT_EQ(partition_rows(2, 4, 3), (IndexRange{2, 2}));
}

TEST(PartitionGroups, ContiguousAndBalancedByRows) {
  const std::vector<Index> groups = {100, 100, 100, 100, 100, 100};
  std::vector<IndexRange> ranges;
  for (int p = 0; p < 3; ++p) ranges.push_back(partition_groups(groups, 3, p));
  EXPECT_EQ(ranges[0], (IndexRange{0, 2}));
  EXPECT_EQ(ranges[1], (IndexRange{2, 4}));
  EXPECT_EQ(ranges[2], (IndexRange{4, 6}));
}

TEST(PartitionGroups, CoversEveryGroupOnceForManyShapes) {
  const std::vector<std::vector<Index>> shapes = {
      {}, {5}, {8192, 8192, 1000}, {1, 1000, 1, 1000, 1}, {0, 10, 0}};
  for (const auto& groups : shapes)
    for (int parts = 1; parts <= 6; ++parts) {
      Index next = 0;
      for (int p = 0; p < parts; ++p) {
        const IndexRange r = partition_groups(groups, parts, p);
        EXPECT_LE(r.begin, r.end);
        if (r.size() > 0) {
          EXPECT_EQ(r.begin, next);
          next = r.end;
        }
      }
      EXPECT_EQ(next, static_cast<Index>(groups.size()));
    }
}

}  // namespace
}  // namespace hpcad
