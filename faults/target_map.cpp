#include "faults/target_map.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace fsfault::faults {
namespace {

[[noreturn]] void fail(std::string_view source, const std::string& msg) {
  throw TargetMapError(fmt::format("{}: {}", source, msg));
}

std::uint64_t get_u64(const nlohmann::json& j, std::string_view source, const std::string& what) {
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
    fail(source, fmt::format("expected {} to be a non-negative integer, got {}", what, j.dump()));
  }
  return j.get<std::uint64_t>();
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

constexpr std::uint64_t kSector = 512;

}  // namespace

void Target::add_sectors(std::uint64_t first, std::uint64_t last) {
  if (last < first) {
    throw TargetMapError(fmt::format("target \"{}\": range end {} before start {}", name, last, first));
  }
  ranges.push_back({first, last});
  ranges = normalize_ranges(std::move(ranges));
}

void Target::add_bytes(std::uint64_t byte_offset, std::uint64_t length) {
  if (length == 0) return;
  add_sectors(byte_offset / kSector, (byte_offset + length - 1) / kSector);
}

std::uint64_t Target::sector_count() const {
  std::uint64_t n = 0;
  for (const auto& r : ranges) n += r.count();
  return n;
}

std::string format_ranges(const std::vector<SectorRange>& ranges) {
  std::string s;
  for (const auto& r : ranges) {
    if (!s.empty()) s += ',';
    s += r.first == r.last ? fmt::format("{}", r.first) : fmt::format("{}-{}", r.first, r.last);
  }
  return s;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

TargetMap TargetMap::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open image map");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

TargetMap TargetMap::parse(std::string_view json_text, std::string_view source_name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for numbers like 4e999 (found by fuzzing).
    fail(source_name, fmt::format("invalid JSON: {}", e.what()));
  }
  return from_json(j, source_name);
}

TargetMap TargetMap::from_json(const nlohmann::json& j, std::string_view source_name) {
  TargetMap m;
  m.source = std::string(source_name);
  if (!j.is_object()) fail(source_name, fmt::format("expected a JSON object, got {}", j.type_name()));
  // Unknown keys are tolerated: the images tooling may record more metadata.
  if (j.contains("image")) {
    if (!j["image"].is_string()) fail(source_name, "expected image to be a string");
    m.image = j["image"].get<std::string>();
  }
  if (j.contains("fs")) {
    if (!j["fs"].is_string()) fail(source_name, "expected fs to be a string");
    m.fs = j["fs"].get<std::string>();
  }
  if (j.contains("size_bytes")) m.size_bytes = get_u64(j["size_bytes"], source_name, "size_bytes");
  if (j.contains("sector_size")) {
    auto ss = get_u64(j["sector_size"], source_name, "sector_size");
    if (ss != 512) fail(source_name, fmt::format("expected sector_size 512, got {}", ss));
    m.sector_size = 512;
  }
  if (!j.contains("targets") || !j["targets"].is_object()) {
    fail(source_name, "expected an object \"targets\" of name -> {\"ranges\": [[A, B], ...]}");
  }
  const std::uint64_t disk_sectors = m.size_bytes / 512;
  for (const auto& [name, t] : j["targets"].items()) {
    Target target;
    target.name = name;
    if (!t.is_object() || !t.contains("ranges") || !t["ranges"].is_array()) {
      fail(source_name, fmt::format("target \"{}\": expected an object with \"ranges\": [[A, B], ...]", name));
    }
    for (const auto& r : t["ranges"]) {
      if (!r.is_array() || r.size() != 2) {
        fail(source_name, fmt::format("target \"{}\": expected a range [A, B], got {}", name, r.dump()));
      }
      auto a = get_u64(r[0], source_name, fmt::format("target \"{}\" range start", name));
      auto b = get_u64(r[1], source_name, fmt::format("target \"{}\" range end", name));
      if (b < a) fail(source_name, fmt::format("target \"{}\": expected A <= B in range, got [{}, {}]", name, a, b));
      if (disk_sectors != 0 && b >= disk_sectors) {
        fail(source_name, fmt::format("target \"{}\": range [{}, {}] lies beyond the image ({} sectors)", name, a,
                                      b, disk_sectors));
      }
      target.ranges.push_back({a, b});
    }
    if (target.ranges.empty()) fail(source_name, fmt::format("target \"{}\": expected at least one range", name));
    target.ranges = normalize_ranges(std::move(target.ranges));
    if (t.contains("ino")) target.ino = get_u64(t["ino"], source_name, fmt::format("target \"{}\" ino", name));
    if (t.contains("gen")) target.gen = get_u64(t["gen"], source_name, fmt::format("target \"{}\" gen", name));
    m.targets_.emplace(name, std::move(target));
  }
  return m;
}

nlohmann::json TargetMap::to_json() const {
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [name, t] : targets_) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const auto& r : t.ranges) ranges.push_back({r.first, r.last});
    nlohmann::json o{{"ranges", ranges}};
    if (t.ino) o["ino"] = *t.ino;
    if (t.gen) o["gen"] = *t.gen;
    targets[name] = o;
  }
  return {{"image", image}, {"fs", fs}, {"size_bytes", size_bytes}, {"sector_size", sector_size},
          {"targets", targets}};
}

void TargetMap::validate() const {
  const std::string_view where = source.empty() ? std::string_view(image) : std::string_view(source);
  auto bad = [&](const std::string& msg) { throw TargetMapError(fmt::format("image map {}: {}", where, msg)); };
  if (image.empty()) bad("expected an image name, got none");
  if (fs.empty()) bad("expected a filesystem type, got none");
  if (sector_size != 512) bad(fmt::format("expected sector_size 512, got {}", sector_size));
  const std::uint64_t disk_sectors = size_bytes / kSector;
  for (const auto& [name, t] : targets_) {
    if (name.empty()) bad("expected non-empty target names");
    if (t.ranges.empty()) bad(fmt::format("target \"{}\": expected at least one range", name));
    for (std::size_t i = 0; i < t.ranges.size(); ++i) {
      const auto& r = t.ranges[i];
      if (r.last < r.first) bad(fmt::format("target \"{}\": expected A <= B in range, got [{}, {}]", name, r.first, r.last));
      if (i > 0 && r.first <= t.ranges[i - 1].last + 1) {
        bad(fmt::format("target \"{}\": expected sorted, merged ranges, got [{}, {}] after [{}, {}]", name,
                        r.first, r.last, t.ranges[i - 1].first, t.ranges[i - 1].last));
      }
      if (disk_sectors != 0 && r.last >= disk_sectors) {
        bad(fmt::format("target \"{}\": range [{}, {}] lies beyond the image ({} sectors)", name, r.first,
                        r.last, disk_sectors));
      }
    }
  }
}

void TargetMap::save_file(const std::string& path) const {
  validate();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw TargetMapError(fmt::format("{}: cannot write image map", tmp));
    out << to_json().dump(1) << "\n";
    out.flush();
    if (!out) throw TargetMapError(fmt::format("{}: write failed", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw TargetMapError(fmt::format("{}: cannot rename {} into place", path, tmp));
  }
}

void TargetMap::add(Target t) {
  if (t.ranges.empty()) throw TargetMapError(fmt::format("target \"{}\": no ranges", t.name));
  for (const auto& r : t.ranges) {
    if (r.last < r.first) throw TargetMapError(fmt::format("target \"{}\": range end before start", t.name));
  }
  t.ranges = normalize_ranges(std::move(t.ranges));
  auto name = t.name;
  targets_.insert_or_assign(std::move(name), std::move(t));
}

Target& TargetMap::entry(std::string_view name) {
  auto it = targets_.find(name);
  if (it == targets_.end()) {
    it = targets_.emplace(std::string(name), Target{}).first;
    it->second.name = std::string(name);
  }
  return it->second;
}

std::size_t TargetMap::erase_if(const std::function<bool(const Target&)>& pred) {
  return std::erase_if(targets_, [&](const auto& kv) { return pred(kv.second); });
}

const Target* TargetMap::find(std::string_view name) const {
  auto it = targets_.find(name);
  return it == targets_.end() ? nullptr : &it->second;
}

std::vector<std::string> TargetMap::close_matches(std::string_view name, std::size_t max) const {
  struct Cand {
    std::size_t score;
    std::string name;
  };
  std::vector<Cand> cands;
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  for (const auto& [n, t] : targets_) {
    std::size_t d = edit_distance(name, n);
    std::size_t p = common_prefix(name, n);
    // One name being a prefix of the other ("inode:/data/" vs
    // "inode:/data/f1") also counts; candidates are ranked by distance.
    std::size_t shorter = std::min(name.size(), n.size());
    bool prefix_close = shorter >= 3 && p == shorter;
    if (d <= limit || prefix_close) cands.push_back({d, n});
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.score < b.score; });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cands.size() && i < max; ++i) out.push_back(cands[i].name);
  return out;
}

}  // namespace fsfault::faults
