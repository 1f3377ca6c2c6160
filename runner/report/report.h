// Result writers: KTAP v1 (Documentation/dev-tools/ktap.rst) and JUnit XML,
// plus catalogue selection (--filter GLOB, --shard K/N).
#pragma once

#include "runner/judge/judge.h"

#include <string>
#include <vector>

namespace fsfault::vm {

struct Result {
  std::string name;
  std::string file;
  Outcome outcome;
};

std::string ktap(const std::vector<Result>& results);
std::string junit(const std::vector<Result>& results, const std::string& suite = "fsfault.vm-test");
std::string xml_escape(const std::string& s);

// fnmatch-style glob on scenario names; several globs separated by ','.
bool name_matches(const std::string& globs, const std::string& name);

// --shard K/N: 1-based K. Stable and balanced: names are sorted and dealt
// round-robin, so every run of the same catalogue gives every shard the same
// scenarios, the shards are disjoint and their union is the catalogue.
struct Shard {
  int k = 1, n = 1;
};
Shard parse_shard(const std::string& s);  // throws on "0/2", "3/2", "x"
std::vector<std::string> select_shard(std::vector<std::string> names, const Shard& sh);

}  // namespace fsfault::vm
