// Errno names a schedule may use in `fail = "NAME"`: the errnos the NBD protocol
// can carry. Numbers are Linux errnos; the server maps them to NBD error codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fsfault::faults {

// "EIO" -> 5. nullopt for names outside the supported set.
std::optional<int> errno_from_name(std::string_view name);
// 5 -> "EIO"; numbers outside the set give "E<number>".
std::string errno_name(int err);
// "EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN"
std::string_view errno_names_list();

}  // namespace fsfault::faults
