// The shared ADBench CSV files must read bit-identical to /X and /y of the HDF5 files, as
// dumped by h5py (dump_h5_reference.py, run by ctest before these tests), for any split.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "csv_test_util.hpp"
#include "hpcad/comm/comm.hpp"

namespace hpcad {
namespace {

using csv_test::bitwise_equal;

struct Reference {
  Index rows = 0;
  Index cols = 0;
  std::vector<double> x;
  std::vector<double> y;
};

// Directories baked in by CMake; the environment may override them.
std::string env_or_fail(const char* name) {
  const char* value = std::getenv(name);
  if (value != nullptr) return value;
  if (std::string(name) == "HPCAD_SHARED_DIR") return HPCAD_SHARED_DIR_DEFAULT;
  return HPCAD_CSV_REF_DIR_DEFAULT;
}

std::vector<double> read_f64(const std::string& path, std::size_t count) {
  std::vector<double> out(count);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(out.data()),
          static_cast<std::streamsize>(count * sizeof(double)));
  if (!in) ADD_FAILURE() << "cannot read " << count << " doubles from " << path;
  return out;
}

Reference load_reference(const std::string& name) {
  const std::string dir = env_or_fail("HPCAD_CSV_REF_DIR");
  Reference ref;
  std::ifstream shape(dir + "/" + name + ".shape");
  shape >> ref.rows >> ref.cols;
  if (!shape) ADD_FAILURE() << "missing reference " << dir << "/" << name << ".shape";
  ref.x = read_f64(dir + "/" + name + ".X.f64", static_cast<std::size_t>(ref.rows * ref.cols));
  ref.y = read_f64(dir + "/" + name + ".y.f64", static_cast<std::size_t>(ref.rows));
  return ref;
}

class CsvDataset : public ::testing::TestWithParam<std::string> {};

TEST_P(CsvDataset, SplitsMatchHdf5Reference) {
  const Reference ref = load_reference(GetParam());
  ASSERT_GT(ref.rows, 0);
  const std::string path = env_or_fail("HPCAD_SHARED_DIR") + "/datasets/csv/" + GetParam() + ".csv";
  const CsvFile file(path);
  ASSERT_EQ(static_cast<Index>(file.header().size()), ref.cols + 1);
  const CsvColumns columns = file.select_columns({}, "label");
  for (int parts : {1, 2, 3, 4, 7, 16, static_cast<int>(ref.rows) + 3}) {
    const auto got = csv_test::read_balanced(file, columns, parts);
    EXPECT_EQ(got.rows, ref.rows) << parts << " parts";
    EXPECT_TRUE(bitwise_equal(got.values, ref.x)) << parts << " parts";
    EXPECT_TRUE(bitwise_equal(got.labels, ref.y)) << parts << " parts";
    if (parts > ref.rows) {
      Index empty = 0;
      for (Index r : got.rows_per_rank) empty += r == 0;
      EXPECT_GT(empty, 0) << "some ranks should have no rows";
    }
  }
}

TEST_P(CsvDataset, ReadCsvSlabSerialMatchesHdf5Reference) {
  const Reference ref = load_reference(GetParam());
  const std::string path = env_or_fail("HPCAD_SHARED_DIR") + "/datasets/csv/" + GetParam() + ".csv";
  SerialComm comm;
  Index skipped = -1;
  const RowSlab slab = read_csv_slab(comm, path, {}, {}, "label", &skipped);
  EXPECT_EQ(skipped, 0);
  EXPECT_EQ(slab.global_begin, 0);
  EXPECT_EQ(slab.global_rows, ref.rows);
  EXPECT_EQ(slab.n_features(), ref.cols);
  EXPECT_EQ(slab.n_rows(), ref.rows);
  ASSERT_EQ(slab.schema.feature_names.size(), static_cast<std::size_t>(ref.cols));
  EXPECT_EQ(slab.schema.feature_names.front(), "f0");
  EXPECT_TRUE(slab.has_labels);
  EXPECT_TRUE(bitwise_equal(slab.values, ref.x));
  EXPECT_TRUE(bitwise_equal(slab.labels, ref.y));
}

INSTANTIATE_TEST_SUITE_P(Adbench, CsvDataset, ::testing::Values("cardio", "shuttle"));

}  // namespace
}  // namespace hpcad
