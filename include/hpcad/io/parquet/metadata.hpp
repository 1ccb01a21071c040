#pragma once
/// The parts of Parquet's Thrift metadata (parquet.thrift) that hpcad uses, and their
/// decoders. Unknown fields are skipped; fields hpcad relies on are type-checked.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hpcad::parquet {

enum class PhysicalType : std::int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class Repetition : std::int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : std::int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

enum class Codec : std::int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

enum class PageType : std::int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

const char* to_string(PhysicalType t);
std::string encoding_name(std::int32_t e);
std::string codec_name(std::int32_t c);

/// Converted types hpcad interprets (parquet.thrift ConvertedType).
inline constexpr std::int32_t kConvertedDecimal = 5;
inline constexpr std::int32_t kConvertedUint8 = 11;
inline constexpr std::int32_t kConvertedUint64 = 14;

struct SchemaElement {
  std::int32_t type = -1;  ///< PhysicalType, or -1 for a group
  std::int32_t type_length = 0;
  std::int32_t repetition = -1;  ///< Repetition, or -1 when absent (the root)
  std::string name;
  std::int32_t num_children = 0;
  std::int32_t converted_type = -1;
  std::int32_t scale = 0;
  // From LogicalType: INTEGER(bitWidth, isSigned) and DECIMAL(scale).
  bool logical_integer = false;
  bool logical_signed = true;
  bool logical_decimal = false;
  std::int32_t logical_scale = 0;
};

struct ColumnMetaData {
  std::int32_t type = -1;
  std::vector<std::string> path_in_schema;
  std::int32_t codec = -1;
  std::int64_t num_values = -1;
  std::int64_t total_uncompressed_size = -1;
  std::int64_t total_compressed_size = -1;
  std::int64_t data_page_offset = -1;
  std::int64_t dictionary_page_offset = -1;  ///< -1 when absent
};

struct ColumnChunk {
  std::string file_path;  ///< non-empty: the chunk lives in another file (unsupported)
  bool has_meta_data = false;
  bool encrypted = false;
  ColumnMetaData meta;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  std::int64_t num_rows = -1;
};

struct FileMetaData {
  std::vector<SchemaElement> schema;
  std::int64_t num_rows = -1;
  std::vector<RowGroup> row_groups;
};

struct DataPageHeader {
  std::int32_t num_values = -1;
  std::int32_t encoding = -1;
  std::int32_t definition_level_encoding = -1;
  std::int32_t repetition_level_encoding = -1;
};

struct DictionaryPageHeader {
  std::int32_t num_values = -1;
  std::int32_t encoding = -1;
};

struct DataPageHeaderV2 {
  std::int32_t num_values = -1;
  std::int32_t num_nulls = -1;
  std::int32_t num_rows = -1;
  std::int32_t encoding = -1;
  std::int32_t definition_levels_byte_length = -1;
  std::int32_t repetition_levels_byte_length = -1;
  bool is_compressed = true;
};

struct PageHeader {
  std::int32_t type = -1;
  std::int32_t uncompressed_page_size = -1;
  std::int32_t compressed_page_size = -1;
  bool has_crc = false;
  std::uint32_t crc = 0;
  bool has_data_page = false;
  bool has_dictionary_page = false;
  bool has_data_page_v2 = false;
  DataPageHeader data_page;
  DictionaryPageHeader dictionary_page;
  DataPageHeaderV2 data_page_v2;
};

/// Decodes a FileMetaData message occupying exactly the given bytes (trailing bytes are
/// tolerated). Throws DataError on malformed input or missing required fields.
FileMetaData parse_file_metadata(const std::uint8_t* data, std::size_t size);

/// Decodes the PageHeader at the start of `data` (at most `size` bytes); sets
/// `header_size` to the bytes it occupies. Throws DataError on malformed input.
PageHeader parse_page_header(const std::uint8_t* data, std::size_t size, std::size_t& header_size);

}  // namespace hpcad::parquet
