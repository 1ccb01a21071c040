#include "hpcad/io/parquet/encoding.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <string_view>

#include "hpcad/core/error.hpp"
#include "hpcad/data/text_key.hpp"

namespace hpcad::parquet {

static_assert(std::endian::native == std::endian::little,
              "the Parquet decoders assume a little-endian host");

namespace {

constexpr std::size_t kBatch = 1024;

[[noreturn]] void fail(const std::string& what) { throw DataError(what); }

// Reads `bw` (<= 64) bits at bit offset `bit`; the caller guarantees they lie in `size`.
inline std::uint64_t read_bits(const std::uint8_t* data, std::size_t size, std::uint64_t bit,
                               int bw) {
  const std::size_t byte = static_cast<std::size_t>(bit >> 3);
  const int shift = static_cast<int>(bit & 7);
  std::uint64_t word = 0;
  if (byte + 8 <= size) {
    std::memcpy(&word, data + byte, 8);
  } else {
    std::memcpy(&word, data + byte, size - byte);
  }
  std::uint64_t v = word >> shift;
  if (shift + bw > 64) v |= static_cast<std::uint64_t>(data[byte + 8]) << (64 - shift);
  return bw == 64 ? v : (v & ((std::uint64_t{1} << bw) - 1));
}

const double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                         1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                         1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29,
                         1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38};

template <class Int>
inline double int_to_double(Int v, const IntInterpretation& in) {
  double d;
  if (in.is_unsigned) {
    d = static_cast<double>(static_cast<std::make_unsigned_t<Int>>(v));
  } else {
    d = static_cast<double>(v);
  }
  if (in.decimal_scale > 0) d /= kPow10[in.decimal_scale];
  return d;
}

struct ByteReader {
  const std::uint8_t* p;
  const std::uint8_t* end;
  std::uint64_t uvarint(const char* what) {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) fail(std::string("truncated varint in ") + what);
      const std::uint8_t b = *p++;
      result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
    }
    fail(std::string("overlong varint in ") + what);
  }
  std::int64_t zigzag(const char* what) {
    const std::uint64_t v = uvarint(what);
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
};

void need(std::size_t have, std::size_t want, std::size_t n, const char* what) {
  if (have < want) {
    fail(std::string(what) + ": " + std::to_string(n) + " values need " + std::to_string(want) +
         " bytes but the page has " + std::to_string(have));
  }
}

}  // namespace

int bit_width_for(int max_level) {
  return max_level <= 0 ? 0 : std::bit_width(static_cast<unsigned>(max_level));
}

RleBitPackedDecoder::RleBitPackedDecoder(const std::uint8_t* data, std::size_t size, int bit_width)
    : p_(data), end_(data + size), bit_width_(bit_width) {
  if (bit_width < 0 || bit_width > 32) {
    fail("RLE/bit-packed bit width " + std::to_string(bit_width) + " is outside [0, 32]");
  }
}

bool RleBitPackedDecoder::next_run() {
  if (p_ >= end_) return false;
  ByteReader br{p_, end_};
  const std::uint64_t header = br.uvarint("an RLE run header");
  p_ = br.p;
  const std::size_t avail = static_cast<std::size_t>(end_ - p_);
  if (header & 1) {
    // Bit-packed run of groups of 8 values. A final run may be cut short by the writer,
    // so decode only what the bytes hold.
    std::uint64_t groups = header >> 1;
    if (bit_width_ == 0) {
      rle_value_ = 0;
      rle_left_ = groups * 8;
      return true;
    }
    groups = std::min<std::uint64_t>(groups, avail);  // a group takes bit_width_ >= 1 bytes
    std::uint64_t bytes = groups * static_cast<std::uint64_t>(bit_width_);
    std::uint64_t count = groups * 8;
    if (bytes > avail) {
      bytes = avail;
      count = avail * 8 / static_cast<std::uint64_t>(bit_width_);
    }
    bp_data_ = p_;
    bp_size_ = static_cast<std::size_t>(bytes);
    bp_bit_ = 0;
    bp_left_ = count;
    p_ += bytes;
    return true;
  }
  const std::size_t nbytes = static_cast<std::size_t>((bit_width_ + 7) / 8);
  if (nbytes > avail) fail("RLE run value runs past the end of its data");
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < nbytes; ++i) v |= static_cast<std::uint32_t>(p_[i]) << (8 * i);
  p_ += nbytes;
  if (bit_width_ < 32 && (v >> bit_width_) != 0) {
    fail("RLE run value " + std::to_string(v) + " does not fit in " + std::to_string(bit_width_) +
         " bits");
  }
  rle_value_ = v;
  rle_left_ = header >> 1;
  return true;
}

std::size_t RleBitPackedDecoder::get_batch(std::uint32_t* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    if (rle_left_ > 0) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(rle_left_, n - done));
      std::fill(out + done, out + done + k, rle_value_);
      rle_left_ -= k;
      done += k;
    } else if (bp_left_ > 0) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(bp_left_, n - done));
      for (std::size_t i = 0; i < k; ++i) {
        out[done + i] =
            static_cast<std::uint32_t>(read_bits(bp_data_, bp_size_, bp_bit_, bit_width_));
        bp_bit_ += static_cast<std::uint64_t>(bit_width_);
      }
      bp_left_ -= k;
      done += k;
    } else if (!next_run()) {
      break;
    }
  }
  return done;
}

namespace {

// Decodes exactly n values from `dec` in batches, passing (position, value) to `store`;
// fails naming `what` when the encoded runs end early.
template <typename Store>
void decode_exactly(RleBitPackedDecoder& dec, std::size_t n, const char* what, Store store) {
  std::uint32_t buf[kBatch];
  std::size_t done = 0;
  while (done < n) {
    const std::size_t want = std::min(kBatch, n - done);
    const std::size_t got = dec.get_batch(buf, want);
    for (std::size_t i = 0; i < got; ++i) store(done + i, buf[i]);
    done += got;
    if (got < want)
      fail(std::string(what) + ": the encoded runs end after " + std::to_string(done) + " of " +
           std::to_string(n) + " values");
  }
}

}  // namespace

void decode_levels_rle(const std::uint8_t* data, std::size_t size, int max_level, std::size_t n,
                       std::uint8_t* out) {
  RleBitPackedDecoder dec(data, size, bit_width_for(max_level));
  decode_exactly(dec, n, "levels", [&](std::size_t i, std::uint32_t level) {
    if (level > static_cast<std::uint32_t>(max_level))
      fail("level " + std::to_string(level) + " exceeds the maximum " + std::to_string(max_level));
    out[i] = static_cast<std::uint8_t>(level);
  });
}

std::size_t decode_levels_bit_packed(const std::uint8_t* data, std::size_t size, int max_level,
                                     std::size_t n, std::uint8_t* out) {
  const int bw = bit_width_for(max_level);
  const std::size_t bytes = (n * static_cast<std::size_t>(bw) + 7) / 8;
  need(size, bytes, n, "BIT_PACKED levels");
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t v = 0;
    for (int b = 0; b < bw; ++b) {  // most significant bit first
      const std::size_t bit = i * static_cast<std::size_t>(bw) + static_cast<std::size_t>(b);
      v = (v << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1u);
    }
    if (v > static_cast<std::uint32_t>(max_level)) fail("level exceeds the maximum");
    out[i] = static_cast<std::uint8_t>(v);
  }
  return bytes;
}

std::size_t plain_width(PhysicalType type) {
  switch (type) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      return 8;
    default:
      return 0;
  }
}

namespace {

/// Reads n little-endian values of T (unaligned) and stores convert(value) as doubles.
template <typename T, typename Convert>
void convert_plain(const std::uint8_t* data, std::size_t n, double* out, Convert convert) {
  for (std::size_t i = 0; i < n; ++i) {
    T value;
    std::memcpy(&value, data + sizeof(T) * i, sizeof(T));
    out[i] = convert(value);
  }
}

}  // namespace

void decode_plain(PhysicalType type, const IntInterpretation& interp, const std::uint8_t* data,
                  std::size_t size, std::size_t n, double* out) {
  switch (type) {
    case PhysicalType::kDouble:
      need(size, n * 8, n, "PLAIN DOUBLE");
      if (n > 0) std::memcpy(out, data, n * 8);
      return;
    case PhysicalType::kFloat:
      need(size, n * 4, n, "PLAIN FLOAT");
      convert_plain<float>(data, n, out, [](float v) { return static_cast<double>(v); });
      return;
    case PhysicalType::kInt32:
      need(size, n * 4, n, "PLAIN INT32");
      convert_plain<std::int32_t>(data, n, out,
                                  [&](std::int32_t v) { return int_to_double(v, interp); });
      return;
    case PhysicalType::kInt64:
      need(size, n * 8, n, "PLAIN INT64");
      convert_plain<std::int64_t>(data, n, out,
                                  [&](std::int64_t v) { return int_to_double(v, interp); });
      return;
    case PhysicalType::kBoolean:
      need(size, (n + 7) / 8, n, "PLAIN BOOLEAN");
      for (std::size_t i = 0; i < n; ++i) out[i] = (data[i >> 3] >> (i & 7)) & 1u;
      return;
    case PhysicalType::kByteArray: {
      // Each value: a 4-byte little-endian length, then that many bytes.
      std::size_t pos = 0;
      for (std::size_t i = 0; i < n; ++i) {
        need(size - pos, 4, n - i, "PLAIN BYTE_ARRAY");
        std::uint32_t length;
        std::memcpy(&length, data + pos, 4);
        pos += 4;
        need(size - pos, length, n - i, "PLAIN BYTE_ARRAY");
        out[i] = key_from_text(
            std::string_view(reinterpret_cast<const char*>(data + pos), length));
        pos += length;
      }
      return;
    }
    default:
      fail(std::string("PLAIN decoding of ") + to_string(type) + " is not supported");
  }
}

void decode_byte_stream_split(PhysicalType type, const IntInterpretation& interp,
                              const std::uint8_t* data, std::size_t size, std::size_t n,
                              double* out) {
  const std::size_t w = plain_width(type);
  if (w == 0) {
    fail(std::string("BYTE_STREAM_SPLIT decoding of ") + to_string(type) + " is not supported");
  }
  // The streams are as long as the page's encoded values; use the page size as the stride.
  const std::size_t stride = size / w;
  if (size % w != 0 || stride < n) {
    fail("BYTE_STREAM_SPLIT: " + std::to_string(size) + " bytes do not hold " + std::to_string(n) +
         " values of " + std::to_string(w) + " bytes");
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t b[8];
    for (std::size_t k = 0; k < w; ++k) b[k] = data[k * stride + i];
    switch (type) {
      case PhysicalType::kDouble:
        std::memcpy(&out[i], b, 8);
        break;
      case PhysicalType::kFloat: {
        float f;
        std::memcpy(&f, b, 4);
        out[i] = static_cast<double>(f);
        break;
      }
      case PhysicalType::kInt32: {
        std::int32_t v;
        std::memcpy(&v, b, 4);
        out[i] = int_to_double(v, interp);
        break;
      }
      default: {
        std::int64_t v;
        std::memcpy(&v, b, 8);
        out[i] = int_to_double(v, interp);
        break;
      }
    }
  }
}

void decode_delta_binary_packed(PhysicalType type, const IntInterpretation& interp,
                                const std::uint8_t* data, std::size_t size, std::size_t n,
                                double* out) {
  if (type != PhysicalType::kInt32 && type != PhysicalType::kInt64) {
    fail(std::string("DELTA_BINARY_PACKED decoding of ") + to_string(type) + " is not supported");
  }
  const bool is32 = type == PhysicalType::kInt32;
  // Some writers (DuckDB) compute INT32 deltas in 64 bits, giving widths up to 33. Decoding in
  // 64-bit wrapping arithmetic and truncating is right for them and for 32-bit writers alike.
  const int max_bw = 64;
  ByteReader br{data, data + size};
  const std::uint64_t block_size = br.uvarint("DELTA_BINARY_PACKED header");
  const std::uint64_t miniblocks = br.uvarint("DELTA_BINARY_PACKED header");
  const std::uint64_t total = br.uvarint("DELTA_BINARY_PACKED header");
  std::uint64_t value = static_cast<std::uint64_t>(br.zigzag("DELTA_BINARY_PACKED header"));
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      miniblocks > 256 || block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    fail("DELTA_BINARY_PACKED: invalid block size " + std::to_string(block_size) + " with " +
         std::to_string(miniblocks) + " miniblocks");
  }
  if (total < n) {
    fail("DELTA_BINARY_PACKED: header holds " + std::to_string(total) + " values, page needs " +
         std::to_string(n));
  }
  const std::uint64_t per_mini = block_size / miniblocks;
  auto emit = [&](std::size_t i) {
    if (is32) {
      out[i] = int_to_double(static_cast<std::int32_t>(static_cast<std::uint32_t>(value)), interp);
    } else {
      out[i] = int_to_double(static_cast<std::int64_t>(value), interp);
    }
  };
  std::size_t done = 0;
  if (n == 0) return;
  emit(done++);
  std::uint8_t widths[256];
  while (done < n) {
    const std::uint64_t min_delta =
        static_cast<std::uint64_t>(br.zigzag("DELTA_BINARY_PACKED block"));
    if (static_cast<std::uint64_t>(br.end - br.p) < miniblocks) {
      fail("DELTA_BINARY_PACKED: truncated block header");
    }
    std::memcpy(widths, br.p, miniblocks);
    br.p += miniblocks;
    for (std::uint64_t m = 0; m < miniblocks && done < n; ++m) {
      const int bw = widths[m];
      if (bw > max_bw) fail("DELTA_BINARY_PACKED: bit width " + std::to_string(bw) + " too large");
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(per_mini, n - done));
      const std::size_t full_bytes = static_cast<std::size_t>(per_mini * bw / 8);
      const std::size_t avail = static_cast<std::size_t>(br.end - br.p);
      // The last miniblock may be shorter than its padded size; the values we need must fit.
      const std::size_t need_bytes = (want * static_cast<std::size_t>(bw) + 7) / 8;
      if (need_bytes > avail) fail("DELTA_BINARY_PACKED: miniblock runs past the end of the page");
      for (std::size_t i = 0; i < want; ++i) {
        const std::uint64_t d =
            bw == 0 ? 0 : read_bits(br.p, avail, i * static_cast<std::uint64_t>(bw), bw);
        value += min_delta + d;  // wrapping arithmetic, as the spec requires
        emit(done++);
      }
      br.p += std::min(full_bytes, avail);
    }
  }
}

void decode_rle_boolean(const std::uint8_t* data, std::size_t size, std::size_t n, double* out) {
  if (size < 4) fail("RLE BOOLEAN: missing length prefix");
  std::uint32_t len;
  std::memcpy(&len, data, 4);
  if (len > size - 4) fail("RLE BOOLEAN: length prefix exceeds the page");
  RleBitPackedDecoder dec(data + 4, len, 1);
  decode_exactly(dec, n, "RLE BOOLEAN", [&](std::size_t i, std::uint32_t bit) { out[i] = bit; });
}

void decode_dictionary_indices(const std::uint8_t* data, std::size_t size, std::size_t n,
                               const double* dict, std::size_t dict_size, double* out) {
  if (n == 0) return;
  if (size < 1) fail("dictionary-encoded page has no bit width");
  const int bw = data[0];
  if (bw > 32) fail("dictionary index bit width " + std::to_string(bw) + " exceeds 32");
  RleBitPackedDecoder dec(data + 1, size - 1, bw);
  decode_exactly(dec, n, "dictionary indices", [&](std::size_t i, std::uint32_t index) {
    if (index >= dict_size)
      fail("dictionary index " + std::to_string(index) + " is outside the dictionary of " +
           std::to_string(dict_size) + " values");
    out[i] = dict[index];
  });
}

}  // namespace hpcad::parquet
