#include "hpcad/io/parquet/parquet_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include "hpcad/core/error.hpp"
#include "hpcad/io/parquet/compression.hpp"

namespace hpcad::parquet {
namespace {

[[noreturn]] void fail(const std::string& what) { throw DataError(what); }

std::string sys_error() { return std::strerror(errno); }

}  // namespace

// ---------------------------------------------------------------------------------------
FileHandle::FileHandle(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError(path + ": cannot open for reading: " + sys_error());
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const std::string err = sys_error();
    ::close(fd_);
    throw IoError(path + ": cannot stat: " + err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw IoError(path + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

void FileHandle::read_at(std::uint64_t offset, std::size_t n, void* dst) const {
  auto* p = static_cast<char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IoError(path_ + ": read of " + std::to_string(n) + " bytes at offset " +
                    std::to_string(offset) + " failed: " + sys_error());
    }
    if (r == 0) {
      throw IoError(path_ + ": unexpected end of file reading " + std::to_string(n) +
                    " bytes at offset " + std::to_string(offset) + " (file changed?)");
    }
    done += static_cast<std::size_t>(r);
  }
}

// ---------------------------------------------------------------------------------------
ParquetFile::ParquetFile(std::string path) : path_(std::move(path)) {
  FileHandle fh(path_);
  file_size_ = fh.size();
  try {
    if (file_size_ < 12) {
      fail("not a Parquet file: " + std::to_string(file_size_) +
           " bytes is too short for the header and footer");
    }
    std::uint8_t head[4];
    std::uint8_t tail[8];
    fh.read_at(0, 4, head);
    fh.read_at(file_size_ - 8, 8, tail);
    if (std::memcmp(tail + 4, "PARE", 4) == 0) {
      fail("encrypted Parquet footers are not supported");
    }
    if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0) {
      fail("not a Parquet file (missing PAR1 magic at the start or end)");
    }
    std::uint32_t footer_len;
    std::memcpy(&footer_len, tail, 4);
    if (footer_len > file_size_ - 12 || footer_len > kMaxFooterBytes) {
      fail("footer length " + std::to_string(footer_len) + " exceeds the file size (" +
           std::to_string(file_size_) + " bytes) or the limit of " +
           std::to_string(kMaxFooterBytes));
    }
    data_end_ = file_size_ - 8 - footer_len;
    std::vector<std::uint8_t> footer(footer_len);
    fh.read_at(data_end_, footer_len, footer.data());
    metadata_ = parse_file_metadata(footer.data(), footer.size());
    build_schema();
    validate_row_groups();
  } catch (const DataError& e) {
    throw DataError(path_ + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw DataError(path_ + ": out of memory while reading the footer (corrupt sizes?)");
  }
}

void ParquetFile::build_schema() {
  const auto& schema = metadata_.schema;
  const SchemaElement& root = schema[0];
  if (root.type >= 0) fail("schema root is a primitive column");
  std::size_t next = 1;
  // Depth-first walk; `top` is the top-level column being walked.
  struct Walker {
    ParquetFile& self;
    const std::vector<SchemaElement>& schema;
    std::size_t& next;
    void walk(int depth, int top, int def, int rep, const std::string& prefix) {
      if (depth > kMaxSchemaDepth)
        fail("schema nested deeper than " + std::to_string(kMaxSchemaDepth));
      if (next >= schema.size()) fail("schema has fewer elements than its num_children say");
      const SchemaElement& e = schema[next++];
      if (e.repetition < 0 || e.repetition > 2)
        fail("schema element '" + e.name + "' has an invalid repetition type");
      if (e.repetition != static_cast<int>(Repetition::kRequired)) ++def;
      if (e.repetition == static_cast<int>(Repetition::kRepeated)) ++rep;
      const std::string path = prefix.empty() ? e.name : prefix + "." + e.name;
      if (depth == 1) {
        TopLevelColumn c;
        c.name = e.name;
        c.nested = e.type < 0 || e.repetition == static_cast<int>(Repetition::kRepeated);
        c.first_leaf = static_cast<int>(self.leaves_.size());
        self.columns_.push_back(c);
        top = static_cast<int>(self.columns_.size()) - 1;
      }
      if (e.type >= 0) {
        if (e.num_children != 0) fail("primitive schema element '" + e.name + "' has children");
        if (e.type > static_cast<int>(PhysicalType::kFixedLenByteArray)) {
          fail("schema element '" + e.name + "' has unknown physical type " +
               std::to_string(e.type));
        }
        LeafColumn leaf;
        leaf.path = path;
        leaf.top_level = top;
        leaf.type = static_cast<PhysicalType>(e.type);
        leaf.max_def = def;
        leaf.max_rep = rep;
        if (leaf.type == PhysicalType::kInt32 || leaf.type == PhysicalType::kInt64) {
          leaf.interp.is_unsigned =
              (e.converted_type >= kConvertedUint8 && e.converted_type <= kConvertedUint64) ||
              (e.logical_integer && !e.logical_signed);
          int scale = 0;
          if (e.logical_decimal) {
            scale = e.logical_scale;
          } else if (e.converted_type == kConvertedDecimal) {
            scale = e.scale;
          }
          if (scale < 0 || scale > kMaxDecimalScale) {
            leaf.bad_scale = true;
          } else {
            leaf.interp.decimal_scale = scale;
          }
        }
        self.leaves_.push_back(leaf);
        ++self.columns_[top].num_leaves;
        return;
      }
      for (int i = 0; i < e.num_children; ++i) walk(depth + 1, top, def, rep, path);
    }
  } walker{*this, schema, next};
  for (int i = 0; i < root.num_children; ++i) walker.walk(1, -1, 0, 0, "");
  if (next != schema.size()) {
    fail("schema has " + std::to_string(schema.size()) + " elements but its tree uses " +
         std::to_string(next));
  }
}

void ParquetFile::validate_row_groups() {
  Index total = 0;
  for (std::size_t g = 0; g < metadata_.row_groups.size(); ++g) {
    const RowGroup& rg = metadata_.row_groups[g];
    if (rg.columns.size() != leaves_.size()) {
      fail("row group " + std::to_string(g) + " has " + std::to_string(rg.columns.size()) +
           " column chunks, the schema has " + std::to_string(leaves_.size()) + " leaf columns");
    }
    if (rg.num_rows > std::numeric_limits<Index>::max() - total) fail("row count overflows");
    total += rg.num_rows;
    for (std::size_t c = 0; c < rg.columns.size(); ++c) {
      const ColumnChunk& cc = rg.columns[c];
      if (!cc.has_meta_data || !cc.file_path.empty() || cc.encrypted) continue;  // checked on read
      const ColumnMetaData& m = cc.meta;
      // A flat column has one value (or null) per row; a repeated one at least one per row.
      // Checking this ties the row count to every column chunk, so one corrupt count cannot
      // make a reader allocate for rows that are not there.
      const bool count_ok =
          leaves_[c].max_rep == 0 ? m.num_values == rg.num_rows : m.num_values >= rg.num_rows;
      if (!count_ok) {
        fail("row group " + std::to_string(g) + " has " + std::to_string(rg.num_rows) +
             " rows but its column '" + leaves_[c].path + "' has " + std::to_string(m.num_values) +
             " values");
      }
      if (m.num_values == 0) continue;  // empty chunks may carry placeholder offsets
      const bool bad_offsets = m.data_page_offset < 4 || m.total_compressed_size < 0 ||
                               static_cast<std::uint64_t>(m.data_page_offset) > data_end_ ||
                               static_cast<std::uint64_t>(m.total_compressed_size) > data_end_;
      if (bad_offsets) {
        fail("row group " + std::to_string(g) + ", column '" + leaves_[c].path +
             "': column chunk offset " + std::to_string(m.data_page_offset) + " or size " +
             std::to_string(m.total_compressed_size) + " is outside the file's data (" +
             std::to_string(data_end_) + " bytes)");
      }
    }
  }
  // The row groups are authoritative: some writers leave FileMetaData.num_rows at 0.
  metadata_.num_rows = total;
}

int ParquetFile::find_column(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string ParquetFile::unreadable_reason(int c, bool as_key) const {
  const TopLevelColumn& col = columns_[c];
  if (col.nested || col.num_leaves != 1) {
    return "is nested (a group or repeated field); hpcad reads only flat numeric columns";
  }
  const LeafColumn& leaf = leaves_[col.first_leaf];
  switch (leaf.type) {
    case PhysicalType::kBoolean:
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      break;
    case PhysicalType::kByteArray:
      if (as_key) break;
      [[fallthrough]];
    default:
      return std::string("has physical type ") + to_string(leaf.type) +
             "; hpcad reads BOOLEAN, INT32, INT64, FLOAT and DOUBLE columns (and BYTE_ARRAY "
             "text in [features] group_by / order_by key columns)";
  }
  if (leaf.bad_scale) return "has a decimal scale outside [0, 38]";
  return "";
}

void ParquetFile::read_column(const FileHandle& file, int rg, int c, double* out,
                              std::size_t stride, ReadScratch& scratch) const {
  try {
    read_column_impl(file, rg, c, out, stride, scratch);
  } catch (const DataError& e) {
    throw DataError(path_ + ": column '" + columns_[c].name + "', row group " + std::to_string(rg) +
                    ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw DataError(path_ + ": column '" + columns_[c].name + "', row group " + std::to_string(rg) +
                    ": out of memory (corrupt sizes?)");
  }
}

namespace {

void decode_values(std::int32_t encoding, const LeafColumn& leaf, const std::uint8_t* p,
                   std::size_t size, std::size_t n, double* dst, const std::vector<double>& dict,
                   bool has_dict) {
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain:
      decode_plain(leaf.type, leaf.interp, p, size, n, dst);
      return;
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary:
      if (!has_dict) fail("dictionary-encoded page without a dictionary page");
      decode_dictionary_indices(p, size, n, dict.data(), dict.size(), dst);
      return;
    case Encoding::kRle:
      if (leaf.type != PhysicalType::kBoolean) break;
      decode_rle_boolean(p, size, n, dst);
      return;
    case Encoding::kByteStreamSplit:
      decode_byte_stream_split(leaf.type, leaf.interp, p, size, n, dst);
      return;
    case Encoding::kDeltaBinaryPacked:
      decode_delta_binary_packed(leaf.type, leaf.interp, p, size, n, dst);
      return;
    default:
      break;
  }
  fail("unsupported encoding " + encoding_name(encoding) + " for " + to_string(leaf.type) +
       " values (hpcad supports PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE for booleans, "
       "BYTE_STREAM_SPLIT and DELTA_BINARY_PACKED)");
}

// Spreads `nn` dense values at dst[0..nn) over the `n` slots whose level is `max_def`,
// filling the others with NaN. Works in place from the back (the dense index never
// passes the slot index).
void expand_nulls(double* dst, const std::uint8_t* levels, std::size_t n, std::size_t nn,
                  int max_def) {
  std::size_t k = nn;
  for (std::size_t i = n; i-- > 0;) {
    if (levels[i] == max_def) {
      dst[i] = dst[--k];
    } else {
      dst[i] = std::numeric_limits<double>::quiet_NaN();
    }
  }
}

}  // namespace

void ParquetFile::read_column_impl(const FileHandle& file, int rg_index, int c, double* out,
                                   std::size_t stride, ReadScratch& scratch) const {
  const RowGroup& rg = metadata_.row_groups[rg_index];
  const TopLevelColumn& col = columns_[c];
  const LeafColumn& leaf = leaves_[col.first_leaf];
  const ColumnChunk& cc = rg.columns[col.first_leaf];
  if (!cc.has_meta_data) fail("column chunk has no metadata");
  if (cc.encrypted) fail("encrypted columns are not supported");
  if (!cc.file_path.empty())
    fail("column chunk stored in another file ('" + cc.file_path + "') is not supported");
  const ColumnMetaData& m = cc.meta;
  if (m.type != static_cast<std::int32_t>(leaf.type)) {
    fail("column chunk type " + std::to_string(m.type) + " differs from the schema's " +
         to_string(leaf.type));
  }
  if (!codec_supported(m.codec)) {
    fail("unsupported compression codec " + codec_name(m.codec) +
         " (hpcad supports UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW and LZ4)");
  }
  const Index rows = rg.num_rows;
  if (m.num_values != rows) {
    fail("column chunk has " + std::to_string(m.num_values) + " values but the row group has " +
         std::to_string(rows) + " rows");
  }
  if (rows == 0) return;
  std::uint64_t start = static_cast<std::uint64_t>(m.data_page_offset);
  if (m.dictionary_page_offset > 0 &&
      static_cast<std::uint64_t>(m.dictionary_page_offset) < start) {
    start = static_cast<std::uint64_t>(m.dictionary_page_offset);
  }
  const std::uint64_t len = static_cast<std::uint64_t>(m.total_compressed_size);
  if (start < 4 || start > data_end_ || len > data_end_ - start) {
    fail("column chunk [" + std::to_string(start) + ", +" + std::to_string(len) +
         ") lies outside the file's data (" + std::to_string(data_end_) + " bytes)");
  }
  scratch.chunk.resize(static_cast<std::size_t>(len));
  file.read_at(start, static_cast<std::size_t>(len), scratch.chunk.data());
  const std::uint8_t* chunk = scratch.chunk.data();

  const std::size_t total = static_cast<std::size_t>(rows);
  const std::size_t page_limit =
      m.total_uncompressed_size >= 0
          ? static_cast<std::size_t>(std::min<std::uint64_t>(
                static_cast<std::uint64_t>(m.total_uncompressed_size), kMaxPageBytes))
          : kMaxPageBytes;
  std::size_t pos = 0;
  std::size_t produced = 0;
  bool has_dict = false;
  const int max_def = leaf.max_def;

  // Returns the page's uncompressed bytes (the chunk itself when not compressed).
  auto page_bytes = [&](const std::uint8_t* src, std::size_t csize, std::size_t usize,
                        bool compressed) -> const std::uint8_t* {
    if (!compressed || m.codec == static_cast<std::int32_t>(Codec::kUncompressed)) {
      if (csize != usize) {
        fail("uncompressed page of " + std::to_string(csize) + " bytes, header says " +
             std::to_string(usize));
      }
      return src;
    }
    if (usize == 0 && csize == 0) return src;  // empty page: nothing to decompress
    check_decompressed_size(m.codec, src, csize, usize);
    scratch.page.resize(usize);
    decompress(m.codec, src, csize, scratch.page.data(), usize);
    return scratch.page.data();
  };

  // Decodes one data page of `n` rows (`nn` of them non-null, levels in scratch.levels) into
  // rows [produced, produced + n) of the output. With a stride, values go through a
  // page-sized buffer that is scattered while still in cache; PLAIN doubles without nulls
  // are copied straight from the page.
  auto decode_page = [&](std::int32_t encoding, const std::uint8_t* p, std::size_t size,
                         std::size_t n, std::size_t nn) {
    double* target = out + produced * stride;
    if (stride != 1 && nn == n && encoding == static_cast<std::int32_t>(Encoding::kPlain) &&
        leaf.type == PhysicalType::kDouble) {
      if (size / 8 < n) {
        fail("PLAIN DOUBLE: " + std::to_string(n) + " values need " + std::to_string(8 * n) +
             " bytes but the page has " + std::to_string(size));
      }
      for (std::size_t i = 0; i < n; ++i) std::memcpy(target + i * stride, p + 8 * i, 8);
    } else {
      double* d = target;
      if (stride != 1) {
        if (scratch.column.size() < n) scratch.column.resize(n);
        d = scratch.column.data();
      }
      decode_values(encoding, leaf, p, size, nn, d, scratch.dict, has_dict);
      if (max_def > 0) expand_nulls(d, scratch.levels.data(), n, nn, max_def);
      if (stride != 1) {
        for (std::size_t i = 0; i < n; ++i) target[i * stride] = d[i];
      }
    }
    produced += n;
  };

  while (produced < total) {
    if (pos >= len) {
      fail("column chunk ends after " + std::to_string(produced) + " of " + std::to_string(total) +
           " values");
    }
    std::size_t header_size = 0;
    const PageHeader ph =
        parse_page_header(chunk + pos, static_cast<std::size_t>(len - pos), header_size);
    pos += header_size;
    const std::size_t csize = static_cast<std::size_t>(ph.compressed_page_size);
    const std::size_t usize = static_cast<std::size_t>(ph.uncompressed_page_size);
    if (csize > len - pos) {
      fail("page of " + std::to_string(csize) + " bytes at chunk offset " + std::to_string(pos) +
           " runs past the end of the column chunk (" + std::to_string(len) + " bytes)");
    }
    const std::uint8_t* page = chunk + pos;
    pos += csize;
    if (usize > page_limit) {
      fail("page claims " + std::to_string(usize) +
           " uncompressed bytes, more than the column "
           "chunk's total (" +
           std::to_string(m.total_uncompressed_size) + ") or the limit");
    }
    if (ph.has_crc) {
      const auto crc = static_cast<std::uint32_t>(
          ::crc32(0L, page, static_cast<uInt>(csize)));  // pages are < 2 GiB (i32 size)
      if (crc != ph.crc) fail("page checksum mismatch (corrupt data)");
    }
    const std::size_t remaining = total - produced;

    if (ph.type == static_cast<std::int32_t>(PageType::kDictionaryPage)) {
      if (!ph.has_dictionary_page) fail("dictionary page without a dictionary page header");
      if (has_dict || produced > 0) fail("unexpected second or late dictionary page");
      const auto& dh = ph.dictionary_page;
      if (dh.encoding != static_cast<std::int32_t>(Encoding::kPlain) &&
          dh.encoding != static_cast<std::int32_t>(Encoding::kPlainDictionary)) {
        fail("unsupported dictionary page encoding " + encoding_name(dh.encoding));
      }
      if (dh.num_values < 0) fail("dictionary page has a negative value count");
      const std::size_t n = static_cast<std::size_t>(dh.num_values);
      const std::size_t w = plain_width(leaf.type);
      // A BYTE_ARRAY value takes at least its 4-byte length.
      const std::size_t needed = leaf.type == PhysicalType::kByteArray ? n * 4
                                 : w == 0                              ? (n + 7) / 8
                                                                       : n * w;
      if (needed > usize) {
        fail("dictionary page of " + std::to_string(usize) + " bytes cannot hold " +
             std::to_string(n) + " values");
      }
      const std::uint8_t* data = page_bytes(page, csize, usize, true);
      scratch.dict.resize(n);
      decode_plain(leaf.type, leaf.interp, data, usize, n, scratch.dict.data());
      has_dict = true;
    } else if (ph.type == static_cast<std::int32_t>(PageType::kDataPage)) {
      if (!ph.has_data_page) fail("data page without a data page header");
      const auto& dh = ph.data_page;
      if (dh.num_values < 0 || static_cast<std::size_t>(dh.num_values) > remaining) {
        fail("data page has " + std::to_string(dh.num_values) + " values, but only " +
             std::to_string(remaining) + " rows of the row group remain");
      }
      const std::size_t n = static_cast<std::size_t>(dh.num_values);
      const std::uint8_t* p = page_bytes(page, csize, usize, true);
      const std::uint8_t* end = p + usize;
      std::size_t nn = n;
      if (max_def > 0) {
        scratch.levels.resize(n);
        if (dh.definition_level_encoding == static_cast<std::int32_t>(Encoding::kRle)) {
          if (end - p < 4) fail("data page too short for its definition levels");
          std::uint32_t lev_len;
          std::memcpy(&lev_len, p, 4);
          if (lev_len > static_cast<std::size_t>(end - p) - 4)
            fail("definition levels run past the end of the page");
          decode_levels_rle(p + 4, lev_len, max_def, n, scratch.levels.data());
          p += 4 + static_cast<std::size_t>(lev_len);
        } else if (dh.definition_level_encoding ==
                   static_cast<std::int32_t>(Encoding::kBitPacked)) {
          p += decode_levels_bit_packed(p, static_cast<std::size_t>(end - p), max_def, n,
                                        scratch.levels.data());
        } else {
          fail("unsupported definition level encoding " +
               encoding_name(dh.definition_level_encoding));
        }
        nn = static_cast<std::size_t>(std::count(
            scratch.levels.begin(), scratch.levels.begin() + static_cast<std::ptrdiff_t>(n),
            static_cast<std::uint8_t>(max_def)));
      }
      decode_page(dh.encoding, p, static_cast<std::size_t>(end - p), n, nn);
    } else if (ph.type == static_cast<std::int32_t>(PageType::kDataPageV2)) {
      if (!ph.has_data_page_v2) fail("data page v2 without its header");
      const auto& dh = ph.data_page_v2;
      if (dh.num_values < 0 || static_cast<std::size_t>(dh.num_values) > remaining) {
        fail("data page has " + std::to_string(dh.num_values) + " values, but only " +
             std::to_string(remaining) + " rows of the row group remain");
      }
      const std::size_t n = static_cast<std::size_t>(dh.num_values);
      if (dh.definition_levels_byte_length < 0 || dh.repetition_levels_byte_length < 0) {
        fail("data page v2 has negative level lengths");
      }
      const std::size_t levels_len = static_cast<std::size_t>(dh.definition_levels_byte_length) +
                                     static_cast<std::size_t>(dh.repetition_levels_byte_length);
      if (levels_len > csize || levels_len > usize) fail("data page v2 levels exceed the page");
      const std::uint8_t* def = page + dh.repetition_levels_byte_length;
      std::size_t nn = n;
      if (max_def > 0) {
        scratch.levels.resize(n);
        decode_levels_rle(def, static_cast<std::size_t>(dh.definition_levels_byte_length), max_def,
                          n, scratch.levels.data());
        nn = static_cast<std::size_t>(std::count(
            scratch.levels.begin(), scratch.levels.begin() + static_cast<std::ptrdiff_t>(n),
            static_cast<std::uint8_t>(max_def)));
      }
      if (dh.num_nulls != static_cast<std::int32_t>(n - nn)) {
        fail("data page v2 says " + std::to_string(dh.num_nulls) + " nulls, its levels have " +
             std::to_string(n - nn));
      }
      const std::size_t vc = csize - levels_len;
      const std::size_t vu = usize - levels_len;
      const std::uint8_t* values = page_bytes(page + levels_len, vc, vu, dh.is_compressed);
      decode_page(dh.encoding, values, vu, n, nn);
    }
    // Index pages and unknown page types carry no values: skipped.
  }
}

}  // namespace hpcad::parquet
