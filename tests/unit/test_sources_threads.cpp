// The CSV and Parquet block readers with N ranks as threads (ThreadComm), N = 1..16: the
// blocks of every pass, concatenated over ranks, equal the ADBench HDF5 original read with
// one H5Dread, also with more ranks than rows. (HDF5 itself is not thread-safe in this
// build, so its reader is covered by the MPI tests at 1-4 ranks.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../support/source_checks.hpp"
#include "hpcad/comm/thread_comm.hpp"

namespace hpcad {
namespace {

using namespace testing_support;

class ThreadSources : public testing::TestWithParam<std::tuple<std::string, Index>> {};

TEST_P(ThreadSources, EveryRankCountReadsTheTable) {
  const auto& [file, block_rows] = GetParam();
  h5::silence_errors();
  const Table expected = read_reference(kCardioH5);
  const InputSpec spec{
      .path = kShared + "/datasets/" + file, .label = "label", .block_rows = block_rows};
  for (int ranks : {1, 2, 3, 4, 7, 16})
    run_on_threads(ranks, [&](Comm& comm) { expect_source_reads(comm, spec, expected); });
}

INSTANTIATE_TEST_SUITE_P(Files, ThreadSources,
                         testing::Combine(testing::Values("csv/cardio.csv",
                                                          "parquet/cardio.zstd.parquet",
                                                          "parquet/cardio.snappy.parquet"),
                                          testing::Values(Index{7}, Index{65536})));

TEST(ThreadSourcesTiny, MoreRanksThanRows) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("hpcad-tiny-" + std::to_string(::getpid()) + ".csv"))
                               .string();
  std::ofstream(path) << "a,b,label\n1.5,2,0\n-3,4e-3,1\n";
  const Table expected{2, 2, {1.5, 2, -3, 4e-3}, {0, 1}};
  const InputSpec spec{.path = path, .label = "label", .block_rows = 1};
  run_on_threads(16, [&](Comm& comm) { expect_source_reads(comm, spec, expected); });
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hpcad
