// A directory under /tmp for one test, removed with everything in it when the test ends.
#pragma once

#include "base/files.h"

#include <cstdlib>
#include <filesystem>
#include <string>

namespace fsfault::vm::testing {

struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    char tmpl[] = "/tmp/fsfault-test.XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes DIR/name (parents created); returns its path.
  std::string put(const std::string& name, const std::string& data) const {
    std::filesystem::create_directories((dir / name).parent_path());
    base::write_file((dir / name).string(), data);
    return (dir / name).string();
  }
};

}  // namespace fsfault::vm::testing
