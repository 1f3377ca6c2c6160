// Whole-file reads and writes, and where this executable lives. The one read_file of the project.
#pragma once

#include <optional>
#include <string>

namespace fsfault::base {

// The file's bytes; throws std::runtime_error naming the path when it cannot be read.
std::string read_file(const std::string& path);
// The file's bytes, or nullopt when it cannot be read: for files that are optional by design
// (a log a crashed guest never wrote, a stamp from an earlier run).
std::optional<std::string> try_read_file(const std::string& path);
// Atomically replaces `path` (write to a sibling, then rename). Throws on failure.
void write_file(const std::string& path, const std::string& data);
bool exists(const std::string& path);
// /proc/self/exe, "" when unreadable.
std::string self_exe();
// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string dirname_of(const std::string& p);

}  // namespace fsfault::base
