#include <fmt/format.h>

#include <fstream>
#include <stdexcept>

#include "images/builders.h"
#include "process/process.h"

namespace fsfault::images::detail {

void write_staged_file(const Recipe& recipe, const Entry& file, const std::filesystem::path& dest) {
  {
    std::ofstream out(dest, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + dest.string());
    for (const auto& [offset, length] : data_runs(file, recipe.mkfs.block_size)) {
      out.seekp(static_cast<std::streamoff>(offset));  // seeking past the end leaves a hole
      std::string data = file_content(recipe.seed, file.path, length, offset);
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    if (!out) throw std::runtime_error("cannot write " + dest.string());
  }
  std::filesystem::resize_file(dest, file.size);
  std::filesystem::permissions(dest, static_cast<std::filesystem::perms>(file.mode & 0777));
}

std::string tool_versions(FsType fs) {
  std::vector<std::vector<std::string>> cmds;
  if (fs == FsType::ext4) {
    cmds = {{"mkfs.ext4", "-V"}, {"debugfs", "-V"}};
  } else {
    cmds = {{"mkfs.xfs", "-V"}, {"xfs_db", "-V"}};
  }
  std::string out;
  for (const auto& c : cmds) {
    auto r = proc::run_process(c);
    out += c[0] + ": " + r.out + r.err;
  }
  return out;
}

}  // namespace fsfault::images::detail
