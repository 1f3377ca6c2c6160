#include "guest-tests/guest/base64_decode.h"

namespace fsfault::guest {

namespace {

// The 6-bit value of c, -2 for the padding '=', -1 for anything else.
int sextet(char c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
       : c == '+' ? 62 : c == '/' ? 63 : c == '=' ? -2 : -1;
}

}  // namespace

std::optional<std::string> base64_decode(const std::string& in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d = sextet(c);
    if (d == -2) break;
    if (d < 0) return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace fsfault::guest
