// Test helpers shared by the nbd-server unit tests (nbd-server/tests/) and the
// integration tests (tests/nbd/, tests/targets/ via tests/nbd/support.h): a
// private temporary directory that is removed with everything in it, seeded
// random bytes, and whole-file read/write. Header-only, gtest-free.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace fsfault::nbd::testing {

class TempDir {
 public:
  // $TMPDIR/PREFIX.XXXXXX. Unix socket paths are limited to 107 bytes, so a
  // long $TMPDIR is ignored for /tmp (the integration tests put sockets here).
  explicit TempDir(const std::string& prefix = "fsfault-test") {
    const char* t = std::getenv("TMPDIR");
    std::string base = t && *t && std::strlen(t) < 60 ? t : "/tmp";
    std::string tmpl = base + "/" + prefix + ".XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// n bytes from a generator seeded with `seed` (the same bytes on every run).
inline std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(n);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x = rng();
    std::memcpy(v.data() + i, &x, 8);
  }
  for (; i < n; ++i) v[i] = static_cast<std::uint8_t>(rng());
  return v;
}

inline void write_file(const std::string& path, const std::vector<std::uint8_t>& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

inline std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace fsfault::nbd::testing
