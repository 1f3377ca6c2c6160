#include "faults/errno_names.h"

#include <array>
#include <cerrno>
#include <utility>

namespace fsfault::faults {
namespace {
constexpr std::array<std::pair<std::string_view, int>, 8> kErrnos{{
    {"EPERM", EPERM},
    {"EIO", EIO},
    {"ENOMEM", ENOMEM},
    {"EINVAL", EINVAL},
    {"ENOSPC", ENOSPC},
    {"EOVERFLOW", EOVERFLOW},
    {"ENOTSUP", ENOTSUP},
    {"ESHUTDOWN", ESHUTDOWN},
}};
}  // namespace

std::optional<int> errno_from_name(std::string_view name) {
  for (const auto& [n, v] : kErrnos) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string errno_name(int err) {
  for (const auto& [n, v] : kErrnos) {
    if (v == err) return std::string(n);
  }
  return "E" + std::to_string(err);
}

std::string_view errno_names_list() {
  return "EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN";
}

}  // namespace fsfault::faults
