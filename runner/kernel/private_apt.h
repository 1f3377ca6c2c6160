// apt-get and apt-cache with a private state under one directory: one deb822 source for a Debian
// suite, its own lists and caches; the machine's apt configuration stays untouched. Used to fetch
// Debian's kernel images (debian_kernel.h) and kernel sources (kernel_build.h).
#pragma once

#include <string>
#include <vector>

namespace fsfault::vm {

class PrivateApt {
 public:
  PrivateApt(const std::string& dir, const std::string& suite, const std::string& mirror);
  // tool ("apt-get", "apt-cache") with the private options, then args.
  std::vector<std::string> argv(const std::string& tool, const std::vector<std::string>& args) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> opts_;
};

// dir/debs/<package>_<version>_<arch>.deb, downloaded when absent (limit_s bounds the download).
std::string fetch_deb(const PrivateApt& apt, const std::string& package, const std::string& version,
                      std::ostream& log, int limit_s = 900);

}  // namespace fsfault::vm
