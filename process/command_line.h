// Command lines as text: for error messages, and shell-quoted for scripts a user re-runs
// (repro.sh, commands.txt).
#pragma once

#include <string>
#include <vector>

namespace fsfault::proc {

// "cmd arg ..." unquoted, for error messages.
std::string describe_command(const std::vector<std::string>& argv);
// s as one POSIX shell word: unchanged when it holds only safe characters, else single-quoted.
std::string shell_quote(const std::string& s);
// argv as a shell command line, every word shell_quote()d.
std::string shell_command(const std::vector<std::string>& argv);

}  // namespace fsfault::proc
