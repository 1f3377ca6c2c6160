// Where a program lives: the one tool lookup of the project.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace fsfault::proc {

// Looks `name` up in PATH and then in /usr/sbin and /sbin (where Debian keeps mkfs.*, depmod and
// friends for users whose PATH lacks them). A name with a '/' is taken as a path. nullopt when
// nothing executable is there.
std::optional<std::filesystem::path> lookup_tool(const std::string& name);
// lookup_tool, or a std::runtime_error naming the tool and how to install it.
std::filesystem::path find_tool(const std::string& name);

}  // namespace fsfault::proc
