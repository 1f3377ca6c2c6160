// Small host-side helpers shared by the runner: files, hashing, commands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fsfault::vm {

std::string read_file(const std::string& path);  // throws when unreadable
void write_file(const std::string& path, const std::string& data);
bool exists(const std::string& path);
std::uint64_t fnv1a(const std::string& data, std::uint64_t h = 1469598103934665603ULL);
std::string hex64(std::uint64_t v);
std::string shell_quote(const std::string& s);
std::string join_cmd(const std::vector<std::string>& argv);  // shell-quoted
std::string which(const std::string& prog);  // "" when not on PATH
std::string self_exe();
std::string dirname_of(const std::string& p);

}  // namespace fsfault::vm
