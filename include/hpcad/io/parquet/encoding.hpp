#pragma once
/// Decoders for Parquet value and level encodings, writing doubles. Every decoder checks
/// the input bounds itself and throws DataError on malformed data; none allocates more
/// than its output (which the caller sizes from already-validated counts).
#include <cstddef>
#include <cstdint>

#include "hpcad/io/parquet/metadata.hpp"

namespace hpcad::parquet {

/// How stored integers become doubles: unsigned reinterpretation and decimal scaling.
struct IntInterpretation {
  bool is_unsigned = false;
  int decimal_scale = 0;  ///< value / 10^scale
};

/// Largest decimal scale hpcad accepts.
inline constexpr int kMaxDecimalScale = 38;

/// Number of bits needed for levels in [0, max_level].
int bit_width_for(int max_level);

/// The RLE / bit-packed hybrid of the Parquet spec (levels, dictionary indices, RLE
/// booleans), without a length prefix. Bit width 0..32.
class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder(const std::uint8_t* data, std::size_t size, int bit_width);
  /// Decodes up to `n` values; returns how many were decoded (fewer only when the input
  /// ends). Throws DataError on a malformed run header.
  std::size_t get_batch(std::uint32_t* out, std::size_t n);

 private:
  bool next_run();

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  int bit_width_;
  std::uint64_t rle_left_ = 0;
  std::uint32_t rle_value_ = 0;
  const std::uint8_t* bp_data_ = nullptr;
  std::size_t bp_size_ = 0;
  std::uint64_t bp_bit_ = 0;
  std::uint64_t bp_left_ = 0;
};

/// Decodes `n` levels with the RLE hybrid (v1 pages: after the 4-byte length prefix,
/// v2 pages: the whole level section). Throws DataError when fewer than `n` are present
/// or a level exceeds `max_level`.
void decode_levels_rle(const std::uint8_t* data, std::size_t size, int max_level, std::size_t n,
                       std::uint8_t* out);
/// Decodes `n` levels with the deprecated BIT_PACKED encoding (MSB first); returns bytes used.
std::size_t decode_levels_bit_packed(const std::uint8_t* data, std::size_t size, int max_level,
                                     std::size_t n, std::uint8_t* out);

/// Bytes one PLAIN value takes (0 for BOOLEAN, which is bit-packed).
std::size_t plain_width(PhysicalType type);

/// PLAIN: `n` values of `type` from `data`; BYTE_ARRAY values are series keys' text, each
/// read with key_from_text (data/text_key.hpp).
void decode_plain(PhysicalType type, const IntInterpretation& interp, const std::uint8_t* data,
                  std::size_t size, std::size_t n, double* out);
/// BYTE_STREAM_SPLIT for FLOAT, DOUBLE, INT32, INT64.
void decode_byte_stream_split(PhysicalType type, const IntInterpretation& interp,
                              const std::uint8_t* data, std::size_t size, std::size_t n,
                              double* out);
/// DELTA_BINARY_PACKED for INT32, INT64.
void decode_delta_binary_packed(PhysicalType type, const IntInterpretation& interp,
                                const std::uint8_t* data, std::size_t size, std::size_t n,
                                double* out);
/// RLE-encoded BOOLEAN values (4-byte length prefix, then the hybrid with bit width 1).
void decode_rle_boolean(const std::uint8_t* data, std::size_t size, std::size_t n, double* out);
/// Dictionary indices (1 byte bit width, then the hybrid) gathered from `dict`.
void decode_dictionary_indices(const std::uint8_t* data, std::size_t size, std::size_t n,
                               const double* dict, std::size_t dict_size, double* out);

}  // namespace hpcad::parquet
