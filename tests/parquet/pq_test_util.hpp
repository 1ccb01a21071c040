#pragma once
// Shared helpers of the Parquet reader tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "hpcad/io/parquet_reader.hpp"

namespace pqtest {

inline std::string shared_dir() { return HPCAD_TEST_SHARED_DIR; }
inline std::string testing_data() { return shared_dir() + "/parquet-testing/data"; }
inline std::string fixture_dir(const char* name) {
  return std::string(HPCAD_TEST_FIXTURE_DIR) + "/" + name;
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A scratch directory unique to the test process, removed when it exits.
inline std::string temp_dir() {
  struct Dir {
    std::string path;
    Dir() {
      auto d =
          std::filesystem::temp_directory_path() / ("hpcad-pq-test-" + std::to_string(::getpid()));
      std::filesystem::create_directories(d);
      path = d.string();
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

/// Bitwise equality, with every NaN equal to every NaN.
inline bool same(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}

inline std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

/// A table of expected values by column.
struct Table {
  std::vector<std::string> names;
  std::vector<std::string> types;
  std::vector<std::vector<double>> cols;
  std::size_t rows() const { return cols.empty() ? 0 : cols[0].size(); }
};

/// Parses a value printed by DuckDB, JavaScript or a CSV writer; `type` picks exact integer
/// parsing for 64-bit integers (converted to double the way the reader does).
inline double parse_value(const std::string& s, const std::string& type = "") {
  if (s == "NULL" || s.empty()) return std::nan("");
  if (type == "BIGINT") return static_cast<double>(std::stoll(s));
  if (type == "UBIGINT") return static_cast<double>(std::stoull(s));
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') throw std::runtime_error("bad number '" + s + "'");
  return v;
}

/// Reads a tab-separated table: names, optionally a types line, then rows.
inline Table read_table(const std::string& path, bool has_types) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  Table t;
  std::string line;
  std::getline(in, line);
  t.names = line.empty() ? std::vector<std::string>{} : split(line, '\t');
  if (has_types) {
    std::getline(in, line);
    t.types = split(line, '\t');
  }
  t.cols.resize(t.names.size());
  while (std::getline(in, line)) {
    if (t.names.empty()) break;
    auto f = split(line, '\t');
    if (f.size() != t.names.size()) throw std::runtime_error("ragged line in " + path);
    for (std::size_t j = 0; j < f.size(); ++j) {
      t.cols[j].push_back(parse_value(f[j], has_types ? t.types[j] : ""));
    }
  }
  return t;
}

/// Reads every row group of `paths` with the given feature columns.
inline hpcad::RowSlab read_all(const std::vector<std::string>& paths,
                               const std::vector<std::string>& features,
                               const std::string& label = "") {
  hpcad::ParquetDataset ds(paths);
  const auto n = static_cast<hpcad::Index>(ds.row_group_rows().size());
  return ds.read_slab({0, n}, features, label);
}

/// Column j of a slab.
inline std::vector<double> column(const hpcad::RowSlab& s, std::size_t j) {
  std::vector<double> out;
  for (hpcad::Index r = 0; r < s.n_rows(); ++r) out.push_back(s.row(r)[j]);
  return out;
}

/// Number of mismatches (and the first one described in `first`).
inline std::size_t mismatches(const std::vector<double>& got, const std::vector<double>& want,
                              std::string& first) {
  std::size_t bad = 0;
  if (got.size() != want.size()) {
    first = "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
    return std::max(got.size(), want.size());
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!same(got[i], want[i])) {
      if (bad++ == 0) {
        std::ostringstream os;
        os.precision(17);
        os << "row " << i << ": got " << got[i] << ", want " << want[i];
        first = os.str();
      }
    }
  }
  return bad;
}

/// Why a fixture directory is missing its data (its SKIPPED marker), or "".
inline std::string fixture_skip_reason(const std::string& dir) {
  const std::string marker = dir + "/SKIPPED";
  if (std::filesystem::exists(marker)) return read_text(marker);
  return "";
}

}  // namespace pqtest
