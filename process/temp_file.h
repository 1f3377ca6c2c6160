// A temporary file holding given content, removed with its handle.
#pragma once

#include <filesystem>
#include <string_view>

namespace fsfault::proc {

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

}  // namespace fsfault::proc
