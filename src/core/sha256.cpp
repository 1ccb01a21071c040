#include "hpcad/core/sha256.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <new>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

/// Turns a failed libcrypto call into an exception carrying OpenSSL's own message.
void check_openssl(int ok, const char* call) {
  if (ok == 1) return;
  char reason[256] = "no OpenSSL error queued";
  if (const unsigned long code = ERR_get_error(); code != 0)
    ERR_error_string_n(code, reason, sizeof reason);
  throw InternalError(fmt::format("SHA-256: {} failed: {}", call, reason));
}

}  // namespace

void Sha256::ContextDeleter::operator()(evp_md_ctx_st* context) const { EVP_MD_CTX_free(context); }

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_) throw std::bad_alloc();
  check_openssl(EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
}

void Sha256::update(std::span<const std::byte> data) {
  check_openssl(EVP_DigestUpdate(context_.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  check_openssl(EVP_DigestFinal_ex(context_.get(), digest, &length), "EVP_DigestFinal_ex");
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string sha256_hex(std::string_view text) {
  Sha256 hash;
  hash.update(text);
  return hash.hex_digest();
}

}  // namespace hpcad
