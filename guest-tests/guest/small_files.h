// Small-file helpers that keep errno for the record (base/files.h throws or loses errno, and
// replaces files by rename, which /proc and /sys files do not allow).
#pragma once

#include <optional>
#include <string>

namespace fsfault::guest {

// Writes data into an existing file (no create, no truncate: /proc/sys, /sys); false with errno
// set on failure.
bool write_existing_file(const std::string& path, const std::string& data);
// The whole file, or nullopt with errno set.
std::optional<std::string> read_whole_file(const std::string& path);
// Creates every missing parent directory of path (mode 0755); 0 or the errno.
int mkdir_parents(const std::string& path);

}  // namespace fsfault::guest
