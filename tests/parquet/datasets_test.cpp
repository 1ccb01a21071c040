// The shared DuckDB-written Parquet datasets equal (bitwise) the ADBench HDF5 files they were
// made from, as dumped by h5py.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "pq_test_util.hpp"

TEST(Datasets, EqualTheirHdf5Sources) {
  const std::string dump = pqtest::fixture_dir("adbench");
  ASSERT_TRUE(std::filesystem::exists(dump + "/cardio.shape"))
      << "missing fixture " << dump << " (run through ctest: parquet.fixture.adbench_dump)";
  long long values = 0;
  for (const std::string name : {"cardio", "mammography", "shuttle"}) {
    std::istringstream shape(pqtest::read_text(dump + "/" + name + ".shape"));
    std::size_t rows = 0, cols = 0;
    shape >> rows >> cols;
    const auto xb = pqtest::read_bytes(dump + "/" + name + ".X.f64");
    const auto yb = pqtest::read_bytes(dump + "/" + name + ".y.f64");
    ASSERT_EQ(xb.size(), rows * cols * 8);
    ASSERT_EQ(yb.size(), rows * 8);
    std::vector<double> x(rows * cols), y(rows);
    std::memcpy(x.data(), xb.data(), xb.size());
    std::memcpy(y.data(), yb.data(), yb.size());
    for (const std::string codec : {"snappy", "zstd"}) {
      const std::string file =
          pqtest::shared_dir() + "/datasets/parquet/" + name + "." + codec + ".parquet";
      SCOPED_TRACE(file);
      const auto slab = pqtest::read_all({file}, {}, "label");
      ASSERT_EQ(static_cast<std::size_t>(slab.n_features()), cols);
      ASSERT_EQ(static_cast<std::size_t>(slab.n_rows()), rows);
      for (std::size_t j = 0; j < cols; ++j) {
        std::string want = "f";
        want += std::to_string(j);
        EXPECT_EQ(slab.schema.feature_names[j], want);
      }
      std::string first;
      EXPECT_EQ(pqtest::mismatches(slab.values, x, first), 0u) << first;
      EXPECT_EQ(pqtest::mismatches(slab.labels, y, first), 0u) << first;
      values += static_cast<long long>(x.size() + y.size());
    }
  }
  std::cout << "[datasets vs HDF5] " << values << " values verified in 6 files\n";
}
