#include "images/target_map.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace fsfault::images {

void normalise_ranges(std::vector<SectorRange>& ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const SectorRange& a, const SectorRange& b) {
    return a.first != b.first ? a.first < b.first : a.last < b.last;
  });
  std::vector<SectorRange> out;
  for (const auto& r : ranges) {
    if (!out.empty() && r.first <= out.back().last + 1) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  ranges = std::move(out);
}

void Target::add_sectors(std::uint64_t first, std::uint64_t last) {
  if (last < first) throw std::logic_error("Target::add_sectors: last < first");
  ranges.push_back({first, last});
  normalise_ranges(ranges);
}

void Target::add_bytes(std::uint64_t byte_offset, std::uint64_t length) {
  if (length == 0) return;
  add_sectors(byte_offset / kSectorSize, (byte_offset + length - 1) / kSectorSize);
}

std::uint64_t Target::sector_count() const {
  std::uint64_t n = 0;
  for (const auto& r : ranges) n += r.last - r.first + 1;
  return n;
}

const Target* TargetMap::find(std::string_view name) const {
  auto it = targets.find(std::string(name));
  return it == targets.end() ? nullptr : &it->second;
}

namespace {

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

}  // namespace

std::vector<std::string> TargetMap::close_matches(std::string_view name, std::size_t max) const {
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& [k, v] : targets) {
    (void)v;
    scored.emplace_back(edit_distance(name, k), k);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  std::size_t limit = std::max<std::size_t>(3, name.size() / 2);
  for (const auto& [d, k] : scored) {
    if (out.size() >= max) break;
    if (d <= limit) out.push_back(k);
  }
  return out;
}

nlohmann::json to_json(const TargetMap& map) {
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [name, t] : map.targets) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const auto& r : t.ranges) ranges.push_back({r.first, r.last});
    nlohmann::json entry = {{"ranges", ranges}};
    if (t.ino) entry["ino"] = *t.ino;
    if (t.gen) entry["gen"] = *t.gen;
    targets[name] = entry;
  }
  return {{"image", map.image},
          {"fs", map.fs},
          {"size_bytes", map.size_bytes},
          {"sector_size", map.sector_size},
          {"targets", targets}};
}

TargetMap target_map_from_json(const nlohmann::json& j) {
  auto need = [&](const nlohmann::json& obj, const char* key) -> const nlohmann::json& {
    if (!obj.is_object() || !obj.contains(key))
      throw std::runtime_error(fmt::format("target map: missing '{}'", key));
    return obj.at(key);
  };
  try {
    TargetMap m;
    m.image = need(j, "image").get<std::string>();
    m.fs = need(j, "fs").get<std::string>();
    m.size_bytes = need(j, "size_bytes").get<std::uint64_t>();
    m.sector_size = need(j, "sector_size").get<std::uint32_t>();
    if (m.sector_size != kSectorSize)
      throw std::runtime_error(fmt::format("target map: sector_size {} (expected 512)", m.sector_size));
    const auto& targets = need(j, "targets");
    if (!targets.is_object()) throw std::runtime_error("target map: 'targets' must be an object");
    std::uint64_t sectors = m.size_bytes / kSectorSize;
    for (const auto& [name, entry] : targets.items()) {
      Target t;
      for (const auto& r : need(entry, "ranges")) {
        if (!r.is_array() || r.size() != 2)
          throw std::runtime_error(fmt::format("target map: {}: a range must be [first, last]", name));
        SectorRange sr{r[0].get<std::uint64_t>(), r[1].get<std::uint64_t>()};
        if (sr.last < sr.first || sr.last >= sectors)
          throw std::runtime_error(
              fmt::format("target map: {}: bad range [{}, {}] for {} sectors", name, sr.first,
                          sr.last, sectors));
        if (!t.ranges.empty() && sr.first <= t.ranges.back().last + 1)
          throw std::runtime_error(
              fmt::format("target map: {}: ranges must be sorted and merged", name));
        t.ranges.push_back(sr);
      }
      if (t.ranges.empty()) throw std::runtime_error(fmt::format("target map: {}: no ranges", name));
      if (entry.contains("ino")) t.ino = entry.at("ino").get<std::uint64_t>();
      if (entry.contains("gen")) t.gen = entry.at("gen").get<std::uint32_t>();
      m.targets.emplace(name, std::move(t));
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("target map: ") + e.what());
  }
}

TargetMap load_target_map(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read target map " + path.string());
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
  try {
    return target_map_from_json(j);
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

void save_target_map(const TargetMap& map, const std::filesystem::path& path) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
    out << to_json(map).dump(1) << '\n';
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

std::string format_ranges(const std::vector<SectorRange>& ranges) {
  std::string s;
  for (const auto& r : ranges) {
    if (!s.empty()) s += ',';
    s += r.first == r.last ? fmt::format("{}", r.first) : fmt::format("{}-{}", r.first, r.last);
  }
  return s;
}

}  // namespace fsfault::images
