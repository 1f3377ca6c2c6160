// What a [[disk]]'s `image =` or `blank =` names (docs/scenarios.md, "Disks"): a built-in recipe
// name, a recipe file, a raw image with or without its map, or an all-zero disk. Paths are
// checked when the scenario is read, so a mistake is reported before any VM boots.
#pragma once

#include "runner/scenario/scenario.h"

#include <cstdint>
#include <string>

namespace fsfault::vm {

// Fills ds.source and ds.path from `image` (as written), a relative path resolved against
// `base_dir`. `image` is a path when it contains '/' or ends in .toml or .img, else a recipe name
// (looked up when the disk is built). Throws std::runtime_error saying what is wrong (no such
// file, not a recipe, neither a recipe nor an image); the caller adds where it was written.
void resolve_disk_image(const std::string& image, const std::string& base_dir, DiskSpec& ds);

// Fills ds.map from `map` (as written) for a raw image that resolve_disk_image filled; throws
// for a disk that is not a raw image, a missing file, or a map check_map_file rejects.
void resolve_disk_map(const std::string& map, const std::string& base_dir, DiskSpec& ds);

// `blank = "300MiB"`: a positive multiple of 512 bytes, at most 1 TiB (the file is sparse).
std::uint64_t parse_blank_size(const std::string& text);

// Checks a target map file: JSON (errors as MAP:line:col), the map format, and that it is for an
// image of `image_bytes` when the map says its size.
void check_map_file(const std::string& map_path, std::uint64_t image_bytes);

}  // namespace fsfault::vm
