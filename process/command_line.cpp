#include "process/command_line.h"

namespace fsfault::proc {

std::string describe_command(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:,+@%") ==
                        std::string::npos)
    return s;
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "'\\''";
    else o += c;
  }
  return o + "'";
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string o;
  for (auto& a : argv) o += (o.empty() ? "" : " ") + shell_quote(a);
  return o;
}

}  // namespace fsfault::proc
