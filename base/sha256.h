// SHA-256 for build cache keys and image digests: a thin wrapper over
// OpenSSL's libcrypto (EVP_Digest*), so no digest code of our own.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace fsfault::base {

// Incremental hashing; throws std::runtime_error if libcrypto fails.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The lowercase hex digest; the object cannot be updated afterwards.
  std::string hex_finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  bool finished_ = false;
};

std::string sha256_hex(std::string_view data);
// Hex digest of a file's content; throws std::runtime_error when unreadable.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace fsfault::base
