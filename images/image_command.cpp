#include "images/image_command.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <memory>

#include "images/image.h"
#include "faults/target_map.h"

namespace {

struct BuildArgs {
  std::string recipe;
  std::string out = "build/images";
  bool force = false;
};

struct TargetsArgs {
  std::string map;
  std::string filter;
  bool json = false;
};

}  // namespace

void register_image_commands(CLI::App& app) {
  using namespace fsfault::images;
  auto* image = app.add_subcommand("image", "Build golden images and list their target maps");
  image->require_subcommand(1);

  auto bargs = std::make_shared<BuildArgs>();
  auto* build = image->add_subcommand(
      "build", "Build DIR/NAME.img and DIR/NAME.map.json from a recipe (cached by recipe hash)");
  build->add_option("recipe", bargs->recipe, "Recipe file (images/recipes/*.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  build->add_option("--out", bargs->out, "Output directory")->capture_default_str();
  build->add_flag("--force", bargs->force, "Rebuild even when a matching build exists");
  build->callback([bargs]() {
    try {
      auto r = build_image(bargs->recipe, bargs->out, BuildOptions{bargs->force});
      fmt::print("{} {}\n{}\nsha256 {}\n", r.cached ? "cached" : "built", r.image_path.string(),
                 r.map_path.string(), r.image_sha256);
    } catch (const std::exception& e) {
      fmt::print(stderr, "fsfault image build: {}\n", e.what());
      throw CLI::RuntimeError(1);
    }
  });

  auto targs = std::make_shared<TargetsArgs>();
  auto* targets = image->add_subcommand("targets", "List the named targets of a map and their sectors");
  targets->add_option("map", targs->map, "NAME.map.json")->required()->check(CLI::ExistingFile);
  targets->add_option("--filter", targs->filter, "Only names matching this glob (e.g. 'inode:*')");
  targets->add_flag("--json", targs->json, "Print the selected entries as JSON");
  targets->callback([targs]() {
    try {
      auto map = fsfault::faults::TargetMap::load_file(targs->map);
      if (!targs->filter.empty()) {
        map.erase_if([&](const fsfault::faults::Target& t) {
          return fnmatch(targs->filter.c_str(), t.name.c_str(), 0) != 0;
        });
      }
      if (targs->json) {
        fmt::print("{}\n", map.to_json().dump(1));
        return;
      }
      std::size_t width = 0;
      for (const auto& [name, t] : map.targets()) width = std::max(width, name.size());
      for (const auto& [name, t] : map.targets()) {
        std::string extra;
        if (t.ino) extra += fmt::format("  ino={}", *t.ino);
        if (t.gen) extra += fmt::format(" gen={}", *t.gen);
        fmt::print("{:<{}}  {}{}\n", name, width, fsfault::faults::format_ranges(t.ranges), extra);
      }
    } catch (const std::exception& e) {
      fmt::print(stderr, "fsfault image targets: {}\n", e.what());
      throw CLI::RuntimeError(1);
    }
  });
}
