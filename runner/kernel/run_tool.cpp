#include "runner/kernel/run_tool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fsfault::vm {

namespace fs = std::filesystem;

proc::ProcessResult run_tool(const std::vector<std::string>& argv, int limit_s, proc::ProcessOptions opts) {
  opts.timeout = std::chrono::seconds(limit_s);
  auto r = proc::run_process(argv, opts);
  if (r.timed_out) r.err += "\n(killed after " + std::to_string(limit_s) + " s)";
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

std::vector<std::string> list_dir(const std::string& d) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(d, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

DirLock::DirLock(const std::string& dir) {
  fs::create_directories(dir);
  fd_ = open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ >= 0) flock(fd_, LOCK_EX);
}

DirLock::~DirLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace fsfault::vm
