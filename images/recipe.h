// Golden image recipes (images/recipes/*.toml). See docs/images.md for the format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fsfault::images {

enum class FsType { ext4, xfs };
std::string_view to_string(FsType fs);

struct Xattr {
  std::string name;   // full name with namespace, e.g. "user.fsfault"
  std::string value;  // xfs: only the length is honoured (xfs_db fills values with 'v')
};

struct Entry {
  enum class Kind { dir, file, symlink };
  Kind kind = Kind::file;
  std::string path;           // absolute, normalised ("/data/f1")
  std::uint32_t mode = 0644;  // permission bits only
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;     // files: logical size in bytes
  std::uint32_t extents = 1;  // files: >1 writes that many data runs separated by holes (ext4)
  std::string target;         // symlinks
  std::vector<Xattr> xattrs;
};

struct MkfsOptions {
  std::uint32_t block_size = 4096;
  std::uint32_t inode_size = 256;     // ext4 default 256; xfs default 512
  std::uint32_t inode_ratio = 16384;  // ext4 (-i)
  std::uint32_t inode_count = 0;      // ext4 (-N), 0: use inode_ratio
  std::uint64_t journal_bytes = 0;    // ext4 journal (-J size=) / xfs internal log (-l size=); 0: tool default
  std::uint32_t agcount = 0;          // xfs (-d agcount=), 0: tool default
  std::uint32_t blocks_per_group = 0; // ext4 (-g), 0: tool default
  std::string label;
  // ext4: the complete feature list (becomes base_features of a private mke2fs.conf).
  // xfs: "-m" sub-options such as "crc=1" (uuid is added from the recipe).
  std::vector<std::string> features;
  std::vector<std::string> inode_options;  // xfs "-i" sub-options such as "sparse=1"
};

struct Recipe {
  std::string name;  // image name: NAME.img / NAME.map.json
  FsType fs = FsType::ext4;
  std::uint64_t size_bytes = 0;
  std::string uuid;
  std::string hash_seed;           // ext4 directory hash seed (a UUID)
  std::uint64_t seed = 1;          // file contents and inode generations derive from it
  std::int64_t timestamp = 1700000000;  // every inode time (seconds since the epoch)
  MkfsOptions mkfs;
  std::vector<Entry> entries;      // creation order; parents come before children
};

// Parses a recipe file; the name defaults to the file's stem. Throws std::runtime_error with the
// file name and the offending key on any error.
Recipe load_recipe(const std::filesystem::path& path);
Recipe parse_recipe(std::string_view toml_text, std::string_view default_name,
                    std::string_view source_name = "recipe");

// "64MiB", "4k", 1048576 → bytes. Suffixes are binary (K = KiB). Throws on bad input.
std::uint64_t parse_size(std::string_view text);

// Deterministic content for a file: a splitmix64 stream keyed by the recipe seed and the path.
std::string file_content(std::uint64_t seed, std::string_view path, std::uint64_t length,
                         std::uint64_t offset = 0);
// A stable non-zero inode generation for a path (so file handles carry a real generation).
std::uint32_t generation_for(std::uint64_t seed, std::string_view path);

// Data runs of a file with `extents` runs: (offset, length) pairs in bytes, holes in between.
// An entry path's directory ("/" for a top-level entry) and its last component.
std::string parent_of(const std::string& path);
std::string base_of(const std::string& path);

std::vector<std::pair<std::uint64_t, std::uint64_t>> data_runs(const Entry& file,
                                                               std::uint32_t block_size);

}  // namespace fsfault::images
