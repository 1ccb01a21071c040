// Corrupt input must give a clean hpcad::DataError or IoError: the bad_data files,
// truncated files, files with cut-out data, and seeded random byte flips. Run also under
// ASan+UBSan (-DHPCAD_SANITIZE=ON) to catch out-of-bounds reads and undefined behaviour.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include "hpcad/core/error.hpp"
#include "pq_test_util.hpp"

namespace fs = std::filesystem;

namespace {

enum class Outcome { kOk, kError, kUnexpected };

// Opens `path` and reads every readable column (or every column) of every row group.
Outcome try_read(const std::string& path, std::string* message = nullptr,
                 bool all_columns = false) {
  try {
    hpcad::ParquetDataset ds({path});
    const auto names = all_columns ? ds.column_names() : ds.readable_column_names();
    if (names.empty()) return Outcome::kOk;
    ds.read_slab({0, static_cast<hpcad::Index>(ds.row_group_rows().size())}, names, "");
    return Outcome::kOk;
  } catch (const hpcad::DataError& e) {
    if (message) *message = e.what();
    return Outcome::kError;
  } catch (const hpcad::IoError& e) {
    if (message) *message = e.what();
    return Outcome::kError;
  } catch (const std::exception& e) {
    if (message) *message = std::string("unexpected exception: ") + e.what();
    return Outcome::kUnexpected;
  }
}

const std::vector<std::string>& good_files() {
  static const std::vector<std::string> files = [] {
    std::vector<std::string> f;
    for (const char* n : {"alltypes_plain.parquet",
                          "alltypes_plain.snappy.parquet",
                          "alltypes_dictionary.parquet",
                          "datapage_v2.snappy.parquet",
                          "delta_binary_packed.parquet",
                          "delta_encoding_optional_column.parquet",
                          "byte_stream_split.zstd.parquet",
                          "byte_stream_split_extended.gzip.parquet",
                          "concatenated_gzip_members.parquet",
                          "int32_with_null_pages.parquet",
                          "lz4_raw_compressed.parquet",
                          "hadoop_lz4_compressed.parquet",
                          "non_hadoop_lz4_compressed.parquet",
                          "rle_boolean_encoding.parquet",
                          "dict-page-offset-zero.parquet",
                          "page_v2_empty_compressed.parquet",
                          "datapage_v2_empty_datapage.snappy.parquet",
                          "datapage_v1-snappy-compressed-checksum.parquet",
                          "plain-dict-uncompressed-checksum.parquet",
                          "rle-dict-snappy-checksum.parquet",
                          "nullable.impala.parquet",
                          "nested_lists.snappy.parquet",
                          "floating_orders_nan_count.parquet",
                          "int64_decimal.parquet"}) {
      f.push_back(pqtest::testing_data() + "/" + n);
    }
    f.push_back(pqtest::shared_dir() + "/datasets/parquet/cardio.snappy.parquet");
    f.push_back(pqtest::shared_dir() + "/datasets/parquet/cardio.zstd.parquet");
    return f;
  }();
  return files;
}

std::size_t footer_start(const std::vector<std::uint8_t>& b) {
  std::uint32_t len;
  std::memcpy(&len, b.data() + b.size() - 8, 4);
  return b.size() - 8 - len;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

}  // namespace

TEST(Robustness, GoodFilesRead) {
  for (const auto& f : good_files()) {
    std::string msg;
    EXPECT_EQ(try_read(f, &msg), Outcome::kOk) << f << ": " << msg;
  }
}

// Each bad_data file, read with all of its columns selected, gives a clean error: corruption
// detected in a flat column, or the refusal of the nested / FIXED_LEN_BYTE_ARRAY column whose
// data is corrupt. The exception is ARROW-GH-43605 (dictionary indices with bit width 0,
// which crashed Arrow's Go reader): the spec allows width 0 (every index 0), so it must read,
// and to the values DuckDB reads when the DuckDB fixture is there.
TEST(Robustness, BadDataFilesGiveCleanErrors) {
  int n = 0;
  const std::string dir = pqtest::shared_dir() + "/parquet-testing/bad_data";
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".parquet") continue;
    const std::string name = e.path().filename().string();
    std::string msg;
    // First the columns hpcad reads (corruption there must be detected), then all of them.
    Outcome o = try_read(e.path().string(), &msg, false);
    if (o == Outcome::kOk) o = try_read(e.path().string(), &msg, true);
    ++n;
    if (name == "ARROW-GH-43605.parquet") {
      EXPECT_EQ(o, Outcome::kOk) << msg;
      const std::string ref = pqtest::fixture_dir("duckdb-reference") + "/" + name + ".ref";
      if (fs::exists(ref)) {
        const auto t = pqtest::read_table(ref, false);
        const auto s = pqtest::read_all({e.path().string()}, t.names);
        std::string first;
        for (std::size_t j = 0; j < t.names.size(); ++j) {
          EXPECT_EQ(pqtest::mismatches(pqtest::column(s, j), t.cols[j], first), 0u) << first;
        }
        std::cout << "[bad_data] " << name << ": reads, equal to DuckDB (" << t.rows()
                  << " rows)\n";
      }
      continue;
    }
    EXPECT_EQ(o, Outcome::kError) << e.path() << ": " << msg;
    std::cout << "[bad_data] " << name << ": " << msg.substr(msg.find(name) + name.size() + 2)
              << "\n";
  }
  EXPECT_EQ(n, 8);
}

TEST(Robustness, TruncatedFilesGiveCleanErrors) {
  int cases = 0;
  const std::string tmp = pqtest::temp_dir() + "/truncated.parquet";
  for (const auto& f : good_files()) {
    const auto bytes = pqtest::read_bytes(f);
    std::vector<std::size_t> cuts;
    for (int k = 0; k < 40; ++k) cuts.push_back(bytes.size() * static_cast<std::size_t>(k) / 40);
    for (std::size_t k = 1; k <= 24 && k < bytes.size(); ++k) cuts.push_back(bytes.size() - k);
    for (std::size_t cut : cuts) {
      pqtest::write_bytes(
          tmp, std::vector<std::uint8_t>(bytes.begin(),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
      std::string msg;
      EXPECT_EQ(try_read(tmp, &msg), Outcome::kError) << f << " cut at " << cut << ": " << msg;
      ++cases;
    }
    // Data cut short but the footer kept: offsets now point past the data.
    const std::size_t fs0 = footer_start(bytes);
    for (int k = 0; k < 20; ++k) {
      const std::size_t cut = 4 + (fs0 - 4) * static_cast<std::size_t>(k) / 20;
      std::vector<std::uint8_t> b(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      b.insert(b.end(), bytes.begin() + static_cast<std::ptrdiff_t>(fs0), bytes.end());
      pqtest::write_bytes(tmp, b);
      std::string msg;
      EXPECT_NE(try_read(tmp, &msg), Outcome::kUnexpected)
          << f << " data cut at " << cut << ": " << msg;
      // Zeroed data of the same size: page headers vanish.
      std::vector<std::uint8_t> z = bytes;
      std::fill(z.begin() + static_cast<std::ptrdiff_t>(cut),
                z.begin() + static_cast<std::ptrdiff_t>(fs0), 0);
      pqtest::write_bytes(tmp, z);
      EXPECT_NE(try_read(tmp, &msg), Outcome::kUnexpected)
          << f << " zeroed from " << cut << ": " << msg;
      cases += 2;
    }
  }
  std::cout << "[truncation] " << cases << " truncated or cut files\n";
}

// Seeded random corruption: 1-4 flipped bytes anywhere, in the footer, or runs of 0xff.
// Every outcome must be a successful read or a DataError/IoError, quickly.
TEST(Robustness, RandomByteFlips) {
  const int iterations = env_int("HPCAD_PQ_FUZZ_ITERATIONS", 20000);
  const std::string tmp = pqtest::temp_dir() + "/flipped.parquet";
  std::vector<std::vector<std::uint8_t>> originals;
  for (const auto& f : good_files()) originals.push_back(pqtest::read_bytes(f));
  int ok = 0, errors = 0;
  double slowest = 0;
  for (int it = 0; it < iterations; ++it) {
    std::mt19937_64 rng(0x5eed0000u + static_cast<unsigned>(it));
    const std::size_t which = rng() % originals.size();
    std::vector<std::uint8_t> b = originals[which];
    const std::size_t fs0 = footer_start(b);
    const int mode = static_cast<int>(rng() % 4);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      std::size_t pos;
      if (mode == 1 || mode == 3) {
        pos = fs0 + rng() % (b.size() - 8 - fs0 + 1);  // footer, incl. its length
      } else {
        pos = rng() % b.size();
      }
      if (pos >= b.size()) pos = b.size() - 1;
      if (mode == 3) {
        for (std::size_t q = pos; q < std::min(b.size(), pos + 1 + rng() % 6); ++q) b[q] = 0xff;
      } else {
        b[pos] ^= static_cast<std::uint8_t>(1 + rng() % 255);
      }
    }
    pqtest::write_bytes(tmp, b);
    const auto t0 = std::chrono::steady_clock::now();
    std::string msg;
    const Outcome o = try_read(tmp, &msg);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    slowest = std::max(slowest, s);
    if (o == Outcome::kUnexpected) {
      ADD_FAILURE() << "iteration " << it << " (" << good_files()[which] << "): " << msg
                    << " (file kept in " << pqtest::fixture_dir("fuzz-failures") << ")";
      const std::string keep = pqtest::fixture_dir("fuzz-failures");
      fs::create_directories(keep);
      pqtest::write_bytes(keep + "/iteration-" + std::to_string(it) + ".parquet", b);
    }
    (o == Outcome::kOk ? ok : errors)++;
    EXPECT_LT(s, 5.0) << "iteration " << it << " took " << s << " s";
  }
  std::cout << "[fuzz] " << iterations << " corrupted files: " << ok << " read, " << errors
            << " clean errors, slowest " << slowest << " s\n";
}
