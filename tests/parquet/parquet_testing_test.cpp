// The Apache parquet-testing files, checked against independent references: DuckDB's
// reading of every numeric column, the *_expect.csv files, and documented contents.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "hpcad/core/error.hpp"
#include "pq_test_util.hpp"

namespace fs = std::filesystem;
using pqtest::testing_data;

namespace {

std::string data(const std::string& name) { return testing_data() + "/" + name; }

// Minimal CSV splitting with double quotes.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::string error_of(const std::vector<std::string>& paths,
                     const std::vector<std::string>& features) {
  try {
    pqtest::read_all(paths, features);
  } catch (const hpcad::DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// Every numeric column of every parquet-testing file that DuckDB reads must read to DuckDB's
// values bitwise (DuckDB prints doubles in shortest round-trip form).
TEST(ParquetTesting, MatchesDuckDB) {
  const std::string ref = pqtest::fixture_dir("duckdb-reference");
  if (auto why = pqtest::fixture_skip_reason(ref); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(fs::exists(ref)) << "missing fixture " << ref << " (run ctest, not the binary)";
  // DuckDB does not check page CRCs; hpcad does and must refuse these.
  const std::set<std::string> bad_crc = {"datapage_v1-corrupt-checksum.parquet",
                                         "rle-dict-uncompressed-corrupt-checksum.parquet"};
  int files = 0, columns = 0, crc_errors = 0, unsupported = 0;
  long long values = 0;
  std::vector<fs::path> refs;
  for (const auto& e : fs::directory_iterator(ref)) {
    if (e.path().extension() == ".ref") refs.push_back(e.path());
  }
  std::sort(refs.begin(), refs.end());
  for (const auto& p : refs) {
    const std::string file = p.stem().string();
    if (!fs::exists(data(file))) continue;  // a bad_data file: see robustness_test.cpp
    SCOPED_TRACE(file);
    const pqtest::Table t = pqtest::read_table(p.string(), false);
    if (t.names.empty()) continue;
    hpcad::ParquetDataset ds({data(file)});
    const hpcad::IndexRange all{0, static_cast<hpcad::Index>(ds.row_group_rows().size())};
    bool counted = false;
    for (std::size_t j = 0; j < t.names.size(); ++j) {
      hpcad::RowSlab slab;
      try {
        slab = ds.read_slab(all, {t.names[j]}, "");
      } catch (const hpcad::DataError& e) {
        const std::string msg = e.what();
        if (bad_crc.count(file) && msg.find("checksum") != std::string::npos) {
          ++crc_errors;
          continue;
        }
        // DuckDB also decodes decimals and float16 stored as (FIXED_LEN_)BYTE_ARRAY, which
        // hpcad refuses by design, naming the type.
        if (msg.find("has physical type FIXED_LEN_BYTE_ARRAY") != std::string::npos ||
            msg.find("has physical type BYTE_ARRAY") != std::string::npos) {
          ++unsupported;
          continue;
        }
        ADD_FAILURE() << "column " << t.names[j] << ": " << msg;
        continue;
      }
      EXPECT_FALSE(bad_crc.count(file)) << "corrupt CRC not detected in " << t.names[j];
      std::string first;
      EXPECT_EQ(pqtest::mismatches(slab.values, t.cols[j], first), 0u)
          << "column " << t.names[j] << ": " << first;
      ++columns;
      values += static_cast<long long>(t.cols[j].size());
      if (!counted) ++files, counted = true;
    }
  }
  std::cout << "[parquet-testing vs DuckDB] " << files << " files, " << columns
            << " numeric columns, " << values << " values verified; " << crc_errors
            << " columns with corrupt CRCs refused; " << unsupported
            << " (FIXED_LEN_)BYTE_ARRAY decimal/float16 columns refused as unsupported\n";
  RecordProperty("files", files);
  RecordProperty("columns", columns);
  EXPECT_GE(files, 30);
  EXPECT_EQ(crc_errors, 3);
}

// The *_expect.csv files shipped with parquet-testing (integer columns; empty = null).
TEST(ParquetTesting, MatchesExpectCsv) {
  int columns = 0;
  for (const std::string name : {"delta_binary_packed", "delta_encoding_required_column",
                                 "delta_encoding_optional_column"}) {
    SCOPED_TRACE(name);
    hpcad::ParquetDataset ds({data(name + ".parquet")});
    std::map<std::string, std::string> by_stripped;  // CSV name -> reader name
    for (const auto& n : ds.readable_column_names()) {
      std::string s = n;
      while (!s.empty() && (s.back() == ':' || s.back() == ' ')) s.pop_back();
      by_stripped[s] = n;
    }
    std::ifstream in(data(name + "_expect.csv"));
    std::string line;
    std::getline(in, line);
    const auto header = csv_fields(line);
    std::vector<std::vector<double>> want(header.size());
    while (std::getline(in, line)) {
      const auto f = csv_fields(line);
      ASSERT_EQ(f.size(), header.size());
      for (std::size_t j = 0; j < f.size(); ++j) {
        if (!by_stripped.count(header[j])) continue;
        want[j].push_back(f[j].empty() ? std::nan("") : static_cast<double>(std::stoll(f[j])));
      }
    }
    int here = 0;
    for (std::size_t j = 0; j < header.size(); ++j) {
      if (!by_stripped.count(header[j])) continue;
      const auto slab = pqtest::read_all({data(name + ".parquet")}, {by_stripped[header[j]]});
      std::string first;
      EXPECT_EQ(pqtest::mismatches(slab.values, want[j], first), 0u) << header[j] << ": " << first;
      ++here;
    }
    EXPECT_GE(here, name == std::string("delta_binary_packed") ? 66 : 9);
    columns += here;
  }
  std::cout << "[parquet-testing vs expect CSVs] " << columns << " columns verified\n";
}

// Contents documented in parquet-testing and used by Arrow's own tests.
TEST(ParquetTesting, DocumentedContents) {
  {
    const auto s = pqtest::read_all(
        {data("alltypes_plain.parquet")},
        {"id", "bool_col", "tinyint_col", "bigint_col", "float_col", "double_col"});
    ASSERT_EQ(s.n_rows(), 8);
    const double ids[8] = {4, 5, 6, 7, 2, 3, 0, 1};
    for (int r = 0; r < 8; ++r) {
      const auto row = s.row(r);
      EXPECT_EQ(row[0], ids[r]);
      EXPECT_EQ(row[1], r % 2 == 0 ? 1 : 0);
      EXPECT_EQ(row[2], r % 2);
      EXPECT_EQ(row[3], 10 * (r % 2));
      EXPECT_EQ(row[4], static_cast<double>(r % 2 ? 1.1f : 0.0f));
      EXPECT_EQ(row[5], r % 2 ? 10.1 : 0.0);
    }
  }
  EXPECT_EQ(pqtest::read_all({data("alltypes_plain.snappy.parquet")}, {"id"}).values,
            (std::vector<double>{6, 7}));
  EXPECT_EQ(pqtest::read_all({data("alltypes_dictionary.parquet")}, {"id"}).values,
            (std::vector<double>{0, 1}));
  {
    const auto s = pqtest::read_all({data("single_nan.parquet")}, {});
    ASSERT_EQ(s.values.size(), 1u);
    EXPECT_TRUE(std::isnan(s.values[0]));
  }
  {  // datapage_v2.snappy: b = 1..5, d = true, true, true, false, true
    const auto s = pqtest::read_all({data("datapage_v2.snappy.parquet")}, {"b", "d"});
    EXPECT_EQ(s.values, (std::vector<double>{1, 1, 2, 1, 3, 1, 4, 0, 5, 1}));
  }
  {  // LZ4 in its three framings: c0 and v11 of the same four rows
    for (const char* f : {"lz4_raw_compressed.parquet", "hadoop_lz4_compressed.parquet",
                          "non_hadoop_lz4_compressed.parquet"}) {
      SCOPED_TRACE(f);
      const auto s = pqtest::read_all({data(f)}, {"c0", "v11"});
      EXPECT_EQ(s.values, (std::vector<double>{1593604800, 42.0, 1593604800, 7.7, 1593604801,
                                               42.125, 1593604801, 7.7}));
    }
  }
  {  // 513 UINT64 numbers 1..513 in two concatenated gzip members
    const auto s = pqtest::read_all({data("concatenated_gzip_members.parquet")}, {});
    ASSERT_EQ(s.values.size(), 513u);
    for (int i = 0; i < 513; ++i) EXPECT_EQ(s.values[i], i + 1);
  }
  {  // int32_with_null_pages: 1000 values, some null pages
    const auto s = pqtest::read_all({data("int32_with_null_pages.parquet")}, {});
    ASSERT_EQ(s.values.size(), 1000u);
    EXPECT_GT(
        std::count_if(s.values.begin(), s.values.end(), [](double v) { return std::isnan(v); }), 0);
  }
  {  // byte_stream_split_extended: each BYTE_STREAM_SPLIT column equals its PLAIN twin
    const auto path = data("byte_stream_split_extended.gzip.parquet");
    for (const char* t : {"float", "double", "int32", "int64"}) {
      const auto s = pqtest::read_all(
          {path}, {std::string(t) + "_plain", std::string(t) + "_byte_stream_split"});
      ASSERT_GT(s.n_rows(), 0);
      std::string first;
      EXPECT_EQ(pqtest::mismatches(pqtest::column(s, 1), pqtest::column(s, 0), first), 0u)
          << t << first;
    }
  }
}

TEST(ParquetTesting, ClearErrors) {
  const auto plain = data("alltypes_plain.parquet");
  std::string msg = error_of({plain}, {"nope"});
  EXPECT_NE(msg.find(plain), std::string::npos) << msg;
  EXPECT_NE(msg.find("available columns: id, bool_col"), std::string::npos) << msg;
  msg = error_of({plain}, {"string_col"});
  EXPECT_NE(msg.find("BYTE_ARRAY"), std::string::npos) << msg;
  msg = error_of({plain}, {"timestamp_col"});
  EXPECT_NE(msg.find("INT96"), std::string::npos) << msg;
  msg = error_of({data("nested_lists.snappy.parquet")}, {"a"});
  EXPECT_NE(msg.find("nested"), std::string::npos) << msg;
  msg = error_of({data("nulls.snappy.parquet")}, {"b_struct"});
  EXPECT_NE(msg.find("nested"), std::string::npos) << msg;
  msg = error_of({data("nested_structs.rust.parquet")}, {});
  EXPECT_NE(msg.find("no numeric feature columns"), std::string::npos) << msg;
  // Nested columns that are not selected are skipped.
  EXPECT_EQ(pqtest::read_all({data("nested_lists.snappy.parquet")}, {"b"}).values,
            (std::vector<double>{1, 1, 1}));
}
