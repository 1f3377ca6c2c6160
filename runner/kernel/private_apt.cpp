#include "runner/kernel/private_apt.h"

#include "base/files.h"
#include "runner/kernel/run_tool.h"

#include <filesystem>
#include <ostream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

PrivateApt::PrivateApt(const std::string& dir, const std::string& suite, const std::string& mirror) : dir_(dir) {
  for (auto d : {"/sources", "/lists/partial", "/cache/archives/partial", "/debs"}) fs::create_directories(dir + d);
  base::write_file(dir + "/sources/fsfault-kernel.sources",
                   "Types: deb\nURIs: " + mirror + "\nSuites: " + suite +
                       "\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n");
  opts_ = {"-o", "Dir::Etc::SourceList=/dev/null",      "-o", "Dir::Etc::SourceParts=" + dir + "/sources",
           "-o", "Dir::State::Lists=" + dir + "/lists", "-o", "Dir::Cache=" + dir + "/cache",
           "-o", "Dir::Etc::PreferencesParts=" + dir + "/sources",
           "-o", "Debug::NoLocking=1",                  "-o", "APT::Sandbox::User=root",
           "-o", "Acquire::Languages=none"};
}

std::vector<std::string> PrivateApt::argv(const std::string& tool, const std::vector<std::string>& args) const {
  std::vector<std::string> a = {tool, "-q"};
  a.insert(a.end(), opts_.begin(), opts_.end());
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

std::string fetch_deb(const PrivateApt& apt, const std::string& package, const std::string& version,
                      std::ostream& log, int limit_s) {
  const std::string debs = apt.dir() + "/debs";
  // A .deb's file name carries the version without its epoch.
  const std::string prefix = package + "_" + version.substr(version.find(':') + 1) + "_";
  auto find_deb = [&] {
    std::string deb;
    for (auto& f : list_dir(debs))
      if (f.rfind(prefix, 0) == 0) deb = f;
    return deb;
  };
  std::string deb = find_deb();
  if (deb.empty()) {
    log << "kernel: fetching " << package << " " << version << "\n" << std::flush;
    proc::ProcessOptions in_debs;
    in_debs.cwd = debs;  // apt-get download writes into the current directory
    auto dl = run_tool(apt.argv("apt-get", {"download", package + "=" + version}), limit_s, in_debs);
    if (dl.exit_code != 0) throw std::runtime_error("apt-get download " + package + "=" + version + ": " + trim(dl.err));
    deb = find_deb();
    if (deb.empty()) throw std::runtime_error("apt-get download " + package + " produced no .deb");
  }
  return debs + "/" + deb;
}

}  // namespace fsfault::vm
