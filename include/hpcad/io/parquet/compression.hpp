#pragma once
/// Page decompression for the codecs hpcad supports.
#include <cstddef>
#include <cstdint>

namespace hpcad::parquet {

/// True for UNCOMPRESSED, SNAPPY, GZIP, LZ4 (Hadoop framing or raw block), ZSTD, LZ4_RAW.
bool codec_supported(std::int32_t codec);

/// Checks, before anything is allocated, that `src` can plausibly decompress to
/// `dst_size` bytes (the size a stream declares, or the codec's maximum ratio). Throws
/// DataError otherwise.
void check_decompressed_size(std::int32_t codec, const std::uint8_t* src, std::size_t src_size,
                             std::size_t dst_size);

/// Decompresses `src` into exactly `dst_size` bytes at `dst`. Throws DataError when the
/// data is corrupt or does not decompress to exactly `dst_size` bytes.
void decompress(std::int32_t codec, const std::uint8_t* src, std::size_t src_size,
                std::uint8_t* dst, std::size_t dst_size);

}  // namespace hpcad::parquet
