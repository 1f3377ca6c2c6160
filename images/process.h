// Running the filesystem tools (mkfs, debugfs, xfs_db, checkers) and capturing their output.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fsfault::images {

struct ProcessResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
  std::filesystem::path cwd;               // empty: inherit
};

// Runs argv[0] (looked up by find_tool when it has no '/') and waits for it.
// Throws std::runtime_error when the program cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& opts = {});

// Locates a tool in PATH and then in /usr/sbin and /sbin (where Debian keeps mkfs.* for users
// whose PATH lacks them). Throws std::runtime_error naming the tool when it is missing.
std::filesystem::path find_tool(const std::string& name);

// A file in the temporary directory holding `content`, removed on destruction.
class TempFile {
 public:
  explicit TempFile(std::string_view content, std::string_view stem = "fsfault");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// "cmd arg ..." for error messages.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace fsfault::images
