// A static index of inclusive [first, last] intervals (sector ranges), built
// once when a schedule is loaded and queried for every request.
//
// query(a, b) reports every interval overlapping [a, b] in O(log n + k):
//  - intervals that start inside (a, b]: a binary search in the start-sorted
//    array, then a scan of exactly those k1 intervals;
//  - intervals that contain the point a: a stabbing query on a centred
//    interval tree (each node keeps the intervals containing its centre sorted
//    by start and by end; a query walks one root-to-leaf path and scans only
//    reported intervals at each node).
// The two sets are disjoint and their union is exactly the overlapping set.
#pragma once

#include <cstdint>
#include <vector>

namespace fsfault::faults {

class IntervalIndex {
 public:
  struct Interval {
    std::uint64_t first;
    std::uint64_t last;
    std::uint32_t value;  // caller's payload (a rule index)
  };

  IntervalIndex() = default;
  explicit IntervalIndex(std::vector<Interval> intervals);

  std::size_t size() const { return intervals_.size(); }
  const Interval& at(std::uint32_t id) const { return intervals_[id]; }

  // Appends the ids (positions in the constructor's vector) of all intervals
  // overlapping [first, last] to out, in no particular order.
  void query(std::uint64_t first, std::uint64_t last, std::vector<std::uint32_t>& out) const;

 private:
  struct Node {
    std::uint64_t center;
    std::uint64_t min_first;  // smallest first / largest last among the node's
    std::uint64_t max_last;   // intervals: lets a query skip a node's lists
    std::uint32_t begin;  // slice of by_start_ / by_end_
    std::uint32_t count;
    std::int32_t left = -1;
    std::int32_t right = -1;
  };
  std::int32_t build(std::vector<std::uint32_t>& ids);

  std::vector<Interval> intervals_;
  std::vector<std::uint32_t> sorted_by_first_;  // ids sorted by first
  std::vector<std::uint64_t> firsts_;           // first of sorted_by_first_[i]
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> by_start_;  // per node: ids sorted by first ascending
  std::vector<std::uint32_t> by_end_;    // per node: ids sorted by last descending
  std::int32_t root_ = -1;
};

}  // namespace fsfault::faults
