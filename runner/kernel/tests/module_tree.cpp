#include "runner/kernel/tests/module_tree.h"

#include "base/files.h"
#include "process/process.h"
#include "process/tool_lookup.h"

#include <filesystem>
#include <stdexcept>
#include <vector>
#include <unistd.h>

namespace fsfault::vm::test_support {

namespace fs = std::filesystem;

namespace {

struct Source {
  std::string path;     // relative to the modules dir, with the compression Debian would use
  std::string exports;  // a function defined and listed in __ksymtab_strings ("" = none)
  std::string uses;     // functions called (undefined symbols: depmod's dependencies)
};

// The shape of the virtio and xfs part of a 6.1 cloud kernel, .ko.xz and .ko.zst as 7.x ships.
const Source kSources[] = {
    {"kernel/drivers/virtio/virtio.ko", "virtio_fn", ""},
    {"kernel/drivers/virtio/virtio_ring.ko", "ring_fn", "virtio_fn"},
    {"kernel/drivers/virtio/virtio_pci_modern_dev.ko", "modern_fn", ""},
    {"kernel/drivers/virtio/virtio_pci.ko", "", "ring_fn virtio_fn modern_fn"},
    {"kernel/drivers/block/virtio_blk.ko.zst", "", "ring_fn"},
    {"kernel/drivers/char/virtio_console.ko.xz", "", "ring_fn"},
    {"kernel/lib/libcrc32c.ko.xz", "crc_fn", ""},
    {"kernel/fs/xfs/xfs.ko.xz", "", "crc_fn"},
    {"kernel/crypto/crc32c-generic.ko", "", ""},
};

std::string c_source(const Source& s) {
  std::string c;
  std::string calls;
  for (size_t b = 0, e; b < s.uses.size(); b = e + 1) {
    e = s.uses.find(' ', b);
    if (e == std::string::npos) e = s.uses.size();
    std::string f = s.uses.substr(b, e - b);
    c += "extern int " + f + "(void);\n";
    calls += " + " + f + "()";
  }
  c += "int local_fn(void) { return 0" + calls + "; }\n";
  if (!s.exports.empty())
    c += "int " + s.exports + "(void) { return 1; }\nconst char ksym[] __attribute__((section(\"__ksymtab_strings\"))) = \"" +
         s.exports + "\";\n";
  return c;
}

void must(const std::vector<std::string>& argv) {
  auto r = proc::run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error(argv[0] + " failed: " + r.err);
}

}  // namespace

ModuleTree::ModuleTree() {
  for (auto tool : {"cc", "xz", "zstd", "depmod"})
    if (!proc::lookup_tool(tool)) skip_reason += std::string(skip_reason.empty() ? "" : ", ") + tool + " not found";
  release = "9.9.9-fsfault-test";
  base = (fs::temp_directory_path() / ("fsfault-modules-" + std::to_string(getpid()))).string();
  dir = base + "/lib/modules/" + release;
  if (!skip_reason.empty()) return;
  fs::remove_all(base);
  for (auto& s : kSources) {
    const std::string plain_path = dir + "/" + s.path.substr(0, s.path.find(".ko") + 3);
    fs::create_directories(fs::path(plain_path).parent_path());
    base::write_file(plain_path + ".c", c_source(s));
    must({"cc", "-c", "-o", plain_path, plain_path + ".c"});
    fs::remove(plain_path + ".c");
    std::string name = fs::path(plain_path).stem().string();
    for (auto& ch : name)
      if (ch == '-') ch = '_';
    plain[name] = base::read_file(plain_path);
    if (s.path.ends_with(".xz")) must({"xz", "-q", plain_path});
    if (s.path.ends_with(".zst")) must({"zstd", "-q", "--rm", plain_path});
  }
  base::write_file(dir + "/modules.builtin", "kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n");
  must({"depmod", "-b", base, release});
}

ModuleTree::~ModuleTree() {
  std::error_code ec;
  fs::remove_all(base, ec);
}

}  // namespace fsfault::vm::test_support
