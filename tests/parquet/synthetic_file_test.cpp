// Hand-built Parquet files (a minimal Thrift compact writer below) for error paths that no
// real writer produces: unsupported encodings and codecs, lying sizes.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hpcad/core/error.hpp"
#include "pq_test_util.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

class ThriftWriter {
 public:
  Bytes bytes;
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    bytes.push_back(static_cast<std::uint8_t>(v));
  }
  void zigzag(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void field(std::int16_t id, std::uint8_t type) {
    const int delta = id - last_.back();
    if (delta > 0 && delta <= 15) {
      bytes.push_back(static_cast<std::uint8_t>(delta << 4 | type));
    } else {
      bytes.push_back(type);
      zigzag(id);
    }
    last_.back() = id;
  }
  void i32(std::int16_t id, std::int32_t v) { field(id, 5), zigzag(v); }
  void i64(std::int16_t id, std::int64_t v) { field(id, 6), zigzag(v); }
  void str(std::int16_t id, const std::string& s) {
    field(id, 8);
    varint(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void begin_struct(std::int16_t id) {
    field(id, 12);
    last_.push_back(0);
  }
  void begin_element() { last_.push_back(0); }  // a struct element of a list
  void end_struct() {
    bytes.push_back(0);
    last_.pop_back();
  }
  void list(std::int16_t id, std::uint8_t elem, std::uint32_t n) {
    field(id, 9);
    if (n < 15) {
      bytes.push_back(static_cast<std::uint8_t>(n << 4 | elem));
    } else {
      bytes.push_back(static_cast<std::uint8_t>(0xf0 | elem));
      varint(n);
    }
  }

 private:
  std::vector<std::int16_t> last_{0};
};

Bytes int32_le(std::initializer_list<std::int32_t> values) {
  Bytes out;
  for (std::int32_t v : values) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> (8 * i)));
  }
  return out;
}

void append(Bytes& out, const Bytes& more) {
  for (std::uint8_t b : more) out.push_back(b);
}

struct Spec {
  std::int32_t encoding = 0;  // PLAIN
  std::int32_t codec = 0;     // UNCOMPRESSED
  std::int32_t num_values = 3;
  Bytes data = int32_le({1, 2, 3});
  std::int64_t uncompressed_size = -1;  // default: data.size()
};

// One required INT32 column "v" in one row group with one v1 data page.
Bytes make_file(const Spec& s) {
  const std::int64_t usize =
      s.uncompressed_size >= 0 ? s.uncompressed_size : static_cast<std::int64_t>(s.data.size());
  ThriftWriter page;
  page.i32(1, 0);
  page.i32(2, static_cast<std::int32_t>(usize));
  page.i32(3, static_cast<std::int32_t>(s.data.size()));
  page.begin_struct(5);
  page.i32(1, s.num_values);
  page.i32(2, s.encoding);
  page.i32(3, 3);
  page.i32(4, 3);
  page.end_struct();
  page.bytes.push_back(0);
  Bytes file;
  for (char c : std::string("PAR1")) file.push_back(static_cast<std::uint8_t>(c));
  append(file, page.bytes);
  append(file, s.data);
  const auto chunk = static_cast<std::int64_t>(file.size() - 4);

  ThriftWriter f;
  f.i32(1, 1);
  f.list(2, 12, 2);
  f.begin_element();
  f.str(4, "schema");
  f.i32(5, 1);
  f.end_struct();
  f.begin_element();
  f.i32(1, 1);  // INT32
  f.i32(3, 0);  // REQUIRED
  f.str(4, "v");
  f.end_struct();
  f.i64(3, s.num_values);
  f.list(4, 12, 1);
  f.begin_element();
  f.list(1, 12, 1);
  f.begin_element();
  f.i64(2, 4);
  f.begin_struct(3);
  f.i32(1, 1);
  f.list(2, 5, 1);
  f.zigzag(s.encoding);
  f.list(3, 8, 1);
  f.varint(1);
  f.bytes.push_back('v');
  f.i32(4, s.codec);
  f.i64(5, s.num_values);
  f.i64(6, chunk - static_cast<std::int64_t>(s.data.size()) + usize);
  f.i64(7, chunk);
  f.i64(9, 4);
  f.end_struct();
  f.end_struct();
  f.i64(2, chunk);
  f.i64(3, s.num_values);
  f.end_struct();
  f.bytes.push_back(0);
  append(file, f.bytes);
  const auto len = static_cast<std::uint32_t>(f.bytes.size());
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<std::uint8_t>(len >> (8 * i)));
  for (char c : std::string("PAR1")) file.push_back(static_cast<std::uint8_t>(c));
  return file;
}

std::string write_spec(const std::string& name, const Spec& s) {
  const std::string path = pqtest::temp_dir() + "/" + name;
  pqtest::write_bytes(path, make_file(s));
  return path;
}

// The message of the DataError that reading `path` raises ("" if none).
std::string read_error(const std::string& path) {
  try {
    pqtest::read_all({path}, {"v"});
  } catch (const hpcad::DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SyntheticFile, PlainInt32Reads) {
  const auto path = write_spec("plain.parquet", Spec{});
  const auto slab = pqtest::read_all({path}, {"v"});
  ASSERT_EQ(slab.n_rows(), 3);
  EXPECT_EQ(slab.values, (std::vector<double>{1, 2, 3}));
}

TEST(SyntheticFile, UnsupportedEncodingNamesFileColumnAndEncoding) {
  Spec s;
  s.encoding = 7;  // DELTA_BYTE_ARRAY
  const auto path = write_spec("delta_byte_array_int.parquet", s);
  const std::string msg = read_error(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("'v'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("DELTA_BYTE_ARRAY"), std::string::npos) << msg;
}

TEST(SyntheticFile, UnsupportedCodecNamesFileColumnAndCodec) {
  Spec s;
  s.codec = 3;  // LZO
  const auto path = write_spec("lzo.parquet", s);
  const std::string msg = read_error(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("'v'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LZO"), std::string::npos) << msg;
}

TEST(SyntheticFile, LyingSizesAreRejected) {
  {
    Spec s;  // a page that claims 1 GiB uncompressed, with a gzip codec
    s.codec = 2;
    s.uncompressed_size = std::int64_t{1} << 30;
    EXPECT_NE(read_error(write_spec("huge_gzip.parquet", s)), "");
  }
  {
    Spec s;  // more values than bytes
    s.num_values = 4;
    EXPECT_NE(read_error(write_spec("short_plain.parquet", s)).find("bytes"), std::string::npos);
  }
  {
    Spec s;  // uncompressed page whose sizes disagree
    s.uncompressed_size = 100;
    EXPECT_NE(read_error(write_spec("size_mismatch.parquet", s)), "");
  }
}
