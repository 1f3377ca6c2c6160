#include "faults/schedule.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "base/errno_names.h"
#include "faults/target_map.h"

namespace fsfault::faults {

namespace {

std::string format_what(const std::string& source, std::uint32_t line, std::uint32_t column,
                        const std::string& message) {
  if (line == 0) return fmt::format("{}: {}", source, message);
  return fmt::format("{}:{}:{}: {}", source, line, column, message);
}

}  // namespace

ScheduleError::ScheduleError(std::string source, std::uint32_t line, std::uint32_t column, std::string message)
    : std::runtime_error(format_what(source, line, column, message)),
      source_(std::move(source)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

std::string_view to_string(OpMatch m) {
  switch (m) {
    case OpMatch::Read: return "read";
    case OpMatch::Write: return "write";
    case OpMatch::Flush: return "flush";
    case OpMatch::Trim: return "trim";
    case OpMatch::Zero: return "zero";
    case OpMatch::Any: return "any";
  }
  return "?";
}

bool op_matches(OpMatch m, Op op) {
  switch (m) {
    case OpMatch::Any: return true;
    case OpMatch::Read: return op == Op::Read;
    case OpMatch::Write: return op == Op::Write;
    case OpMatch::Flush: return op == Op::Flush;
    case OpMatch::Trim: return op == Op::Trim;
    case OpMatch::Zero: return op == Op::Zero;
  }
  return false;
}

std::string_view to_string(ActionKind k) {
  switch (k) {
    case ActionKind::Fail: return "fail";
    case ActionKind::Flip: return "flip";
    case ActionKind::Zero: return "zero";
    case ActionKind::Fill: return "fill";
    case ActionKind::Delay: return "delay";
    case ActionKind::Disconnect: return "disconnect";
    case ActionKind::Die: return "die";
    case ActionKind::Torn: return "torn";
  }
  return "?";
}

namespace {

constexpr std::string_view kRuleKeys = "name, phase, match, action, count, after, every, probability, after_ms";
constexpr std::string_view kMatchKeys = "op, sectors, target";
constexpr std::string_view kActions = "fail, flip, zero, fill, delay_ms, disconnect, die, torn";
constexpr std::string_view kFlipKeys = "bits, persist, offset, bytes";
constexpr std::string_view kZeroKeys = "offset, bytes";
constexpr std::string_view kFillKeys = "offset, bytes, byte";
constexpr std::string_view kOps = "\"read\", \"write\", \"flush\", \"trim\", \"zero\", \"any\"";
constexpr std::uint32_t kMaxFlipBits = 65536;
constexpr std::int64_t kMaxDelayMs = 3'600'000;

bool in_list(std::string_view list, std::string_view key) {
  // list is "a, b, c"
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t end = list.find(", ", pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == key) return true;
    pos = end + 2;
  }
  return false;
}

std::string quote(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

std::string describe(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return quote(n.as_string()->get());
    case toml::node_type::integer: return std::to_string(n.as_integer()->get());
    case toml::node_type::floating_point: return fmt::format("{}", n.as_floating_point()->get());
    case toml::node_type::boolean: return n.as_boolean()->get() ? "true" : "false";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

struct Entry {
  const toml::key* key;
  const toml::node* value;
};

// A table's entries in source order (toml++ iterates them sorted by name).
std::vector<Entry> in_source_order(const toml::table& t) {
  std::vector<Entry> out;
  for (auto&& [k, v] : t) out.push_back({&k, &v});
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    const auto& pa = a.key->source().begin;
    const auto& pb = b.key->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return out;
}

class Parser {
 public:
  Parser(std::string source, const TargetMap* map, std::uint64_t disk_size)
      : source_(std::move(source)), map_(map), disk_sectors_(disk_size / kSectorSize) {}

  [[noreturn]] void fail(const toml::source_position& p, const std::string& msg) const {
    throw ScheduleError(source_, p.line, p.column, msg);
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& msg) const { fail(n.source().begin, msg); }
  [[noreturn]] void fail(const toml::key& k, const std::string& msg) const { fail(k.source().begin, msg); }

  std::int64_t integer(const toml::node& n, std::string_view key, std::int64_t min, std::int64_t max,
                       std::string_view expectation) const {
    const auto* v = n.as_integer();
    if (v == nullptr || v->get() < min || v->get() > max) {
      fail(n, fmt::format("expected {} to be {}, got {}", key, expectation, describe(n)));
    }
    return v->get();
  }

  std::string nonempty_string(const toml::node& n, std::string_view key) const {
    const auto* v = n.as_string();
    if (v == nullptr || v->get().empty()) {
      fail(n, fmt::format("expected {} to be a non-empty string, got {}", key, describe(n)));
    }
    return v->get();
  }

  bool true_flag(const toml::node& n, std::string_view key) const {
    const auto* v = n.as_boolean();
    if (v == nullptr || !v->get()) fail(n, fmt::format("expected {} = true, got {}", key, describe(n)));
    return true;
  }

  Schedule parse(std::string_view text, const ParseOptions& options) {
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(source_));
    } catch (const toml::parse_error& e) {
      throw ScheduleError(source_, e.source().begin.line, e.source().begin.column, std::string(e.description()));
    }
    Schedule s;
    s.source = source_;
    for (const auto& [key, value] : in_source_order(root)) {
      const std::string_view k = key->str();
      if (k == "seed") {
        s.seed = static_cast<std::uint64_t>(
            integer(*value, "seed", 0, INT64_MAX, "a non-negative integer"));
      } else if (k == "rule") {
        const auto* arr = value->as_array();
        if (arr == nullptr || !arr->is_array_of_tables()) {
          fail(*value, fmt::format("expected rule to be an array of tables ([[rule]]), got {}", describe(*value)));
        }
        for (const auto& r : *arr) s.rules.push_back(parse_rule(*r.as_table(), s.rules.size()));
      } else if (std::find(options.extra_top_level_keys.begin(), options.extra_top_level_keys.end(), k) ==
                 options.extra_top_level_keys.end()) {
        std::string expected = "seed, rule";
        for (const auto& e : options.extra_top_level_keys) expected += ", " + e;
        fail(*key, fmt::format("expected a top-level key ({}), got {}", expected, quote(k)));
      }
    }
    // Rule names are unique, so stats and logs identify rules unambiguously.
    std::map<std::string, const Rule*> seen;
    for (const auto& r : s.rules) {
      auto [it, inserted] = seen.emplace(r.name, &r);
      if (!inserted) {
        fail(toml::source_position{r.pos.line, r.pos.column},
             fmt::format("expected a unique rule name, got {} again (first at {}:{})", quote(r.name),
                         it->second->pos.line, it->second->pos.column));
      }
    }
    return s;
  }

 private:
  Rule parse_rule(const toml::table& t, std::size_t index) {
    Rule r;
    r.pos = {t.source().begin.line, t.source().begin.column};
    r.name = fmt::format("rule#{}", index + 1);
    const toml::node* match = nullptr;
    const toml::node* action = nullptr;
    const auto entries = in_source_order(t);
    for (const auto& [key, value] : entries) {
      if (!in_list(kRuleKeys, key->str())) {
        fail(*key, fmt::format("expected a rule key ({}), got {}", kRuleKeys, quote(key->str())));
      }
    }
    for (const auto& [key, value] : entries) {
      const std::string_view k = key->str();
      const toml::node& v = *value;
      if (k == "name") {
        r.name = nonempty_string(v, "name");
      } else if (k == "phase") {
        r.phase = nonempty_string(v, "phase");
      } else if (k == "match") {
        match = &v;
      } else if (k == "action") {
        action = &v;
      } else if (k == "count") {
        r.count = static_cast<std::uint64_t>(integer(v, "count", 1, INT64_MAX, "a positive integer"));
      } else if (k == "after") {
        r.after = static_cast<std::uint64_t>(integer(v, "after", 0, INT64_MAX, "a non-negative integer"));
      } else if (k == "every") {
        r.every = static_cast<std::uint64_t>(integer(v, "every", 1, INT64_MAX, "a positive integer"));
      } else if (k == "probability") {
        double p = -1;
        if (const auto* f = v.as_floating_point()) p = f->get();
        if (const auto* i = v.as_integer()) p = static_cast<double>(i->get());
        if (!(p >= 0.0 && p <= 1.0)) {
          fail(v, fmt::format("expected probability to be a number from 0 to 1, got {}", describe(v)));
        }
        r.probability = p;
      } else if (k == "after_ms") {
        r.after_ms = static_cast<std::uint64_t>(integer(v, "after_ms", 0, INT64_MAX, "a non-negative integer"));
      }
    }
    const toml::source_position rule_pos = t.source().begin;
    if (match == nullptr) {
      fail(rule_pos, fmt::format("expected key match in rule {}, got none", quote(r.name)));
    }
    if (action == nullptr) {
      fail(rule_pos, fmt::format("expected key action in rule {}, got none", quote(r.name)));
    }
    const toml::node* op_node = parse_match(*match, r);
    parse_action(*action, r);
    check_action_fits(r, op_node, *match);
    return r;
  }

  // Returns the op value node (or null when op was not given).
  const toml::node* parse_match(const toml::node& n, Rule& r) {
    const auto* t = n.as_table();
    if (t == nullptr) {
      fail(n, fmt::format("expected match to be a table (e.g. {{ op = \"read\", sectors = \"8-15\" }}), got {}",
                          describe(n)));
    }
    const auto entries = in_source_order(*t);
    for (const auto& [key, value] : entries) {
      if (!in_list(kMatchKeys, key->str())) {
        fail(*key, fmt::format("expected a match key ({}), got {}", kMatchKeys, quote(key->str())));
      }
    }
    const toml::node* op_node = nullptr;
    const toml::node* sectors = nullptr;
    const toml::node* target = nullptr;
    for (const auto& [key, value] : entries) {
      if (key->str() == "op") op_node = value;
      if (key->str() == "sectors") sectors = value;
      if (key->str() == "target") target = value;
    }
    if (op_node != nullptr) {
      const auto* s = op_node->as_string();
      static const std::pair<std::string_view, OpMatch> kOpNames[] = {
          {"read", OpMatch::Read}, {"write", OpMatch::Write}, {"flush", OpMatch::Flush},
          {"trim", OpMatch::Trim}, {"zero", OpMatch::Zero},   {"any", OpMatch::Any}};
      bool found = false;
      if (s != nullptr) {
        for (const auto& [name, m] : kOpNames) {
          if (s->get() == name) {
            r.op = m;
            found = true;
          }
        }
      }
      if (!found) fail(*op_node, fmt::format("expected op to be one of {}, got {}", kOps, describe(*op_node)));
    }
    if (sectors != nullptr && target != nullptr) {
      fail(*target, "expected either sectors or target in match, got both");
    }
    if (sectors != nullptr) {
      SectorRange range = parse_sectors(*sectors);
      if (disk_sectors_ != 0 && range.last >= disk_sectors_) {
        fail(*sectors, fmt::format("expected sectors within the disk (0-{}), got {}", disk_sectors_ - 1,
                                   describe(*sectors)));
      }
      r.ranges.push_back(range);
    }
    if (target != nullptr) parse_targets(*target, r);
    r.pieces = r.ranges;
    r.ranges = normalize_ranges(std::move(r.ranges));
    if (r.op == OpMatch::Flush && !r.ranges.empty()) {
      fail(sectors != nullptr ? *sectors : *target,
           fmt::format("expected no sectors or target for op \"flush\" (a flush has no range), got {}",
                       sectors != nullptr ? "sectors" : "target"));
    }
    return op_node;
  }

  // target = "NAME" or ["NAME", ...]; each NAME may be "PREFIX:A-B".
  void parse_targets(const toml::node& target, Rule& r) {
    std::vector<const toml::node*> names;
    if (const auto* arr = target.as_array()) {
      if (arr->empty()) fail(target, "expected target to be a non-empty string (or a list of them), got an empty list");
      for (const auto& e : *arr) names.push_back(&e);
    } else {
      names.push_back(&target);
    }
    for (const toml::node* n : names) {
      const auto* s = n->as_string();
      if (s == nullptr || s->get().empty()) {
        fail(*n, fmt::format("expected target to be a non-empty string (or a list of them), got {}", describe(*n)));
      }
      if (map_ == nullptr) {
        fail(*n, fmt::format("expected an image map to resolve target {}, got none", quote(s->get())));
      }
      for (const std::string& name : expand_target(*n, s->get())) add_target(*n, name, r);
    }
  }

  // An exact map name stands for itself; otherwise "PREFIX:A-B" (A <= B) for
  // PREFIX:A, PREFIX:A+1, ..., PREFIX:B, every one of which must exist.
  std::vector<std::string> expand_target(const toml::node& n, const std::string& name) const {
    if (map_->find(name) != nullptr) return {name};
    const auto colon = name.rfind(':');
    const auto dash = name.find('-', colon == std::string::npos ? 0 : colon);
    std::uint64_t a = 0, b = 0;
    auto number = [&](std::size_t from, std::size_t to, std::uint64_t& v) {
      if (from >= to) return false;
      auto [p, ec] = std::from_chars(name.data() + from, name.data() + to, v);
      return ec == std::errc() && p == name.data() + to;
    };
    if (colon == std::string::npos || dash == std::string::npos || !number(colon + 1, dash, a) ||
        !number(dash + 1, name.size(), b)) {
      unknown_target(n, name, "");
    }
    if (b < a) fail(n, fmt::format("expected a target range \"NAME:A-B\" with A <= B, got {}", quote(name)));
    std::vector<std::string> out;
    const std::string prefix = name.substr(0, colon + 1);
    for (std::uint64_t i = a;; ++i) {
      std::string one = prefix + std::to_string(i);
      if (map_->find(one) == nullptr) unknown_target(n, one, fmt::format(" in {}", quote(name)));
      out.push_back(std::move(one));
      if (i == b) break;
    }
    return out;
  }

  [[noreturn]] void unknown_target(const toml::node& n, const std::string& name, const std::string& within) const {
    auto close = map_->close_matches(name);
    std::string hint;
    if (close.empty()) {
      hint = "no close matches";
    } else {
      hint = "close matches: ";
      for (std::size_t i = 0; i < close.size(); ++i) hint += (i ? ", " : "") + quote(close[i]);
    }
    std::string where = map_->image.empty() ? map_->source : map_->image;
    fail(n, fmt::format("expected a target of image map {}, got {}{} ({})", quote(where), quote(name), within, hint));
  }

  void add_target(const toml::node& n, const std::string& name, Rule& r) const {
    const Target* tgt = map_->find(name);
    for (const auto& range : tgt->ranges) {
      if (disk_sectors_ != 0 && range.last >= disk_sectors_) {
        fail(n, fmt::format("expected target within the disk (sectors 0-{}), got {} at sectors {}-{}",
                            disk_sectors_ - 1, quote(name), range.first, range.last));
      }
    }
    r.ranges.insert(r.ranges.end(), tgt->ranges.begin(), tgt->ranges.end());
    r.targets.push_back(name);
  }

  SectorRange parse_sectors(const toml::node& n) const {
    if (const auto* i = n.as_integer(); i != nullptr && i->get() >= 0) {
      auto s = static_cast<std::uint64_t>(i->get());
      return {s, s};
    }
    const std::string bad = fmt::format(
        "expected sectors as \"A-B\" or \"A\" (512-byte sectors, inclusive), got {}", describe(n));
    const auto* str = n.as_string();
    if (str == nullptr) fail(n, bad);
    std::string_view text = str->get();
    auto trim = [](std::string_view s) {
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      return s;
    };
    auto number = [&](std::string_view s) -> std::uint64_t {
      s = trim(s);
      std::uint64_t v = 0;
      if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) fail(n, bad);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size()) fail(n, bad);
      return v;
    };
    auto dash = text.find('-');
    if (dash == std::string_view::npos) {
      auto v = number(text);
      return {v, v};
    }
    SectorRange r{number(text.substr(0, dash)), number(text.substr(dash + 1))};
    if (r.last < r.first) {
      fail(n, fmt::format("expected sectors \"A-B\" with A <= B, got {}", describe(n)));
    }
    return r;
  }

  void parse_action(const toml::node& n, Rule& r) {
    const auto* t = n.as_table();
    if (t == nullptr) {
      fail(n, fmt::format("expected action to be a table (e.g. {{ fail = \"EIO\" }}), got {}", describe(n)));
    }
    const auto entries = in_source_order(*t);
    for (const auto& [key, value] : entries) {
      if (!in_list(kActions, key->str())) {
        fail(*key, fmt::format("expected an action ({}), got {}", kActions, quote(key->str())));
      }
    }
    if (entries.size() != 1) {
      std::string got = "none";
      if (!entries.empty()) {
        got = std::to_string(entries.size()) + ":";
        for (std::size_t i = 0; i < entries.size(); ++i) got += (i ? ", " : " ") + std::string(entries[i].key->str());
      }
      fail(n, fmt::format("expected exactly one action ({}), got {}", kActions, got));
    }
    const std::string_view k = entries[0].key->str();
    const toml::node& v = *entries[0].value;
    Action& a = r.action;
    if (k == "fail") {
      a.kind = ActionKind::Fail;
      std::optional<int> err;
      if (const auto* s = v.as_string()) err = base::nbd_errno_from_name(s->get());
      if (!err) fail(v, fmt::format("expected fail to be one of {}, got {}", base::nbd_errno_names_list(), describe(v)));
      a.error = *err;
    } else if (k == "flip") {
      a.kind = ActionKind::Flip;
      parse_flip(v, r);
    } else if (k == "zero") {
      a.kind = ActionKind::Zero;
      if (v.is_table()) {
        a.window = parse_window(v, "zero", kZeroKeys);
      } else {
        true_flag(v, "zero");
      }
    } else if (k == "fill") {
      a.kind = ActionKind::Fill;
      parse_fill(v, a);
    } else if (k == "delay_ms") {
      a.kind = ActionKind::Delay;
      a.delay_ms = static_cast<std::uint32_t>(
          integer(v, "delay_ms", 0, kMaxDelayMs, fmt::format("an integer from 0 to {}", kMaxDelayMs)));
    } else if (k == "disconnect") {
      a.kind = ActionKind::Disconnect;
      true_flag(v, "disconnect");
    } else if (k == "die") {
      a.kind = ActionKind::Die;
      true_flag(v, "die");
      a.error = EIO;
    } else if (k == "torn") {
      a.kind = ActionKind::Torn;
      true_flag(v, "torn");
      a.error = EIO;
    }
  }

  // The offset/bytes keys of a table action (other keys are the caller's,
  // listed in `keys` for the unknown-key message).
  ByteWindow parse_window(const toml::node& n, std::string_view action, std::string_view keys) {
    const auto entries = in_source_order(*n.as_table());
    ByteWindow w;
    for (const auto& [key, value] : entries) {
      const std::string_view k = key->str();
      if (!in_list(keys, k)) {
        fail(*key, fmt::format("expected a {} key ({}), got {}", action, keys, quote(k)));
      }
      if (k == "offset") {
        w.offset = static_cast<std::uint64_t>(integer(*value, "offset", 0, INT64_MAX, "a non-negative integer"));
        window_node_ = value;
      } else if (k == "bytes") {
        w.bytes = static_cast<std::uint64_t>(integer(*value, "bytes", 1, INT64_MAX, "a positive integer"));
        if (window_node_ == nullptr) window_node_ = value;
      }
    }
    if (window_node_ == nullptr) window_node_ = &n;
    return w;
  }

  void parse_fill(const toml::node& n, Action& a) {
    if (!n.is_table()) {
      fail(n, fmt::format("expected fill to be a table (e.g. {{ offset = 0, bytes = 1024, byte = 0xff }}), got {}",
                          describe(n)));
    }
    a.window = parse_window(n, "fill", kFillKeys);
    const toml::node* byte = n.as_table()->get("byte");
    if (byte == nullptr) fail(n, "expected key byte (the value to fill with, 0-255) in fill, got none");
    a.fill_byte = static_cast<std::uint8_t>(integer(*byte, "byte", 0, 255, "an integer from 0 to 255"));
  }

  void parse_flip(const toml::node& n, Rule& r) {
    const auto* t = n.as_table();
    if (t == nullptr) {
      fail(n, fmt::format("expected flip to be a table (e.g. {{ bits = 1 }}), got {}", describe(n)));
    }
    const auto entries = in_source_order(*t);
    for (const auto& [key, value] : entries) {
      if (!in_list(kFlipKeys, key->str())) {
        fail(*key, fmt::format("expected a flip key ({}), got {}", kFlipKeys, quote(key->str())));
      }
    }
    Action& a = r.action;
    const toml::node* bits = nullptr;
    for (const auto& [key, value] : entries) {
      const std::string_view k = key->str();
      if (k == "bits") {
        bits = value;
        a.flip_bits = static_cast<std::uint32_t>(
            integer(*value, "bits", 1, kMaxFlipBits, fmt::format("an integer from 1 to {}", kMaxFlipBits)));
      } else if (k == "persist") {
        const auto* b = value->as_boolean();
        if (b == nullptr) fail(*value, fmt::format("expected persist to be a boolean, got {}", describe(*value)));
        a.persist = b->get();
      } else if (k == "offset") {
        a.flip_offset = static_cast<std::uint64_t>(
            integer(*value, "offset", 0, INT64_MAX, "a non-negative integer"));
        offset_node_ = value;
      }
    }
    if (t->contains("bytes")) {
      // A byte range, every bit flipped: offset then counts bytes from the
      // start of each range, like zero and fill.
      if (bits != nullptr) fail(*bits, "expected bits or bytes in flip, got both");
      a.flip_offset.reset();
      offset_node_ = nullptr;
      a.window = parse_window(n, "flip", kFlipKeys);
      return;
    }
    if (a.flip_offset && a.flip_bits != 1) {
      fail(*bits, fmt::format("expected bits = 1 (or no bits) with a fixed offset, got {}", a.flip_bits));
    }
  }

  // Cross-checks between match and action, once both are known.
  void check_action_fits(Rule& r, const toml::node* op_node, const toml::node& match) {
    const ActionKind k = r.action.kind;
    const toml::node& where = op_node != nullptr ? *op_node : match;
    if (changes_data(k)) {
      // Flips and zeroing change data being read: "any" means reads.
      if (r.op != OpMatch::Read && r.op != OpMatch::Any) {
        fail(where, fmt::format("expected op \"read\" or \"any\" for a {} action (it changes data being read), "
                                "got {}",
                                to_string(k), quote(to_string(r.op))));
      }
      r.op = OpMatch::Read;
    }
    if (k == ActionKind::Torn) {
      if (r.op != OpMatch::Write && r.op != OpMatch::Any) {
        fail(where, fmt::format("expected op \"write\" or \"any\" for a torn action, got {}",
                                quote(to_string(r.op))));
      }
      r.op = OpMatch::Write;
    }
    if (k == ActionKind::Flip && r.action.flip_offset) {
      std::uint64_t total_sectors = 0;
      if (r.ranges.empty()) {
        total_sectors = disk_sectors_;  // relative to sector 0; unknown disk size: unchecked
      } else {
        for (const auto& range : r.ranges) total_sectors += range.count();
      }
      if (total_sectors != 0 && total_sectors <= (UINT64_MAX / 4096) &&
          *r.action.flip_offset >= total_sectors * kSectorSize * 8) {
        fail(*offset_node_, fmt::format("expected offset to be a bit within the rule's sectors (0-{}), got {}",
                                        total_sectors * kSectorSize * 8 - 1, *r.action.flip_offset));
      }
    }
    if (r.action.window) check_window(r, op_node != nullptr ? *op_node : match);
    offset_node_ = nullptr;
    window_node_ = nullptr;
  }

  // A byte window needs ranges to count from, and must reach into one.
  void check_window(const Rule& r, const toml::node& match) const {
    if (r.ranges.empty()) {
      fail(match, fmt::format("expected sectors or target in match for a {} with offset/bytes (they count from "
                              "the start of each range), got neither",
                              to_string(r.action.kind)));
    }
    std::uint64_t largest = 0;
    for (const auto& p : r.pieces) largest = std::max(largest, p.count());
    if (largest <= UINT64_MAX / kSectorSize && r.action.window->offset >= largest * kSectorSize) {
      fail(*window_node_, fmt::format("expected offset to lie inside a range of the rule (the largest is {} "
                                      "bytes), got {}",
                                      largest * kSectorSize, r.action.window->offset));
    }
  }

  std::string source_;
  const TargetMap* map_;
  std::uint64_t disk_sectors_;
  const toml::node* offset_node_ = nullptr;
  const toml::node* window_node_ = nullptr;  // where a ByteWindow was given
};

}  // namespace

Schedule Schedule::parse(std::string_view toml_text, std::string_view source_name, const TargetMap* map,
                         std::uint64_t disk_size_bytes, const ParseOptions& options) {
  Parser p(std::string(source_name), map, disk_size_bytes);
  return p.parse(toml_text, options);
}

Schedule Schedule::load_file(const std::string& path, const TargetMap* map, std::uint64_t disk_size_bytes,
                             const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ScheduleError(path, 0, 0, fmt::format("cannot read schedule: {}", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path, map, disk_size_bytes, options);
}

}  // namespace fsfault::faults
