// The one errno-name table, shared by the host (schedules, fault log, judge) and the static guest
// harness (step results). Numbers are Linux errnos.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fsfault::base {

// "EIO" -> 5, "OK" -> 0, and the filesystems' private aliases: "EFSCORRUPTED" -> 117 (EUCLEAN),
// "EFSBADCRC" -> 74 (EBADMSG) (fs/xfs/xfs_linux.h, fs/ext4/ext4.h). nullopt for unknown names.
std::optional<int> errno_from_name(std::string_view name);
// 5 -> "EIO", 0 -> "OK", 117 -> "EFSCORRUPTED", 74 -> "EFSBADCRC"; others give "E<number>".
std::string errno_name(int err);

// The subset a schedule may use in `fail = "NAME"`: the errnos the NBD protocol can carry
// (the server maps them to NBD error codes). nullopt for any other name.
std::optional<int> nbd_errno_from_name(std::string_view name);
// "EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN"
std::string_view nbd_errno_names_list();

}  // namespace fsfault::base
