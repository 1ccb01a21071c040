#pragma once
/// SHA-256 (FIPS 180-4), used to fingerprint model files and configs so scores can be
/// traced to the exact model that produced them (`sha256sum` gives the same digest).
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace hpcad {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  void update(std::string_view text) { update(std::as_bytes(std::span(text.data(), text.size()))); }
  /// Lower-case hex digest. Call once.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// Hex SHA-256 of a string.
std::string sha256_hex(std::string_view text);

}  // namespace hpcad
