#include "runner/scenario/shares.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

std::runtime_error share_error(const std::string& file, const toml::node& where, const std::string& why) {
  std::ostringstream os;
  os << file << ":" << where.source().begin.line << ":" << where.source().begin.column << ": " << why;
  return std::runtime_error(os.str());
}

// The harness mounts proc, sysfs, devtmpfs and tmpfs there, the disks under /mnt, the host's
// root on /host; / would hide the harness itself.
bool reserved_share_path(const std::string& p) {
  if (p == "/" || p == "/init") return true;
  for (const char* r : {"/proc", "/sys", "/dev", "/mnt", "/tmp", kHostRootGuestPath})
    if (p == r || p.rfind(std::string(r) + "/", 0) == 0) return true;
  return false;
}

// An existing directory, as an absolute normal path; throws the reason without a location.
std::string host_directory(const std::string& host, const std::string& base_dir) {
  fs::path p(host);
  if (p.is_relative()) p = fs::absolute(fs::path(base_dir) / p);
  std::string abs = p.lexically_normal().string();
  if (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  std::error_code ec;
  if (!fs::exists(abs, ec)) throw std::runtime_error("share host " + abs + ": no such directory");
  if (!fs::is_directory(abs, ec)) throw std::runtime_error("share host " + abs + ": not a directory");
  return abs;
}

const toml::node& string_key(const toml::table& st, const char* key, const std::string& file) {
  const toml::node* n = st.get(key);
  if (!n) throw share_error(file, st, std::string("[[share]] needs ") + key + " = \"...\"");
  if (!n->is_string() || n->as_string()->get().empty())
    throw share_error(file, *n, std::string("[[share]] ") + key + " must be a non-empty string");
  return *n;
}

ShareSpec parse_share(const toml::table& st, const std::string& file) {
  for (auto&& [k, v] : st)
    if (k != "host" && k != "guest")
      throw share_error(file, v, "[[share]] has no key '" + std::string(k.str()) + "' (host, guest)");
  const toml::node& host = string_key(st, "host", file);
  ShareSpec s;
  try {
    s.host = host_directory(host.as_string()->get(), fs::path(file).parent_path().string());
  } catch (const std::runtime_error& e) {
    throw share_error(file, host, e.what());
  }
  const toml::node* guest = st.get("guest") ? &string_key(st, "guest", file) : &host;
  s.guest = st.get("guest") ? guest->as_string()->get() : s.host;
  try {
    check_share_guest_path(s.guest, "[[share]] guest");
  } catch (const std::runtime_error& e) {
    throw share_error(file, *guest, e.what());
  }
  return s;
}

}  // namespace

void check_share_guest_path(const std::string& guest, const std::string& what) {
  if (guest.empty() || guest[0] != '/' || fs::path(guest).lexically_normal().string() != guest ||
      (guest.size() > 1 && guest.back() == '/'))
    throw std::runtime_error(what + " must be an absolute path without . or .. or a trailing /, got '" + guest + "'");
  if (reserved_share_path(guest))
    throw std::runtime_error(what + " " + guest + " is reserved in the guest (/, /proc, /sys, /dev, /mnt, /tmp, /init, " +
                             kHostRootGuestPath + ")");
}

std::vector<ShareSpec> parse_shares(const toml::table& t, const std::string& file) {
  std::vector<ShareSpec> out;
  const toml::node* n = t.get("share");
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) throw share_error(file, *n, "share must be an array of tables ([[share]])");
  for (auto&& e : *a) {
    if (!e.is_table()) throw share_error(file, e, "every share entry must be a table");
    out.push_back(parse_share(*e.as_table(), file));
    for (size_t i = 0; i + 1 < out.size(); ++i)
      if (out[i].guest == out.back().guest)
        throw share_error(file, e, "[[share]] guest " + out.back().guest + " given twice");
  }
  return out;
}

bool parse_step_roots(const toml::table& t, const std::string& file) {
  bool host = false;
  const toml::array* steps = t["step"].as_array();
  if (!steps) return false;
  for (auto&& st : *steps) {
    const toml::table* tt = st.as_table();
    const toml::node* root = tt ? tt->get("root") : nullptr;
    if (!root) continue;
    std::string what = tt->get("do") && tt->get("do")->is_string() ? tt->get("do")->as_string()->get() : "";
    if (what != "exec" && what != "spawn") throw share_error(file, *root, "root = ... belongs to exec and spawn steps");
    if (!root->is_string() || (root->as_string()->get() != "host" && root->as_string()->get() != "guest"))
      throw share_error(file, *root, "root must be \"host\" (the host's root filesystem, read-only) or \"guest\"");
    host = host || root->as_string()->get() == "host";
  }
  return host;
}

ShareSpec parse_share_argument(const std::string& arg) {
  size_t colon = arg.find(':');
  ShareSpec s;
  s.host = host_directory(arg.substr(0, colon), fs::current_path().string());
  s.guest = colon == std::string::npos ? s.host : arg.substr(colon + 1);
  check_share_guest_path(s.guest, "--share " + arg + ": guest path");
  return s;
}

}  // namespace fsfault::vm
