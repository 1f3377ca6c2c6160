#include "base/base64.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace fsfault::base {

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  // EVP_EncodeBlock takes an int length: feed it in chunks that are a multiple of 3 bytes.
  constexpr std::size_t kChunk = 3 * (1u << 20);
  std::size_t in = 0, at = 0;
  while (in < data.size()) {
    std::size_t n = std::min(kChunk, data.size() - in);
    int w = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[at]),
                            reinterpret_cast<const unsigned char*>(data.data() + in), static_cast<int>(n));
    if (w < 0) throw std::runtime_error("libcrypto: base64 encoding failed");
    in += n;
    at += static_cast<std::size_t>(w);
  }
  out.resize(at);
  return out;
}

}  // namespace fsfault::base
