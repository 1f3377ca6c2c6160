#include "images/image.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "images/builders.h"
#include "base/files.h"
#include "base/sha256.h"

namespace fsfault::images {
namespace {

// Bump when the builder's output for the same recipe and tools changes.
constexpr std::string_view kBuilderVersion = "fsfault-images/1";

class WorkDir {
 public:
  explicit WorkDir(std::filesystem::path p) : path_(std::move(p)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~WorkDir() {
    std::error_code ec;
    if (!std::getenv("FSFAULT_KEEP_WORK")) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The stamp of an earlier finished build, or nullopt when there is none (or it is unreadable).
std::optional<nlohmann::json> read_stamp(const std::filesystem::path& stamp) {
  auto text = base::try_read_file(stamp.string());
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) return std::nullopt;
  return j;
}

}  // namespace

std::string build_key(std::string_view recipe_text, std::string_view tool_versions) {
  base::Sha256 h;
  h.update(kBuilderVersion);
  // Length-prefixed: tool output ending in "\nX" must not read as a recipe starting with "X".
  h.update(fmt::format("\n{}\n", tool_versions.size()));
  h.update(tool_versions);
  h.update("\n");
  h.update(recipe_text);
  return h.hex_finish();
}

faults::TargetMap map_image(const Recipe& recipe, const std::filesystem::path& image_path) {
  return recipe.fs == FsType::ext4 ? detail::map_ext4(recipe, image_path)
                                   : detail::map_xfs(recipe, image_path);
}

std::filesystem::path recipe_path_for(std::string_view name,
                                      const std::filesystem::path& recipes_dir) {
  return recipe_path_for(name, std::vector<std::filesystem::path>{recipes_dir});
}

std::filesystem::path recipe_path_for(std::string_view name,
                                      const std::vector<std::filesystem::path>& recipe_dirs) {
  for (const auto& dir : recipe_dirs) {
    auto p = dir / (std::string(name) + ".toml");
    if (std::filesystem::is_regular_file(p)) return p;
  }
  std::string searched;
  for (const auto& dir : recipe_dirs) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    searched += fmt::format("{}{} (available: {})", searched.empty() ? "" : "; ", dir.string(),
                            list.empty() ? "none" : list);
  }
  throw std::runtime_error(fmt::format("no image recipe '{}' in {}", name, searched));
}

BuildResult build_named_image(std::string_view name, const std::filesystem::path& recipes_dir,
                              const std::filesystem::path& out_dir, const BuildOptions& options) {
  return build_image(recipe_path_for(name, recipes_dir), out_dir, options);
}

BuildResult build_image(const std::filesystem::path& recipe_path,
                        const std::filesystem::path& out_dir, const BuildOptions& options) {
  std::string text = base::read_file(recipe_path.string());
  Recipe recipe = parse_recipe(text, recipe_path.stem().string(), recipe_path.string());
  std::filesystem::create_directories(out_dir);
  BuildResult res;
  res.image_path = out_dir / (recipe.name + ".img");
  res.map_path = out_dir / (recipe.name + ".map.json");
  auto stamp = out_dir / (recipe.name + ".build.json");
  std::string key = build_key(text, detail::tool_versions(recipe.fs));

  std::error_code ec;
  auto earlier = read_stamp(stamp);
  if (!options.force && earlier && (*earlier)["key"] == key &&
      std::filesystem::exists(res.map_path) &&
      std::filesystem::file_size(res.image_path, ec) == recipe.size_bytes && !ec) {
    res.image_sha256 = earlier->value("image_sha256", "");
    res.cached = true;
    return res;
  }
  std::filesystem::remove(stamp, ec);  // an interrupted rebuild must not look finished

  static std::atomic<unsigned> counter{0};
  WorkDir work(out_dir / fmt::format(".{}.work.{}.{}", recipe.name, ::getpid(), counter++));
  auto image = work.path() / (recipe.name + ".img");
  {
    std::ofstream create(image, std::ios::binary | std::ios::trunc);
    if (!create) throw std::runtime_error("cannot create " + image.string());
  }
  std::filesystem::resize_file(image, recipe.size_bytes);
  if (recipe.fs == FsType::ext4) {
    detail::build_ext4(recipe, image, work.path());
  } else {
    detail::build_xfs(recipe, image, work.path());
  }
  faults::TargetMap map = map_image(recipe, image);
  res.image_sha256 = base::sha256_file(image);

  auto map_tmp = work.path() / (recipe.name + ".map.json");
  map.save_file(map_tmp.string());
  std::filesystem::rename(image, res.image_path);
  std::filesystem::rename(map_tmp, res.map_path);
  nlohmann::json j = {{"key", key},
                      {"recipe", recipe_path.string()},
                      {"image_sha256", res.image_sha256},
                      {"builder", kBuilderVersion}};
  auto stamp_tmp = work.path() / "stamp.json";
  std::ofstream(stamp_tmp) << j.dump(1) << '\n';
  std::filesystem::rename(stamp_tmp, stamp);
  return res;
}

}  // namespace fsfault::images
