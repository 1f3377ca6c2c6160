#include "runner/scenario/disk_source.h"

#include "base/files.h"
#include "faults/target_map.h"
#include "images/recipe.h"

#include <filesystem>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos || s.ends_with(".toml") || s.ends_with(".img");
}

// Absolute and normal; `what` names the key in messages ("image", "map").
std::string existing_file(const std::string& written, const std::string& base_dir, const char* what) {
  fs::path p(written);
  if (p.is_relative()) p = fs::absolute(fs::path(base_dir.empty() ? "." : base_dir) / p);
  std::string abs = p.lexically_normal().string();
  std::error_code ec;
  auto st = fs::status(abs, ec);
  if (ec || !fs::exists(st)) throw std::runtime_error(std::string(what) + " " + abs + ": no such file");
  if (!fs::is_regular_file(st)) throw std::runtime_error(std::string(what) + " " + abs + ": not a regular file");
  return abs;
}

// nlohmann's parse_error gives a byte offset: as line:col for the user.
std::string position_of(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace

void check_map_file(const std::string& map_path, std::uint64_t image_bytes) {
  std::string text = base::read_file(map_path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(map_path + ":" + position_of(text, e.byte) + ": not a target map: invalid JSON (" +
                             e.what() + ")");
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(map_path + ": not a target map: " + e.what());
  }
  faults::TargetMap m;
  try {
    m = faults::TargetMap::from_json(j, map_path);
  } catch (const faults::TargetMapError& e) {
    throw std::runtime_error(std::string("not a target map: ") + e.what());
  }
  if (m.size_bytes != 0 && m.size_bytes != image_bytes)
    throw std::runtime_error(map_path + ": the map is for a " + std::to_string(m.size_bytes) + "-byte image, the image has " +
                             std::to_string(image_bytes) + " bytes");
}

void resolve_disk_image(const std::string& image, const std::string& base_dir, DiskSpec& ds) {
  ds.image = image;
  if (image.empty()) throw std::runtime_error("image must be a recipe name or a path to a .toml recipe or .img image");
  if (!looks_like_path(image)) {
    ds.source = DiskSource::recipe_name;
    return;
  }
  ds.path = existing_file(image, base_dir, "image");
  if (image.ends_with(".toml")) {
    try {
      (void)images::load_recipe(ds.path);
    } catch (const std::exception& e) {
      throw std::runtime_error("image " + ds.path + " is not an image recipe: " + e.what());
    }
    ds.source = DiskSource::recipe_file;
    return;
  }
  if (!image.ends_with(".img"))
    throw std::runtime_error("image " + ds.path + " is neither a recipe (*.toml) nor a raw image (*.img)");
  ds.source = DiskSource::raw_image;
  std::uint64_t bytes = fs::file_size(ds.path);
  if (bytes == 0 || bytes % 512 != 0)
    throw std::runtime_error("image " + ds.path + ": " + std::to_string(bytes) +
                             " bytes is not a positive multiple of 512 (a disk has whole sectors)");
}

void resolve_disk_map(const std::string& map, const std::string& base_dir, DiskSpec& ds) {
  if (ds.source != DiskSource::raw_image)
    throw std::runtime_error("map is for a raw image (*.img); a recipe builds its own map, a blank disk has none");
  if (map.empty()) throw std::runtime_error("map must be a path to a target map (NAME.map.json)");
  ds.map = existing_file(map, base_dir, "map");
  check_map_file(ds.map, fs::file_size(ds.path));
}

std::uint64_t parse_blank_size(const std::string& text) {
  std::uint64_t n = 0;
  try {
    n = images::parse_size(text);
  } catch (const std::exception& e) {
    throw std::runtime_error("blank must be a size like \"300MiB\": " + std::string(e.what()));
  }
  if (n == 0 || n % 512 != 0 || n > (1ull << 40))
    throw std::runtime_error("blank must be a positive multiple of 512 bytes up to 1TiB, got \"" + text + "\"");
  return n;
}

}  // namespace fsfault::vm
