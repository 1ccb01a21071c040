#include "hpcad/io/parquet/metadata.hpp"

#include "hpcad/core/error.hpp"
#include "hpcad/io/parquet/thrift_compact.hpp"

namespace hpcad::parquet {

const char* to_string(PhysicalType t) {
  switch (t) {
    case PhysicalType::kBoolean:
      return "BOOLEAN";
    case PhysicalType::kInt32:
      return "INT32";
    case PhysicalType::kInt64:
      return "INT64";
    case PhysicalType::kInt96:
      return "INT96";
    case PhysicalType::kFloat:
      return "FLOAT";
    case PhysicalType::kDouble:
      return "DOUBLE";
    case PhysicalType::kByteArray:
      return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray:
      return "FIXED_LEN_BYTE_ARRAY";
  }
  return "UNKNOWN";
}

std::string encoding_name(std::int32_t e) {
  switch (e) {
    case 0:
      return "PLAIN";
    case 2:
      return "PLAIN_DICTIONARY";
    case 3:
      return "RLE";
    case 4:
      return "BIT_PACKED";
    case 5:
      return "DELTA_BINARY_PACKED";
    case 6:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case 7:
      return "DELTA_BYTE_ARRAY";
    case 8:
      return "RLE_DICTIONARY";
    case 9:
      return "BYTE_STREAM_SPLIT";
  }
  return "encoding #" + std::to_string(e);
}

std::string codec_name(std::int32_t c) {
  switch (c) {
    case 0:
      return "UNCOMPRESSED";
    case 1:
      return "SNAPPY";
    case 2:
      return "GZIP";
    case 3:
      return "LZO";
    case 4:
      return "BROTLI";
    case 5:
      return "LZ4 (Hadoop)";
    case 6:
      return "ZSTD";
    case 7:
      return "LZ4_RAW";
  }
  return "codec #" + std::to_string(c);
}

namespace {

using R = ThriftCompactReader;

// Iterates the fields of a struct, calling `on_field(id, type)`; it returns true when it
// consumed the value, otherwise the value is skipped.
template <class F>
void read_struct(R& r, F&& on_field) {
  r.begin_struct();
  std::int16_t id;
  TType type;
  while (r.next_field(id, type)) {
    if (!on_field(id, type)) r.skip(type);
  }
}

std::int32_t i32(R& r, TType t, const char* name) {
  R::expect(t, TType::kI32, name);
  return r.read_i32();
}
std::int64_t i64(R& r, TType t, const char* name) {
  R::expect(t, TType::kI64, name);
  return r.read_i64();
}

template <class F>
void read_list(R& r, TType t, const char* name, TType elem, F&& on_elem) {
  R::expect(t, TType::kList, name);
  const auto h = r.begin_list();
  if (h.size > 0 && h.element_type != elem) {
    throw DataError(std::string("corrupt Thrift metadata: list ") + name +
                    " has the wrong element type");
  }
  for (std::uint32_t i = 0; i < h.size; ++i) on_elem();
  r.end_list();
}

SchemaElement read_schema_element(R& r) {
  SchemaElement s;
  bool has_name = false;
  read_struct(r, [&](std::int16_t id, TType t) {
    switch (id) {
      case 1:
        s.type = i32(r, t, "SchemaElement.type");
        return true;
      case 2:
        s.type_length = i32(r, t, "SchemaElement.type_length");
        return true;
      case 3:
        s.repetition = i32(r, t, "SchemaElement.repetition_type");
        return true;
      case 4:
        R::expect(t, TType::kBinary, "SchemaElement.name");
        s.name = r.read_string();
        has_name = true;
        return true;
      case 5:
        s.num_children = i32(r, t, "SchemaElement.num_children");
        return true;
      case 6:
        s.converted_type = i32(r, t, "SchemaElement.converted_type");
        return true;
      case 7:
        s.scale = i32(r, t, "SchemaElement.scale");
        return true;
      case 10:
        R::expect(t, TType::kStruct, "SchemaElement.logicalType");
        read_struct(r, [&](std::int16_t lid, TType lt) {
          if (lid == 5) {  // DECIMAL
            R::expect(lt, TType::kStruct, "LogicalType.DECIMAL");
            s.logical_decimal = true;
            read_struct(r, [&](std::int16_t did, TType dt) {
              if (did == 1) {
                s.logical_scale = i32(r, dt, "DecimalType.scale");
                return true;
              }
              return false;
            });
            return true;
          }
          if (lid == 10) {  // INTEGER
            R::expect(lt, TType::kStruct, "LogicalType.INTEGER");
            s.logical_integer = true;
            read_struct(r, [&](std::int16_t iid, TType it) {
              if (iid == 2) {
                R::expect(it, TType::kBoolTrue, "IntType.isSigned");
                s.logical_signed = r.read_bool(it);
                return true;
              }
              return false;
            });
            return true;
          }
          return false;
        });
        return true;
      default:
        return false;
    }
  });
  if (!has_name) throw DataError("corrupt Thrift metadata: schema element without a name");
  if (s.num_children < 0) throw DataError("corrupt Thrift metadata: negative num_children");
  return s;
}

ColumnMetaData read_column_meta(R& r) {
  ColumnMetaData m;
  read_struct(r, [&](std::int16_t id, TType t) {
    switch (id) {
      case 1:
        m.type = i32(r, t, "ColumnMetaData.type");
        return true;
      case 3:
        read_list(r, t, "ColumnMetaData.path_in_schema", TType::kBinary,
                  [&] { m.path_in_schema.push_back(r.read_string()); });
        return true;
      case 4:
        m.codec = i32(r, t, "ColumnMetaData.codec");
        return true;
      case 5:
        m.num_values = i64(r, t, "ColumnMetaData.num_values");
        return true;
      case 6:
        m.total_uncompressed_size = i64(r, t, "ColumnMetaData.total_uncompressed_size");
        return true;
      case 7:
        m.total_compressed_size = i64(r, t, "ColumnMetaData.total_compressed_size");
        return true;
      case 9:
        m.data_page_offset = i64(r, t, "ColumnMetaData.data_page_offset");
        return true;
      case 11:
        m.dictionary_page_offset = i64(r, t, "ColumnMetaData.dictionary_page_offset");
        return true;
      default:
        return false;
    }
  });
  return m;
}

ColumnChunk read_column_chunk(R& r) {
  ColumnChunk c;
  read_struct(r, [&](std::int16_t id, TType t) {
    switch (id) {
      case 1:
        R::expect(t, TType::kBinary, "ColumnChunk.file_path");
        c.file_path = r.read_string();
        return true;
      case 3:
        R::expect(t, TType::kStruct, "ColumnChunk.meta_data");
        c.meta = read_column_meta(r);
        c.has_meta_data = true;
        return true;
      case 8:
      case 9:
        c.encrypted = true;
        return false;
      default:
        return false;
    }
  });
  return c;
}

RowGroup read_row_group(R& r) {
  RowGroup g;
  read_struct(r, [&](std::int16_t id, TType t) {
    switch (id) {
      case 1:
        read_list(r, t, "RowGroup.columns", TType::kStruct,
                  [&] { g.columns.push_back(read_column_chunk(r)); });
        return true;
      case 3:
        g.num_rows = i64(r, t, "RowGroup.num_rows");
        return true;
      default:
        return false;
    }
  });
  if (g.num_rows < 0) throw DataError("corrupt Thrift metadata: row group without num_rows");
  return g;
}

}  // namespace

FileMetaData parse_file_metadata(const std::uint8_t* data, std::size_t size) {
  R r(data, size);
  FileMetaData f;
  read_struct(r, [&](std::int16_t id, TType t) {
    switch (id) {
      case 2:
        read_list(r, t, "FileMetaData.schema", TType::kStruct,
                  [&] { f.schema.push_back(read_schema_element(r)); });
        return true;
      case 3:
        f.num_rows = i64(r, t, "FileMetaData.num_rows");
        return true;
      case 4:
        read_list(r, t, "FileMetaData.row_groups", TType::kStruct,
                  [&] { f.row_groups.push_back(read_row_group(r)); });
        return true;
      default:
        return false;
    }
  });
  if (f.schema.empty()) throw DataError("corrupt Thrift metadata: footer without a schema");
  if (f.num_rows < 0) throw DataError("corrupt Thrift metadata: footer without num_rows");
  return f;
}

PageHeader parse_page_header(const std::uint8_t* data, std::size_t size, std::size_t& header_size) {
  // Page headers are small; the limits keep a corrupt one from claiming huge statistics.
  ThriftLimits limits;
  limits.max_depth = 16;
  R r(data, size, limits);
  PageHeader h;
  read_struct(r, [&](std::int16_t id, TType t) {
    switch (id) {
      case 1:
        h.type = i32(r, t, "PageHeader.type");
        return true;
      case 2:
        h.uncompressed_page_size = i32(r, t, "PageHeader.uncompressed_page_size");
        return true;
      case 3:
        h.compressed_page_size = i32(r, t, "PageHeader.compressed_page_size");
        return true;
      case 4:
        h.crc = static_cast<std::uint32_t>(i32(r, t, "PageHeader.crc"));
        h.has_crc = true;
        return true;
      case 5:
        R::expect(t, TType::kStruct, "PageHeader.data_page_header");
        h.has_data_page = true;
        read_struct(r, [&](std::int16_t did, TType dt) {
          switch (did) {
            case 1:
              h.data_page.num_values = i32(r, dt, "DataPageHeader.num_values");
              return true;
            case 2:
              h.data_page.encoding = i32(r, dt, "DataPageHeader.encoding");
              return true;
            case 3:
              h.data_page.definition_level_encoding =
                  i32(r, dt, "DataPageHeader.definition_level_encoding");
              return true;
            case 4:
              h.data_page.repetition_level_encoding =
                  i32(r, dt, "DataPageHeader.repetition_level_encoding");
              return true;
            default:
              return false;
          }
        });
        return true;
      case 7:
        R::expect(t, TType::kStruct, "PageHeader.dictionary_page_header");
        h.has_dictionary_page = true;
        read_struct(r, [&](std::int16_t did, TType dt) {
          switch (did) {
            case 1:
              h.dictionary_page.num_values = i32(r, dt, "DictionaryPageHeader.num_values");
              return true;
            case 2:
              h.dictionary_page.encoding = i32(r, dt, "DictionaryPageHeader.encoding");
              return true;
            default:
              return false;
          }
        });
        return true;
      case 8:
        R::expect(t, TType::kStruct, "PageHeader.data_page_header_v2");
        h.has_data_page_v2 = true;
        read_struct(r, [&](std::int16_t did, TType dt) {
          auto& v = h.data_page_v2;
          switch (did) {
            case 1:
              v.num_values = i32(r, dt, "DataPageHeaderV2.num_values");
              return true;
            case 2:
              v.num_nulls = i32(r, dt, "DataPageHeaderV2.num_nulls");
              return true;
            case 3:
              v.num_rows = i32(r, dt, "DataPageHeaderV2.num_rows");
              return true;
            case 4:
              v.encoding = i32(r, dt, "DataPageHeaderV2.encoding");
              return true;
            case 5:
              v.definition_levels_byte_length =
                  i32(r, dt, "DataPageHeaderV2.definition_levels_byte_length");
              return true;
            case 6:
              v.repetition_levels_byte_length =
                  i32(r, dt, "DataPageHeaderV2.repetition_levels_byte_length");
              return true;
            case 7:
              R::expect(dt, TType::kBoolTrue, "DataPageHeaderV2.is_compressed");
              v.is_compressed = r.read_bool(dt);
              return true;
            default:
              return false;
          }
        });
        return true;
      default:
        return false;
    }
  });
  header_size = r.position();
  if (h.type < 0 || h.uncompressed_page_size < 0 || h.compressed_page_size < 0) {
    throw DataError("corrupt page header: missing or negative type or page sizes");
  }
  return h;
}

}  // namespace hpcad::parquet
