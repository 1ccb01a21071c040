// Unit tests of the Thrift compact reader, the RLE/bit-packed hybrid and the codecs, on
// hand-encoded bytes (values worked out from the Thrift and Parquet specifications).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/io/parquet/compression.hpp"
#include "hpcad/io/parquet/encoding.hpp"
#include "hpcad/io/parquet/thrift_compact.hpp"

using namespace hpcad::parquet;
using Bytes = std::vector<std::uint8_t>;

TEST(Thrift, ReadsFieldsOfEveryType) {
  // struct { 1: i32 = -3, 2: bool = true, 5 (long form id): i64 = 300, 6: string "ab",
  //          7: list<i32> [1, -1], 8: double 1.5 }
  Bytes b = {0x15, 0x05,              // field 1, i32, zigzag(-3) = 5
             0x11,                    // field 2, bool true
             0x06, 0x0a, 0xd8, 0x04,  // long form: type i64, id zigzag(5) = 10, zigzag(300) = 600
             0x18, 0x02, 'a',  'b',   // field 6, binary, length 2
             0x19, 0x25, 0x02, 0x01,  // field 7, list of 2 i32: 1, -1
             0x17, 0,    0,    0,    0, 0, 0, 0xf8, 0x3f,  // field 8, double 1.5
             0x00};
  ThriftCompactReader r(b.data(), b.size());
  r.begin_struct();
  std::int16_t id;
  TType t;
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_EQ(id, 1);
  EXPECT_EQ(r.read_i32(), -3);
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_EQ(id, 2);
  EXPECT_TRUE(r.read_bool(t));
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_EQ(id, 5);
  EXPECT_EQ(r.read_i64(), 300);
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_EQ(id, 6);
  EXPECT_EQ(r.read_string(), "ab");
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_EQ(id, 7);
  auto h = r.begin_list();
  ASSERT_EQ(h.size, 2u);
  EXPECT_EQ(r.read_i32(), 1);
  EXPECT_EQ(r.read_i32(), -1);
  r.end_list();
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_EQ(id, 8);
  EXPECT_EQ(r.read_double(), 1.5);
  EXPECT_FALSE(r.next_field(id, t));
  EXPECT_EQ(r.position(), b.size());
}

TEST(Thrift, RejectsDeepNesting) {
  Bytes b(5000, 0x1c);  // struct field inside struct field inside ...
  ThriftCompactReader r(b.data(), b.size());
  r.begin_struct();
  std::int16_t id;
  TType t;
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_THROW(r.skip(t), hpcad::DataError);
}

TEST(Thrift, RejectsOversizedStringsAndLists) {
  Bytes s = {0x18, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'};  // a 4 GiB string in 7 bytes
  ThriftCompactReader r(s.data(), s.size());
  r.begin_struct();
  std::int16_t id;
  TType t;
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_THROW(r.read_string(), hpcad::DataError);

  Bytes l = {0x19, 0xf5, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};  // list of 2^31 i32
  ThriftCompactReader r2(l.data(), l.size());
  r2.begin_struct();
  ASSERT_TRUE(r2.next_field(id, t));
  EXPECT_THROW(r2.begin_list(), hpcad::DataError);

  Bytes v(20, 0xff);  // an endless varint
  ThriftCompactReader r3(v.data(), v.size());
  EXPECT_THROW(r3.read_i64(), hpcad::DataError);
}

TEST(Thrift, TruncatedInputThrows) {
  Bytes b = {0x15, 0x05, 0x18, 0x05, 'a'};  // string says 5 bytes, 1 present
  ThriftCompactReader r(b.data(), b.size());
  r.begin_struct();
  std::int16_t id;
  TType t;
  ASSERT_TRUE(r.next_field(id, t));
  r.read_i32();
  ASSERT_TRUE(r.next_field(id, t));
  EXPECT_THROW(r.read_string(), hpcad::DataError);
  EXPECT_THROW(r.skip(TType::kStruct), hpcad::DataError);
}

TEST(RleHybrid, SpecExamples) {
  // Parquet spec: bit-packing 0..7 with width 3 gives 10001000 11000110 11111010.
  Bytes bp = {0x03, 0x88, 0xc6, 0xfa};
  RleBitPackedDecoder d(bp.data(), bp.size(), 3);
  std::uint32_t out[8];
  ASSERT_EQ(d.get_batch(out, 8), 8u);
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], i);

  // An RLE run of 5 x value 3 (header 5 << 1), then a run of 300 x 1 (header 600 varint).
  Bytes rle = {0x0a, 0x03, 0xd8, 0x04, 0x01};
  RleBitPackedDecoder d2(rle.data(), rle.size(), 3);
  std::vector<std::uint32_t> v(400);
  ASSERT_EQ(d2.get_batch(v.data(), v.size()), 305u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(v[i], 3u);
  for (int i = 5; i < 305; ++i) EXPECT_EQ(v[i], 1u);
}

TEST(RleHybrid, LevelsAndErrors) {
  Bytes rle = {0x06, 0x01, 0x03, 0x05};  // 3 x 1, then one bit-packed group 1,0,1,0,0,0,0,0
  std::uint8_t lev[7];
  decode_levels_rle(rle.data(), rle.size(), 1, 7, lev);
  const std::uint8_t want[7] = {1, 1, 1, 1, 0, 1, 0};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(lev[i], want[i]);
  std::uint8_t many[20];
  EXPECT_THROW(decode_levels_rle(rle.data(), rle.size(), 1, 20, many), hpcad::DataError);
  Bytes bad = {0x02, 0x03};  // value 3 with bit width 1
  EXPECT_THROW(decode_levels_rle(bad.data(), bad.size(), 1, 1, lev), hpcad::DataError);
}

TEST(Dictionary, IndexOutOfRangeThrows) {
  const double dict[2] = {10, 20};
  Bytes ok = {0x01, 0x03, 0x02};  // bit width 1, bit-packed group: 0,1,0,0,...
  double out[3];
  decode_dictionary_indices(ok.data(), ok.size(), 3, dict, 2, out);
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[1], 20);
  EXPECT_EQ(out[2], 10);
  Bytes bad = {0x02, 0x06, 0x03};  // bit width 2, RLE run of 3 x index 3
  EXPECT_THROW(decode_dictionary_indices(bad.data(), bad.size(), 3, dict, 2, out),
               hpcad::DataError);
}

TEST(DeltaBinaryPacked, SpecExample) {
  // Spec example 1: 1 2 3 4 5 -> block 128/4 miniblocks, 5 values, first 1, min delta 1,
  // all bit widths 0.
  Bytes b = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
  double out[5];
  decode_delta_binary_packed(PhysicalType::kInt64, {}, b.data(), b.size(), 5, out);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], i + 1);
  EXPECT_THROW(decode_delta_binary_packed(PhysicalType::kInt64, {}, b.data(), b.size(), 6, out),
               hpcad::DataError);
}

TEST(Plain, ShortInputThrows) {
  Bytes b(15, 0);
  double out[2];
  EXPECT_THROW(decode_plain(PhysicalType::kDouble, {}, b.data(), b.size(), 2, out),
               hpcad::DataError);
  IntInterpretation dec{false, 2};
  Bytes i = {0x39, 0x30, 0, 0};  // 12345
  decode_plain(PhysicalType::kInt32, dec, i.data(), i.size(), 1, out);
  EXPECT_EQ(out[0], 123.45);
  IntInterpretation u{true, 0};
  Bytes m = {0xff, 0xff, 0xff, 0xff};
  decode_plain(PhysicalType::kInt32, u, m.data(), m.size(), 1, out);
  EXPECT_EQ(out[0], 4294967295.0);
}

TEST(Codecs, RejectWrongSizesBeforeAllocating) {
  Bytes junk(16, 0x41);
  std::vector<std::uint8_t> dst(8);
  EXPECT_THROW(check_decompressed_size(7, junk.data(), junk.size(), std::size_t{1} << 30),
               hpcad::DataError);  // LZ4 cannot expand 16 bytes to 1 GiB
  EXPECT_THROW(check_decompressed_size(2, junk.data(), junk.size(), std::size_t{1} << 30),
               hpcad::DataError);
  EXPECT_THROW(decompress(1, junk.data(), junk.size(), dst.data(), dst.size()), hpcad::DataError);
  EXPECT_THROW(decompress(6, junk.data(), junk.size(), dst.data(), dst.size()), hpcad::DataError);
  EXPECT_THROW(decompress(2, junk.data(), junk.size(), dst.data(), dst.size()), hpcad::DataError);
  EXPECT_THROW(decompress(7, junk.data(), junk.size(), dst.data(), dst.size()), hpcad::DataError);
  EXPECT_THROW(decompress(3, junk.data(), junk.size(), dst.data(), dst.size()), hpcad::DataError);
}
