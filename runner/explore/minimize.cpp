#include "runner/explore/minimize.h"

#include <algorithm>

namespace fsfault::vm::explore {

namespace {

std::vector<json> pick(const std::vector<json>& v, const std::vector<std::size_t>& idx) {
  std::vector<json> out;
  for (auto i : idx) out.push_back(v[i]);
  return out;
}

// The n chunks of idx, as even as they go.
std::vector<std::vector<std::size_t>> split(const std::vector<std::size_t>& idx, std::size_t n) {
  std::vector<std::vector<std::size_t>> parts;
  std::size_t start = 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t len = (idx.size() - start) / (n - k);
    parts.emplace_back(idx.begin() + start, idx.begin() + start + len);
    start += len;
  }
  return parts;
}

std::vector<std::size_t> without(const std::vector<std::size_t>& idx, const std::vector<std::size_t>& part) {
  std::vector<std::size_t> out;
  for (auto i : idx)
    if (std::find(part.begin(), part.end(), i) == part.end()) out.push_back(i);
  return out;
}

}  // namespace

Minimized ddmin(const std::vector<json>& rules, const Oracle& holds) {
  Minimized m;
  auto test = [&](const std::vector<std::size_t>& idx) {
    ++m.oracle_calls;
    return holds(pick(rules, idx));
  };
  std::vector<std::size_t> cur(rules.size());
  for (std::size_t i = 0; i < cur.size(); ++i) cur[i] = i;
  std::size_t n = 2;
  while (cur.size() >= 2) {
    auto parts = split(cur, std::min(n, cur.size()));
    bool reduced = false;
    for (auto& p : parts)  // a chunk alone
      if (test(p)) {
        cur = p, n = 2, reduced = true;
        break;
      }
    if (!reduced && parts.size() > 2)  // a complement (with 2 chunks, the other chunk: tried above)
      for (auto& p : parts)
        if (auto c = without(cur, p); test(c)) {
          cur = c, n = std::max<std::size_t>(n - 1, 2), reduced = true;
          break;
        }
    if (reduced) continue;
    if (n >= cur.size()) break;
    n = std::min(cur.size(), 2 * n);
  }
  m.rules = pick(rules, cur);
  return m;
}

std::vector<json> shrink_candidates(const json& rule) {
  std::vector<json> out;
  for (const char* a : {"zero", "fill", "flip"}) {
    if (!rule.contains("action") || !rule["action"].contains(a) || !rule["action"][a].is_object()) continue;
    const json& w = rule["action"][a];
    // A window below 16 bytes says little more and costs another K trials per halving.
    if (w.contains("bytes") && w["bytes"].is_number_integer() && w["bytes"].get<std::uint64_t>() >= 32) {
      json c = rule;
      c["action"][a]["bytes"] = w["bytes"].get<std::uint64_t>() / 2;
      out.push_back(c);
    }
    for (const char* k : {"bits"})
      if (w.contains(k) && w[k].is_number_integer() && w[k].get<std::uint64_t>() > 1) {
        json c = rule;
        c["action"][a][k] = w[k].get<std::uint64_t>() / 2;
        out.push_back(c);
      }
  }
  if (rule.contains("count") && rule["count"].get<std::uint64_t>() > 1) {
    json c = rule;
    c["count"] = 1;
    out.push_back(c);
  }
  for (const char* k : {"after", "every"})
    if (rule.contains(k)) {
      json c = rule;
      c.erase(k);
      out.push_back(c);
    }
  return out;
}

Minimized minimize(const std::vector<json>& rules, const Oracle& holds, int max_calls) {
  Minimized m = ddmin(rules, holds);
  for (std::size_t i = 0; i < m.rules.size(); ++i) {
    for (bool shrunk = true; shrunk && m.oracle_calls < max_calls;) {
      shrunk = false;
      for (auto& c : shrink_candidates(m.rules[i])) {
        std::vector<json> trial = m.rules;
        trial[i] = c;
        ++m.oracle_calls;
        if (holds(trial)) {
          m.rules = trial, shrunk = true;
          break;
        }
      }
    }
  }
  return m;
}

}  // namespace fsfault::vm::explore
