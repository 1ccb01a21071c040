// libFuzzer harness: CSV records (CsvFile from bytes: header, quoting, numbers, bad rows).
// The first input byte chooses the delimiter, whether the last column is the label and how
// many simulated ranks read the data; the rest is the file. Besides memory safety it checks
// the parallel scheme's promise: with skip_bad_rows, reading the data as 1 range and as k
// ranges (quote parity and line numbers from scan_range prefix sums, as read_csv_slab does)
// gives the same rows, labels and skipped count, bit for bit.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/io/csv_reader.hpp"

namespace {

/// Parses the data as `parts` ranges the way read_csv_slab splits it over ranks.
hpcad::CsvChunk parse_in_parts(const hpcad::CsvFile& file, const hpcad::CsvColumns& columns,
                               int parts) {
  hpcad::CsvChunk all;
  hpcad::Index quotes = 0;
  hpcad::Index line = file.data_begin_line();
  for (int part = 0; part < parts; ++part) {
    const hpcad::IndexRange range = file.byte_range(parts, part);
    hpcad::CsvChunk chunk = file.parse_range(range.begin, range.end, quotes % 2 == 1, line,
                                             columns, /*skip_bad_rows=*/true);
    const hpcad::CsvRangeCounts counts = file.scan_range(range.begin, range.end);
    quotes += counts.quotes;
    line += counts.newlines;
    all.values.insert(all.values.end(), chunk.values.begin(), chunk.values.end());
    all.labels.insert(all.labels.end(), chunk.labels.begin(), chunk.labels.end());
    all.rows += chunk.rows;
    all.skipped += chunk.skipped;
  }
  return all;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  const char delimiter = kDelimiters[data[0] & 3];
  const bool with_label = (data[0] & 4) != 0;
  const int parts = 2 + ((data[0] >> 3) & 7);  // 2..9 simulated ranks
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const hpcad::CsvFile file = hpcad::CsvFile::from_bytes("fuzz.csv", std::move(bytes), delimiter);
    const std::string label = with_label ? file.header().back() : "";
    const hpcad::CsvColumns columns = file.select_columns({}, label);
    try {  // strict mode: the first bad row is a DataError
      file.parse_range(file.data_begin(), file.data_end(), false, file.data_begin_line(), columns,
                       false);
    } catch (const hpcad::DataError&) {
    }
    const hpcad::CsvChunk whole = file.parse_range(file.data_begin(), file.data_end(), false,
                                                   file.data_begin_line(), columns, true);
    const hpcad::CsvChunk split = parse_in_parts(file, columns, parts);
    if (whole.rows != split.rows || whole.skipped != split.skipped ||
        !same_bits(whole.values, split.values) || !same_bits(whole.labels, split.labels))
      __builtin_trap();  // the ranks would disagree with a one-rank read
    if (whole.values.size() != static_cast<std::size_t>(whole.rows) * columns.feature_columns.size())
      __builtin_trap();
  } catch (const hpcad::DataError&) {
  } catch (const hpcad::IoError&) {
  }
  return 0;
}
