// xfs golden images: mkfs.xfs -p PROTOFILE (populates the tree without mounting), then xfs_db -x
// to set xattrs, inode generations and every timestamp (mkfs.xfs 6.1 has no fake-time knob).
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "images/builders.h"
#include "process/process.h"
#include "images/tool_parsers.h"

namespace fsfault::images::detail {
namespace {

// xfs_db reports most failures on stderr while exiting 0.
void check_quiet_stderr(const proc::ProcessResult& r, const std::string& what) {
  std::istringstream is(r.err);
  std::string line, bad;
  while (std::getline(is, line)) {
    if (!line.empty()) bad += line + "\n";
  }
  if (!bad.empty()) throw std::runtime_error(fmt::format("xfs_db {} reported errors:\n{}", what, bad));
}

std::string proto_mode(char type, std::uint32_t mode) {
  return fmt::format("{}{}{}{:03o}", type, (mode & 04000) ? 'u' : '-', (mode & 02000) ? 'g' : '-',
                     mode & 0777);
}

struct Geometry {
  std::uint64_t agcount, agblocks, agblklog, blocksize, sectsize, inodesize, logstart, logblocks,
      rootino, rbmino, rsumino;
  bool bigtime = false, crc = false;
};

Geometry read_geometry(const std::filesystem::path& image) {
  std::vector<std::string> cmd = {"xfs_db", "-r", "-c", "sb 0", "-c",
                                  "print agcount agblocks agblklog blocksize sectsize inodesize "
                                  "logstart logblocks rootino rbmino rsumino",
                                  "-c", "version", image.string()};
  auto r = proc::run_process(cmd);
  proc::require_success(r, cmd);
  auto f = parse_xfs_db_fields(r.out);
  Geometry g{};
  g.agcount = xfs_field_u64(f, "agcount");
  g.agblocks = xfs_field_u64(f, "agblocks");
  g.agblklog = xfs_field_u64(f, "agblklog");
  g.blocksize = xfs_field_u64(f, "blocksize");
  g.sectsize = xfs_field_u64(f, "sectsize");
  g.inodesize = xfs_field_u64(f, "inodesize");
  g.logstart = xfs_field_u64(f, "logstart");
  g.logblocks = xfs_field_u64(f, "logblocks");
  g.rootino = xfs_field_u64(f, "rootino");
  g.rbmino = xfs_field_u64(f, "rbmino");
  g.rsumino = xfs_field_u64(f, "rsumino");
  std::string version;
  for (const auto& [k, val] : f)
    if (k.rfind("versionnum", 0) == 0) version = val;
  if (version.empty()) throw std::runtime_error("xfs_db version: no versionnum line:\n" + r.out);
  g.bigtime = version.find("BIGTIME") != std::string::npos;
  g.crc = version.find("CRC") != std::string::npos;
  if (g.blocksize % kSectorSize || g.sectsize % kSectorSize)
    throw std::runtime_error("xfs: block or sector size is not a multiple of 512");
  return g;
}

// The protofile lines for the children of `dir` (recipe order), recursively; file contents are
// staged as work/stage/I.
void emit_children(const Recipe& r, const std::map<std::string, std::vector<std::size_t>>& children,
                   const std::string& dir, int depth, const std::filesystem::path& work,
                   std::ostream& proto) {
  auto it = children.find(dir);
  if (it == children.end()) return;
  std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  for (std::size_t i : it->second) {
    const Entry& e = r.entries[i];
    proto << indent << base_of(e.path) << ' ';
    switch (e.kind) {
      case Entry::Kind::dir:
        proto << proto_mode('d', e.mode) << ' ' << e.uid << ' ' << e.gid << '\n';
        emit_children(r, children, e.path, depth + 1, work, proto);
        proto << indent << "$\n";
        break;
      case Entry::Kind::file: {
        auto staged = std::filesystem::path("stage") / std::to_string(i);
        write_staged_file(r, e, work / staged);
        proto << proto_mode('-', e.mode) << ' ' << e.uid << ' ' << e.gid << ' ' << staged.string()
              << '\n';
        break;
      }
      case Entry::Kind::symlink:
        proto << proto_mode('l', 0777) << ' ' << e.uid << ' ' << e.gid << ' ' << e.target << '\n';
        break;
    }
  }
}

// work/image.proto: the tree for mkfs.xfs -p.
void write_protofile(const Recipe& r, const std::filesystem::path& work) {
  std::filesystem::create_directories(work / "stage");
  std::map<std::string, std::vector<std::size_t>> children;
  for (std::size_t i = 0; i < r.entries.size(); ++i) children[parent_of(r.entries[i].path)].push_back(i);
  std::ostringstream proto;
  proto << "fsfault\n0 0\n" << proto_mode('d', 0755) << " 0 0\n";
  emit_children(r, children, "/", 1, work, proto);
  proto << "$\n";
  std::ofstream(work / "image.proto") << proto.str();
}

std::vector<std::string> mkfs_xfs_command(const Recipe& r, const std::filesystem::path& image) {
  const auto& m = r.mkfs;
  std::string meta = "uuid=" + r.uuid;
  for (const auto& f : m.features) meta += "," + f;
  std::string inode_opts = fmt::format("size={}", m.inode_size);
  for (const auto& o : m.inode_options) inode_opts += "," + o;
  std::vector<std::string> mkfs = {"mkfs.xfs", "-q", "-f", "-K", "-s", "size=512",
                                   "-b", fmt::format("size={}", m.block_size),
                                   "-i", inode_opts, "-m", meta};
  if (m.agcount) mkfs.insert(mkfs.end(), {"-d", fmt::format("agcount={}", m.agcount)});
  if (m.journal_bytes) mkfs.insert(mkfs.end(), {"-l", fmt::format("size={}m", m.journal_bytes >> 20)});
  if (!m.label.empty()) mkfs.insert(mkfs.end(), {"-L", m.label});
  mkfs.insert(mkfs.end(), {"-p", "image.proto", image.string()});
  return mkfs;
}

// xfs_db -c commands setting every timestamp of the current inode to the recipe's.
void fix_times(const Recipe& r, const Geometry& g, std::vector<std::string>& cmds) {
  std::vector<std::string> fields = {"core.atime", "core.mtime", "core.ctime"};
  if (g.crc) fields.push_back("v3.crtime");
  for (const auto& f : fields) {
    if (g.bigtime) {
      // xfs_db writes a bigtime stamp as its raw on-disk value: ns since 1901-12-13 (-2^31 s).
      std::uint64_t raw = (static_cast<std::uint64_t>(r.timestamp) + (1ull << 31)) * 1000000000ull;
      cmds.push_back(fmt::format("write {}.sec {}", f, raw));
    } else {
      cmds.push_back(fmt::format("write {}.sec {}", f, r.timestamp));
      cmds.push_back(fmt::format("write {}.nsec 0", f));
    }
  }
}

// The xfs_db -x commands fixing what mkfs left to the clock or to chance (timestamps,
// generations) and adding the xattrs.
std::vector<std::string> fixup_commands(const Recipe& r, const Geometry& g) {
  std::vector<std::string> cmds;
  for (std::uint64_t ino : {g.rootino, g.rbmino, g.rsumino}) {
    cmds.push_back(fmt::format("inode {}", ino));
    if (ino == g.rootino) cmds.push_back(fmt::format("write core.gen {}", generation_for(r.seed, "/")));
    fix_times(r, g, cmds);
  }
  for (const auto& e : r.entries) {
    cmds.push_back("path " + e.path);
    for (const auto& x : e.xattrs) {
      auto dot = x.name.find('.');
      std::string ns = x.name.substr(0, dot);
      char flag = ns == "user" ? 'u' : ns == "trusted" ? 'r' : 's';
      cmds.push_back(fmt::format("attr_set -{} -v {} {}", flag, x.value.size(), x.name.substr(dot + 1)));
    }
    cmds.push_back(fmt::format("write core.gen {}", generation_for(r.seed, e.path)));
    fix_times(r, g, cmds);
  }
  return cmds;
}

}  // namespace

void build_xfs(const Recipe& r, const std::filesystem::path& image,
               const std::filesystem::path& work) {
  write_protofile(r, work);
  auto mkfs = mkfs_xfs_command(r, image);
  proc::ProcessOptions opts;
  opts.cwd = work;
  proc::require_success(proc::run_process(mkfs, opts), mkfs);

  std::vector<std::string> db = {"xfs_db", "-x"};
  for (auto& c : fixup_commands(r, read_geometry(image))) db.insert(db.end(), {"-c", std::move(c)});
  db.push_back(image.string());
  auto res = proc::run_process(db);
  proc::require_success(res, {"xfs_db", "-x", "..."});
  check_quiet_stderr(res, "post-processing");

  std::vector<std::string> repair = {"xfs_repair", "-n", image.string()};
  auto rr = proc::run_process(repair);
  if (rr.exit_code != 0)
    throw std::runtime_error(fmt::format("the new image does not pass xfs_repair -n (exit {}):\n{}{}",
                                         rr.exit_code, rr.out, rr.err));
}

TargetMap map_xfs(const Recipe& r, const std::filesystem::path& image) {
  Geometry g = read_geometry(image);
  const std::uint64_t spb = g.blocksize / kSectorSize;
  const std::uint64_t sps = g.sectsize / kSectorSize;
  auto ag_sector = [&](std::uint64_t agno, std::uint64_t agbno) {
    return (agno * g.agblocks + agbno) * spb;
  };
  TargetMap map;
  map.image = r.name;
  map.fs = "xfs";
  map.size_bytes = r.size_bytes;
  for (std::uint64_t ag = 0; ag < g.agcount; ++ag) {
    std::uint64_t base = ag_sector(ag, 0);
    // Superblock, AGF, AGI, AGFL: the first four sectors of each AG (XFS_{SB,AGF,AGI,AGFL}_DADDR).
    const char* names[] = {"sb", "agf", "agi", "agfl"};
    for (std::uint64_t k = 0; k < 4; ++k)
      map.entry(fmt::format("{}:{}", names[k], ag)).add_sectors(base + k * sps, base + (k + 1) * sps - 1);
  }
  if (g.logstart != 0) {
    std::uint64_t agno = g.logstart >> g.agblklog;
    std::uint64_t agbno = g.logstart & ((1ull << g.agblklog) - 1);
    std::uint64_t first = ag_sector(agno, agbno);
    map.entry("log").add_sectors(first, first + g.logblocks * spb - 1);
  }

  std::vector<std::string> paths = {"/"};
  for (const auto& e : r.entries) paths.push_back(e.path);
  std::vector<std::string> db = {"xfs_db", "-r"};
  for (const auto& p : paths) {
    db.insert(db.end(), {"-c", p == "/" ? fmt::format("inode {}", g.rootino) : "path " + p, "-c",
                         "inode", "-c", "print core.gen core.format", "-c", "bmap"});
  }
  db.push_back(image.string());
  auto res = proc::run_process(db);
  proc::require_success(res, {"xfs_db", "-r", "..."});
  check_quiet_stderr(res, "path lookups");
  auto infos = parse_xfs_db_path_blocks(res.out);
  if (infos.size() != paths.size())
    throw std::runtime_error(fmt::format("xfs_db described {} inodes for {} paths", infos.size(), paths.size()));
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < infos.size(); ++i) {
    if (!seen.insert(infos[i].ino).second)
      throw std::runtime_error(fmt::format("xfs_db: {} resolved to inode {} twice (lookup failed?)",
                                           paths[i], infos[i].ino));
  }
  std::vector<std::string> conv = {"xfs_db", "-r"};
  for (const auto& info : infos) conv.insert(conv.end(), {"-c", fmt::format("convert ino {} byte", info.ino)});
  conv.push_back(image.string());
  auto cres = proc::run_process(conv);
  proc::require_success(cres, {"xfs_db", "-r", "convert ..."});
  auto bytes = parse_xfs_db_convert(cres.out);
  if (bytes.size() != infos.size()) throw std::runtime_error("xfs_db convert: wrong number of lines");

  for (std::size_t i = 0; i < infos.size(); ++i) {
    const auto& p = paths[i];
    const auto& info = infos[i];
    bool is_dir = p == "/";
    for (const auto& e : r.entries)
      if (e.path == p) is_dir = e.kind == Entry::Kind::dir;
    auto tagged = [&](std::string name) -> Target& {
      Target& t = map.entry(name);
      t.ino = info.ino;
      t.gen = info.gen;
      return t;
    };
    tagged("inode:" + p).add_bytes(bytes[i], g.inodesize);
    std::vector<XfsBmapExtent> data;
    for (const auto& e : info.extents)
      if (!e.attr_fork) data.push_back(e);
    if (!data.empty()) {
      Target& t = tagged((is_dir ? "dir:" : "data:") + p);
      for (const auto& e : data) {
        std::uint64_t first = ag_sector(e.agno, e.agbno);
        t.add_sectors(first, first + e.count * spb - 1);
      }
    }
  }
  return map;
}

}  // namespace fsfault::images::detail
