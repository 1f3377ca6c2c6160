// The one place where the runner meets images/: the golden image and target map a [[disk]]
// names (a recipe built in-process by the images library, a raw image, or a blank disk).
#pragma once

#include "runner/scenario/scenario.h"

#include <ostream>
#include <string>
#include <vector>

namespace fsfault::vm {

struct ImageRef {
  std::string img;  // golden image (never written: fsfault-nbd keeps an overlay)
  std::string map;  // target map JSON
};

// recipe_dirs: images/recipes, then the --recipes folders, searched in that order for a recipe
// name; cache_dir: build/images. Builds (or reuses) the recipe's CACHE/.../NAME.img and
// NAME.map.json; a raw image is used in place, with its map or, without one, an empty map
// written to CACHE/unmapped/; a blank disk is a sparse CACHE/blank/blank-BYTES.img. Throws
// naming the recipe, the file or the failing tool.
ImageRef ensure_disk_image(const DiskSpec& disk, const std::vector<std::string>& recipe_dirs,
                           const std::string& cache_dir, std::ostream& log);

}  // namespace fsfault::vm
