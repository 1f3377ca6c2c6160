// Parsers on output captured from e2fsprogs 1.47.0 and xfsprogs 6.1 (images/tests/data).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "images/tool_parsers.h"

using namespace fsfault::images;

namespace {

std::string data(const std::string& name) {
  std::ifstream in(std::string(FSFAULT_IMAGES_TEST_DATA) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string& section(const std::vector<std::pair<std::string, std::string>>& s,
                           const std::string& cmd) {
  for (const auto& [c, body] : s)
    if (c == cmd) return body;
  ADD_FAILURE() << "no section " << cmd;
  static std::string empty;
  return empty;
}

}  // namespace

TEST(Dumpe2fs, Ext4BasicHeaderAndFlexBgGroups) {
  auto l = parse_dumpe2fs(data("dumpe2fs-ext4-basic.txt"));
  EXPECT_EQ(l.block_size, 4096u);
  EXPECT_EQ(l.block_count, 16384u);
  EXPECT_EQ(l.inode_size, 256u);
  EXPECT_EQ(l.inodes_per_group, 1024u);
  EXPECT_EQ(l.first_block, 0u);
  ASSERT_TRUE(l.journal_inode);
  EXPECT_EQ(*l.journal_inode, 8u);
  EXPECT_EQ(l.uuid, "f5f4a017-0000-4000-8000-000000000001");
  EXPECT_NE(std::find(l.features.begin(), l.features.end(), "metadata_csum"), l.features.end());
  ASSERT_EQ(l.groups.size(), 4u);
  const auto& g0 = l.groups[0];
  EXPECT_TRUE(g0.primary);
  EXPECT_EQ(g0.superblock, 0u);
  EXPECT_EQ(g0.gdt, (BlockRange{1, 1}));
  EXPECT_EQ(g0.reserved_gdt, (BlockRange{2, 64}));
  EXPECT_EQ(g0.blocks, (BlockRange{0, 4095}));
  // flex_bg: group 1's bitmaps and table live in group 0 ("bg #0 + 66").
  const auto& g1 = l.groups[1];
  EXPECT_FALSE(g1.primary);
  EXPECT_EQ(g1.superblock, 4096u);
  EXPECT_EQ(g1.block_bitmap, 66u);
  EXPECT_EQ(g1.inode_bitmap, 70u);
  EXPECT_EQ(g1.inode_table, (BlockRange{137, 200}));
  EXPECT_FALSE(l.groups[2].superblock);  // sparse_super: no backup in group 2
  EXPECT_EQ(l.groups[3].inode_table, (BlockRange{265, 328}));
}

TEST(Dumpe2fs, OneKiBBlocksStartAtBlockOne) {
  auto l = parse_dumpe2fs(data("dumpe2fs-ext4-small-journal.txt"));
  EXPECT_EQ(l.block_size, 1024u);
  EXPECT_EQ(l.first_block, 1u);
  ASSERT_FALSE(l.groups.empty());
  EXPECT_EQ(l.groups[0].superblock, 1u);
  EXPECT_EQ(l.groups[0].gdt, (BlockRange{2, 2}));
  EXPECT_EQ(l.groups[0].blocks.first, 1u);
}

TEST(Dumpe2fs, RejectsTruncatedOutput) {
  EXPECT_THROW(parse_dumpe2fs("Block size: 4096\n"), std::runtime_error);
  std::string text = data("dumpe2fs-ext4-basic.txt");
  text = text.substr(0, text.find("  Inode table at 137"));  // group 1 cut short
  EXPECT_THROW(parse_dumpe2fs(text), std::runtime_error);
}

TEST(Debugfs, SplitsEchoedCommands) {
  auto s = split_debugfs_output(data("debugfs-ext4-basic.txt"));
  ASSERT_EQ(s.size(), 13u);
  EXPECT_EQ(s[0].first, "stat /data/big");
  EXPECT_EQ(s[11].first, "ex <8>");
  EXPECT_EQ(s[12].second, "");  // stat of a missing path prints only to stderr
}

TEST(Debugfs, StatImapAndExtentTree) {
  auto s = split_debugfs_output(data("debugfs-ext4-basic.txt"));
  auto st = parse_debugfs_stat(section(s, "stat /data/big"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ino, 18u);
  EXPECT_EQ(st->type, "regular");
  EXPECT_EQ(st->mode, 0644u);
  EXPECT_EQ(st->flags, 0x80000u);
  EXPECT_EQ(st->generation, 0u);
  EXPECT_EQ(st->size, 4194304u);
  EXPECT_FALSE(st->fast_symlink);

  auto im = parse_debugfs_imap(section(s, "imap /data/big"));
  ASSERT_TRUE(im);
  EXPECT_EQ(im->ino, 18u);
  EXPECT_EQ(im->group, 0u);
  EXPECT_EQ(im->block, 74u);
  EXPECT_EQ(im->offset, 0x100u);

  auto rows = parse_debugfs_extents(section(s, "ex /data/big"));
  ASSERT_EQ(rows.size(), 66u);  // one index entry + 65 leaf extents
  EXPECT_TRUE(rows[0].index);
  EXPECT_EQ(rows[0].physical_first, 377u);
  EXPECT_EQ(rows[0].level, 0u);
  EXPECT_EQ(rows[0].max_depth, 1u);
  EXPECT_FALSE(rows[1].index);
  EXPECT_EQ(rows[1].physical_first, 344u);
  EXPECT_EQ(rows[1].physical_last, 351u);
  EXPECT_EQ(rows[1].logical_first, 0u);
  EXPECT_EQ(rows[1].length, 8u);
  EXPECT_EQ(rows[5].physical_first, 376u);  // split around the tree block at 377
  EXPECT_EQ(rows[6].physical_first, 378u);
}

TEST(Debugfs, DepthZeroExtentsAndJournal) {
  auto s = split_debugfs_output(data("debugfs-ext4-basic.txt"));
  auto rows = parse_debugfs_extents(section(s, "ex /data/f1"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].index);
  EXPECT_EQ(rows[0].length, 4u);
  auto j = parse_debugfs_extents(section(s, "ex <8>"));
  ASSERT_FALSE(j.empty());
  std::uint64_t total = 0;
  for (const auto& r : j) total += r.length;
  EXPECT_EQ(total, 1024u);  // 4 MiB journal in 4 KiB blocks
}

TEST(Debugfs, FastSymlinkHasNoBlocks) {
  auto s = split_debugfs_output(data("debugfs-ext4-basic.txt"));
  auto st = parse_debugfs_stat(section(s, "stat /data/link"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->type, "symlink");
  EXPECT_TRUE(st->fast_symlink);
  // `blocks` reinterprets the inline target as block numbers: the mapper must not trust it.
  EXPECT_FALSE(parse_debugfs_blocks(section(s, "blocks /data/link")).empty());
  auto slow = parse_debugfs_stat(section(s, "stat /data/longlink"));
  ASSERT_TRUE(slow);
  EXPECT_FALSE(slow->fast_symlink);
  EXPECT_EQ(parse_debugfs_extents(section(s, "ex /data/longlink")).size(), 1u);
  EXPECT_FALSE(parse_debugfs_stat(section(s, "stat /nonexistent")));
}

TEST(Debugfs, ExtentRowsWithUninitFlagAndBadLines) {
  auto rows = parse_debugfs_extents(
      "Level Entries       Logical      Physical Length Flags\n"
      " 0/ 0   1/  2     0 -     9  1000 -  1009     10 Uninit\n"
      " 0/ 0   2/  2    10 -    10  2000 -  2000      1 \n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].uninit);
  EXPECT_FALSE(rows[1].uninit);
  EXPECT_THROW(parse_debugfs_extents(" 0/ 0   1/  1     0 -     9  1000 -  1005     10 \n"),
               std::runtime_error);  // length disagrees with the physical range
  EXPECT_THROW(parse_debugfs_extents("garbage\n"), std::runtime_error);
}

TEST(Debugfs, BlockRuns) {
  auto runs = block_runs({7, 3, 4, 5, 9, 4});
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], (BlockRange{3, 5}));
  EXPECT_EQ(runs[1], (BlockRange{7, 7}));
  EXPECT_EQ(runs[2], (BlockRange{9, 9}));
}

TEST(XfsDb, SuperblockFieldsAndVersion) {
  auto f = parse_xfs_db_fields(data("xfs_db-sb.txt"));
  EXPECT_EQ(xfs_field_u64(f, "agcount"), 4u);
  EXPECT_EQ(xfs_field_u64(f, "agblocks"), 19200u);
  EXPECT_EQ(xfs_field_u64(f, "agblklog"), 15u);
  EXPECT_EQ(xfs_field_u64(f, "logstart"), 65542u);
  EXPECT_EQ(xfs_field_u64(f, "rootino"), 128u);
  bool bigtime = false;
  for (const auto& [k, v] : f)
    if (k.rfind("versionnum", 0) == 0) bigtime = v.find("BIGTIME") != std::string::npos;
  EXPECT_TRUE(bigtime);
  EXPECT_THROW(xfs_field_u64(f, "nosuchfield"), std::runtime_error);
}

TEST(XfsDb, PathBlocks) {
  auto infos = parse_xfs_db_path_blocks(data("xfs_db-paths.txt"));
  ASSERT_EQ(infos.size(), 3u);
  EXPECT_EQ(infos[0].ino, 128u);
  EXPECT_EQ(infos[0].format, "local");
  EXPECT_TRUE(infos[0].extents.empty());
  EXPECT_EQ(infos[1].ino, 262273u);
  EXPECT_EQ(infos[1].gen, 3793250128u);
  ASSERT_EQ(infos[1].extents.size(), 1u);
  EXPECT_EQ(infos[1].extents[0].agno, 1u);
  EXPECT_EQ(infos[1].extents[0].agbno, 10u);
  EXPECT_EQ(infos[1].extents[0].count, 4u);
  ASSERT_EQ(infos[2].extents.size(), 3u);  // leaf directory: data blocks + leaf at 32 GiB
  EXPECT_EQ(infos[2].extents[2].offset, 8388608u);
}

TEST(XfsDb, BmapLineAndConvert) {
  auto e = parse_xfs_bmap_line("attr offset 0 startblock 12 (0/12) count 1 flag 1");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->attr_fork);
  EXPECT_EQ(e->flag, 1u);
  EXPECT_FALSE(parse_xfs_bmap_line("data offset x"));
  auto bytes = parse_xfs_db_convert(data("xfs_db-convert.txt"));
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 65536u);
  EXPECT_EQ(bytes[1], 78709248u);
  EXPECT_THROW(parse_xfs_db_convert("oops\n"), std::runtime_error);
  EXPECT_THROW(parse_xfs_db_path_blocks("core.gen = 1\n"), std::runtime_error);
}
