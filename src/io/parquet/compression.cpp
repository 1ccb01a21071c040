#include "hpcad/io/parquet/compression.hpp"

#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstring>
#include <string>

#include "hpcad/core/error.hpp"
#include "hpcad/io/parquet/metadata.hpp"

namespace hpcad::parquet {
namespace {

[[noreturn]] void fail(std::int32_t codec, const std::string& what) {
  throw DataError(codec_name(codec) + " decompression failed: " + what);
}

std::string sizes(std::size_t got, std::size_t want) {
  return "produced " + std::to_string(got) + " bytes, the page header says " + std::to_string(want);
}

void gunzip(const std::uint8_t* src, std::size_t src_size, std::uint8_t* dst,
            std::size_t dst_size) {
  z_stream zs{};
  // 15 + 32: accept gzip or zlib headers (auto-detected).
  if (inflateInit2(&zs, 15 + 32) != Z_OK) fail(2, "inflateInit2");
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&zs};
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  // Several gzip members may be concatenated: restart after each stream end.
  while (true) {
    const std::size_t in_chunk = std::min<std::size_t>(src_size - in_pos, UINT_MAX);
    const std::size_t out_chunk = std::min<std::size_t>(dst_size - out_pos, UINT_MAX);
    zs.next_in = const_cast<Bytef*>(src + in_pos);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = dst + out_pos;
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_pos += in_chunk - zs.avail_in;
    out_pos += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (in_pos >= src_size || out_pos == dst_size) break;
      if (inflateReset(&zs) != Z_OK) fail(2, "inflateReset");
      continue;
    }
    if (rc == Z_BUF_ERROR && out_pos == dst_size)
      fail(2, "output larger than the page header says");
    if (rc != Z_OK) fail(2, zs.msg ? zs.msg : ("zlib error " + std::to_string(rc)));
    if (in_chunk - zs.avail_in == 0 && out_chunk - zs.avail_out == 0)
      fail(2, "no progress (truncated data)");
  }
  if (out_pos != dst_size) fail(2, sizes(out_pos, dst_size));
}

bool lz4_block(const std::uint8_t* src, std::size_t src_size, std::uint8_t* dst,
               std::size_t dst_size) {
  if (src_size > INT_MAX || dst_size > INT_MAX) return false;
  const int n =
      LZ4_decompress_safe(reinterpret_cast<const char*>(src), reinterpret_cast<char*>(dst),
                          static_cast<int>(src_size), static_cast<int>(dst_size));
  return n >= 0 && static_cast<std::size_t>(n) == dst_size;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Hadoop's LZ4 codec frames blocks as [u32 BE raw size][u32 BE compressed size][block]...
bool hadoop_lz4(const std::uint8_t* src, std::size_t src_size, std::uint8_t* dst,
                std::size_t dst_size) {
  std::size_t in = 0, out = 0;
  while (in < src_size) {
    if (src_size - in < 8) return false;
    const std::uint32_t raw = be32(src + in);
    const std::uint32_t comp = be32(src + in + 4);
    in += 8;
    if (comp > src_size - in || raw > dst_size - out) return false;
    if (!lz4_block(src + in, comp, dst + out, raw)) return false;
    in += comp;
    out += raw;
  }
  return out == dst_size;
}

}  // namespace

bool codec_supported(std::int32_t codec) {
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
    case Codec::kSnappy:
    case Codec::kGzip:
    case Codec::kLz4:
    case Codec::kZstd:
    case Codec::kLz4Raw:
      return true;
    default:
      return false;
  }
}

void check_decompressed_size(std::int32_t codec, const std::uint8_t* src, std::size_t src_size,
                             std::size_t dst_size) {
  // Upper bounds of the expansion ratios (deflate: 1032:1, LZ4: 255:1), with slack for
  // headers; snappy and zstd streams declare their sizes.
  std::size_t max_size = dst_size;
  switch (static_cast<Codec>(codec)) {
    case Codec::kSnappy: {
      std::size_t len = 0;
      if (snappy_uncompressed_length(reinterpret_cast<const char*>(src), src_size, &len) !=
          SNAPPY_OK) {
        fail(codec, "corrupt header");
      }
      if (len != dst_size) fail(codec, "stream declares " + sizes(len, dst_size).substr(9));
      return;
    }
    case Codec::kZstd: {
      // Sum the sizes the frames declare (a frame may leave its size out).
      unsigned long long total = 0;
      bool known = true;
      std::size_t pos = 0;
      while (pos < src_size) {
        const unsigned long long n = ZSTD_getFrameContentSize(src + pos, src_size - pos);
        if (n == ZSTD_CONTENTSIZE_ERROR) fail(codec, "corrupt frame header");
        if (n == ZSTD_CONTENTSIZE_UNKNOWN) {
          known = false;
        } else {
          total += n;
        }
        const std::size_t frame = ZSTD_findFrameCompressedSize(src + pos, src_size - pos);
        if (ZSTD_isError(frame) || frame == 0) fail(codec, "corrupt frame");
        pos += frame;
      }
      if (known && total != dst_size) {
        fail(codec, "frames declare " + std::to_string(total) + " bytes, the page header says " +
                        std::to_string(dst_size));
      }
      return;
    }
    case Codec::kGzip:
      max_size = src_size * 1032 + 1024;
      break;
    case Codec::kLz4:
    case Codec::kLz4Raw:
      max_size = src_size * 255 + 1024;
      break;
    default:
      return;
  }
  if (dst_size > max_size) {
    fail(codec, std::to_string(src_size) + " compressed bytes cannot hold the " +
                    std::to_string(dst_size) + " bytes the page header says");
  }
}

void decompress(std::int32_t codec, const std::uint8_t* src, std::size_t src_size,
                std::uint8_t* dst, std::size_t dst_size) {
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
      if (src_size != dst_size) fail(codec, sizes(src_size, dst_size));
      if (dst_size > 0) std::memcpy(dst, src, dst_size);
      return;
    case Codec::kSnappy: {
      std::size_t len = 0;
      const char* s = reinterpret_cast<const char*>(src);
      if (snappy_uncompressed_length(s, src_size, &len) != SNAPPY_OK) fail(codec, "corrupt header");
      if (len != dst_size) fail(codec, sizes(len, dst_size));
      std::size_t out_len = dst_size;
      if (snappy_uncompress(s, src_size, reinterpret_cast<char*>(dst), &out_len) != SNAPPY_OK) {
        fail(codec, "corrupt data");
      }
      if (out_len != dst_size) fail(codec, sizes(out_len, dst_size));
      return;
    }
    case Codec::kGzip:
      gunzip(src, src_size, dst, dst_size);
      return;
    case Codec::kZstd: {
      const std::size_t n = ZSTD_decompress(dst, dst_size, src, src_size);
      if (ZSTD_isError(n)) fail(codec, ZSTD_getErrorName(n));
      if (n != dst_size) fail(codec, sizes(n, dst_size));
      return;
    }
    case Codec::kLz4Raw:
      if (!lz4_block(src, src_size, dst, dst_size)) fail(codec, "corrupt data or wrong size");
      return;
    case Codec::kLz4:
      // Parquet's deprecated LZ4 codec: Hadoop framing in practice, a raw block from some
      // older writers. Try both, as parquet-cpp does.
      if (hadoop_lz4(src, src_size, dst, dst_size)) return;
      if (lz4_block(src, src_size, dst, dst_size)) return;
      fail(codec, "neither Hadoop-framed nor raw LZ4 data of the expected size");
    default:
      throw DataError("unsupported compression codec " + codec_name(codec));
  }
}

}  // namespace hpcad::parquet
