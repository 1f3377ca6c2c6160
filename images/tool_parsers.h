// Parsers for the text the filesystem tools print (dumpe2fs, debugfs, xfs_db). Kept separate and
// pure so they are unit-tested on captured output (images/tests/data).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fsfault::images {

struct BlockRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  bool operator==(const BlockRange&) const = default;
};

// ---- dumpe2fs ---------------------------------------------------------------------------------
struct Ext4Group {
  std::uint32_t index = 0;
  BlockRange blocks;
  std::optional<std::uint64_t> superblock;  // primary or backup superblock block
  bool primary = false;
  std::optional<BlockRange> gdt;
  std::optional<BlockRange> reserved_gdt;
  std::uint64_t block_bitmap = 0;
  std::uint64_t inode_bitmap = 0;
  BlockRange inode_table;
};

struct Ext4Layout {
  std::uint32_t block_size = 0;
  std::uint64_t block_count = 0;
  std::uint32_t inode_size = 0;
  std::uint32_t inodes_per_group = 0;
  std::uint64_t first_block = 0;
  std::optional<std::uint64_t> journal_inode;
  std::string uuid;
  std::vector<std::string> features;
  std::vector<Ext4Group> groups;
};

// Parses full `dumpe2fs IMAGE` output (header and groups). Throws std::runtime_error when a
// required field or group line is missing or malformed.
Ext4Layout parse_dumpe2fs(std::string_view text);

// ---- debugfs ----------------------------------------------------------------------------------
// Output of `debugfs -f SCRIPT`: the tool echoes each command as "debugfs: CMD". Returns the
// commands with the text each printed, in order.
std::vector<std::pair<std::string, std::string>> split_debugfs_output(std::string_view text);

struct DebugfsStat {
  std::uint64_t ino = 0;
  std::string type;  // "regular", "directory", "symlink", ...
  std::uint32_t mode = 0;
  std::uint32_t flags = 0;
  std::uint32_t generation = 0;
  std::uint64_t size = 0;
  bool fast_symlink = false;  // target stored in the inode ("Fast link dest:")
};
std::optional<DebugfsStat> parse_debugfs_stat(std::string_view text);

struct DebugfsImap {
  std::uint64_t ino = 0;
  std::uint32_t group = 0;
  std::uint64_t block = 0;
  std::uint64_t offset = 0;  // bytes within the block
};
std::optional<DebugfsImap> parse_debugfs_imap(std::string_view text);

struct ExtentRow {
  std::uint32_t level = 0;
  std::uint32_t max_depth = 0;
  std::uint64_t logical_first = 0;
  std::uint64_t logical_last = 0;
  std::uint64_t physical_first = 0;
  std::uint64_t physical_last = 0;  // index rows: == physical_first (the child node's block)
  std::uint64_t length = 0;
  bool index = false;  // an interior node entry: physical_first is an extent tree block
  bool uninit = false;
};
// `debugfs ex PATH` rows; an empty vector when the inode has no extents.
std::vector<ExtentRow> parse_debugfs_extents(std::string_view text);

// `debugfs blocks PATH`: space-separated block numbers.
std::vector<std::uint64_t> parse_debugfs_blocks(std::string_view text);

// Merges a list of block numbers into sorted runs.
std::vector<BlockRange> block_runs(std::vector<std::uint64_t> blocks);

// ---- xfs_db -----------------------------------------------------------------------------------
// "key = value" lines from `print` (values kept verbatim).
std::map<std::string, std::string> parse_xfs_db_fields(std::string_view text);
std::uint64_t xfs_field_u64(const std::map<std::string, std::string>& fields,
                            const std::string& key);

struct XfsBmapExtent {
  bool attr_fork = false;
  std::uint64_t offset = 0;      // file offset in blocks
  std::uint64_t start_block = 0; // fsblock number
  std::uint32_t agno = 0;
  std::uint64_t agbno = 0;
  std::uint64_t count = 0;
  std::uint32_t flag = 0;  // 1: unwritten
};
// One `bmap` line: "data offset 0 startblock 32778 (1/10) count 5 flag 0".
std::optional<XfsBmapExtent> parse_xfs_bmap_line(std::string_view line);

struct XfsPathInfo {
  std::uint64_t ino = 0;
  std::uint32_t gen = 0;
  std::string format;  // "local", "extents", "btree", "dev"
  std::vector<XfsBmapExtent> extents;
};
// Output of repeated groups `inode` / `print core.gen core.format` / `bmap`, one per path,
// each starting with "current inode number is N".
std::vector<XfsPathInfo> parse_xfs_db_path_blocks(std::string_view text);

// Output of repeated `convert ino N byte`: "0x4b10200 (78709248)" per line.
std::vector<std::uint64_t> parse_xfs_db_convert(std::string_view text);

}  // namespace fsfault::images
