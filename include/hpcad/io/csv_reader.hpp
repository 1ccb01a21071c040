#pragma once
/// hpcad's parallel CSV reader.
///
/// Format accepted (RFC 4180 plus common practice):
/// - The first record is a header of column names. A UTF-8 byte-order mark before it is
///   skipped. Names are taken verbatim (quotes removed, `""` unescaped, no trimming).
/// - Records end at `\n` outside quotes; a `\r` right before it (CRLF) is dropped. The last
///   record may lack its newline. A lone `\r` is not a line break. Blank records (`\n` or
///   `\r\n` alone) are skipped, as pandas does; they are not rows and not bad rows.
/// - A field starting with `"` is quoted: it may contain the delimiter, newlines and `""`
///   (one quote). Whether a byte is inside quotes is decided purely by the parity of the
///   `"` bytes before it in the data, so every rank finds the same record boundaries.
/// - Numbers (every selected feature and the label) are parsed with `std::from_chars`
///   (locale-independent, correctly rounded, so 17-significant-digit values round-trip
///   exactly). Spaces and tabs around a value are ignored, also inside quotes (`" 1.5 "`).
///   A leading `+` is accepted. `nan`, `inf`, `infinity` (any case, optional sign) are
///   accepted, as from_chars does. Values that underflow (e.g. `1e-400`) read as 0 or the
///   nearest subnormal, as Python reads them; hexadecimal floats and values that overflow
///   (e.g. `1e400`) are bad values.
/// - An empty feature field (or one of only spaces) is NaN. An empty label is a bad value.
/// - Series key columns (select_columns' `keys`) may hold text instead of a number: the
///   field (quotes removed, `""` unescaped, spaces kept) is read with key_from_text.
/// - Only the selected columns are checked; other columns may hold any text.
/// - Bad rows: a record whose field count differs from the header's, a selected field that
///   is not a number, or an unterminated quote at the end of the file. Either a DataError
///   naming file, 1-based physical line of the record's first byte and column, or, with
///   `skip_bad_rows`, skipped and counted.
///
/// Parallel scheme: the data bytes after the header are split into balanced byte ranges;
/// a rank reads every record whose first byte lies in its range. A cheap first pass counts
/// `"` and `\n` bytes in the range; exclusive prefix sums over ranks give the quote parity
/// (inside quotes or not) and the line number at the range's start. (read_csv_slab gathers
/// the counts with one allgatherv of 3 integers per rank instead of exscans, so that the
/// prefix can restart at file boundaries when several files are read as one.)
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/data/row_slab.hpp"

namespace hpcad {

struct CsvOptions {
  char delimiter = ',';
  bool skip_bad_rows = false;
};

/// Counts of `"` and `\n` bytes in a byte range (first pass of the parallel read).
struct CsvRangeCounts {
  Index quotes = 0;
  Index newlines = 0;
};

/// Columns to extract, resolved against a header.
struct CsvColumns {
  std::vector<int> feature_columns;        ///< header index of each selected feature, in order
  std::vector<std::string> feature_names;  ///< their names
  int label_column = -1;                   ///< header index of the label, or -1 for none
  /// Per feature: a series key (group_by / order_by) that may hold text, read with
  /// key_from_text (data/text_key.hpp) when it is not a number.
  std::vector<bool> text_keys;
};

/// Rows parsed from one byte range.
struct CsvChunk {
  std::vector<double> values;  ///< row-major, feature_columns.size() per row
  std::vector<double> labels;  ///< one per row when a label column was selected
  Index rows = 0;
  Index skipped = 0;          ///< bad rows skipped (skip_bad_rows only)
  std::string first_bad_row;  ///< message of the first skipped row, for a warning
};

/// A CSV file opened for reading: memory-mapped, header parsed. Local (no communication);
/// every method is const and thread-safe. Move-only.
class CsvFile {
 public:
  /// Local. Maps the file at `path` and parses its header. Throws IoError when the file
  /// cannot be opened or mapped, DataError when there is no header row.
  CsvFile(const std::string& path, char delimiter = ',');
  /// Local. The same over bytes in memory; `name` is used in error messages (for tests).
  static CsvFile from_bytes(std::string name, std::string bytes, char delimiter = ',');

  CsvFile(CsvFile&&) noexcept;
  CsvFile& operator=(CsvFile&&) noexcept;
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;
  ~CsvFile();

  const std::string& path() const { return path_; }
  char delimiter() const { return delimiter_; }
  /// Column names from the header row.
  const std::vector<std::string>& header() const { return header_; }
  /// Byte offset of the first data byte (after BOM and header record).
  Index data_begin() const { return data_begin_; }
  /// Byte offset one past the last byte (the file size).
  Index data_end() const { return static_cast<Index>(size_); }
  /// 1-based line number of the byte at data_begin().
  Index data_begin_line() const { return data_begin_line_; }

  /// Local. The byte range of part `part` of `parts`: [data_begin, data_end) split into
  /// balanced contiguous ranges.
  IndexRange byte_range(int parts, int part) const;

  /// Local. Resolves feature names (empty = every column except the label) and the label
  /// name ("" = none); the features named in `keys` may hold text. Throws DataError for
  /// unknown or ambiguous (duplicate) names, a label also listed as a feature, or no feature
  /// columns at all.
  CsvColumns select_columns(const std::vector<std::string>& features, const std::string& label,
                            const std::vector<std::string>& keys = {}) const;

  /// Local. First pass: counts `"` and `\n` bytes in [begin, end) (within the data).
  CsvRangeCounts scan_range(Index begin, Index end) const;

  /// Local. Second pass: parses every record whose first byte lies in [begin, end), reading
  /// past `end` to finish the last one. `in_quotes_at_begin`: odd number of `"` in
  /// [data_begin, begin); `line_at_begin`: 1-based line of byte `begin`, i.e.
  /// data_begin_line() + number of `\n` in [data_begin, begin). Throws DataError on the
  /// first bad row unless `skip_bad_rows`.
  CsvChunk parse_range(Index begin, Index end, bool in_quotes_at_begin, Index line_at_begin,
                       const CsvColumns& columns, bool skip_bad_rows) const;

 private:
  CsvFile() = default;
  void parse_header();

  std::string path_;
  char delimiter_ = ',';
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapping_ = nullptr;             // munmap'ed in the destructor when non-null
  std::unique_ptr<std::string> owned_;  // backing bytes for from_bytes (stable address)
  std::vector<std::string> header_;
  Index data_begin_ = 0;
  Index data_begin_line_ = 1;
};

/// A rank's share of one file of a multi-file input: data bytes [begin, end) of file `file`.
struct CsvPiece {
  std::size_t file = 0;
  Index begin = 0;
  Index end = 0;
};

/// Local. Opens `paths` in order; every file must have the first one's header (DataError
/// naming the file otherwise). IoError when `paths` is empty.
std::vector<CsvFile> open_csv_files(const std::vector<std::string>& paths, char delimiter);

/// Local. Data bytes of all files together (headers excluded).
Index csv_data_bytes(const std::vector<CsvFile>& files);

/// Local. The parts of byte range `range` of the concatenated data regions of `files`, in
/// file order.
std::vector<CsvPiece> csv_pieces(const std::vector<CsvFile>& files, IndexRange range);

/// Collective. The `"` and `\n` counts in the file of this rank's first piece before that
/// piece, from every rank's last piece (`last_piece`: its counts; ignored without pieces).
/// Only a rank's first piece can start inside a file, so this gives its quote parity and
/// first line; later pieces start at their file's first data byte.
CsvRangeCounts csv_counts_before(Comm& comm, const std::vector<CsvPiece>& pieces,
                                 const CsvRangeCounts& last_piece);

/// Collective. Reads this rank's share of the CSV file at `path`: byte ranges balanced over
/// comm.size() ranks; returns a RowSlab (row-major doubles, schema.feature_names, labels if
/// label != "", has_labels, global_begin = rows on lower ranks (exscan), global_rows = total
/// rows (allreduce)). `skipped_rows` (if non-null) receives the global count of skipped bad
/// rows. Ranks with an empty byte range (more ranks than rows) return zero rows.
/// Errors are thrown on the rank that sees them, after every rank has completed the same
/// collectives (a failing rank takes part with zero counts), so no rank is left waiting.
RowSlab read_csv_slab(Comm& comm, const std::string& path, const CsvOptions& options,
                      const std::vector<std::string>& features, const std::string& label,
                      Index* skipped_rows = nullptr);

/// Collective. The same over several CSV files read as their concatenation in the given
/// order (the caller sorts, e.g. with expand_input_paths(path, ".csv")). Every file must have
/// the same header (DataError naming the file otherwise); each file's header row is skipped.
/// Byte ranges are balanced over the total data bytes and may span files; quote parity and
/// line numbers restart in every file, and errors name the file they occur in. Every rank
/// opens every file (mapping it and reading its header).
RowSlab read_csv_slab(Comm& comm, const std::vector<std::string>& paths, const CsvOptions& options,
                      const std::vector<std::string>& features, const std::string& label,
                      Index* skipped_rows = nullptr);

}  // namespace hpcad
