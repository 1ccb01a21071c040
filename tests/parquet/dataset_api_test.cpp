// ParquetDataset and expand_input_paths: multi-file concatenation, row-group ranges,
// partitioning over ranks, labels, path expansion.
#include <gtest/gtest.h>

#include <filesystem>

#include "hpcad/core/error.hpp"
#include "hpcad/data/partition.hpp"
#include "pq_test_util.hpp"

namespace fs = std::filesystem;

namespace {

std::string data(const std::string& name) { return pqtest::testing_data() + "/" + name; }

std::string make_dir(const std::string& name) {
  const std::string d = pqtest::temp_dir() + "/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(ExpandInputPaths, FileDirectoryGlobAndErrors) {
  const std::string d = make_dir("expand");
  fs::copy_file(data("alltypes_plain.parquet"), d + "/b.parquet");
  fs::copy_file(data("alltypes_plain.snappy.parquet"), d + "/a.parquet");
  fs::copy_file(data("alltypes_plain.snappy.parquet"), d + "/c.txt");
  fs::create_directories(d + "/sub.parquet");
  EXPECT_EQ(hpcad::expand_input_paths(d + "/b.parquet", ".parquet"),
            (std::vector<std::string>{d + "/b.parquet"}));
  EXPECT_EQ(hpcad::expand_input_paths(d, ".parquet"),
            (std::vector<std::string>{d + "/a.parquet", d + "/b.parquet"}));
  EXPECT_EQ(hpcad::expand_input_paths(d + "/[bc].*", ".parquet"),
            (std::vector<std::string>{d + "/b.parquet", d + "/c.txt"}));
  EXPECT_EQ(hpcad::expand_input_paths(d + "/?.parquet", ".parquet"),
            (std::vector<std::string>{d + "/a.parquet", d + "/b.parquet"}));
  try {
    hpcad::expand_input_paths(d + "/*.csv", ".parquet");
    ADD_FAILURE() << "no error";
  } catch (const hpcad::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(d + "/*.csv"), std::string::npos);
  }
  EXPECT_THROW(hpcad::expand_input_paths(d + "/missing.parquet", ".parquet"), hpcad::IoError);
  EXPECT_THROW(hpcad::expand_input_paths(make_dir("empty"), ".parquet"), hpcad::IoError);
  EXPECT_THROW(hpcad::ParquetDataset({d + "/missing.parquet"}), hpcad::IoError);
  EXPECT_THROW(hpcad::ParquetDataset({d + "/c.txt", d + "/missing.parquet"}), hpcad::IoError);
}

TEST(ParquetDataset, ConcatenatesFilesInOrder) {
  const std::string d = make_dir("concat");
  fs::copy_file(data("alltypes_plain.snappy.parquet"), d + "/part-0.parquet");  // ids 6, 7
  fs::copy_file(data("alltypes_plain.parquet"), d + "/part-1.parquet");  // ids 4..7, 2, 3, 0, 1
  hpcad::ParquetDataset ds(hpcad::expand_input_paths(d, ".parquet"));
  EXPECT_EQ(ds.num_rows(), 10);
  EXPECT_EQ(ds.row_group_rows(), (std::vector<hpcad::Index>{2, 8}));
  EXPECT_EQ(ds.column_names().size(), 11u);
  EXPECT_EQ(ds.column_names()[0], "id");

  const auto all = ds.read_slab({0, 2}, {"double_col", "id"}, "bool_col");
  EXPECT_EQ(all.n_rows(), 10);
  EXPECT_EQ(all.global_begin, 0);
  EXPECT_EQ(all.global_rows, 10);
  EXPECT_EQ(all.schema.feature_names, (std::vector<std::string>{"double_col", "id"}));
  EXPECT_EQ(pqtest::column(all, 1), (std::vector<double>{6, 7, 4, 5, 6, 7, 2, 3, 0, 1}));
  ASSERT_TRUE(all.has_labels);
  EXPECT_EQ(all.labels, (std::vector<double>{1, 0, 1, 0, 1, 0, 1, 0, 1, 0}));

  const auto second = ds.read_slab({1, 2}, {"id"}, "");
  EXPECT_EQ(second.global_begin, 2);
  EXPECT_FALSE(second.has_labels);
  EXPECT_EQ(second.values, (std::vector<double>{4, 5, 6, 7, 2, 3, 0, 1}));

  const auto none = ds.read_slab({2, 2}, {"id"}, "");
  EXPECT_EQ(none.n_rows(), 0);
  EXPECT_EQ(none.global_begin, 10);

  // Default features: every readable column except the label.
  const auto def = ds.read_slab({0, 1}, {}, "id");
  EXPECT_EQ(def.schema.feature_names,
            (std::vector<std::string>{"bool_col", "tinyint_col", "smallint_col", "int_col",
                                      "bigint_col", "float_col", "double_col"}));
  EXPECT_EQ(def.labels, (std::vector<double>{6, 7}));

  try {
    ds.read_slab({0, 2}, {"id"}, "nolabel");
    ADD_FAILURE() << "no error";
  } catch (const hpcad::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("nolabel"), std::string::npos);
  }
}

TEST(ParquetDataset, RejectsDifferentSchemas) {
  try {
    hpcad::ParquetDataset ds({data("alltypes_plain.parquet"), data("datapage_v2.snappy.parquet")});
    ADD_FAILURE() << "no error";
  } catch (const hpcad::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("schema differs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("datapage_v2.snappy.parquet"), std::string::npos);
  }
}

// Splitting the row groups over 1..5 ranks with partition_groups and concatenating the
// slabs gives the whole table, with consistent global offsets.
TEST(ParquetDataset, PartitionedReadsConcatenate) {
  const std::string path = pqtest::shared_dir() + "/datasets/parquet/shuttle.zstd.parquet";
  hpcad::ParquetDataset ds({path});
  const auto groups = ds.row_group_rows();
  ASSERT_GT(groups.size(), 4u);
  const auto whole = ds.read_slab({0, static_cast<hpcad::Index>(groups.size())}, {}, "label");
  for (int parts = 1; parts <= 5; ++parts) {
    std::vector<double> values, labels;
    hpcad::Index next = 0;
    for (int p = 0; p < parts; ++p) {
      const auto range = hpcad::partition_groups(groups, parts, p);
      const auto slab = ds.read_slab(range, {}, "label");
      EXPECT_EQ(slab.global_begin, next);
      EXPECT_EQ(slab.global_rows, ds.num_rows());
      next += slab.n_rows();
      values.insert(values.end(), slab.values.begin(), slab.values.end());
      labels.insert(labels.end(), slab.labels.begin(), slab.labels.end());
    }
    EXPECT_EQ(next, ds.num_rows());
    std::string first;
    EXPECT_EQ(pqtest::mismatches(values, whole.values, first), 0u) << parts << " parts: " << first;
    EXPECT_EQ(labels, whole.labels);
  }
}
