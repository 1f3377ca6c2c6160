#include "images/tool_parsers.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace fsfault::images {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::uint64_t to_u64(const std::string& s, int base = 10) {
  std::size_t pos = 0;
  std::uint64_t v = std::stoull(s, &pos, base);
  if (pos != s.size()) throw std::runtime_error("not a number: " + s);
  return v;
}

BlockRange range_of(const std::string& first, const std::string& last) {
  BlockRange r{to_u64(first), last.empty() ? to_u64(first) : to_u64(last)};
  if (r.last < r.first) throw std::runtime_error(fmt::format("bad block range {}-{}", first, last));
  return r;
}

}  // namespace

Ext4Layout parse_dumpe2fs(std::string_view text) {
  Ext4Layout l;
  static const std::regex header(R"(^([A-Za-z #]+):\s*(.*)$)");
  static const std::regex group(R"(^Group (\d+): \(Blocks (\d+)-(\d+)\).*$)");
  static const std::regex sb(
      R"(^\s+(Primary|Backup) superblock at (\d+), Group descriptors at (\d+)-(\d+)\s*$)");
  static const std::regex rgdt(R"(^\s+Reserved GDT blocks at (\d+)-(\d+)\s*$)");
  static const std::regex bbitmap(R"(^\s+Block bitmap at (\d+) \(.*$)");
  static const std::regex ibitmap(R"(^\s+Inode bitmap at (\d+) \(.*$)");
  static const std::regex itable(R"(^\s+Inode table at (\d+)-(\d+) \(.*$)");
  bool in_groups = false;
  bool have_bb = false, have_ib = false, have_it = false;
  auto finish_group = [&]() {
    if (l.groups.empty()) return;
    if (!have_bb || !have_ib || !have_it)
      throw std::runtime_error(
          fmt::format("dumpe2fs: group {} lacks bitmap or inode table lines", l.groups.back().index));
  };
  for (auto raw : lines_of(text)) {
    std::string line(raw);
    std::smatch m;
    if (std::regex_match(line, m, group)) {
      finish_group();
      in_groups = true;
      Ext4Group g;
      g.index = static_cast<std::uint32_t>(to_u64(m[1]));
      g.blocks = range_of(m[2], m[3]);
      l.groups.push_back(g);
      have_bb = have_ib = have_it = false;
      continue;
    }
    if (in_groups) {
      if (l.groups.empty()) continue;
      auto& g = l.groups.back();
      if (std::regex_match(line, m, sb)) {
        g.primary = m[1] == "Primary";
        g.superblock = to_u64(m[2]);
        g.gdt = range_of(m[3], m[4]);
      } else if (std::regex_match(line, m, rgdt)) {
        g.reserved_gdt = range_of(m[1], m[2]);
      } else if (std::regex_match(line, m, bbitmap)) {
        g.block_bitmap = to_u64(m[1]);
        have_bb = true;
      } else if (std::regex_match(line, m, ibitmap)) {
        g.inode_bitmap = to_u64(m[1]);
        have_ib = true;
      } else if (std::regex_match(line, m, itable)) {
        g.inode_table = range_of(m[1], m[2]);
        have_it = true;
      }
      continue;
    }
    if (std::regex_match(line, m, header)) {
      std::string key = m[1];
      std::string value(trim(m[2].str()));
      if (key == "Block size") l.block_size = static_cast<std::uint32_t>(to_u64(value));
      else if (key == "Block count") l.block_count = to_u64(value);
      else if (key == "Inode size") l.inode_size = static_cast<std::uint32_t>(to_u64(value));
      else if (key == "Inodes per group") l.inodes_per_group = static_cast<std::uint32_t>(to_u64(value));
      else if (key == "First block") l.first_block = to_u64(value);
      else if (key == "Journal inode") l.journal_inode = to_u64(value);
      else if (key == "Filesystem UUID") l.uuid = value;
      else if (key == "Filesystem features") {
        std::istringstream is(value);
        std::string f;
        while (is >> f) l.features.push_back(f);
      }
    }
  }
  finish_group();
  if (l.block_size == 0 || l.block_count == 0 || l.inode_size == 0 || l.inodes_per_group == 0)
    throw std::runtime_error("dumpe2fs: missing Block size / Block count / Inode size / Inodes per group");
  if (l.groups.empty()) throw std::runtime_error("dumpe2fs: no group descriptors in the output");
  for (std::size_t i = 0; i < l.groups.size(); ++i) {
    if (l.groups[i].index != i) throw std::runtime_error("dumpe2fs: groups out of order");
  }
  return l;
}

std::vector<std::pair<std::string, std::string>> split_debugfs_output(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  constexpr std::string_view prompt = "debugfs: ";
  for (auto line : lines_of(text)) {
    if (line.substr(0, prompt.size()) == prompt) {
      out.emplace_back(std::string(trim(line.substr(prompt.size()))), std::string());
    } else if (!out.empty()) {
      out.back().second.append(line);
      out.back().second.push_back('\n');
    }
  }
  return out;
}

std::optional<DebugfsStat> parse_debugfs_stat(std::string_view text) {
  static const std::regex first(
      R"(^Inode: (\d+)\s+Type: (\S+)\s+Mode:\s+(\d+)\s+Flags: 0x([0-9a-fA-F]+)\s*$)");
  static const std::regex gen(R"(^Generation: (\d+)\s.*$)");
  static const std::regex size(R"(^User:.*Size: (\d+)\s*$)");
  DebugfsStat s;
  bool have_first = false, have_gen = false;
  for (auto raw : lines_of(text)) {
    std::string line(raw);
    std::smatch m;
    if (!have_first && std::regex_match(line, m, first)) {
      s.ino = to_u64(m[1]);
      s.type = m[2];
      s.mode = static_cast<std::uint32_t>(to_u64(m[3], 8));
      s.flags = static_cast<std::uint32_t>(to_u64(m[4], 16));
      have_first = true;
    } else if (have_first && !have_gen && std::regex_match(line, m, gen)) {
      s.generation = static_cast<std::uint32_t>(to_u64(m[1]));
      have_gen = true;
    } else if (have_first && std::regex_match(line, m, size)) {
      s.size = to_u64(m[1]);
    } else if (have_first && line.rfind("Fast link dest:", 0) == 0) {
      s.fast_symlink = true;
    }
  }
  if (!have_first || !have_gen) return std::nullopt;
  return s;
}

std::optional<DebugfsImap> parse_debugfs_imap(std::string_view text) {
  static const std::regex re(
      R"(Inode (\d+) is part of block group (\d+)\s+located at block (\d+), offset 0x([0-9a-fA-F]+))");
  std::string s(text);
  std::smatch m;
  if (!std::regex_search(s, m, re)) return std::nullopt;
  DebugfsImap r;
  r.ino = to_u64(m[1]);
  r.group = static_cast<std::uint32_t>(to_u64(m[2]));
  r.block = to_u64(m[3]);
  r.offset = to_u64(m[4], 16);
  return r;
}

std::vector<ExtentRow> parse_debugfs_extents(std::string_view text) {
  // Leaf:  " 1/ 1   1/ 41     0 -     1  1301 -  1302      2 [Uninit]"
  // Index: " 0/ 1   1/  1     0 -   319  1310            320"
  static const std::regex leaf(
      R"(^\s*(\d+)/\s*(\d+)\s+(\d+)/\s*(\d+)\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s*(\S*)\s*$)");
  static const std::regex index(
      R"(^\s*(\d+)/\s*(\d+)\s+(\d+)/\s*(\d+)\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s+(\d+)\s*$)");
  std::vector<ExtentRow> rows;
  for (auto raw : lines_of(text)) {
    std::string line(raw);
    if (trim(line).empty() || line.find("Level") != std::string::npos) continue;
    std::smatch m;
    ExtentRow r;
    if (std::regex_match(line, m, leaf)) {
      r.level = static_cast<std::uint32_t>(to_u64(m[1]));
      r.max_depth = static_cast<std::uint32_t>(to_u64(m[2]));
      r.logical_first = to_u64(m[5]);
      r.logical_last = to_u64(m[6]);
      r.physical_first = to_u64(m[7]);
      r.physical_last = to_u64(m[8]);
      r.length = to_u64(m[9]);
      r.uninit = m[10] == "Uninit";
      r.index = false;
      if (r.physical_last < r.physical_first || r.physical_last - r.physical_first + 1 != r.length)
        throw std::runtime_error("debugfs ex: inconsistent extent row: " + line);
    } else if (std::regex_match(line, m, index)) {
      r.level = static_cast<std::uint32_t>(to_u64(m[1]));
      r.max_depth = static_cast<std::uint32_t>(to_u64(m[2]));
      r.logical_first = to_u64(m[5]);
      r.logical_last = to_u64(m[6]);
      r.physical_first = r.physical_last = to_u64(m[7]);
      r.length = to_u64(m[8]);
      r.index = true;
      if (r.level >= r.max_depth)
        throw std::runtime_error("debugfs ex: index row at leaf level: " + line);
    } else {
      throw std::runtime_error("debugfs ex: unrecognised line: " + line);
    }
    rows.push_back(r);
  }
  return rows;
}

std::vector<std::uint64_t> parse_debugfs_blocks(std::string_view text) {
  std::vector<std::uint64_t> out;
  std::istringstream is{std::string(text)};
  std::string tok;
  while (is >> tok) out.push_back(to_u64(tok));
  return out;
}

std::vector<BlockRange> block_runs(std::vector<std::uint64_t> blocks) {
  std::sort(blocks.begin(), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  std::vector<BlockRange> out;
  for (auto b : blocks) {
    if (!out.empty() && out.back().last + 1 == b) out.back().last = b;
    else out.push_back({b, b});
  }
  return out;
}

std::map<std::string, std::string> parse_xfs_db_fields(std::string_view text) {
  std::map<std::string, std::string> out;
  for (auto line : lines_of(text)) {
    auto eq = line.find(" = ");
    if (eq == std::string_view::npos) continue;
    out[std::string(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 3)));
  }
  return out;
}

std::uint64_t xfs_field_u64(const std::map<std::string, std::string>& fields,
                            const std::string& key) {
  auto it = fields.find(key);
  if (it == fields.end()) throw std::runtime_error("xfs_db: field '" + key + "' missing");
  std::string v = it->second;
  // Some fields print "N (description)"; keep the leading number.
  auto sp = v.find(' ');
  if (sp != std::string::npos) v = v.substr(0, sp);
  try {
    return v.rfind("0x", 0) == 0 ? to_u64(v.substr(2), 16) : to_u64(v);
  } catch (const std::exception&) {
    throw std::runtime_error("xfs_db: field '" + key + "' is not a number: " + it->second);
  }
}

std::optional<XfsBmapExtent> parse_xfs_bmap_line(std::string_view line) {
  static const std::regex re(
      R"(^(data|attr) offset (\d+) startblock (\d+) \((\d+)/(\d+)\) count (\d+) flag (\d+)\s*$)");
  std::string s(trim(line));
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  XfsBmapExtent e;
  e.attr_fork = m[1] == "attr";
  e.offset = to_u64(m[2]);
  e.start_block = to_u64(m[3]);
  e.agno = static_cast<std::uint32_t>(to_u64(m[4]));
  e.agbno = to_u64(m[5]);
  e.count = to_u64(m[6]);
  e.flag = static_cast<std::uint32_t>(to_u64(m[7]));
  return e;
}

std::vector<XfsPathInfo> parse_xfs_db_path_blocks(std::string_view text) {
  static const std::regex cur(R"(^current inode number is (\d+)\s*$)");
  std::vector<XfsPathInfo> out;
  bool have_gen = false, have_format = false;
  auto check_last = [&]() {
    if (!out.empty() && (!have_gen || !have_format))
      throw std::runtime_error(
          fmt::format("xfs_db: inode {} lacks core.gen or core.format", out.back().ino));
  };
  for (auto raw : lines_of(text)) {
    std::string line(trim(raw));
    if (line.empty()) continue;
    std::smatch m;
    if (std::regex_match(line, m, cur)) {
      check_last();
      out.push_back({});
      out.back().ino = to_u64(m[1]);
      have_gen = have_format = false;
      continue;
    }
    if (out.empty()) throw std::runtime_error("xfs_db: output before the first inode: " + line);
    auto& info = out.back();
    if (line.rfind("core.gen = ", 0) == 0) {
      info.gen = static_cast<std::uint32_t>(to_u64(line.substr(11)));
      have_gen = true;
    } else if (line.rfind("core.format = ", 0) == 0) {
      // "core.format = 2 (extents)"
      auto open = line.find('('), close = line.find(')');
      if (open == std::string::npos || close == std::string::npos || close < open)
        throw std::runtime_error("xfs_db: bad core.format line: " + line);
      info.format = line.substr(open + 1, close - open - 1);
      have_format = true;
    } else if (auto e = parse_xfs_bmap_line(line)) {
      info.extents.push_back(*e);
    } else {
      throw std::runtime_error("xfs_db: unrecognised line: " + line);
    }
  }
  check_last();
  return out;
}

std::vector<std::uint64_t> parse_xfs_db_convert(std::string_view text) {
  static const std::regex re(R"(^0x[0-9a-fA-F]+ \((\d+)\)\s*$)");
  std::vector<std::uint64_t> out;
  for (auto raw : lines_of(text)) {
    std::string line(trim(raw));
    if (line.empty()) continue;
    std::smatch m;
    if (!std::regex_match(line, m, re)) throw std::runtime_error("xfs_db convert: bad line: " + line);
    out.push_back(to_u64(m[1]));
  }
  return out;
}

}  // namespace fsfault::images
