#include "runner/judge/record_fields.h"

namespace fsfault::vm {

std::optional<long long> int_field(const json& r, const char* key) {
  if (!r.is_object()) return std::nullopt;
  auto it = r.find(key);
  if (it == r.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<long long>();
}

bool has_mask(const json& r, std::string_view name) {
  if (!r.is_object()) return false;
  auto m = r.find("mask_names");
  if (m == r.end() || !m->is_array()) return false;
  for (const auto& n : *m)
    if (n.is_string() && n.get_ref<const std::string&>() == name) return true;
  return false;
}

bool is_fs_error_event(const json& r) {
  if (!r.is_object()) return false;
  auto type = r.find("type");
  return type != r.end() && *type == "event" && has_mask(r, "FS_ERROR");
}

}  // namespace fsfault::vm
