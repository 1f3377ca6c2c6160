#include "images/recipe.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>

#include "base/files.h"

namespace fsfault::images {

std::string_view to_string(FsType fs) { return fs == FsType::ext4 ? "ext4" : "xfs"; }

namespace {

[[noreturn]] void fail(std::string_view source, const std::string& msg) {
  throw std::runtime_error(fmt::format("{}: {}", source, msg));
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void check_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                std::string_view where, std::string_view source) {
  for (const auto& [k, v] : t) {
    (void)v;
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(source, fmt::format("unknown key '{}' in {} (allowed: {})", k.str(), where, list));
    }
  }
}

bool safe_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == '+' || c == ',' || c == '@' || c == '=';
}

std::string normalise_path(std::string_view p, std::string_view source) {
  if (p.empty() || p[0] != '/') fail(source, fmt::format("path '{}' must be absolute", p));
  std::string out;
  std::size_t i = 1;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view comp = p.substr(i, j - i);
    if (comp.empty()) {
      if (j == p.size() && i == p.size()) break;  // trailing slash
      fail(source, fmt::format("path '{}' has an empty component", p));
    }
    if (comp == "." || comp == "..")
      fail(source, fmt::format("path '{}' must not contain '.' or '..'", p));
    for (char c : comp) {
      if (!safe_name_char(c))
        fail(source, fmt::format("path '{}': character '{}' is not allowed (use [A-Za-z0-9._+,@=-])",
                                 p, c));
    }
    if (comp.size() > 255) fail(source, fmt::format("path '{}': name longer than 255", p));
    out += '/';
    out += comp;
    i = j + 1;
  }
  if (out.empty()) fail(source, "the root directory '/' cannot be listed as an entry");
  return out;
}

std::uint64_t size_value(const toml::node& n, std::string_view key, std::string_view source) {
  if (auto i = n.value_exact<std::int64_t>()) {
    if (*i < 0) fail(source, fmt::format("'{}' must not be negative", key));
    return static_cast<std::uint64_t>(*i);
  }
  if (auto s = n.value<std::string>()) {
    try {
      return parse_size(*s);
    } catch (const std::exception& e) {
      fail(source, fmt::format("'{}': {}", key, e.what()));
    }
  }
  fail(source, fmt::format("'{}' must be an integer or a size string like \"64MiB\"", key));
}

std::uint32_t mode_value(const toml::node& n, std::string_view source) {
  std::uint64_t m = 0;
  if (auto i = n.value_exact<std::int64_t>()) {
    m = static_cast<std::uint64_t>(*i);
  } else if (auto s = n.value<std::string>()) {
    if (s->empty() || s->find_first_not_of("01234567") != std::string::npos)
      fail(source, fmt::format("mode '{}' must be octal digits, e.g. \"0644\"", *s));
    m = std::stoull(*s, nullptr, 8);
  } else {
    fail(source, "mode must be an octal string (\"0644\") or a TOML integer (0o644)");
  }
  if (m > 07777) fail(source, fmt::format("mode {:o} has bits beyond 07777", m));
  return static_cast<std::uint32_t>(m);
}

std::uint32_t u32_value(const toml::node& n, std::string_view key, std::string_view source) {
  auto i = n.value_exact<std::int64_t>();
  if (!i || *i < 0 || *i > 0xffffffffll)
    fail(source, fmt::format("'{}' must be an integer in [0, 2^32)", key));
  return static_cast<std::uint32_t>(*i);
}

std::string string_value(const toml::node& n, std::string_view key, std::string_view source) {
  auto s = n.value<std::string>();
  if (!s) fail(source, fmt::format("'{}' must be a string", key));
  return *s;
}

std::vector<std::string> string_list(const toml::node& n, std::string_view key,
                                     std::string_view source) {
  const auto* arr = n.as_array();
  if (!arr) fail(source, fmt::format("'{}' must be an array of strings", key));
  std::vector<std::string> out;
  for (const auto& el : *arr) out.push_back(string_value(el, key, source));
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::vector<Xattr> xattrs_value(const toml::node& n, std::string_view source) {
  const auto* t = n.as_table();
  if (!t) fail(source, "xattrs must be a table: { \"user.name\" = \"value\" }");
  std::vector<Xattr> out;
  for (const auto& [k, v] : *t) {
    std::string name(k.str());
    auto dot = name.find('.');
    std::string ns = dot == std::string::npos ? "" : name.substr(0, dot);
    if (ns != "user" && ns != "trusted" && ns != "security")
      fail(source, fmt::format("xattr '{}' must start with user., trusted. or security.", name));
    for (char c : name)
      if (!safe_name_char(c)) fail(source, fmt::format("xattr name '{}' has '{}'", name, c));
    out.push_back({name, string_value(v, name, source)});
  }
  return out;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0) throw std::runtime_error(fmt::format("bad size '{}'", text));
  std::uint64_t n = std::stoull(std::string(text.substr(0, i)));
  std::string suffix(text.substr(i));
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::uint64_t mult = 1;
  if (suffix.empty() || suffix == "b") mult = 1;
  else if (suffix == "k" || suffix == "kib") mult = 1ull << 10;
  else if (suffix == "m" || suffix == "mib") mult = 1ull << 20;
  else if (suffix == "g" || suffix == "gib") mult = 1ull << 30;
  else throw std::runtime_error(fmt::format("bad size suffix in '{}' (use K/KiB, M/MiB, G/GiB)", text));
  if (n > (~0ull) / mult) throw std::runtime_error(fmt::format("size '{}' overflows", text));
  return n * mult;
}

std::string file_content(std::uint64_t seed, std::string_view path, std::uint64_t length,
                         std::uint64_t offset) {
  std::string out;
  out.resize(length);
  std::uint64_t key = splitmix(seed) ^ fnv1a(path);
  for (std::uint64_t i = 0; i < length; ++i) {
    std::uint64_t pos = offset + i;
    std::uint64_t word = splitmix(key + (pos / 8) * 0x9e3779b97f4a7c15ull);
    out[i] = static_cast<char>((word >> (8 * (pos % 8))) & 0xff);
  }
  return out;
}

std::uint32_t generation_for(std::uint64_t seed, std::string_view path) {
  std::uint32_t g = static_cast<std::uint32_t>(splitmix(seed ^ fnv1a(path) ^ 0x67656eull));
  return g == 0 ? 1 : g;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> data_runs(const Entry& file,
                                                               std::uint32_t block_size) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
  if (file.size == 0) return runs;
  if (file.extents <= 1) {
    runs.emplace_back(0, file.size);
    return runs;
  }
  // n runs of `run` bytes, each followed by a hole of the same length; the last run ends the data.
  std::uint64_t slots = 2ull * file.extents - 1;
  std::uint64_t run = file.size / slots / block_size * block_size;
  if (run == 0) {
    throw std::runtime_error(fmt::format(
        "{}: size {} is too small for {} extents of at least one {}-byte block with holes between",
        file.path, file.size, file.extents, block_size));
  }
  for (std::uint32_t i = 0; i < file.extents; ++i) runs.emplace_back(2ull * i * run, run);
  return runs;
}

namespace {

toml::table parse_document(std::string_view toml_text, std::string_view source) {
  try {
    return toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << e.description() << " at " << e.source().begin;
    fail(source, os.str());
  }
}

std::string uuid_value(const toml::table& root, std::string_view key, std::string_view missing,
                       std::string_view source) {
  if (!root[key]) fail(source, std::string(missing));
  std::string u = string_value(*root.get(key), key, source);
  if (!is_uuid(u)) fail(source, fmt::format("{} '{}' is not a UUID", key, u));
  return u;
}

// name, fs, size, uuid, hash_seed, seed, timestamp.
void parse_header(const toml::table& root, std::string_view default_name, std::string_view source,
                  Recipe& r) {
  r.name = root["name"] ? string_value(*root.get("name"), "name", source) : std::string(default_name);
  if (r.name.empty() || r.name.find_first_not_of(
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                            std::string::npos)
    fail(source, fmt::format("name '{}' must be non-empty [A-Za-z0-9._-]", r.name));
  if (!root["fs"]) fail(source, "missing 'fs' (\"ext4\" or \"xfs\")");
  std::string fs = string_value(*root.get("fs"), "fs", source);
  if (fs == "ext4") r.fs = FsType::ext4;
  else if (fs == "xfs") r.fs = FsType::xfs;
  else fail(source, fmt::format("fs '{}' is not supported (ext4, xfs)", fs));
  if (!root["size"]) fail(source, "missing 'size'");
  r.size_bytes = size_value(*root.get("size"), "size", source);
  if (r.size_bytes % 4096 != 0) fail(source, "size must be a multiple of 4096");
  r.uuid = uuid_value(root, "uuid", "missing 'uuid' (a fixed UUID keeps the image reproducible)",
                      source);
  if (r.fs == FsType::ext4) {
    r.hash_seed = uuid_value(root, "hash_seed", "ext4 recipes need 'hash_seed' (a UUID)", source);
  } else if (root["hash_seed"]) {
    fail(source, "'hash_seed' applies to ext4 only");
  }
  if (root["seed"]) {
    auto s = root["seed"].value_exact<std::int64_t>();
    if (!s || *s < 0) fail(source, "'seed' must be a non-negative integer");
    r.seed = static_cast<std::uint64_t>(*s);
  }
  if (root["timestamp"]) {
    auto t = root["timestamp"].value_exact<std::int64_t>();
    if (!t || *t < 0 || *t > 0x7fffffffll) fail(source, "'timestamp' must be in [0, 2^31)");
    r.timestamp = *t;
  }
}

void validate_mkfs(const MkfsOptions& m, std::string_view source) {
  auto bs = m.block_size;
  if (bs < 1024 || bs > 65536 || (bs & (bs - 1)) != 0)
    fail(source, fmt::format("block_size {} must be a power of two in [1024, 65536]", bs));
  auto is = m.inode_size;
  if (is < 128 || is > bs || (is & (is - 1)) != 0)
    fail(source, fmt::format("inode_size {} must be a power of two in [128, block_size]", is));
  if (m.journal_bytes % (1ull << 20) != 0)
    fail(source, "journal_size / log_size must be a whole number of MiB");
  for (const auto& f : m.features)
    for (char c : f)
      if (!safe_name_char(c) && c != '^') fail(source, fmt::format("feature '{}' has '{}'", f, c));
  for (char c : m.label)
    if (!safe_name_char(c)) fail(source, fmt::format("label has '{}'", c));
}

// The [mkfs] table; defaults apply when it is absent.
MkfsOptions parse_mkfs(const toml::table& root, FsType fs, std::string_view source) {
  MkfsOptions o;
  o.inode_size = fs == FsType::ext4 ? 256 : 512;
  if (const auto* m = root["mkfs"].as_table()) {
    check_keys(*m,
               {"block_size", "inode_size", "inode_ratio", "inode_count", "journal_size",
                "log_size", "agcount", "blocks_per_group", "label", "features", "inode_options"},
               "[mkfs]", source);
    if (auto n = m->get("block_size")) o.block_size = u32_value(*n, "block_size", source);
    if (auto n = m->get("inode_size")) o.inode_size = u32_value(*n, "inode_size", source);
    if (auto n = m->get("inode_ratio")) o.inode_ratio = u32_value(*n, "inode_ratio", source);
    if (auto n = m->get("inode_count")) o.inode_count = u32_value(*n, "inode_count", source);
    if (auto n = m->get("journal_size")) o.journal_bytes = size_value(*n, "journal_size", source);
    if (auto n = m->get("log_size")) o.journal_bytes = size_value(*n, "log_size", source);
    if (auto n = m->get("agcount")) o.agcount = u32_value(*n, "agcount", source);
    if (auto n = m->get("blocks_per_group"))
      o.blocks_per_group = u32_value(*n, "blocks_per_group", source);
    if (auto n = m->get("label")) o.label = string_value(*n, "label", source);
    if (auto n = m->get("features")) o.features = string_list(*n, "features", source);
    if (auto n = m->get("inode_options")) o.inode_options = string_list(*n, "inode_options", source);
  }
  validate_mkfs(o, source);
  return o;
}

Entry dir_entry(std::string path) {
  Entry d;
  d.kind = Entry::Kind::dir;
  d.path = std::move(path);
  d.mode = 0755;
  return d;
}

// The recipe's entries in creation order, each path once, parents before children.
class EntryList {
 public:
  EntryList(std::vector<Entry>& entries, std::string_view source)
      : entries_(entries), source_(source) {}

  // Missing parents are created first, implicitly, as 0755 directories.
  void add(Entry e) {
    std::vector<std::string> missing;
    for (std::string p = parent_of(e.path); p != "/"; p = parent_of(p)) {
      if (seen_.count(p)) break;
      missing.push_back(p);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      seen_.insert(*it);
      entries_.push_back(dir_entry(*it));
    }
    if (!seen_.insert(e.path).second) fail(source_, fmt::format("path '{}' is listed twice", e.path));
    entries_.push_back(std::move(e));
  }
  bool has(const std::string& path) const { return seen_.count(path) != 0; }

 private:
  std::vector<Entry>& entries_;
  std::string_view source_;
  std::set<std::string> seen_;
};

// The tables of an array of tables ([[key]]); none when the key is absent.
std::vector<const toml::table*> tables(const toml::table& root, std::string_view key,
                                       std::string_view source) {
  std::vector<const toml::table*> out;
  const toml::node* n = root.get(key);
  if (!n) return out;
  const auto* arr = n->as_array();
  if (!arr) fail(source, fmt::format("'{}' must be an array of tables ([[{}]])", key, key));
  for (const auto& el : *arr) {
    const auto* t = el.as_table();
    if (!t) fail(source, fmt::format("'{}' must be an array of tables ([[{}]])", key, key));
    out.push_back(t);
  }
  return out;
}

// path, mode, uid, gid, xattrs: the keys every entry kind shares.
void parse_common(const toml::table& t, Entry& e, std::string_view source) {
  if (!t.get("path")) fail(source, "an entry is missing 'path'");
  e.path = normalise_path(string_value(*t.get("path"), "path", source), source);
  if (auto n = t.get("mode")) e.mode = mode_value(*n, source);
  if (auto n = t.get("uid")) e.uid = u32_value(*n, "uid", source);
  if (auto n = t.get("gid")) e.gid = u32_value(*n, "gid", source);
  if (auto n = t.get("xattrs")) e.xattrs = xattrs_value(*n, source);
}

Entry parse_dir(const toml::table& t, std::string_view source) {
  check_keys(t, {"path", "mode", "uid", "gid", "xattrs"}, "[[dir]]", source);
  Entry e = dir_entry("");
  parse_common(t, e, source);
  return e;
}

Entry parse_file(const toml::table& t, const Recipe& r, std::string_view source) {
  check_keys(t, {"path", "mode", "uid", "gid", "xattrs", "size", "extents"}, "[[file]]", source);
  Entry e;
  e.kind = Entry::Kind::file;
  parse_common(t, e, source);
  if (auto n = t.get("size")) e.size = size_value(*n, "size", source);
  if (auto n = t.get("extents")) e.extents = u32_value(*n, "extents", source);
  if (e.extents == 0) fail(source, fmt::format("{}: extents must be >= 1", e.path));
  if (e.extents > 1 && r.fs == FsType::xfs)
    fail(source, fmt::format("{}: 'extents' is not supported for xfs: mkfs.xfs -p (xfsprogs 6.1) "
                             "allocates every file as one contiguous extent",
                             e.path));
  data_runs(e, r.mkfs.block_size);  // validates that the runs fit
  return e;
}

// [[many]]: `count` files DIR/PREFIX00000.. of one size and mode, and DIR itself if not listed.
void add_many(const toml::table& t, EntryList& list, std::string_view source) {
  check_keys(t, {"dir", "count", "size", "prefix", "mode"}, "[[many]]", source);
  if (!t.get("dir") || !t.get("count")) fail(source, "[[many]] needs 'dir' and 'count'");
  std::string dir = normalise_path(string_value(*t.get("dir"), "dir", source), source);
  std::uint32_t count = u32_value(*t.get("count"), "count", source);
  if (count > 100000) fail(source, "[[many]] count is limited to 100000");
  std::uint64_t size = t.get("size") ? size_value(*t.get("size"), "size", source) : 0;
  std::string prefix = t.get("prefix") ? string_value(*t.get("prefix"), "prefix", source) : "f";
  std::uint32_t mode = t.get("mode") ? mode_value(*t.get("mode"), source) : 0644;
  if (!list.has(dir)) list.add(dir_entry(dir));
  for (std::uint32_t i = 0; i < count; ++i) {
    Entry e;
    e.kind = Entry::Kind::file;
    e.path = normalise_path(fmt::format("{}/{}{:05}", dir, prefix, i), source);
    e.size = size;
    e.mode = mode;
    list.add(std::move(e));
  }
}

Entry parse_symlink(const toml::table& t, std::string_view source) {
  check_keys(t, {"path", "target", "uid", "gid", "xattrs"}, "[[symlink]]", source);
  Entry e;
  e.kind = Entry::Kind::symlink;
  e.mode = 0777;
  parse_common(t, e, source);
  if (!t.get("target")) fail(source, fmt::format("symlink {} is missing 'target'", e.path));
  e.target = string_value(*t.get("target"), "target", source);
  if (e.target.empty() || e.target.size() > 1000) fail(source, "symlink target length must be 1..1000");
  for (char c : e.target)
    if (!safe_name_char(c) && c != '/')
      fail(source, fmt::format("symlink target '{}' has '{}'", e.target, c));
  return e;
}

void check_parents_are_dirs(const std::vector<Entry>& entries, std::string_view source) {
  std::map<std::string, Entry::Kind> kinds;
  for (const auto& e : entries) kinds[e.path] = e.kind;
  for (const auto& e : entries) {
    auto it = kinds.find(parent_of(e.path));
    if (it != kinds.end() && it->second != Entry::Kind::dir)
      fail(source, fmt::format("{}: parent {} is not a directory", e.path, it->first));
  }
}

}  // namespace

Recipe parse_recipe(std::string_view toml_text, std::string_view default_name,
                    std::string_view source) {
  toml::table root = parse_document(toml_text, source);
  check_keys(root,
             {"name", "fs", "size", "uuid", "hash_seed", "seed", "timestamp", "mkfs", "dir", "file",
              "many", "symlink", "description"},
             "the recipe", source);
  Recipe r;
  parse_header(root, default_name, source, r);
  r.mkfs = parse_mkfs(root, r.fs, source);
  // Kinds in a fixed order (all dirs, then files, many, symlinks), whatever the file's order.
  EntryList list(r.entries, source);
  for (const auto* t : tables(root, "dir", source)) list.add(parse_dir(*t, source));
  for (const auto* t : tables(root, "file", source)) list.add(parse_file(*t, r, source));
  for (const auto* t : tables(root, "many", source)) add_many(*t, list, source);
  for (const auto* t : tables(root, "symlink", source)) list.add(parse_symlink(*t, source));
  check_parents_are_dirs(r.entries, source);
  return r;
}

Recipe load_recipe(const std::filesystem::path& path) {
  return parse_recipe(base::read_file(path.string()), path.stem().string(), path.string());
}

std::string parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == 0 ? "/" : path.substr(0, pos);
}
std::string base_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace fsfault::images
