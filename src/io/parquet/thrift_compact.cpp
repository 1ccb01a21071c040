#include "hpcad/io/parquet/thrift_compact.hpp"

#include <algorithm>
#include <cstring>

#include "hpcad/core/error.hpp"

namespace hpcad::parquet {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw DataError("corrupt Thrift metadata: " + what);
}

std::int64_t zigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

const char* type_name(TType t) {
  switch (t) {
    case TType::kStop:
      return "stop";
    case TType::kBoolTrue:
    case TType::kBoolFalse:
      return "bool";
    case TType::kByte:
      return "byte";
    case TType::kI16:
      return "i16";
    case TType::kI32:
      return "i32";
    case TType::kI64:
      return "i64";
    case TType::kDouble:
      return "double";
    case TType::kBinary:
      return "binary";
    case TType::kList:
      return "list";
    case TType::kSet:
      return "set";
    case TType::kMap:
      return "map";
    case TType::kStruct:
      return "struct";
  }
  return "unknown";
}

}  // namespace

ThriftCompactReader::ThriftCompactReader(const std::uint8_t* data, std::size_t size,
                                         ThriftLimits limits)
    : data_(data), size_(size), limits_(limits) {
  limits_.max_depth = std::min(limits_.max_depth, kMaxStack - 1);
}

std::uint8_t ThriftCompactReader::byte() {
  if (pos_ >= size_) fail("unexpected end of data at byte " + std::to_string(pos_));
  return data_[pos_++];
}

std::uint64_t ThriftCompactReader::read_varint() {
  std::uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    const std::uint8_t b = byte();
    if (shift == 63 && (b & 0x7e) != 0) fail("varint overflows 64 bits");
    result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return result;
  }
  fail("varint longer than 10 bytes");
}

void ThriftCompactReader::enter() {
  if (++depth_ > limits_.max_depth) {
    fail("nesting deeper than " + std::to_string(limits_.max_depth));
  }
}

void ThriftCompactReader::begin_struct() {
  enter();
  last_id_[++struct_depth_] = 0;
}

bool ThriftCompactReader::next_field(std::int16_t& id, TType& type) {
  const std::uint8_t header = byte();
  const std::uint8_t t = header & 0x0f;
  if (t == 0) {
    --struct_depth_;
    --depth_;
    return false;
  }
  if (t > static_cast<std::uint8_t>(TType::kStruct)) {
    fail("unknown field type " + std::to_string(t));
  }
  type = static_cast<TType>(t);
  const int delta = header >> 4;
  if (delta != 0) {
    const int next = last_id_[struct_depth_] + delta;
    if (next > INT16_MAX) fail("field id overflow");
    id = static_cast<std::int16_t>(next);
  } else {
    const std::int64_t v = zigzag(read_varint());
    if (v < INT16_MIN || v > INT16_MAX) fail("field id out of range");
    id = static_cast<std::int16_t>(v);
  }
  last_id_[struct_depth_] = id;
  return true;
}

void ThriftCompactReader::expect(TType got, TType want, const char* field) {
  const bool both_bool = (got == TType::kBoolTrue || got == TType::kBoolFalse) &&
                         (want == TType::kBoolTrue || want == TType::kBoolFalse);
  if (got != want && !both_bool) {
    fail(std::string("field ") + field + " has type " + type_name(got) + ", expected " +
         type_name(want));
  }
}

bool ThriftCompactReader::read_bool(TType field_type) { return field_type == TType::kBoolTrue; }

std::int8_t ThriftCompactReader::read_byte() { return static_cast<std::int8_t>(byte()); }

std::int16_t ThriftCompactReader::read_i16() {
  const std::int64_t v = zigzag(read_varint());
  if (v < INT16_MIN || v > INT16_MAX) fail("i16 out of range");
  return static_cast<std::int16_t>(v);
}

std::int32_t ThriftCompactReader::read_i32() {
  const std::int64_t v = zigzag(read_varint());
  if (v < INT32_MIN || v > INT32_MAX) fail("i32 out of range");
  return static_cast<std::int32_t>(v);
}

std::int64_t ThriftCompactReader::read_i64() { return zigzag(read_varint()); }

double ThriftCompactReader::read_double() {
  if (size_ - pos_ < 8) fail("unexpected end of data in double");
  double d;
  std::memcpy(&d, data_ + pos_, 8);
  pos_ += 8;
  return d;
}

std::span<const std::uint8_t> ThriftCompactReader::read_binary() {
  const std::uint64_t n = read_varint();
  if (n > limits_.max_string_bytes) {
    fail("string of " + std::to_string(n) + " bytes exceeds the limit of " +
         std::to_string(limits_.max_string_bytes));
  }
  if (n > size_ - pos_) {
    fail("string of " + std::to_string(n) + " bytes runs past the end of the metadata");
  }
  std::span<const std::uint8_t> s(data_ + pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return s;
}

std::string ThriftCompactReader::read_string() {
  const auto b = read_binary();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

ThriftCompactReader::ListHeader ThriftCompactReader::begin_list() {
  const std::uint8_t header = byte();
  std::uint64_t size = header >> 4;
  if (size == 15) size = read_varint();
  const std::uint8_t t = header & 0x0f;
  if (t == 0 || t > static_cast<std::uint8_t>(TType::kStruct)) {
    fail("unknown list element type " + std::to_string(t));
  }
  // Every element takes at least one byte, so a count above the remaining bytes is corrupt.
  if (size > limits_.max_container_size || size > size_ - pos_) {
    fail("list of " + std::to_string(size) + " elements exceeds the remaining " +
         std::to_string(size_ - pos_) + " bytes or the limit");
  }
  enter();
  return {static_cast<TType>(t), static_cast<std::uint32_t>(size)};
}

void ThriftCompactReader::end_list() { --depth_; }

bool ThriftCompactReader::read_list_bool() { return byte() == 1; }

void ThriftCompactReader::skip(TType type) {
  switch (type) {
    case TType::kStop:
      fail("unexpected stop");
    case TType::kBoolTrue:
    case TType::kBoolFalse:
      return;  // struct-field booleans carry no payload
    case TType::kByte:
      byte();
      return;
    case TType::kI16:
    case TType::kI32:
    case TType::kI64:
      read_varint();
      return;
    case TType::kDouble:
      read_double();
      return;
    case TType::kBinary:
      read_binary();
      return;
    case TType::kList:
    case TType::kSet: {
      const ListHeader h = begin_list();
      for (std::uint32_t i = 0; i < h.size; ++i) {
        if (h.element_type == TType::kBoolTrue || h.element_type == TType::kBoolFalse) {
          byte();
        } else {
          skip(h.element_type);
        }
      }
      end_list();
      return;
    }
    case TType::kMap: {
      const std::uint64_t n = read_varint();
      if (n == 0) return;
      if (n > limits_.max_container_size || n > size_ - pos_) fail("map too large");
      const std::uint8_t kv = byte();
      const auto kt = static_cast<TType>(kv >> 4);
      const auto vt = static_cast<TType>(kv & 0x0f);
      if ((kv >> 4) == 0 || (kv >> 4) > 12 || (kv & 0x0f) == 0 || (kv & 0x0f) > 12) {
        fail("unknown map element type");
      }
      enter();
      for (std::uint64_t i = 0; i < n; ++i) {
        for (TType t : {kt, vt}) {
          if (t == TType::kBoolTrue || t == TType::kBoolFalse) {
            byte();
          } else {
            skip(t);
          }
        }
      }
      --depth_;
      return;
    }
    case TType::kStruct: {
      begin_struct();
      std::int16_t id;
      TType t;
      while (next_field(id, t)) skip(t);
      return;
    }
  }
  fail("unknown type");
}

}  // namespace hpcad::parquet
