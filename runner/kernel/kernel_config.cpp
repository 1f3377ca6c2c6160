#include "runner/kernel/kernel_config.h"

#include "base/files.h"

#include <archive.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {
namespace {

namespace fs = std::filesystem;

bool option_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

[[noreturn]] void bad_line(const std::string& origin, int line, std::size_t col, const std::string& what) {
  throw std::runtime_error(origin + ":" + std::to_string(line) + ":" + std::to_string(col + 1) + ": " + what);
}

// "CONFIG_X" at the start of s: its length, 0 when s does not start with an option name.
std::size_t option_length(std::string_view s) {
  if (s.rfind("CONFIG_", 0) != 0) return 0;
  std::size_t n = 7;
  while (n < s.size() && option_char(s[n])) ++n;
  return n > 7 ? n : 0;
}

// Calls fn(line_number, line) for each line of text.
template <class Fn>
void for_each_line(std::string_view text, Fn fn) {
  int number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(++number, line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

// Decompresses one stream (any filter libarchive knows), stopping after `limit` bytes. Whatever was
// decoded before an error counts: payloads are followed by unrelated bytes.
std::optional<std::string> decompress(std::string_view data, std::size_t limit) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) return std::nullopt;
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) return std::nullopt;
  if (archive_filter_count(a.get()) < 2) return std::nullopt;  // "none" only: not compressed
  std::string out;
  std::array<char, 1 << 16> buf;
  while (out.size() < limit) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The gzip data after IKCFG_ST in `blob`, decompressed.
std::optional<std::string> ikconfig_in(std::string_view blob) {
  constexpr std::string_view kStart = "IKCFG_ST";
  for (std::size_t at = blob.find(kStart); at != std::string_view::npos; at = blob.find(kStart, at + 1)) {
    std::string_view rest = blob.substr(at + kStart.size());
    if (rest.size() < 3 || rest.substr(0, 3) != std::string_view("\x1f\x8b\x08", 3)) continue;
    if (auto text = decompress(rest, std::size_t{64} << 20)) return text;
  }
  return std::nullopt;
}

std::uint32_t le32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

// A bzImage's compressed vmlinux, located through the setup header (Documentation/arch/x86/boot.rst:
// setup_sects at 0x1f1, "HdrS" at 0x202, payload_offset/payload_length at 0x248/0x24c, relative to
// the protected-mode code that starts after the setup sectors).
std::optional<std::string_view> bzimage_payload(std::string_view image) {
  if (image.size() < 0x250 || image.substr(0x202, 4) != "HdrS") return std::nullopt;
  std::size_t setup_sects = static_cast<unsigned char>(image[0x1f1]);
  if (setup_sects == 0) setup_sects = 4;
  std::size_t start = (setup_sects + 1) * 512 + le32(image, 0x248);
  std::size_t length = le32(image, 0x24c);
  if (start >= image.size() || length == 0 || length > image.size() - start) return std::nullopt;
  return image.substr(start, length);
}

// Offsets where a compressed stream may start (the signatures scripts/extract-ikconfig looks for),
// at most `per_magic` of each.
std::vector<std::size_t> stream_candidates(std::string_view image, std::size_t per_magic) {
  static const std::array<std::string_view, 6> kMagics{
      std::string_view("\x1f\x8b\x08", 3),         // gzip
      std::string_view("\xfd" "7zXZ\x00", 6),      // xz
      std::string_view("\x28\xb5\x2f\xfd", 4),     // zstd
      std::string_view("\x02\x21\x4c\x18", 4),     // lz4 legacy
      std::string_view("\x5d\x00\x00\x00", 4),     // lzma
      std::string_view("BZh", 3),                  // bzip2
  };
  std::vector<std::size_t> out;
  for (auto magic : kMagics) {
    std::size_t found = 0;
    for (std::size_t at = image.find(magic); at != std::string_view::npos && found < per_magic;
         at = image.find(magic, at + 1), ++found)
      out.push_back(at);
  }
  return out;
}

std::optional<KernelConfig> config_file(const fs::path& p, const std::string& what) {
  auto text = base::try_read_file(p.string());
  if (!text) return std::nullopt;
  return KernelConfig::parse(*text, what + p.string());
}

}  // namespace

KernelConfig KernelConfig::parse(std::string_view text, const std::string& origin) {
  KernelConfig c;
  c.origin_ = origin;
  for_each_line(text, [&](int number, std::string_view line) {
    if (line.empty()) return;
    if (line[0] == '#') {  // "# CONFIG_X is not set" unsets; other comments say nothing
      constexpr std::string_view kUnset = " is not set";
      std::string_view body = line.substr(line.rfind("# ", 0) == 0 ? 2 : 1);
      std::size_t n = option_length(body);
      if (n && body.substr(n) == kUnset) c.values_.erase(std::string(body.substr(0, n)));
      return;
    }
    std::size_t n = option_length(line);
    if (n == 0) bad_line(origin, number, 0, "expected CONFIG_NAME=VALUE or a # comment");
    if (n >= line.size() || line[n] != '=') bad_line(origin, number, n, "expected '=' after " + std::string(line.substr(0, n)));
    std::string_view value = line.substr(n + 1);
    if (value.empty()) bad_line(origin, number, n + 1, "empty value for " + std::string(line.substr(0, n)));
    if (value == "n") c.values_.erase(std::string(line.substr(0, n)));
    else c.values_[std::string(line.substr(0, n))] = std::string(value);
  });
  return c;
}

std::optional<std::string> KernelConfig::value(std::string_view option) const {
  auto it = values_.find(option);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

bool KernelConfig::enabled(std::string_view option) const {
  auto v = value(option);
  return v == "y" || v == "m";
}

std::vector<ConfigRequirement> parse_config_fragment(std::string_view text, const std::string& origin,
                                                     const std::string& needed_by) {
  std::vector<ConfigRequirement> out;
  for_each_line(text, [&](int number, std::string_view line) {
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') return;
    std::size_t n = option_length(line);
    if (n == 0) bad_line(origin, number, 0, "expected CONFIG_NAME=y or CONFIG_NAME=m");
    std::string_view value = line.substr(n);
    if (value != "=y" && value != "=m")
      bad_line(origin, number, n, "a fragment line sets =y or =m, got '" + std::string(value) + "'");
    out.push_back({std::string(line.substr(0, n)), value == "=m", needed_by});
  });
  return out;
}

std::vector<std::string> unmet_requirements(const KernelConfig& config, const std::vector<ConfigRequirement>& reqs) {
  std::vector<std::string> out;
  for (const auto& r : reqs) {
    auto v = config.value(r.option);
    if (v == "y" || (r.module_ok && v == "m")) continue;
    std::string why = v == "m" ? " built in (it is a module)" : "";
    out.push_back("kernel lacks " + r.option + why + " (needed by " + r.needed_by + ")");
  }
  return out;
}

std::optional<std::string> extract_ikconfig(std::string_view image) {
  if (auto text = ikconfig_in(image)) return text;
  if (auto payload = bzimage_payload(image)) {
    if (auto vmlinux = decompress(*payload, std::size_t{512} << 20))
      if (auto text = ikconfig_in(*vmlinux)) return text;
  }
  for (std::size_t at : stream_candidates(image, 8)) {
    auto blob = decompress(image.substr(at), std::size_t{512} << 20);
    if (!blob) continue;
    if (auto text = ikconfig_in(*blob)) return text;
  }
  return std::nullopt;
}

std::optional<KernelConfig> find_kernel_config(const std::string& image, const std::string& tree_dir,
                                               const std::string& release) {
  if (!tree_dir.empty())
    if (auto c = config_file(fs::path(tree_dir) / ".config", "")) return c;
  if (!image.empty()) {
    fs::path dir = fs::path(image).parent_path();
    if (!release.empty())
      if (auto c = config_file(dir / ("config-" + release), "")) return c;
    // Debian's split packages (7.x) keep it as modules/<release>/config beside vmlinuz.
    if (auto c = config_file(dir / "config", "")) return c;
    std::vector<fs::path> configs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.empty() ? "." : dir, ec))
      if (e.path().filename().string().rfind("config-", 0) == 0) configs.push_back(e.path());
    if (configs.size() == 1)
      if (auto c = config_file(configs[0], "")) return c;
    if (auto bytes = base::try_read_file(image))
      if (auto text = extract_ikconfig(*bytes)) return KernelConfig::parse(*text, "IKCONFIG of " + image);
  }
  return std::nullopt;
}

}  // namespace fsfault::vm
