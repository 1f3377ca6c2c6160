#include "base/sha256.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <fstream>
#include <stdexcept>
#include <vector>

namespace fsfault::base {

struct Sha256::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("libcrypto: cannot start a SHA-256 digest");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t len) {
  if (finished_) throw std::logic_error("Sha256::update after hex_finish");
  if (len != 0 && EVP_DigestUpdate(ctx_->md.get(), data, len) != 1)
    throw std::runtime_error("libcrypto: SHA-256 update failed");
}

std::string Sha256::hex_finish() {
  if (finished_) throw std::logic_error("Sha256::hex_finish called twice");
  finished_ = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), digest, &n) != 1 || n != 32)
    throw std::runtime_error("libcrypto: SHA-256 final failed");
  std::string hex;
  hex.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_finish();
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("error reading " + path.string());
  return h.hex_finish();
}

}  // namespace fsfault::base
