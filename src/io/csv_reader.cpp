#include "hpcad/io/csv_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "hpcad/core/error.hpp"
#include "hpcad/core/memory.hpp"
#include "hpcad/data/text_key.hpp"

namespace hpcad {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Bytes that end or change the meaning of an unquoted run: the delimiter, newline, quote.
using ByteTable = std::array<bool, 256>;

ByteTable make_special_table(char delimiter) {
  ByteTable table{};
  table[static_cast<unsigned char>(delimiter)] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('"')] = true;
  return table;
}

// Scans one field starting at `p`, following quote parity (a `"` toggles, so `""` inside a
// quoted field is two toggles). Returns the terminator: an unquoted delimiter or newline, or
// `end`. `unterminated` is set when `end` is reached inside quotes.
inline const char* scan_field(const char* p, const char* end, const ByteTable& special,
                              bool& unterminated) {
  for (;;) {
    while (p < end && !special[static_cast<unsigned char>(*p)]) ++p;
    if (p == end || *p != '"') return p;
    // Inside quotes only another quote matters; memchr skips delimiters and newlines fast.
    const void* close = std::memchr(p + 1, '"', static_cast<std::size_t>(end - (p + 1)));
    if (close == nullptr) {
      unterminated = true;
      return end;
    }
    p = static_cast<const char*>(close) + 1;
  }
}

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }

inline void trim(const char*& b, const char*& e) {
  while (b < e && is_blank(*b)) ++b;
  while (e > b && is_blank(e[-1])) --e;
}

enum class ValueStatus { kOk, kEmpty, kBad };

// from_chars reports underflow and overflow alike as result_out_of_range. A value that
// underflows (`1e-400`) is a valid number whose nearest double is 0 or subnormal, as Python,
// NumPy and pandas read it; only overflow (`1e400`) is refused. strtod in the C locale tells
// the two apart (it returns the correctly rounded tiny value, or HUGE_VAL) and runs only for
// these rare values. [b, e) is a decimal number: from_chars accepted its syntax.
ValueStatus parse_out_of_range(const char* b, const char* e, double& out) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", locale_t{});
  const std::string text(b, e);
  const double value = strtod_l(text.c_str(), nullptr, c_locale);
  if (!std::isfinite(value)) return ValueStatus::kBad;
  out = value;
  return ValueStatus::kOk;
}

// Parses a raw (possibly quoted) field as a double. See the header for what is accepted.
ValueStatus parse_value(const char* b, const char* e, double& out) {
  trim(b, e);
  if (b < e && *b == '"') {
    if (e - b < 2 || e[-1] != '"') return ValueStatus::kBad;
    ++b;
    --e;
    // A number never contains a quote, so any quote (escaped or not) makes it bad.
    if (std::memchr(b, '"', static_cast<std::size_t>(e - b)) != nullptr) return ValueStatus::kBad;
    trim(b, e);
  }
  if (b == e) return ValueStatus::kEmpty;
  if (*b == '+') {
    ++b;
    if (b == e || *b == '+' || *b == '-') return ValueStatus::kBad;
  }
  const auto [ptr, ec] = std::from_chars(b, e, out);
  if (ptr != e) return ValueStatus::kBad;
  if (ec == std::errc::result_out_of_range) return parse_out_of_range(b, e, out);
  return ec == std::errc() ? ValueStatus::kOk : ValueStatus::kBad;
}

// Unescapes a header field: `"a""b"` → `a"b`; unquoted fields are taken verbatim.
bool unescape_name(const char* b, const char* e, std::string& out) {
  out.clear();
  if (b == e || *b != '"') {
    if (std::memchr(b, '"', static_cast<std::size_t>(e - b)) != nullptr) return false;
    out.assign(b, e);
    return true;
  }
  if (e - b < 2 || e[-1] != '"') return false;
  for (const char* p = b + 1; p < e - 1; ++p) {
    if (*p == '"') {
      if (p + 1 >= e - 1 || p[1] != '"') return false;
      ++p;
    }
    out.push_back(*p);
  }
  return true;
}

Index count_byte(const char* p, const char* end, char c) {
  Index n = 0;
  while (p < end) {
    const void* hit = std::memchr(p, c, static_cast<std::size_t>(end - p));
    if (hit == nullptr) break;
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

// Counts `"` and `\n` in one pass, 16 bytes at a time with byte-wide counters (GCC vector
// extensions compile to SSE2/NEON), flushed before they can overflow. The first pass is
// memory-bound; doing both counts together halves its memory traffic.
CsvRangeCounts count_quotes_and_newlines(const char* p, const char* end) {
  using Bytes = unsigned char __attribute__((vector_size(16)));
  CsvRangeCounts counts;
  const Bytes quote = {'"', '"', '"', '"', '"', '"', '"', '"',
                       '"', '"', '"', '"', '"', '"', '"', '"'};
  const Bytes newline = {'\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
                         '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n'};
  constexpr std::size_t kBlock = 16;
  constexpr int kMaxIterations = 255;  // a byte counter gains at most 1 per iteration
  while (static_cast<std::size_t>(end - p) >= kBlock) {
    Bytes q_acc = {};
    Bytes n_acc = {};
    for (int i = 0; i < kMaxIterations && static_cast<std::size_t>(end - p) >= kBlock; ++i) {
      Bytes v;
      std::memcpy(&v, p, kBlock);
      // A comparison gives 0xFF (-1) per matching byte; subtracting adds 1.
      q_acc -= reinterpret_cast<Bytes>(v == quote);
      n_acc -= reinterpret_cast<Bytes>(v == newline);
      p += kBlock;
    }
    for (std::size_t j = 0; j < kBlock; ++j) {
      counts.quotes += q_acc[j];
      counts.newlines += n_acc[j];
    }
  }
  for (; p < end; ++p) {
    counts.quotes += *p == '"';
    counts.newlines += *p == '\n';
  }
  return counts;
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const char c = text[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

// Whether from_chars could consume the delimiter as part of a number, which would break the
// fast path that lets from_chars find the end of an unquoted field.
bool delimiter_may_be_numeric(char d) {
  const auto u = static_cast<unsigned char>(d);
  return std::isalnum(u) != 0 || d == '+' || d == '-' || d == '.' || d == '(' || d == ')' ||
         d == '_' || u >= 0x80;
}

}  // namespace

CsvFile::CsvFile(const std::string& path, char delimiter) : path_(path), delimiter_(delimiter) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path + ": cannot open CSV file: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError(path + ": cannot stat CSV file: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError(path + ": not a regular file (expected a CSV file)");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    // A private read-only mapping: each rank touches only the pages of its own range.
    void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw IoError(path + ": cannot map CSV file: " + std::strerror(err));
    }
    mapping_ = map;
    data_ = static_cast<const char*>(map);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  parse_header();
}

CsvFile CsvFile::from_bytes(std::string name, std::string bytes, char delimiter) {
  CsvFile file;
  file.path_ = std::move(name);
  file.delimiter_ = delimiter;
  file.owned_ = std::make_unique<std::string>(std::move(bytes));
  file.data_ = file.owned_->data();
  file.size_ = file.owned_->size();
  file.parse_header();
  return file;
}

CsvFile::CsvFile(CsvFile&& other) noexcept
    : path_(std::move(other.path_)),
      delimiter_(other.delimiter_),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      owned_(std::move(other.owned_)),
      header_(std::move(other.header_)),
      data_begin_(other.data_begin_),
      data_begin_line_(other.data_begin_line_) {}

CsvFile& CsvFile::operator=(CsvFile&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) ::munmap(mapping_, size_);
    path_ = std::move(other.path_);
    delimiter_ = other.delimiter_;
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
    owned_ = std::move(other.owned_);
    header_ = std::move(other.header_);
    data_begin_ = other.data_begin_;
    data_begin_line_ = other.data_begin_line_;
  }
  return *this;
}

CsvFile::~CsvFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

void CsvFile::parse_header() {
  if (delimiter_ == '"' || delimiter_ == '\n' || delimiter_ == '\r') {
    throw ConfigError(path_ + ": the CSV delimiter must not be a quote, \\n or \\r");
  }
  const char* begin = data_;
  const char* end = data_ + size_;
  const char* p = begin;
  if (size_ >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;  // UTF-8 BOM
  if (p == end) throw DataError(path_ + ": empty file, expected a header row of column names");
  if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
    throw DataError(path_ + ":1: empty header row, expected column names");
  }
  const ByteTable special = make_special_table(delimiter_);
  std::string name;
  for (;;) {
    const char* fs = p;
    bool unterminated = false;
    p = scan_field(p, end, special, unterminated);
    if (unterminated) {
      throw DataError(path_ + ":1: header column " + std::to_string(header_.size() + 1) +
                      ": quoted name not closed before the end of the file");
    }
    const bool last = p == end || *p == '\n';
    const char* fe = p;
    if (last && fe > fs && fe[-1] == '\r') --fe;
    if (!unescape_name(fs, fe, name)) {
      throw DataError(path_ + ":1: header column " + std::to_string(header_.size() + 1) +
                      ": malformed quoted name " + quoted(std::string_view(fs, fe - fs)));
    }
    header_.push_back(name);
    if (last) {
      if (p < end) ++p;
      break;
    }
    ++p;
  }
  data_begin_ = p - begin;
  data_begin_line_ = 1 + count_byte(begin, p, '\n');
}

IndexRange CsvFile::byte_range(int parts, int part) const {
  const IndexRange r = partition_rows(data_end() - data_begin_, parts, part);
  return {data_begin_ + r.begin, data_begin_ + r.end};
}

CsvColumns CsvFile::select_columns(const std::vector<std::string>& features,
                                   const std::string& label,
                                   const std::vector<std::string>& keys) const {
  auto ambiguous = [&](const std::string& name, const char* role) {
    return DataError(path_ + ": " + role + " column \"" + name +
                     "\" is ambiguous: the header names it more than once");
  };
  auto find_unique = [&](const std::string& name, const char* role) -> int {
    int found = -1;
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] != name) continue;
      if (found >= 0) throw ambiguous(name, role);
      found = static_cast<int>(i);
    }
    if (found < 0) {
      std::string names;
      for (std::size_t i = 0; i < header_.size() && i < 20; ++i) {
        names += (i ? ", " : "") + header_[i];
      }
      if (header_.size() > 20) names += ", ...";
      throw DataError(path_ + ": " + role + " column \"" + name +
                      "\" not found in the header (columns: " + names + ")");
    }
    return found;
  };
  CsvColumns columns;
  if (!label.empty()) columns.label_column = find_unique(label, "label");
  if (features.empty()) {
    // Every column but the label is a feature, so a repeated name would feed two columns
    // under one name (and a model trained on them could not tell them apart).
    std::unordered_set<std::string_view> names;
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (static_cast<int>(i) == columns.label_column) continue;
      if (!names.insert(header_[i]).second) throw ambiguous(header_[i], "feature");
      columns.feature_columns.push_back(static_cast<int>(i));
    }
  } else {
    std::vector<bool> used(header_.size(), false);
    for (const std::string& name : features) {
      const int c = find_unique(name, "feature");
      if (c == columns.label_column) {
        throw DataError(path_ + ": column \"" + name + "\" is both the label and a feature");
      }
      if (used[c]) throw DataError(path_ + ": feature column \"" + name + "\" listed twice");
      used[c] = true;
      columns.feature_columns.push_back(c);
    }
  }
  if (columns.feature_columns.empty()) {
    throw DataError(path_ + ": no feature columns (the header has only the label column)");
  }
  for (int c : columns.feature_columns) {
    columns.feature_names.push_back(header_[c]);
    columns.text_keys.push_back(std::find(keys.begin(), keys.end(), header_[c]) != keys.end());
  }
  return columns;
}

CsvRangeCounts CsvFile::scan_range(Index begin, Index end) const {
  check_internal(begin >= data_begin_ && begin <= end && end <= data_end(), "scan_range bounds");
  return count_quotes_and_newlines(data_ + begin, data_ + end);
}

CsvChunk CsvFile::parse_range(Index begin, Index end_offset, bool in_quotes_at_begin,
                              Index line_at_begin, const CsvColumns& columns,
                              bool skip_bad_rows) const {
  check_internal(begin >= data_begin_ && begin <= end_offset && end_offset <= data_end(),
                 "parse_range bounds");
  CsvChunk chunk;
  const char* const end = data_ + size_;
  const char* const range_end = data_ + end_offset;
  const char* p = data_ + begin;

  // Find the first record starting at or after `begin`: `begin` itself if it follows an
  // unquoted newline (or is the first data byte), else the byte after the next unquoted
  // newline. Records starting before `begin` belong to a lower rank.
  if (begin > data_begin_ && !(p[-1] == '\n' && !in_quotes_at_begin)) {
    bool in_quotes = in_quotes_at_begin;
    for (;;) {
      if (p >= range_end) return chunk;  // no record starts in this range
      if (in_quotes) {
        const void* q = std::memchr(p, '"', static_cast<std::size_t>(range_end - p));
        if (q == nullptr) return chunk;
        p = static_cast<const char*>(q) + 1;
        in_quotes = false;
        continue;
      }
      while (p < range_end && *p != '"' && *p != '\n') ++p;
      if (p == range_end) return chunk;
      if (*p == '"') {
        in_quotes = true;
        ++p;
        continue;
      }
      ++p;  // an unquoted newline: the next record starts here
      break;
    }
  }

  // Per header column: -1 ignore, k >= 0 feature slot k, kLabelSlot the label.
  constexpr int kLabelSlot = -2;
  const int n_columns = static_cast<int>(header_.size());
  const int n_features = static_cast<int>(columns.feature_columns.size());
  std::vector<int> slot(header_.size(), -1);
  for (int k = 0; k < n_features; ++k) {
    check_internal(columns.feature_columns[k] >= 0 && columns.feature_columns[k] < n_columns,
                   "parse_range: feature column index outside the header");
    slot[columns.feature_columns[k]] = k;
  }
  check_internal(columns.label_column < n_columns, "parse_range: label column outside the header");
  const bool has_label = columns.label_column >= 0;
  if (has_label) slot[columns.label_column] = kLabelSlot;
  std::vector<double> row(static_cast<std::size_t>(n_features));
  double row_label = 0.0;
  std::string text;  // a text key field, unquoted

  const ByteTable special = make_special_table(delimiter_);
  const bool fast_path = !delimiter_may_be_numeric(delimiter_);
  const char delim = delimiter_;

  // Line numbers are needed only for errors: counted lazily and incrementally.
  const char* line_pos = data_ + begin;
  Index line_no = line_at_begin;
  auto line_of = [&](const char* record) {
    line_no += count_byte(line_pos, record, '\n');
    line_pos = record;
    return line_no;
  };

  while (p < range_end) {
    // Blank records are not rows.
    if (*p == '\n') {
      ++p;
      continue;
    }
    if (*p == '\r' && (p + 1 == end || p[1] == '\n')) {
      p += (p + 1 == end) ? 1 : 2;
      continue;
    }
    const char* const record = p;
    int col = 0;
    std::string problem;  // empty while the record is good
    for (;;) {
      const char* const fs = p;
      const int s = col < n_columns ? slot[col] : -1;
      // Fast path: an unquoted number followed directly by its terminator.
      if (s != -1 && fast_path && problem.empty() && fs < end) {
        const char c0 = *fs;
        if (c0 != '"' && c0 != delim && c0 != '\n' && !is_blank(c0) && c0 != '+') {
          double v;
          const auto [ptr, ec] = std::from_chars(fs, end, v);
          if (ec == std::errc()) {
            const char* t = ptr;
            if (t < end && *t == '\r' && (t + 1 == end || t[1] == '\n')) ++t;
            if (t == end || *t == delim || *t == '\n') {
              if (s >= 0) {
                row[s] = v;
              } else {
                row_label = v;
              }
              ++col;
              p = t;
              if (t == end || *t == '\n') {
                if (p < end) ++p;
                break;
              }
              ++p;
              continue;
            }
          }
        }
      }
      bool unterminated = false;
      p = scan_field(p, end, special, unterminated);
      const bool last = p == end || *p == '\n';
      const char* fe = p;
      if (last && fe > fs && fe[-1] == '\r') --fe;
      if (problem.empty()) {
        auto column_name = [&] {
          return col < n_columns ? "column \"" + header_[col] + "\"" : std::string("a field");
        };
        if (unterminated) {
          problem = column_name() + ": quoted field not closed before the end of the file";
        } else if (s != -1) {
          double v = kNaN;
          ValueStatus status = parse_value(fs, fe, v);
          if (status == ValueStatus::kBad && s >= 0 && columns.text_keys[s] &&
              unescape_name(fs, fe, text)) {
            v = key_from_text(text);
            status = ValueStatus::kOk;
          }
          if (status == ValueStatus::kBad) {
            problem = column_name() + ": expected a number, found " +
                      quoted(std::string_view(fs, static_cast<std::size_t>(fe - fs)));
          } else if (s == kLabelSlot && status == ValueStatus::kEmpty) {
            problem = column_name() + ": empty label";
          } else if (s >= 0) {
            row[s] = v;
          } else {
            row_label = v;
          }
        }
      }
      ++col;
      if (last) {
        if (p < end) ++p;
        break;
      }
      ++p;
    }
    if (problem.empty() && col != n_columns) {
      problem = "expected " + std::to_string(n_columns) + " fields as in the header, found " +
                std::to_string(col) +
                (col < n_columns ? " (column \"" + header_[col] + "\" missing)"
                                 : " (extra field after column \"" + header_.back() + "\")");
    }
    if (!problem.empty()) {
      const std::string message = path_ + ":" + std::to_string(line_of(record)) + ": " + problem;
      if (!skip_bad_rows) throw DataError(message);
      if (chunk.skipped == 0) chunk.first_bad_row = message;
      ++chunk.skipped;
      continue;
    }
    if (chunk.rows == 0) {
      // Reserve by the first record's length, with 10% slack, to avoid regrowing.
      const auto record_bytes = static_cast<std::size_t>(p - record);
      const std::size_t estimate = static_cast<std::size_t>(range_end - record) / record_bytes;
      const std::size_t rows = estimate + estimate / 10 + 16;
      chunk.values.reserve(rows * n_features);
      advise_huge_pages(chunk.values.data(), chunk.values.capacity() * sizeof(double));
      if (has_label) chunk.labels.reserve(rows);
    }
    chunk.values.insert(chunk.values.end(), row.begin(), row.end());
    if (has_label) chunk.labels.push_back(row_label);
    ++chunk.rows;
  }
  return chunk;
}

namespace {

void check_same_header(const CsvFile& first, const CsvFile& other) {
  const auto& a = first.header();
  const auto& b = other.header();
  if (a == b) return;
  std::string detail;
  if (a.size() != b.size()) {
    detail = std::to_string(b.size()) + " columns, expected " + std::to_string(a.size());
  } else {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) {
        detail =
            "column " + std::to_string(i + 1) + " is \"" + b[i] + "\", expected \"" + a[i] + "\"";
        break;
      }
    }
  }
  throw DataError(other.path() + ": header differs from " + first.path() + "'s: " + detail);
}

}  // namespace

std::vector<CsvFile> open_csv_files(const std::vector<std::string>& paths, char delimiter) {
  if (paths.empty()) throw IoError("CSV input: no files to read");
  std::vector<CsvFile> files;
  files.reserve(paths.size());
  for (const std::string& path : paths) {
    files.emplace_back(path, delimiter);
    check_same_header(files.front(), files.back());
  }
  return files;
}

Index csv_data_bytes(const std::vector<CsvFile>& files) {
  Index total = 0;
  for (const CsvFile& f : files) total += f.data_end() - f.data_begin();
  return total;
}

std::vector<CsvPiece> csv_pieces(const std::vector<CsvFile>& files, IndexRange range) {
  std::vector<CsvPiece> pieces;
  Index offset = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const Index size = files[f].data_end() - files[f].data_begin();
    const Index b = std::max(range.begin, offset);
    const Index e = std::min(range.end, offset + size);
    if (b < e) {
      pieces.push_back(
          {f, files[f].data_begin() + (b - offset), files[f].data_begin() + (e - offset)});
    }
    offset += size;
  }
  return pieces;
}

CsvRangeCounts csv_counts_before(Comm& comm, const std::vector<CsvPiece>& pieces,
                                 const CsvRangeCounts& last_piece) {
  // Quote parity and line numbers restart in every file. Only a rank's first piece can start
  // in the middle of a file, and every lower rank that touched that file ended in it, so one
  // allgather of (last file, its quote count, its newline count) gives the prefix. (With one
  // file this is an exscan; an allgather of 3 integers per rank handles many files too.)
  std::array<std::int64_t, 3> mine{-1, 0, 0};
  if (!pieces.empty()) {
    mine = {static_cast<std::int64_t>(pieces.back().file), last_piece.quotes, last_piece.newlines};
  }
  const std::vector<std::array<std::int64_t, 3>> gathered = comm.allgather(mine);
  CsvRangeCounts before;
  if (pieces.empty()) return before;
  for (int r = 0; r < comm.rank(); ++r) {
    const std::array<std::int64_t, 3>& theirs = gathered[r];
    if (theirs[0] == static_cast<std::int64_t>(pieces.front().file)) {
      before.quotes += theirs[1];
      before.newlines += theirs[2];
    }
  }
  return before;
}

RowSlab read_csv_slab(Comm& comm, const std::vector<std::string>& paths, const CsvOptions& options,
                      const std::vector<std::string>& features, const std::string& label,
                      Index* skipped_rows) {
  // A rank that fails keeps taking part in every collective below with empty counts and
  // rethrows at the end, so no other rank waits forever. Ranks after it may then see
  // wrong quote parity and fail too, but the lowest failing rank has the real cause.
  std::exception_ptr error;
  std::vector<CsvFile> files;
  CsvColumns columns;
  std::vector<CsvPiece> pieces;
  std::vector<CsvRangeCounts> counts;
  try {
    files = open_csv_files(paths, options.delimiter);
    columns = files.front().select_columns(features, label);
    pieces = csv_pieces(files, partition_rows(csv_data_bytes(files), comm.size(), comm.rank()));
    for (const CsvPiece& piece : pieces) {
      counts.push_back(files[piece.file].scan_range(piece.begin, piece.end));
    }
  } catch (...) {
    error = std::current_exception();
    pieces.clear();
    counts.clear();
  }

  const CsvRangeCounts before =
      csv_counts_before(comm, pieces, pieces.empty() ? CsvRangeCounts{} : counts.back());

  CsvChunk chunk;
  if (!error) {
    try {
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        const CsvPiece& piece = pieces[i];
        const CsvFile& file = files[piece.file];
        // Later pieces start at their file's first data byte: even parity, known line.
        const bool first = i == 0;
        CsvChunk part = file.parse_range(piece.begin, piece.end, first && (before.quotes & 1) != 0,
                                         file.data_begin_line() + (first ? before.newlines : 0),
                                         columns, options.skip_bad_rows);
        if (chunk.values.empty() && chunk.skipped == 0) {
          chunk = std::move(part);
          continue;
        }
        chunk.values.insert(chunk.values.end(), part.values.begin(), part.values.end());
        chunk.labels.insert(chunk.labels.end(), part.labels.begin(), part.labels.end());
        chunk.rows += part.rows;
        if (chunk.skipped == 0) chunk.first_bad_row = part.first_bad_row;
        chunk.skipped += part.skipped;
      }
    } catch (...) {
      error = std::current_exception();
      chunk = {};
    }
  }
  const Index rows_before = comm.exscan_sum(chunk.rows);
  std::array<std::int64_t, 2> totals{chunk.rows, chunk.skipped};
  comm.allreduce(std::span<std::int64_t>(totals), ReduceOp::kSum);
  if (error) std::rethrow_exception(error);

  RowSlab slab;
  slab.schema.n_features = static_cast<Index>(columns.feature_columns.size());
  slab.schema.feature_names = std::move(columns.feature_names);
  slab.global_begin = rows_before;
  slab.global_rows = totals[0];
  slab.values = std::move(chunk.values);
  slab.has_labels = !label.empty();
  slab.labels = std::move(chunk.labels);
  if (skipped_rows != nullptr) *skipped_rows = totals[1];
  return slab;
}

RowSlab read_csv_slab(Comm& comm, const std::string& path, const CsvOptions& options,
                      const std::vector<std::string>& features, const std::string& label,
                      Index* skipped_rows) {
  return read_csv_slab(comm, std::vector<std::string>{path}, options, features, label,
                       skipped_rows);
}

}  // namespace hpcad
