#pragma once
/// Helpers for the CSV reader tests: simulate P ranks in one process by calling the
/// per-range pieces for each range and doing the prefix sums here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "hpcad/io/csv_reader.hpp"

namespace hpcad::csv_test {

/// The concatenation of every simulated rank's chunk, in rank order.
struct SplitResult {
  std::vector<double> values;
  std::vector<double> labels;
  Index rows = 0;
  Index skipped = 0;
  std::vector<Index> rows_per_rank;
};

/// Cut points [data_begin = c0 <= c1 <= ... <= cP = data_end] of the balanced split.
inline std::vector<Index> balanced_cuts(const CsvFile& file, int parts) {
  std::vector<Index> cuts{file.data_begin()};
  for (int r = 0; r < parts; ++r) cuts.push_back(file.byte_range(parts, r).end);
  return cuts;
}

/// Reads the file as P = cuts.size() - 1 ranks would: first pass per range, exclusive
/// prefix sums of quote and newline counts, second pass per range. Throws the first
/// (lowest-rank) error, as the guarded phase would report.
inline SplitResult read_split(const CsvFile& file, const CsvColumns& columns,
                              const std::vector<Index>& cuts, bool skip_bad_rows) {
  const std::size_t parts = cuts.size() - 1;
  std::vector<CsvRangeCounts> counts(parts);
  for (std::size_t r = 0; r < parts; ++r) counts[r] = file.scan_range(cuts[r], cuts[r + 1]);
  SplitResult out;
  Index quotes_before = 0;
  Index newlines_before = 0;
  for (std::size_t r = 0; r < parts; ++r) {
    CsvChunk chunk =
        file.parse_range(cuts[r], cuts[r + 1], (quotes_before % 2) != 0,
                         file.data_begin_line() + newlines_before, columns, skip_bad_rows);
    quotes_before += counts[r].quotes;
    newlines_before += counts[r].newlines;
    out.values.insert(out.values.end(), chunk.values.begin(), chunk.values.end());
    out.labels.insert(out.labels.end(), chunk.labels.begin(), chunk.labels.end());
    out.rows += chunk.rows;
    out.skipped += chunk.skipped;
    out.rows_per_rank.push_back(chunk.rows);
  }
  return out;
}

inline SplitResult read_balanced(const CsvFile& file, const CsvColumns& columns, int parts,
                                 bool skip_bad_rows = false) {
  return read_split(file, columns, balanced_cuts(file, parts), skip_bad_rows);
}

/// Bitwise equality of doubles (so NaN == NaN and 0.0 != -0.0).
inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

inline ::testing::AssertionResult bitwise_equal(const std::vector<double>& actual,
                                                const std::vector<double>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size " << actual.size() << " != expected " << expected.size();
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (!same_bits(actual[i], expected[i])) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << actual[i] << " != expected " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

/// A fresh path under the test's temporary directory.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "hpcad_csv_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace hpcad::csv_test
