// Internal: filesystem-specific image builders and mappers (used by image.cpp and the tests).
#pragma once

#include <filesystem>
#include <string>

#include "images/recipe.h"
#include "faults/request.h"  // kSectorSize
#include "faults/target_map.h"

namespace fsfault::images::detail {

using faults::kSectorSize;
using faults::Target;
using faults::TargetMap;

// Populates `image` (an existing zero-filled file of recipe.size_bytes) with the recipe's
// filesystem; `work` is a scratch directory for staged file contents and tool scripts.
void build_ext4(const Recipe& recipe, const std::filesystem::path& image,
                const std::filesystem::path& work);
void build_xfs(const Recipe& recipe, const std::filesystem::path& image,
               const std::filesystem::path& work);

// Reads the structure locations back from the image with the tools (dumpe2fs/debugfs, xfs_db).
TargetMap map_ext4(const Recipe& recipe, const std::filesystem::path& image);
TargetMap map_xfs(const Recipe& recipe, const std::filesystem::path& image);

// Writes a file's staged content (data runs with holes between them when extents > 1).
void write_staged_file(const Recipe& recipe, const Entry& file, const std::filesystem::path& dest);

// The versions of the tools a build uses, folded into the cache key.
std::string tool_versions(FsType fs);

}  // namespace fsfault::images::detail
