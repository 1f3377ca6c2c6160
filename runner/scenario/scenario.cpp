#include "runner/scenario/scenario.h"

#include "runner/scenario/disk_source.h"
#include "runner/scenario/shares.h"

#include "base/base64.h"
#include "base/files.h"

#include <toml++/toml.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace {

json to_json(const toml::node& n) {
  if (auto t = n.as_table()) {
    json o = json::object();
    for (auto&& [k, v] : *t) o[std::string(k.str())] = to_json(v);
    return o;
  }
  if (auto a = n.as_array()) {
    json o = json::array();
    for (auto&& v : *a) o.push_back(to_json(v));
    return o;
  }
  if (auto s = n.as_string()) return s->get();
  if (auto i = n.as_integer()) return i->get();
  if (auto f = n.as_floating_point()) return f->get();
  if (auto b = n.as_boolean()) return b->get();
  return nullptr;  // dates/times have no meaning in a scenario
}

std::runtime_error error_at(const std::string& file, const toml::node& where, const std::string& why) {
  std::ostringstream os;
  os << file << ":" << where.source().begin.line << ":" << where.source().begin.column << ": " << why;
  return std::runtime_error(os.str());
}

// Where a shipped file may not go: the harness mounts proc, sysfs and devtmpfs over these, and
// the disks on /mnt/dN after the files are written (a file there would be hidden).
bool reserved_guest_path(const std::string& dst) {
  for (const char* p : {"/proc", "/sys", "/dev", "/mnt"})
    if (dst == p || dst.rfind(std::string(p) + "/", 0) == 0) return true;
  return dst == "/init";  // the harness itself
}

// One [[file]] table: src must exist now (the error names the scenario file, not the guest).
FileSpec parse_file_entry(const toml::table& ft, const std::string& file, std::uintmax_t& total) {
  namespace fs = std::filesystem;
  for (auto&& [k, v] : ft)
    if (k != "src" && k != "dst" && k != "mode")
      throw error_at(file, v, "[[file]] has no key '" + std::string(k.str()) + "' (src, dst, mode)");
  auto str = [&](const char* key) {
    const toml::node* n = ft.get(key);
    if (!n) throw error_at(file, ft, std::string("[[file]] needs ") + key + " = \"...\"");
    if (!n->is_string() || n->as_string()->get().empty())
      throw error_at(file, *n, std::string("[[file]] ") + key + " must be a non-empty string");
    return std::pair<std::string, const toml::node*>(n->as_string()->get(), n);
  };
  FileSpec f;
  auto [src, src_node] = str("src");
  auto [dst, dst_node] = str("dst");
  f.src = src;
  f.dst = dst;
  fs::path p(src);
  if (p.is_relative()) p = fs::path(file).parent_path() / p;
  f.host_path = p.lexically_normal().string();
  std::error_code ec;
  auto st = fs::status(f.host_path, ec);
  if (ec || !fs::exists(st))
    throw error_at(file, *src_node, "[[file]] src " + f.host_path + ": no such file");
  if (!fs::is_regular_file(st)) throw error_at(file, *src_node, "[[file]] src " + f.host_path + ": not a regular file");
  f.bytes = fs::file_size(f.host_path, ec);
  if (ec) throw error_at(file, *src_node, "[[file]] src " + f.host_path + ": " + ec.message());
  total += f.bytes;
  if (total > kMaxShippedBytes)
    throw error_at(file, *src_node, "[[file]] src " + f.host_path + " (" + std::to_string(f.bytes) +
                                        " bytes): the scenario's files exceed " + std::to_string(kMaxShippedBytes) +
                                        " bytes in total (they travel base64-encoded in the plan)");
  if (dst[0] != '/' || dst.back() == '/' || dst.find("/../") != std::string::npos ||
      dst.find("/./") != std::string::npos || dst.ends_with("/..") || dst.ends_with("/.") ||
      dst.find('\0') != std::string::npos)
    throw error_at(file, *dst_node, "[[file]] dst must be an absolute file path without . or .., got '" + dst + "'");
  if (reserved_guest_path(dst))
    throw error_at(file, *dst_node, "[[file]] dst " + dst + " is reserved in the guest (/proc, /sys, /dev, /mnt, /init)");
  if (const toml::node* m = ft.get("mode")) {
    auto* i = m->as_integer();
    if (!i || i->get() < 0 || i->get() > 07777)
      throw error_at(file, *m, "[[file]] mode must be an integer from 0 to 0o7777, e.g. 0o755");
    f.mode = static_cast<int>(i->get());
  }
  return f;
}

}  // namespace


namespace {

// Where a converted JSON value goes: appended to an array, or under a key of a table.
struct ArraySink {
  toml::array& array;
  template <typename T>
  void operator()(T&& v) const { array.push_back(std::forward<T>(v)); }
};
struct TableSink {
  toml::table& table;
  std::string_view key;
  template <typename T>
  void operator()(T&& v) const { table.insert_or_assign(key, std::forward<T>(v)); }
};

// A JSON value (as to_json made it from the scenario) back as TOML. Tables nested in a rule stay
// inline, like the scenario's own `match = { ... }`.
template <typename Sink>
void put_toml(const json& v, const Sink& put) {
  switch (v.type()) {
    case json::value_t::string: put(v.get<std::string>()); break;
    case json::value_t::boolean: put(v.get<bool>()); break;
    case json::value_t::number_integer: put(v.get<std::int64_t>()); break;
    case json::value_t::number_unsigned:
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        throw std::runtime_error("integer " + v.dump() + " does not fit a TOML integer");
      put(v.get<std::int64_t>());
      break;
    case json::value_t::number_float: put(v.get<double>()); break;
    case json::value_t::array: {
      toml::array a;
      for (const auto& e : v) put_toml(e, ArraySink{a});
      put(std::move(a));
      break;
    }
    case json::value_t::object: {
      toml::table t;
      t.is_inline(true);
      for (const auto& [k, e] : v.items()) put_toml(e, TableSink{t, k});
      put(std::move(t));
      break;
    }
    default: put(std::string()); break;  // null: to_json's dates and times
  }
}

// Basic strings with escapes only (no literal or multi-line strings): one line per key.
constexpr auto kTomlFlags = toml::format_flags::allow_unicode_strings;

std::string format_toml(const toml::node& n) {
  std::ostringstream os;
  os << toml::toml_formatter(n, kTomlFlags);
  return os.str();
}

}  // namespace

std::string toml_value(const json& v) {
  toml::table holder;
  put_toml(v, TableSink{holder, "v"});
  return format_toml(*holder.get("v"));
}

namespace {

std::runtime_error scenario_error(const std::string& file, const std::string& why) {
  return std::runtime_error(file + ": " + why);
}

toml::table parse_toml_document(const std::string& text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file << ":" << e.source().begin.line << ": " << e.description();
    throw std::runtime_error(os.str());
  }
}

// Arrays of tables ([[expect]], [[rule]], [[disk]], step = [ {...} ]) must be exactly that:
// `expect = "x"` used to be accepted and judged as nothing (a scenario whose expectations vanish
// cannot fail). Names file:line:col.
void check_arrays_of_tables(const toml::table& t, const std::string& file) {
  for (const char* key : {"expect", "rule", "disk", "step", "file"}) {
    const toml::node* n = t.get(key);
    if (!n) continue;
    const toml::array* a = n->as_array();
    if (!a)
      throw error_at(file, *n, std::string(key) + " must be an array of tables ([[" + key + "]] or " +
                                   key + " = [ { ... } ])");
    for (auto&& e : *a)
      if (!e.is_table()) throw error_at(file, e, std::string("every ") + key + " entry must be a table");
  }
}

// known_gap = { what, function, fixed_when } (all non-empty strings; optionally `explore`, the
// explore invariant that sees the same wrong behaviour, docs/explore.md) and
// max_latency_ms / max_fault_latency_ms (an event expectation's bounds, 1 ms to 1 h), checked where
// written.
void check_known_gap(const toml::node& n, const std::string& file) {
  const toml::table* g = n.as_table();
  if (!g) throw error_at(file, n, "known_gap must be a table { what = \"...\", function = \"...\", fixed_when = \"...\" }");
  for (auto&& [k, v] : *g)
    if (k != "what" && k != "function" && k != "fixed_when" && k != "explore")
      throw error_at(file, v, "known_gap has no key '" + std::string(k.str()) + "' (what, function, fixed_when, explore)");
  for (const char* k : {"what", "function", "fixed_when", "explore"}) {
    const toml::node* v = g->get(k);
    if (!v && std::string(k) == "explore") continue;  // optional
    if (!v) throw error_at(file, n, std::string("known_gap needs ") + k + " = \"...\"");
    if (!v->is_string() || v->as_string()->get().empty())
      throw error_at(file, *v, std::string("known_gap.") + k + " must be a non-empty string");
  }
}

// kernel = ">=7.0" on an [[expect]]: the expectation holds only there (docs/scenarios.md).
void check_expect_kernel(const toml::node& k, const std::string& file) {
  const auto gate = k.value<std::string>();
  if (!k.is_string() || gate->empty()) throw error_at(file, k, "kernel must be a version range like \">=7.0\"");
  try {
    (void)kernel_gate(*gate, parse_kernel_version("1.0.0"));
  } catch (const std::exception& e) {
    throw error_at(file, k, e.what());
  }
}

void check_expect_marks(const toml::table& t, const std::string& file) {
  const toml::array* a = t["expect"].as_array();
  if (!a) return;
  for (auto&& e : *a) {
    const toml::table& ex = *e.as_table();
    if (const toml::node* g = ex.get("known_gap")) check_known_gap(*g, file);
    if (const toml::node* k = ex.get("kernel")) check_expect_kernel(*k, file);
    for (std::string key : {"max_latency_ms", "max_fault_latency_ms"}) {
      const toml::node* l = ex.get(key);
      if (!l) continue;
      if (!ex.contains("event")) throw error_at(file, *l, key + " bounds an event expectation only");
      // Latency from the fault is measured for FS_ERROR events (runner/judge/fault_latency.h).
      if (key == "max_fault_latency_ms" && ex["event"].value<std::string>() != "FS_ERROR")
        throw error_at(file, *l, key + " bounds an FS_ERROR event expectation only");
      auto v = l->value_exact<std::int64_t>();
      if (!l->is_integer() || !v || *v < 1 || *v > 3600000)
        throw error_at(file, *l, key + " must be an integer from 1 to 3600000");
    }
  }
}

std::vector<FileSpec> parse_files(const toml::table& t, const std::string& file) {
  std::vector<FileSpec> files;
  const toml::array* fa = t["file"].as_array();
  if (!fa) return files;
  std::uintmax_t total = 0;
  for (auto&& e : *fa) {
    files.push_back(parse_file_entry(*e.as_table(), file, total));
    for (size_t i = 0; i + 1 < files.size(); ++i)
      if (files[i].dst == files.back().dst)
        throw error_at(file, *e.as_table()->get("dst"), "[[file]] dst " + files.back().dst + " given twice");
  }
  return files;
}

// requires = ["CONFIG_X", ...]: kernel options the scenario needs (a skip naming them when absent).
std::vector<std::string> parse_config_list(const json& j, const std::string& file) {
  std::vector<std::string> out;
  if (!j.is_array()) throw scenario_error(file, "requires must be an array of CONFIG_NAME strings");
  for (const auto& v : j) {
    std::string o = v.is_string() ? v.get<std::string>() : "";
    bool ok = o.size() > 7 && o.rfind("CONFIG_", 0) == 0 &&
              o.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
    if (!ok) throw scenario_error(file, "config entries are kernel option names like CONFIG_FAILSLAB, got " + v.dump());
    out.push_back(o);
  }
  return out;
}

// An optional integer field in [lo, hi]. nlohmann's value() would cast a TOML float such as
// timeout = 1e300 to int, which is undefined behaviour (found by fuzzing).
int int_field(const json& obj, const char* key, int def, int lo, int hi, const std::string& file) {
  if (!obj.contains(key)) return def;
  const json& v = obj[key];
  bool ok = v.is_number_integer() && v.get<long long>() >= lo && v.get<long long>() <= hi;
  if (!ok)
    throw scenario_error(file, std::string(key) + " must be an integer from " + std::to_string(lo) + " to " +
                                   std::to_string(hi) + ", got " + v.dump());
  return static_cast<int>(v.get<long long>());
}

// Steps and expectations are read as integers, strings and booleans only: a float there (count =
// 2.5, disk = 1e300) is a mistake, and casting it would be undefined behaviour.
void reject_floats(const json& v, const std::string& where, const std::string& file) {
  if (v.is_number_float()) throw scenario_error(file, where + ": " + v.dump() + " is not an integer");
  if (v.is_structured())
    for (const auto& [k, e] : v.items()) reject_floats(e, where + "." + k, file);
}

// name, description, kernel, seed, timeout, skip, modules, requires.
void parse_header(const json& j, Scenario& s) {
  if (!j.contains("name") || !j["name"].is_string()) throw scenario_error(s.file, "missing name");
  s.name = j["name"];
  s.description = j.value("description", std::string());
  s.kernel = j.value("kernel", std::string());
  // Schedules take a non-negative seed; -9 would wrap to a 64-bit value that
  // TOML cannot hold in the generated schedule (found by fuzzing).
  if (j.contains("seed") && !(j["seed"].is_number_integer() && j["seed"].get<long long>() >= 0))
    throw scenario_error(s.file, "seed must be a non-negative integer");
  s.seed = j.value("seed", 0ULL);
  s.timeout_s = int_field(j, "timeout", 0, 0, 24 * 3600, s.file);
  if (j.contains("skip")) s.skip = j["skip"].get<std::string>();
  if (j.contains("modules"))
    for (auto& m : j["modules"]) s.modules.push_back(m.get<std::string>());
  // `config` was this key's first name: refused by name, since an ignored gate would let the
  // scenario run (and fail obscurely) on a kernel without the feature.
  if (j.contains("config")) throw scenario_error(s.file, "config = [...] is now requires = [...]");
  if (j.contains("requires")) s.config = parse_config_list(j["requires"], s.file);
}

// A string value of a [[disk]] key, or nullptr when the key is absent.
const toml::node* disk_string(const toml::table& dt, const char* key, const std::string& file) {
  const toml::node* n = dt.get(key);
  if (n && !n->is_string()) throw error_at(file, *n, std::string("[[disk]] ") + key + " must be a string");
  return n;
}

// mount = true | false | { fs = "...", options = "...", auto = BOOL }. A blank disk has no
// filesystem to mount before the first step: it is never auto-mounted (a mount step may mount it
// once the guest has made a filesystem on it).
void parse_mount(const toml::table& dt, bool blank, const std::string& file, DiskSpec& ds) {
  ds.mount = !blank;
  const toml::node* m = dt.get("mount");
  if (!m) return;
  const toml::node* auto_node = m;
  if (auto b = m->as_boolean()) {
    ds.mount = b->get();
  } else if (auto t = m->as_table()) {
    for (auto&& [k, v] : *t) {
      if (k != "fs" && k != "options" && k != "auto")
        throw error_at(file, v, "mount has no key '" + std::string(k.str()) + "' (fs, options, auto)");
      if (k == "auto" ? !v.is_boolean() : !v.is_string())
        throw error_at(file, v, "mount." + std::string(k.str()) + (k == "auto" ? " must be true or false" : " must be a string"));
    }
    ds.fs = t->get("fs") ? t->get("fs")->as_string()->get() : "";
    ds.options = t->get("options") ? t->get("options")->as_string()->get() : "";
    if (t->get("auto")) {
      auto_node = t->get("auto");
      ds.mount = auto_node->as_boolean()->get();
    }
  } else {
    throw error_at(file, *m, "mount must be true, false or { fs = \"...\", options = \"...\", auto = BOOL }");
  }
  if (blank && ds.mount)
    throw error_at(file, *auto_node, "a blank disk has no filesystem to mount before the first step: "
                                     "leave mount out (or auto = false) and mount it in a step once made");
}

// One [[disk]] table: image = recipe name, recipe file or raw image (+ map), or blank = SIZE.
DiskSpec parse_disk(const toml::table& dt, const std::string& file) {
  for (auto&& [k, v] : dt)
    if (k != "image" && k != "map" && k != "blank" && k != "mount")
      throw error_at(file, v, "[[disk]] has no key '" + std::string(k.str()) + "' (image, map, blank, mount)");
  const toml::node* image = disk_string(dt, "image", file);
  const toml::node* map = disk_string(dt, "map", file);
  const toml::node* blank = disk_string(dt, "blank", file);
  if (image && blank) throw error_at(file, *blank, "[[disk]] takes image or blank, not both");
  if (!image && !blank) throw error_at(file, dt, "[[disk]] needs image = \"...\" or blank = \"SIZE\"");
  DiskSpec ds;
  std::string base_dir = std::filesystem::path(file).parent_path().string();
  auto at = [&](const toml::node* n, auto&& resolve) {
    try {
      resolve();
    } catch (const std::runtime_error& e) {
      throw error_at(file, *n, e.what());
    }
  };
  if (blank) {
    ds.source = DiskSource::blank;
    at(blank, [&] { ds.blank_bytes = parse_blank_size(blank->as_string()->get()); });
  } else {
    at(image, [&] { resolve_disk_image(image->as_string()->get(), base_dir, ds); });
  }
  if (map) at(map, [&] { resolve_disk_map(map->as_string()->get(), base_dir, ds); });
  parse_mount(dt, blank != nullptr, file, ds);
  return ds;
}

std::vector<DiskSpec> parse_disks(const toml::table& t, const std::string& file) {
  std::vector<DiskSpec> disks;
  if (const toml::array* da = t["disk"].as_array())
    for (auto&& d : *da) disks.push_back(parse_disk(*d.as_table(), file));
  return disks;
}

// exit, contains, matches, format: the checks of a program step's end and output (judged in
// runner/judge/program_checks.cpp). Wrong ones are named FILE:line:col here, not at judge time.
void check_program_value(const std::string& key, const std::string& d, const toml::node& v, const std::string& file) {
  if (key == "exit") {
    auto n = v.value_exact<std::int64_t>();
    if (!v.is_integer() || *n < 0 || *n > 255) throw error_at(file, v, "exit must be an integer from 0 to 255");
  } else if (key == "contains") {
    bool ok = v.is_string();
    if (const toml::array* a = v.as_array()) ok = !a->empty() && a->is_homogeneous(toml::node_type::string);
    if (!ok) throw error_at(file, v, "contains must be a string or a list of strings");
  } else if (key == "matches") {
    if (!v.is_string()) throw error_at(file, v, "matches must be a regular expression (a string)");
    try {
      std::regex re(*v.value<std::string>(), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw error_at(file, v, std::string("matches: not a regular expression (ECMAScript): ") + e.what());
    }
  } else if (key == "format") {
    auto f = v.value<std::string>();
    if (!f || (*f != "ltp" && *f != "tap" && *f != "ktap" && *f != "fs-monitor"))
      throw error_at(file, v, "format must be \"ltp\", \"tap\", \"ktap\" or \"fs-monitor\"");
    // fs-monitor's records are compared with the harness's events when its program ended.
    if (*f == "fs-monitor" && d == "exec")
      throw error_at(file, v, "format = \"fs-monitor\" belongs to the stop or wait step of a spawned fs-monitor");
  }
}

void check_program_steps(const toml::array& steps, const std::string& file) {
  for (auto&& e : steps) {
    const toml::table* st = e.as_table();
    if (!st) continue;  // parse_body says so
    std::string d = (*st)["do"].value<std::string>().value_or("");
    if (const toml::array* inner = (*st)["steps"].as_array()) check_program_steps(*inner, file);
    for (const char* key : {"exit", "contains", "matches", "format"}) {
      const toml::node* v = st->get(key);
      if (!v) continue;
      bool program = d == "exec" || d == "wait" || d == "stop";
      if (!program)
        throw error_at(file, *v, std::string(key) + " belongs to exec, wait and stop steps, not " + d);
      check_program_value(key, d, *v, file);
    }
  }
}

// A `target` names a region of the disk's map: a raw image without map = "..." and a blank disk
// have none, so their rules must name sectors.
void check_rule_targets(const toml::table& t, const Scenario& s) {
  const toml::array* ra = t["rule"].as_array();
  if (!ra) return;
  for (auto&& r : *ra) {
    const toml::table& rt = *r.as_table();
    auto disk = rt["disk"].value_exact<std::int64_t>().value_or(0);
    if (disk < 0 || disk >= static_cast<std::int64_t>(s.disks.size())) continue;  // parse_body says so
    const DiskSpec& d = s.disks[static_cast<size_t>(disk)];
    if (d.has_map()) continue;
    const toml::node* target = rt["match"]["target"].node();
    if (!target) target = rt.get("target");
    if (target)
      throw error_at(s.file, *target, "a target rule needs a map, and disk " + std::to_string(disk) + " (" + d.describe() +
                                         ") has no map: name sectors = \"A-B\" instead" +
                                         (d.source == DiskSource::raw_image ? ", or give the disk map = \"...\"" : ""));
  }
}

// step, disk, rule and expect.
void parse_body(const json& j, Scenario& s) {
  if (j.contains("step")) {
    if (!j["step"].is_array()) throw scenario_error(s.file, "step must be an array of inline tables");
    s.steps = j["step"];
    for (auto& st : s.steps)
      if (!st.is_object() || !st.contains("do")) throw scenario_error(s.file, "every step needs do = \"...\"");
  }
  // guest_plan() names disks /dev/vda../dev/vdz (found by fuzzing: a 27th disk
  // became "/dev/vd\x7b", the 32nd invalid UTF-8).
  if (s.disks.size() > 26) throw scenario_error(s.file, "at most 26 [[disk]] tables");
  if (j.contains("rule"))
    for (auto& r : j["rule"]) {
      int disk = int_field(r, "disk", 0, 0, 25, s.file);
      if (disk >= static_cast<int>(s.disks.size())) throw scenario_error(s.file, "rule names a disk that does not exist");
      s.rules.push_back(r);
    }
  if (j.contains("expect"))
    for (auto& e : j["expect"]) s.expects.push_back(e);
  for (size_t i = 0; i < s.steps.size(); ++i) reject_floats(s.steps[i], "step " + std::to_string(i + 1), s.file);
  for (size_t i = 0; i < s.expects.size(); ++i)
    reject_floats(s.expects[i], "expect " + std::to_string(i + 1), s.file);
}

}  // namespace

Scenario parse_scenario_text(const std::string& text, const std::string& file) {
  toml::table t = parse_toml_document(text, file);
  check_arrays_of_tables(t, file);
  check_expect_marks(t, file);
  Scenario s;
  s.file = file;
  s.files = parse_files(t, file);
  s.disks = parse_disks(t, file);
  s.shares = parse_shares(t, file);
  s.host_root = parse_step_roots(t, file);
  check_rule_targets(t, s);
  if (const toml::array* steps = t["step"].as_array()) check_program_steps(*steps, file);
  json j = to_json(t);
  // A value of the wrong type (name = 1, mount = "x", disk = "0", ...) makes
  // nlohmann throw type_error: report it like every other mistake, with the
  // file name (found by fuzzing). dump() rejects invalid UTF-8 here rather
  // than when the plan is sent to the guest.
  try {
    (void)j.dump();
    parse_header(j, s);
    parse_body(j, s);
  } catch (const json::exception& e) {
    throw scenario_error(file, std::string("malformed value: ") + e.what());
  }
  return s;
}

Scenario load_scenario(const std::string& path) {
  auto text = base::try_read_file(path);
  if (!text) throw std::runtime_error(path + ": cannot open");
  return parse_scenario_text(*text, path);
}

json guest_plan(const Scenario& s) {
  json disks = json::array();
  json steps = json::array();
  for (size_t i = 0; i < s.disks.size(); ++i) {
    std::string dev = "/dev/vd" + std::string(1, static_cast<char>('a' + i));
    disks.push_back(json{{"dev", dev},
                         {"mountpoint", "/mnt/d" + std::to_string(i)},
                         {"fs", s.disks[i].fs.empty() ? "ext4" : s.disks[i].fs},
                         {"options", s.disks[i].options}});
    // A blank disk is never mounted implicitly (parse_mount refuses it).
    if (s.disks[i].mount) steps.push_back(json{{"do", "mount"}, {"disk", i}, {"implicit", true}});
  }
  for (auto& st : s.steps) steps.push_back(st);
  json files = json::array();
  std::uintmax_t total = 0;
  for (auto& f : s.files) {
    std::string data;
    try {
      data = base::read_file(f.host_path);
    } catch (const std::exception& e) {
      throw std::runtime_error(s.file + ": [[file]] src: " + e.what());
    }
    total += data.size();
    if (total > kMaxShippedBytes)
      throw std::runtime_error(s.file + ": [[file]] src " + f.host_path + " grew past the " +
                               std::to_string(kMaxShippedBytes) + "-byte limit for a scenario's files");
    int mode = f.mode;
    if (mode < 0) {
      struct stat st {};
      mode = ::stat(f.host_path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : 0644;
    }
    files.push_back(json{{"dst", f.dst}, {"mode", mode}, {"bytes", data.size()}, {"base64", base::base64_encode(data)}});
  }
  return json{{"type", "scenario"}, {"name", s.name}, {"disks", disks}, {"files", files}, {"steps", steps}};
}

std::string schedule_toml(const Scenario& s, int disk) {
  toml::array rules;
  for (auto& r : s.rules) {
    if (r.value("disk", 0) != disk) continue;
    toml::table rule;
    for (auto& [k, v] : r.items())
      if (k != "disk") put_toml(v, TableSink{rule, k});
    rules.push_back(std::move(rule));
  }
  toml::table doc;
  doc.insert("seed", static_cast<std::int64_t>(s.seed));  // parse_header keeps it below 2^63
  if (!rules.empty()) doc.insert("rule", std::move(rules));
  std::string from = s.file;
  std::replace_if(from.begin(), from.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return "# generated by fsfault vm-test from " + from + "\n" + format_toml(doc) + "\n";
}

std::string KernelVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

KernelVersion parse_kernel_version(const std::string& s) {
  KernelVersion v;
  // Prefer Debian's real upstream version ("... Debian 6.1.176-1 ...") over
  // the ABI-name release "6.1.0-50-cloud-amd64".
  std::smatch m;
  static const std::regex deb(R"(Debian (\d+)\.(\d+)(?:\.(\d+))?)");
  static const std::regex lead(R"(^\s*(\d+)\.(\d+)(?:\.(\d+))?)");
  if (std::regex_search(s, m, deb) || std::regex_search(s, m, lead)) {
    try {
      v.major = std::stoi(m[1]);
      v.minor = std::stoi(m[2]);
      v.patch = m[3].matched ? std::stoi(m[3]) : 0;
    } catch (const std::out_of_range&) {
      return KernelVersion{};  // "99999999999.1": not a version (found by fuzzing)
    }
  }
  return v;
}

std::optional<std::string> kernel_gate(const std::string& gate, const KernelVersion& v) {
  if (gate.empty()) return std::nullopt;
  if (!v.known()) return std::nullopt;  // unknown version: run, let the judge see
  std::stringstream ss(gate);
  std::string clause;
  while (std::getline(ss, clause, ',')) {
    size_t b = clause.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    clause = clause.substr(b);
    std::string op;
    while (!clause.empty() && (clause[0] == '<' || clause[0] == '>' || clause[0] == '=' || clause[0] == '!')) {
      op += clause[0];
      clause.erase(0, 1);
    }
    if (op.empty()) op = ">=";
    KernelVersion w = parse_kernel_version(clause);
    if (!w.known()) throw std::runtime_error("bad kernel gate: " + gate);
    auto tup = [](const KernelVersion& k) { return std::tuple(k.major, k.minor, k.patch); };
    auto a = tup(v), b2 = tup(w);
    bool ok = op == ">=" ? a >= b2 : op == ">" ? a > b2 : op == "<=" ? a <= b2 : op == "<" ? a < b2
            : op == "!=" ? a != b2 : a == b2;
    if (!ok) return "kernel " + v.str() + " does not satisfy " + gate;
  }
  return std::nullopt;
}

}  // namespace fsfault::vm
