// The one place where the runner meets images/: a golden image and its target map for a recipe
// name, built in-process by the images library.
#pragma once

#include <ostream>
#include <string>

namespace fsfault::vm {

struct ImageRef {
  std::string img;  // golden image (never written: fsfault-nbd keeps an overlay)
  std::string map;  // target map JSON
};

// recipes_dir: images/recipes; cache_dir: build/images. Builds (or reuses) CACHE/NAME.img and
// CACHE/NAME.map.json; throws naming the recipe or the failing tool.
ImageRef ensure_image(const std::string& name, const std::string& recipes_dir, const std::string& cache_dir,
                      std::ostream& log);

}  // namespace fsfault::vm
