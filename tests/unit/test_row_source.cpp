// RowSource over in-memory rows: block coverage, caching and gather_rows, in one process.
// Several ranks are simulated by building each rank's reader by hand (the readers are local);
// the collective behaviour under real MPI is in tests/mpi/test_sources.cpp.
#include <gtest/gtest.h>

#include "hpcad/data/partition.hpp"
#include "hpcad/data/row_source.hpp"

namespace hpcad {
namespace {

/// Rank `part` of `parts` of a table whose value at (i, j) is 100 * i + j; label i % 3 == 0.
RowSlab table_part(Index rows, Index d, int parts, int part) {
  const IndexRange mine = partition_rows(rows, parts, part);
  RowSlab slab;
  slab.schema.n_features = d;
  slab.global_rows = rows;
  slab.global_begin = mine.begin;
  slab.has_labels = true;
  for (Index i = mine.begin; i < mine.end; ++i) {
    for (Index j = 0; j < d; ++j) slab.values.push_back(100.0 * i + j);
    slab.labels.push_back(i % 3 == 0 ? 1.0 : 0.0);
  }
  return slab;
}

struct Pass {
  std::vector<Index> begins, sizes;
  std::vector<double> values, labels;
  bool operator==(const Pass&) const = default;
};

Pass read_pass(RowSource& source) {
  Pass pass;
  RowBlock block;
  while (source.next(block)) {
    pass.begins.push_back(block.global_begin);
    pass.sizes.push_back(block.n_rows);
    pass.values.insert(pass.values.end(), block.values.begin(), block.values.end());
    pass.labels.insert(pass.labels.end(), block.labels.begin(), block.labels.end());
  }
  return pass;
}

TEST(MemoryReader, BlocksCoverEveryRankRowsExactlyIncludingEmptyRanks) {
  const Index rows = 10, d = 3, block_rows = 4;
  const int parts = 12;  // more ranks than rows: two ranks hold nothing
  Index expected_begin = 0;
  for (int part = 0; part < parts; ++part) {
    const RowSlab slab = table_part(rows, d, parts, part);
    auto reader = make_memory_reader(slab, block_rows);
    EXPECT_EQ(reader->info().local_begin, slab.global_begin);
    EXPECT_EQ(reader->info().local_rows, slab.n_rows());
    EXPECT_EQ(reader->block_count(), (slab.n_rows() + block_rows - 1) / block_rows);
    std::vector<double> values;
    for (Index b = 0; b < reader->block_count(); ++b) {
      RowBlock block;
      reader->read(b, block);
      EXPECT_EQ(block.global_begin, expected_begin);
      EXPECT_EQ(block.n_features, d);
      EXPECT_EQ(block.labels.size(), static_cast<std::size_t>(block.n_rows));
      expected_begin += block.n_rows;
      values.insert(values.end(), block.values.begin(), block.values.end());
    }
    EXPECT_EQ(values, slab.values) << "part " << part;
  }
  EXPECT_EQ(expected_begin, rows);
}

TEST(BlockSource, EmptyRankYieldsEmptyBlocksAfterItsRows) {
  SerialComm comm;
  RowSlab empty = table_part(5, 2, 8, 7);  // rank 7 of 8 holds no row of 5
  ASSERT_EQ(empty.n_rows(), 0);
  auto source = make_memory_source(comm, empty, 3);
  RowBlock block;
  EXPECT_FALSE(source->next(block));
  EXPECT_EQ(source->local_begin(), 5);
  EXPECT_EQ(source->global_rows(), 5);
}

TEST(BlockSource, PassesEndTogetherAndRewindRepeatsThem) {
  SerialComm comm;
  const RowSlab slab = table_part(23, 4, 1, 0);
  auto source = make_memory_source(comm, slab, 5);
  const Pass first = read_pass(*source);
  EXPECT_EQ(first.sizes, (std::vector<Index>{5, 5, 5, 5, 3}));
  EXPECT_EQ(first.begins, (std::vector<Index>{0, 5, 10, 15, 20}));
  EXPECT_EQ(first.values, slab.values);
  EXPECT_EQ(first.labels, slab.labels);
  RowBlock block;
  EXPECT_FALSE(source->next(block));  // stays at the end until rewound
  source->rewind();
  EXPECT_EQ(read_pass(*source), first);
}

TEST(BlockSource, CachedAndStreamedPassesAreIdentical) {
  SerialComm comm;
  const RowSlab slab = table_part(50, 3, 1, 0);
  const std::int64_t bytes = 50 * (3 + 1) * sizeof(double);
  BlockSource streamed(comm, make_memory_reader(slab, 7), 0);
  BlockSource cached(comm, make_memory_reader(slab, 7), bytes);
  BlockSource too_small(comm, make_memory_reader(slab, 7), bytes - 1);
  const Pass reference = read_pass(streamed);
  EXPECT_FALSE(cached.cached());  // only after a complete first pass
  for (int pass = 0; pass < 3; ++pass) {
    EXPECT_EQ(read_pass(cached), reference) << "pass " << pass;
    EXPECT_EQ(read_pass(too_small), reference) << "pass " << pass;
    cached.rewind();
    too_small.rewind();
  }
  EXPECT_TRUE(cached.cached());
  EXPECT_EQ(cached.cache_bytes(), bytes);
  EXPECT_FALSE(too_small.cached());
  EXPECT_EQ(too_small.cache_bytes(), 0);
}

TEST(BlockSource, AbandonedFirstPassDoesNotLeaveAPartialCache) {
  SerialComm comm;
  const RowSlab slab = table_part(30, 2, 1, 0);
  BlockSource source(comm, make_memory_reader(slab, 4), 1 << 20);
  RowBlock block;
  ASSERT_TRUE(source.next(block));
  ASSERT_TRUE(source.next(block));
  source.rewind();
  EXPECT_FALSE(source.cached());
  const Pass first = read_pass(source);
  EXPECT_EQ(first.values, slab.values);
  EXPECT_TRUE(source.cached());
  source.rewind();
  EXPECT_EQ(read_pass(source), first);
}

class CountingSink final : public ProgressSink {
 public:
  void update(Index rows_done, Index rows_total) override {
    done.push_back(rows_done);
    total = rows_total;
  }
  std::vector<Index> done;
  Index total = 0;
};

TEST(BlockSource, ReportsProgressPerBlock) {
  SerialComm comm;
  auto source = make_memory_source(comm, table_part(11, 2, 1, 0), 4);
  CountingSink sink;
  source->set_progress(&sink);
  read_pass(*source);
  EXPECT_EQ(sink.done, (std::vector<Index>{4, 8, 11}));
  EXPECT_EQ(sink.total, 11);
}

TEST(GatherRows, EqualsDirectIndexingInWantedOrder) {
  SerialComm comm;
  const RowSlab slab = table_part(40, 3, 1, 0);
  auto source = make_memory_source(comm, slab, 6);
  const std::vector<Index> wanted{0, 5, 6, 11, 12, 13, 39};
  std::vector<double> expected;
  for (Index i : wanted) {
    const auto row = slab.row(i);
    expected.insert(expected.end(), row.begin(), row.end());
  }
  EXPECT_EQ(gather_rows(*source, wanted), expected);
  EXPECT_TRUE(gather_rows(*source, {}).empty());
  EXPECT_EQ(read_all(*source).values, slab.values);  // gather_rows left a rewindable source
}

TEST(ReadAll, ReturnsTheSlabItWasGiven) {
  SerialComm comm;
  const RowSlab slab = table_part(17, 5, 1, 0);
  auto source = make_memory_source(comm, slab, 4);
  const RowSlab copy = read_all(*source);
  EXPECT_EQ(copy.values, slab.values);
  EXPECT_EQ(copy.labels, slab.labels);
  EXPECT_EQ(copy.global_rows, 17);
  EXPECT_TRUE(copy.has_labels);
}

}  // namespace
}  // namespace hpcad
