// A real modules tree for the tests: tiny ELF objects compiled with cc (one exports a symbol,
// the next uses it, so depmod derives the dependency), some compressed as Debian ships them,
// indexed by the real depmod -b.
#pragma once

#include <map>
#include <string>

namespace fsfault::vm::test_support {

struct ModuleTree {
  std::string base;        // the depmod base; removed on destruction
  std::string release;     // "9.9.9-fsfault-test"
  std::string dir;         // base/lib/modules/release
  std::map<std::string, std::string> plain;  // module name -> its uncompressed ELF bytes
  std::string skip_reason; // non-empty: cc, xz, zstd or depmod missing
  ModuleTree();
  ~ModuleTree();
  ModuleTree(const ModuleTree&) = delete;
  ModuleTree& operator=(const ModuleTree&) = delete;
};

}  // namespace fsfault::vm::test_support
