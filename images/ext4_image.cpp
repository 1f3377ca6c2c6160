// ext4 golden images: mkfs.ext4 with a private mke2fs.conf, populated by a debugfs script, all
// under E2FSPROGS_FAKE_TIME so every timestamp is the recipe's.
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "images/builders.h"
#include "process/process.h"
#include "process/temp_file.h"
#include "images/tool_parsers.h"

namespace fsfault::images::detail {
namespace {

constexpr std::uint32_t kExtentsFl = 0x80000;
constexpr std::uint32_t kInlineDataFl = 0x10000000;

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += sep;
    s += x;
  }
  return s;
}

// debugfs always exits 0; its complaints go to stderr. Anything there except the version banner
// is an error.
void check_debugfs_stderr(const proc::ProcessResult& r, const std::string& what) {
  std::istringstream is(r.err);
  std::string line, bad;
  while (std::getline(is, line)) {
    if (line.empty() || line.rfind("debugfs ", 0) == 0) continue;
    bad += line + "\n";
  }
  if (bad.size() > 4000) bad = bad.substr(0, 4000) + "...\n";
  if (!bad.empty()) throw std::runtime_error(fmt::format("debugfs {} reported errors:\n{}", what, bad));
}

std::map<std::string, std::string> e2fs_env(const Recipe& r, const std::filesystem::path& work) {
  return {{"E2FSPROGS_FAKE_TIME", std::to_string(r.timestamp)},
          {"MKE2FS_CONFIG", (work / "mke2fs.conf").string()},
          {"SOURCE_DATE_EPOCH", std::to_string(r.timestamp)}};
}

// A private configuration: the host's /etc/mke2fs.conf must not leak into the image.
void write_mke2fs_conf(const MkfsOptions& m, const std::filesystem::path& work) {
  std::ofstream conf(work / "mke2fs.conf");
  std::string common = fmt::format("\t\tblocksize = {}\n\t\tinode_size = {}\n\t\tinode_ratio = {}\n",
                                   m.block_size, m.inode_size, m.inode_ratio);
  conf << "[defaults]\n\tbase_features = " << join(m.features, ",") << "\n"
       << "\tblocksize = " << m.block_size
       << "\n\tinode_size = " << m.inode_size << "\n\tinode_ratio = " << m.inode_ratio
       << "\n\treserved_ratio = 5.0\n\tdefault_mntopts = acl,user_xattr\n"
       << "\tenable_periodic_fsck = 0\n\tlazy_itable_init = false\n\n[fs_types]\n";
  for (const char* t : {"ext4", "default", "floppy", "small", "big", "huge"}) {
    conf << "\t" << t << " = {\n" << common << "\t}\n";
  }
  if (!conf) throw std::runtime_error("cannot write mke2fs.conf");
}

std::vector<std::string> mke2fs_command(const Recipe& r, const std::filesystem::path& image) {
  const auto& m = r.mkfs;
  bool has_journal = false;
  for (const auto& f : m.features) has_journal |= f == "has_journal";
  std::vector<std::string> mkfs = {"mkfs.ext4", "-q", "-F", "-t", "ext4",
                                   "-b", std::to_string(m.block_size),
                                   "-I", std::to_string(m.inode_size),
                                   "-U", r.uuid};
  if (m.inode_count) {
    mkfs.insert(mkfs.end(), {"-N", std::to_string(m.inode_count)});
  } else {
    mkfs.insert(mkfs.end(), {"-i", std::to_string(m.inode_ratio)});
  }
  if (m.blocks_per_group) mkfs.insert(mkfs.end(), {"-g", std::to_string(m.blocks_per_group)});
  if (has_journal && m.journal_bytes)
    mkfs.insert(mkfs.end(), {"-J", fmt::format("size={}", m.journal_bytes >> 20)});
  if (!m.label.empty()) mkfs.insert(mkfs.end(), {"-L", m.label});
  // nodiscard + eager table/journal initialisation: the same bytes whatever the host
  // filesystem's hole-punching support, and no lazy-init writes once the guest mounts it.
  mkfs.insert(mkfs.end(), {"-E", fmt::format("hash_seed={},root_owner=0:0,nodiscard,"
                                             "lazy_itable_init=0,lazy_journal_init=0",
                                             r.hash_seed)});
  mkfs.push_back(image.string());
  return mkfs;
}

// The debugfs commands creating entry `i`; a file's content is staged as work/stage/I.
void script_entry(const Recipe& r, std::size_t i, const std::filesystem::path& work,
                  std::ostream& script) {
  const Entry& e = r.entries[i];
  std::uint32_t type_bits = 0;
  switch (e.kind) {
    case Entry::Kind::dir:
      script << "mkdir " << e.path << "\n";
      type_bits = 0040000;
      break;
    case Entry::Kind::file: {
      auto staged = std::filesystem::path("stage") / std::to_string(i);
      write_staged_file(r, e, work / staged);
      script << "cd " << parent_of(e.path) << "\nwrite " << staged.string() << " "
             << base_of(e.path) << "\ncd /\n";
      type_bits = 0100000;
      break;
    }
    case Entry::Kind::symlink:
      script << "symlink " << e.path << " " << e.target << "\n";
      break;
  }
  if (type_bits) script << "sif " << e.path << " mode " << (type_bits | e.mode) << "\n";
  if (e.uid) script << "sif " << e.path << " uid " << e.uid << "\n";
  if (e.gid) script << "sif " << e.path << " gid " << e.gid << "\n";
  // No `sif generation`: with metadata_csum the generation seeds the checksums of the
  // directory and extent blocks debugfs already wrote, so the generation stays debugfs's (0).
  for (std::size_t x = 0; x < e.xattrs.size(); ++x) {
    auto vfile = std::filesystem::path("stage") / fmt::format("x{}-{}", i, x);
    std::ofstream(work / vfile, std::ios::binary) << e.xattrs[x].value;
    script << "ea_set -f " << vfile.string() << " " << e.path << " " << e.xattrs[x].name << "\n";
  }
}

// Creates every entry with one debugfs script and checks that each file was written.
void populate(const Recipe& r, const std::filesystem::path& image, const std::filesystem::path& work,
              const proc::ProcessOptions& opts) {
  std::filesystem::create_directories(work / "stage");
  std::ostringstream script;
  std::size_t expected_writes = 0;
  for (std::size_t i = 0; i < r.entries.size(); ++i) {
    script_entry(r, i, work, script);
    expected_writes += r.entries[i].kind == Entry::Kind::file;
  }
  {
    std::ofstream(work / "populate.debugfs") << script.str();
  }
  std::vector<std::string> dbg = {"debugfs", "-w", "-f", "populate.debugfs", image.string()};
  auto res = proc::run_process(dbg, opts);
  proc::require_success(res, dbg);
  check_debugfs_stderr(res, "populate");
  std::size_t allocated = 0;
  for (std::size_t p = res.out.find("Allocated inode: "); p != std::string::npos;
       p = res.out.find("Allocated inode: ", p + 1))
    ++allocated;
  if (allocated != expected_writes)
    throw std::runtime_error(fmt::format("debugfs wrote {} of {} files:\n{}", allocated,
                                         expected_writes, res.out));
}

// Superblock, group descriptors, and each group's bitmaps and inode table.
void add_group_targets(const Ext4Layout& l, TargetMap& map) {
  const std::uint64_t spb = l.block_size / kSectorSize;  // sectors per block
  const Ext4Group& g0 = l.groups.front();
  if (!g0.primary || !g0.gdt) throw std::runtime_error("dumpe2fs: group 0 has no primary superblock");
  map.entry("superblock").add_bytes(1024, 1024);  // always bytes 1024..2047
  map.entry("gdt").add_sectors(g0.gdt->first * spb, (g0.gdt->last + 1) * spb - 1);
  for (const auto& g : l.groups) {
    auto add = [&](std::string name, std::uint64_t first, std::uint64_t last) {
      map.entry(fmt::format("{}:{}", name, g.index)).add_sectors(first * spb, (last + 1) * spb - 1);
    };
    add("block-bitmap", g.block_bitmap, g.block_bitmap);
    add("inode-bitmap", g.inode_bitmap, g.inode_bitmap);
    add("inode-table", g.inode_table.first, g.inode_table.last);
  }
}

// One inode's debugfs sections: stat, imap, ex (extent tree), blocks (block-mapped files).
struct InodeSections {
  const std::string& stat;
  const std::string& imap;
  const std::string& ex;
  const std::string& blocks;
};

// The inode, data (or directory) blocks and extent-tree blocks of `spec`, a path or the journal
// inode "<N>" (whose blocks all go to "journal").
void add_inode_targets(const std::string& spec, const InodeSections& s, const Ext4Layout& l,
                       const std::string& stderr_text, TargetMap& map) {
  const std::uint64_t spb = l.block_size / kSectorSize;
  auto st = parse_debugfs_stat(s.stat);
  auto im = parse_debugfs_imap(s.imap);
  if (!st || !im || st->ino != im->ino)
    throw std::runtime_error(fmt::format("debugfs: cannot stat/imap {}:\n{}{}{}", spec, s.stat,
                                         s.imap, stderr_text));
  bool journal = spec.front() == '<';
  std::vector<BlockRange> data, tree;
  if (st->flags & kExtentsFl) {
    for (const auto& row : parse_debugfs_extents(s.ex)) {
      if (row.index) tree.push_back({row.physical_first, row.physical_last});
      else data.push_back({row.physical_first, row.physical_last});
    }
  } else if (!(st->flags & kInlineDataFl) && !st->fast_symlink) {
    // Block-mapped inode: `blocks` lists data and indirect blocks together.
    data = block_runs(parse_debugfs_blocks(s.blocks));
  }
  auto add = [&](std::string name, const std::vector<BlockRange>& runs) {
    if (runs.empty()) return;
    Target& t = map.entry(name);
    t.ino = st->ino;
    if (!journal) t.gen = st->generation;
    for (const auto& b : runs) t.add_sectors(b.first * spb, (b.last + 1) * spb - 1);
  };
  if (journal) {
    Target& t = map.entry("journal");
    t.ino = st->ino;
    for (const auto* runs : {&data, &tree})
      for (const auto& b : *runs) t.add_sectors(b.first * spb, (b.last + 1) * spb - 1);
    return;
  }
  Target& inode = map.entry("inode:" + spec);
  inode.ino = st->ino;
  inode.gen = st->generation;
  inode.add_bytes(im->block * l.block_size + im->offset, l.inode_size);
  add((st->type == "directory" ? "dir:" : "data:") + spec, data);
  add("extent-tree:" + spec, tree);
}

}  // namespace

void build_ext4(const Recipe& r, const std::filesystem::path& image,
                const std::filesystem::path& work) {
  write_mke2fs_conf(r.mkfs, work);
  auto mkfs = mke2fs_command(r, image);
  proc::ProcessOptions opts{e2fs_env(r, work), work};
  proc::require_success(proc::run_process(mkfs, opts), mkfs);
  populate(r, image, work, opts);
  std::vector<std::string> fsck = {"e2fsck", "-fn", image.string()};
  auto fr = proc::run_process(fsck, opts);
  if (fr.exit_code != 0)
    throw std::runtime_error(fmt::format("the new image does not pass e2fsck -fn (exit {}):\n{}{}",
                                         fr.exit_code, fr.out, fr.err));
}

TargetMap map_ext4(const Recipe& r, const std::filesystem::path& image) {
  std::vector<std::string> dump = {"dumpe2fs", image.string()};
  auto dr = proc::run_process(dump);
  proc::require_success(dr, dump);
  Ext4Layout l = parse_dumpe2fs(dr.out);
  TargetMap map;
  map.image = r.name;
  map.fs = "ext4";
  map.size_bytes = r.size_bytes;
  add_group_targets(l, map);

  // Four debugfs queries per path; the journal inode rides along as "<N>".
  std::vector<std::string> specs = {"/"};
  for (const auto& e : r.entries) specs.push_back(e.path);
  if (l.journal_inode) specs.push_back(fmt::format("<{}>", *l.journal_inode));
  std::ostringstream script;
  for (const auto& p : specs) script << "stat " << p << "\nimap " << p << "\nex " << p << "\nblocks " << p << "\n";
  proc::TempFile cmds(script.str(), "fsfault-map.debugfs");
  std::vector<std::string> dbg = {"debugfs", "-f", cmds.path().string(), image.string()};
  auto res = proc::run_process(dbg);
  proc::require_success(res, dbg);
  auto sections = split_debugfs_output(res.out);
  if (sections.size() != specs.size() * 4)
    throw std::runtime_error(fmt::format("debugfs printed {} sections for {} commands",
                                         sections.size(), specs.size() * 4));
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& p = specs[i];
    const auto* sec = &sections[4 * i];
    if (sec[0].first != "stat " + p || sec[2].first != "ex " + p)
      throw std::runtime_error("debugfs output out of step at " + p);
    add_inode_targets(p, {sec[0].second, sec[1].second, sec[2].second, sec[3].second}, l, res.err,
                      map);
  }
  return map;
}

}  // namespace fsfault::images::detail
