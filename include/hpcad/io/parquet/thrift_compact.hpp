#pragma once
/// A bounded reader for the Thrift compact protocol (the encoding of Parquet's footer and
/// page headers). Every length, count and nesting level read from the input is checked
/// against the bytes that remain and against `ThriftLimits` before anything is allocated.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace hpcad::parquet {

/// Compact-protocol wire types (the low nibble of a field header).
enum class TType : std::uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

/// Caps on what one Thrift message may contain.
struct ThriftLimits {
  int max_depth = 64;                          ///< nesting of structs, lists and maps
  std::size_t max_string_bytes = 64u << 20;    ///< one string or binary value
  std::size_t max_container_size = 64u << 20;  ///< elements of one list, set or map
};

/// Reads one compact-protocol message from a byte range. Throws DataError on malformed
/// input (never reads outside the range). Local.
class ThriftCompactReader {
 public:
  ThriftCompactReader(const std::uint8_t* data, std::size_t size, ThriftLimits limits = {});

  /// Enters a struct: call before the first `next_field`.
  void begin_struct();
  /// Reads the next field header of the current struct. Returns false at its STOP marker
  /// (and leaves the struct). `type` is the wire type; booleans carry their value in it.
  bool next_field(std::int16_t& id, TType& type);

  bool read_bool(TType field_type);  ///< a boolean struct field (value is in the type)
  std::int8_t read_byte();
  std::int16_t read_i16();
  std::int32_t read_i32();
  std::int64_t read_i64();
  double read_double();
  std::span<const std::uint8_t> read_binary();
  std::string read_string();

  struct ListHeader {
    TType element_type;
    std::uint32_t size;
  };
  /// Reads a list or set header; the caller reads exactly `size` elements (then
  /// calls `end_list`).
  ListHeader begin_list();
  void end_list();
  /// Reads a boolean list element (encoded as one byte).
  bool read_list_bool();

  /// Skips a value of wire type `type` (bounded by the depth limit).
  void skip(TType type);

  std::size_t position() const { return pos_; }

  /// Throws DataError unless the field has the expected wire type.
  static void expect(TType got, TType want, const char* field);

 private:
  std::uint64_t read_varint();
  void enter();
  std::uint8_t byte();

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  ThriftLimits limits_;
  int depth_ = 0;
  // Field ids are delta-encoded within a struct; a small fixed stack keeps the last id of
  // each open struct without allocating (depth is capped by limits_.max_depth).
  static constexpr int kMaxStack = 128;
  std::int16_t last_id_[kMaxStack] = {};
  int struct_depth_ = 0;
};

}  // namespace hpcad::parquet
