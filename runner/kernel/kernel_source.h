// The kernel source a test kernel is built from: Debian's linux-source package of a suite, fetched
// with a private apt state and unpacked once into the cache, or a developer's own tree.
#pragma once

#include <ostream>
#include <string>

namespace fsfault::vm {

struct KernelSource {
  std::string dir;       // the top of the source tree (has Makefile, arch/x86, kernel/configs)
  std::string identity;  // what the build key hashes: package and version, or tree and commit
  std::string label;     // for names and messages: "sid", or the tree's directory name
};

// suite: bookworm, trixie, sid (debian_suite names). Unpacked under
// cache_root/kernels/source/<suite>/<package>_<version>/, reused when complete.
KernelSource debian_kernel_source(const std::string& suite_name, const std::string& cache_root, std::ostream& log);

// A developer's tree, built out of tree (make O=) so it stays untouched. Its identity is the git
// commit plus a hash of uncommitted changes when it is a git checkout, else its path.
KernelSource tree_kernel_source(const std::string& dir);

}  // namespace fsfault::vm
