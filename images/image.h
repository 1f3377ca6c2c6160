// Public entry points for golden images: build an image and its target map from a recipe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "images/recipe.h"
#include "faults/target_map.h"

namespace fsfault::images {

struct BuildOptions {
  bool force = false;  // rebuild even when the cached build matches
};

struct BuildResult {
  std::filesystem::path image_path;  // DIR/NAME.img
  std::filesystem::path map_path;    // DIR/NAME.map.json
  std::string image_sha256;
  bool cached = false;  // true when an earlier identical build was reused
};

// Builds DIR/NAME.img and DIR/NAME.map.json from a recipe (no mount, no root). The build is keyed
// by the recipe file's bytes plus the tools' versions; a matching earlier build (DIR/NAME.build.json)
// is reused. Safe against concurrent builders of the same image: outputs are renamed into place.
// Throws std::runtime_error with the failing tool's output on any error.
BuildResult build_image(const std::filesystem::path& recipe_path,
                        const std::filesystem::path& out_dir, const BuildOptions& options = {});

// RECIPES_DIR/NAME.toml; throws listing the available recipe names when it does not exist.
// For scenario disks (`image = "ext4-basic"`).
std::filesystem::path recipe_path_for(std::string_view name, const std::filesystem::path& recipes_dir);

// DIR/NAME.toml of the first of `recipe_dirs` (in order) that has it; throws naming every folder
// searched and the recipe names available there. For --recipes DIR beside the built-in folder.
std::filesystem::path recipe_path_for(std::string_view name,
                                      const std::vector<std::filesystem::path>& recipe_dirs);

// build_image(recipe_path_for(name, recipes_dir), out_dir, options).
BuildResult build_named_image(std::string_view name, const std::filesystem::path& recipes_dir,
                              const std::filesystem::path& out_dir, const BuildOptions& options = {});

// Re-derives the target map of an existing image built from `recipe`.
faults::TargetMap map_image(const Recipe& recipe, const std::filesystem::path& image_path);

// The cache key build_image uses: the builder's version, the tools' versions (their -V output, see
// detail::tool_versions) and the recipe file's bytes. A new mkfs or debugfs/xfs_db rebuilds.
std::string build_key(std::string_view recipe_text, std::string_view tool_versions);

}  // namespace fsfault::images
