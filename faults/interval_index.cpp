#include "faults/interval_index.h"

#include <algorithm>
#include <numeric>

namespace fsfault::faults {

IntervalIndex::IntervalIndex(std::vector<Interval> intervals) : intervals_(std::move(intervals)) {
  const auto n = static_cast<std::uint32_t>(intervals_.size());
  sorted_by_first_.resize(n);
  std::iota(sorted_by_first_.begin(), sorted_by_first_.end(), 0u);
  std::sort(sorted_by_first_.begin(), sorted_by_first_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return intervals_[a].first < intervals_[b].first; });
  firsts_.reserve(n);
  for (auto id : sorted_by_first_) firsts_.push_back(intervals_[id].first);
  by_start_.reserve(n);
  by_end_.reserve(n);
  std::vector<std::uint32_t> ids(sorted_by_first_);
  root_ = build(ids);
}

// Midpoint without overflow.
static std::uint64_t midpoint(const IntervalIndex::Interval& iv) {
  return iv.first + (iv.last - iv.first) / 2;
}

std::int32_t IntervalIndex::build(std::vector<std::uint32_t>& ids) {
  if (ids.empty()) return -1;
  // Centre = the median of the midpoints: at most half the intervals lie
  // entirely on either side, so the tree has depth O(log n); and the median
  // interval contains its own midpoint, so every node holds at least one.
  auto mid_it = ids.begin() + static_cast<std::ptrdiff_t>(ids.size() / 2);
  std::nth_element(ids.begin(), mid_it, ids.end(), [&](std::uint32_t a, std::uint32_t b) {
    return midpoint(intervals_[a]) < midpoint(intervals_[b]);
  });
  const std::uint64_t center = midpoint(intervals_[*mid_it]);
  std::vector<std::uint32_t> left, right, here;
  for (auto id : ids) {
    const auto& iv = intervals_[id];
    if (iv.last < center) {
      left.push_back(id);
    } else if (iv.first > center) {
      right.push_back(id);
    } else {
      here.push_back(id);
    }
  }
  ids.clear();
  ids.shrink_to_fit();
  Node node{center, 0, 0, static_cast<std::uint32_t>(by_start_.size()), static_cast<std::uint32_t>(here.size())};
  std::sort(here.begin(), here.end(),
            [&](std::uint32_t a, std::uint32_t b) { return intervals_[a].first < intervals_[b].first; });
  node.min_first = intervals_[here.front()].first;
  by_start_.insert(by_start_.end(), here.begin(), here.end());
  std::sort(here.begin(), here.end(),
            [&](std::uint32_t a, std::uint32_t b) { return intervals_[a].last > intervals_[b].last; });
  node.max_last = intervals_[here.front()].last;
  by_end_.insert(by_end_.end(), here.begin(), here.end());
  const auto index = static_cast<std::int32_t>(nodes_.size());
  nodes_.push_back(node);
  const std::int32_t l = build(left);
  const std::int32_t r = build(right);
  nodes_[static_cast<std::size_t>(index)].left = l;
  nodes_[static_cast<std::size_t>(index)].right = r;
  return index;
}

void IntervalIndex::query(std::uint64_t first, std::uint64_t last, std::vector<std::uint32_t>& out) const {
  if (intervals_.empty() || last < first) return;
  // 1. Intervals containing the point `first`.
  std::int32_t cur = root_;
  while (cur >= 0) {
    const Node& n = nodes_[static_cast<std::size_t>(cur)];
    if (first < n.center) {
      if (n.min_first <= first) {
        for (std::uint32_t i = n.begin; i < n.begin + n.count; ++i) {
          if (intervals_[by_start_[i]].first > first) break;
          out.push_back(by_start_[i]);
        }
      }
      cur = n.left;
    } else if (first > n.center) {
      if (n.max_last >= first) {
        for (std::uint32_t i = n.begin; i < n.begin + n.count; ++i) {
          if (intervals_[by_end_[i]].last < first) break;
          out.push_back(by_end_[i]);
        }
      }
      cur = n.right;
    } else {
      for (std::uint32_t i = n.begin; i < n.begin + n.count; ++i) out.push_back(by_start_[i]);
      break;
    }
  }
  // 2. Intervals starting in (first, last].
  if (first == UINT64_MAX) return;
  auto it = std::lower_bound(firsts_.begin(), firsts_.end(), first + 1);
  for (auto i = static_cast<std::size_t>(it - firsts_.begin()); i < firsts_.size() && firsts_[i] <= last; ++i) {
    out.push_back(sorted_by_first_[i]);
  }
}

}  // namespace fsfault::faults
