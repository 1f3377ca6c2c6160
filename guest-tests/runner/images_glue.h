// The one place where the runner meets images/: a golden image and its
// target map for a recipe name.
#pragma once

#include <ostream>
#include <string>

namespace fsfault::vm {

struct ImageRef {
  std::string img;  // golden image (never written: fsfault-nbd keeps an overlay)
  std::string map;  // target map JSON
};

// recipes_dir: images/recipes; cache_dir: build/images. Uses
// `fsfault image build RECIPE --out DIR` when the images part is linked in,
// else a minimal built-in builder for development (ext4-basic only).
ImageRef ensure_image(const std::string& name, const std::string& recipes_dir, const std::string& cache_dir,
                      std::ostream& log);

}  // namespace fsfault::vm
