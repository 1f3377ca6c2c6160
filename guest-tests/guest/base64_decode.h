// Base64 decoding for shipped files. base/base64.h does the same on the host through OpenSSL,
// which the static guest does not link.
#pragma once

#include <optional>
#include <string>

namespace fsfault::guest {

// Decodes standard base64 (stops at the first '='); nullopt on any other character.
std::optional<std::string> base64_decode(const std::string& in);

}  // namespace fsfault::guest
