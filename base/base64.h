// Base64 (RFC 4648, with padding, no line breaks) through OpenSSL's libcrypto.
#pragma once

#include <string>
#include <string_view>

namespace fsfault::base {

std::string base64_encode(std::string_view data);

}  // namespace fsfault::base
