#pragma once
// Checks of a RowSource against a table read independently: every rank's blocks of a pass,
// concatenated over ranks, must equal the reference, with contiguous offsets and equal block
// counts, streamed and cached alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hpcad/io/hdf5.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad::testing_support {

inline const std::string kShared = HPCAD_SHARED_DIR;
inline const std::string kCardioH5 = kShared + "/datasets/adbench/cardio.h5";

struct Table {
  Index rows = 0, d = 0;
  std::vector<double> values, labels;
  bool operator==(const Table&) const = default;
};

/// The whole of /X and /y, read in this process with one H5Dread each (the reference).
inline Table read_reference(const std::string& path) {
  h5::File file = h5::File::open_local(path);
  h5::Handle x = h5::own(H5Dopen2(file.id(), "X", H5P_DEFAULT), H5Dclose, "H5Dopen2", path);
  const auto shape = h5::dataset_shape(x.id(), path);
  Table t{shape[0], shape[1]};
  t.values.resize(static_cast<std::size_t>(t.rows * t.d));
  h5::check(H5Dread(x.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.values.data()),
            "H5Dread", path);
  t.labels = h5::read_vector<double>(file.id(), "y", path);
  return t;
}

/// Every rank's blocks of one pass concatenated in rank order, checking on the way that the
/// blocks of each rank are contiguous from local_begin and that every rank had as many.
inline Table gather_pass(RowSource& source, Comm& comm) {
  Table mine{0, source.n_features()};
  RowBlock block;
  Index expected_begin = source.local_begin(), blocks = 0;
  while (source.next(block)) {
    EXPECT_EQ(block.global_begin, expected_begin) << "block " << blocks;
    EXPECT_EQ(block.n_features, source.n_features());
    EXPECT_EQ(block.labels.size(), source.has_labels() ? block.values.size() / mine.d : 0);
    expected_begin += block.n_rows;
    ++blocks;
    mine.values.insert(mine.values.end(), block.values.begin(), block.values.end());
    mine.labels.insert(mine.labels.end(), block.labels.begin(), block.labels.end());
  }
  EXPECT_EQ(expected_begin, source.local_begin() + source.local_rows());
  const std::vector<Index> counts = comm.allgather(blocks);
  EXPECT_EQ(std::count(counts.begin(), counts.end(), counts[0]), comm.size());
  Table all{source.global_rows(), mine.d};
  all.values = comm.allgatherv(std::span<const double>(mine.values));
  all.labels = comm.allgatherv(std::span<const double>(mine.labels));
  return all;
}

/// Checks the source against `expected` over two passes, streamed and cached.
inline void expect_source_reads(Comm& comm, const InputSpec& spec, const Table& expected) {
  BlockSource streamed(comm, open_input_reader(comm, spec), 0);
  const Table first = gather_pass(streamed, comm);
  EXPECT_EQ(first, expected);
  streamed.rewind();
  EXPECT_EQ(gather_pass(streamed, comm), first);

  BlockSource cached(comm, open_input_reader(comm, spec), std::int64_t{1} << 30);
  EXPECT_EQ(gather_pass(cached, comm), first);
  cached.rewind();
  EXPECT_TRUE(cached.cached());
  EXPECT_EQ(cached.mode(), "memory");
  EXPECT_EQ(gather_pass(cached, comm), first);
}

}  // namespace hpcad::testing_support
