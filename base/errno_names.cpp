#include "base/errno_names.h"

#include <array>
#include <cerrno>

namespace fsfault::base {
namespace {

struct ErrnoName {
  std::string_view name;
  int value;
  bool nbd;  // the NBD protocol has an error code for it
};

// The first entry for a value is its canonical name.
constexpr std::array kErrnos{
    ErrnoName{"OK", 0, false},          ErrnoName{"EPERM", EPERM, true},
    ErrnoName{"ENOENT", ENOENT, false}, ErrnoName{"EIO", EIO, true},
    ErrnoName{"ENXIO", ENXIO, false},   ErrnoName{"EBADF", EBADF, false},
    ErrnoName{"EAGAIN", EAGAIN, false}, ErrnoName{"ENOMEM", ENOMEM, true},
    ErrnoName{"EACCES", EACCES, false}, ErrnoName{"EBUSY", EBUSY, false},
    ErrnoName{"EEXIST", EEXIST, false}, ErrnoName{"ENODEV", ENODEV, false},
    ErrnoName{"ENOTDIR", ENOTDIR, false}, ErrnoName{"EISDIR", EISDIR, false},
    ErrnoName{"EINVAL", EINVAL, true},  ErrnoName{"EFBIG", EFBIG, false},
    ErrnoName{"ENOSPC", ENOSPC, true},  ErrnoName{"EROFS", EROFS, false},
    ErrnoName{"ENAMETOOLONG", ENAMETOOLONG, false}, ErrnoName{"ENOSYS", ENOSYS, false},
    ErrnoName{"ENOTEMPTY", ENOTEMPTY, false}, ErrnoName{"ENODATA", ENODATA, false},
    ErrnoName{"EPROTO", EPROTO, false}, ErrnoName{"EOVERFLOW", EOVERFLOW, true},
    ErrnoName{"ENOTSUP", ENOTSUP, true}, ErrnoName{"EOPNOTSUPP", EOPNOTSUPP, false},
    ErrnoName{"ENOTBLK", ENOTBLK, false}, ErrnoName{"ESHUTDOWN", ESHUTDOWN, true},
    ErrnoName{"ETIMEDOUT", ETIMEDOUT, false}, ErrnoName{"EDQUOT", EDQUOT, false},
    // ext4 and xfs name EUCLEAN and EBADMSG after what they mean to a filesystem.
    ErrnoName{"EFSCORRUPTED", EUCLEAN, false}, ErrnoName{"EUCLEAN", EUCLEAN, false},
    ErrnoName{"EFSBADCRC", EBADMSG, false}, ErrnoName{"EBADMSG", EBADMSG, false},
};

}  // namespace

std::optional<int> errno_from_name(std::string_view name) {
  for (const auto& e : kErrnos) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

std::string errno_name(int err) {
  for (const auto& e : kErrnos) {
    if (e.value == err) return std::string(e.name);
  }
  return "E" + std::to_string(err);
}

std::optional<int> nbd_errno_from_name(std::string_view name) {
  for (const auto& e : kErrnos) {
    if (e.nbd && e.name == name) return e.value;
  }
  return std::nullopt;
}

std::string_view nbd_errno_names_list() {
  return "EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN";
}

}  // namespace fsfault::base
