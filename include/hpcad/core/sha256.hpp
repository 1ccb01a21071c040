#pragma once
/// SHA-256 (FIPS 180-4), used to fingerprint model files and configs so scores can be
/// traced to the exact model that produced them (`sha256sum` gives the same digest).
/// Computed by OpenSSL's libcrypto, whose types stay out of this header.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace hpcad {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  void update(std::string_view text) { update(std::as_bytes(std::span(text.data(), text.size()))); }
  /// Lower-case hex digest. Call once.
  std::string hex_digest();

 private:
  struct ContextDeleter {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, ContextDeleter> context_;
};

/// Hex SHA-256 of a string.
std::string sha256_hex(std::string_view text);

}  // namespace hpcad
