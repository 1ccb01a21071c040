// Round-trip property test: random tables written by DuckDB (codecs, row-group sizes, nulls,
// dictionary on/off, Parquet v1/v2 pages, int/float/bool/decimal/unsigned columns) read back to
// exactly the values the generator chose (see duckdb_roundtrip.js).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "hpcad/core/error.hpp"
#include "pq_test_util.hpp"

namespace fs = std::filesystem;

namespace {

void check_table(const std::vector<std::string>& paths, const pqtest::Table& t, long long& values) {
  hpcad::ParquetDataset ds(paths);
  const auto groups = ds.row_group_rows();
  const hpcad::Index ng = static_cast<hpcad::Index>(groups.size());
  ASSERT_EQ(ds.num_rows(), static_cast<hpcad::Index>(t.rows()));
  const auto slab = ds.read_slab({0, ng}, t.names, "");
  ASSERT_EQ(slab.n_rows(), static_cast<hpcad::Index>(t.rows()));
  for (std::size_t j = 0; j < t.names.size(); ++j) {
    std::string first;
    EXPECT_EQ(pqtest::mismatches(pqtest::column(slab, j), t.cols[j], first), 0u)
        << t.names[j] << " (" << t.types[j] << "): " << first;
    values += static_cast<long long>(t.rows());
  }
  // Group by group, with the first column as the label.
  hpcad::Index begin = 0;
  for (hpcad::Index g = 0; g < ng; ++g) {
    const auto part = ds.read_slab({g, g + 1}, t.names, t.names[0]);
    ASSERT_EQ(part.global_begin, begin);
    ASSERT_EQ(static_cast<hpcad::Index>(part.labels.size()), groups[g]);
    ASSERT_EQ(part.n_rows(), groups[g]);
    std::vector<double> want(t.cols[0].begin() + begin, t.cols[0].begin() + begin + groups[g]);
    std::string first;
    EXPECT_EQ(pqtest::mismatches(part.labels, want, first), 0u) << "group " << g << ": " << first;
    begin += groups[g];
  }
}

}  // namespace

TEST(RoundTrip, DuckDBWrittenTablesReadExactly) {
  const std::string dir = pqtest::fixture_dir("roundtrip");
  if (auto why = pqtest::fixture_skip_reason(dir); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(fs::exists(dir + "/t0.parquet")) << "missing fixture " << dir << " (run ctest)";
  int tables = 0;
  long long values = 0;
  for (int i = 0; fs::exists(dir + "/t" + std::to_string(i) + ".parquet"); ++i) {
    const std::string base = dir + "/t" + std::to_string(i);
    SCOPED_TRACE(base + ".parquet: " + pqtest::read_text(base + ".options"));
    const auto t = pqtest::read_table(base + ".expect", true);
    check_table({base + ".parquet"}, t, values);
    ++tables;
  }
  EXPECT_GE(tables, 40);
  // One table split over four files, read through a directory and through a glob.
  const auto multi = pqtest::read_table(dir + "/multi.expect", true);
  const auto by_dir = hpcad::expand_input_paths(dir + "/multi", ".parquet");
  EXPECT_EQ(by_dir.size(), 4u);
  EXPECT_EQ(hpcad::expand_input_paths(dir + "/multi/part-*.parquet", ".parquet"), by_dir);
  check_table(by_dir, multi, values);
  std::cout << "[round trip] " << tables << " DuckDB tables + 1 four-file table, " << values
            << " values verified\n";
}

TEST(RoundTrip, UnsupportedCodecIsNamed) {
  const std::string dir = pqtest::fixture_dir("roundtrip");
  if (auto why = pqtest::fixture_skip_reason(dir); !why.empty()) GTEST_SKIP() << why;
  const std::string path = dir + "/unsupported_brotli.parquet";
  try {
    pqtest::read_all({path}, {"x"});
    ADD_FAILURE() << "no error";
  } catch (const hpcad::DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("BROTLI"), std::string::npos) << msg;
  }
}
