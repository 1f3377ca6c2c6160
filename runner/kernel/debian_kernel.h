// Debian's cloud kernel for a suite, fetched with apt through a private state directory (the
// machine's own sources, lists and caches stay untouched) and extracted with dpkg-deb.
#pragma once

#include "runner/kernel/kernel.h"

#include <ostream>
#include <string>
#include <vector>

namespace fsfault::vm {

// The suite a kernel name stands for ("unstable" -> "sid"); "" when the name is no suite.
std::string debian_suite(const std::string& name);

// linux-image-cloud-amd64 of the suite (cache_dir/<name>/ holds the apt state, the .debs and
// the extracted tree). Falls back to the last resolution when apt cannot reach the mirror.
KernelInfo provision_debian_kernel(const std::string& name, const std::string& cache_dir, std::ostream& log);

// The value of one field of a Debian control stanza ("" when absent).
std::string control_field(const std::string& stanza, const std::string& field);
// The packages that make up a Debian kernel: the image package itself plus every linux-*-ABI
// dependency with the same ABI suffix (linux-binary, linux-modules, linux-base since the 6.16
// split; none before it).
std::vector<std::string> kernel_packages(const std::string& image_pkg, const std::string& depends);

// The machine's Debian mirror URI from /etc/apt/sources.list.d/*.sources or
// /etc/apt/sources.list (first non-security "deb" source).
std::string debian_mirror(const std::string& sources_list_d = "/etc/apt/sources.list.d",
                          const std::string& sources_list = "/etc/apt/sources.list");
std::string mirror_from_texts(const std::vector<std::string>& deb822, const std::string& one_line);

}  // namespace fsfault::vm
