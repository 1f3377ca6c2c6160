// A fault schedule: a seed and an ordered list of rules, parsed from TOML.
// The format is documented in docs/faults.md; in short:
//
//   seed = 42
//   [[rule]]
//   name   = "itable-eio"                                   # default "rule#N" (1-based)
//   phase  = "armed"                                        # optional
//   match  = { op = "read", target = "inode:/data/f1" }     # or sectors = "A-B" / "A";
//            # target may be a list, and "name:A-B" stands for name:A ... name:B
//   action = { fail = "EIO" }                               # exactly one action
//   count = 1; after = 0; every = 1; probability = 1.0; after_ms = 0   # firing controls
//
// Every error is a ScheduleError whose what() is "FILE:LINE:COL: expected ..., got ...".
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "faults/request.h"
#include "faults/sector_range.h"

namespace fsfault::faults {

class TargetMap;

class ScheduleError : public std::runtime_error {
 public:
  ScheduleError(std::string source, std::uint32_t line, std::uint32_t column, std::string message);
  const std::string& source() const { return source_; }
  std::uint32_t line() const { return line_; }      // 0 when not tied to a position
  std::uint32_t column() const { return column_; }
  const std::string& message() const { return message_; }  // without the location prefix

 private:
  std::string source_;
  std::uint32_t line_, column_;
  std::string message_;
};

// Which operations a rule matches.
enum class OpMatch : std::uint8_t { Read, Write, Flush, Trim, Zero, Any };
std::string_view to_string(OpMatch m);
bool op_matches(OpMatch m, Op op);

enum class ActionKind : std::uint8_t { Fail, Flip, Zero, Fill, Delay, Disconnect, Die, Torn };
std::string_view to_string(ActionKind k);  // "fail", "flip", "zero", "fill", "delay", ...
// Actions that change the data being read; they touch only the bytes of the
// request inside the rule's ranges, and several of them combine.
inline bool changes_data(ActionKind k) {
  return k == ActionKind::Flip || k == ActionKind::Zero || k == ActionKind::Fill;
}
// Terminal actions decide the request's outcome and end rule evaluation.
inline bool is_terminal(ActionKind k) { return !changes_data(k) && k != ActionKind::Delay; }

// Bytes [offset, offset + bytes) counted from the start of each of a rule's
// ranges (Rule::pieces), cut off at the range's end.
struct ByteWindow {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> bytes;  // none = to the end of each range
};

struct Action {
  ActionKind kind = ActionKind::Fail;
  int error = 0;                                // Fail: Linux errno
  std::uint32_t flip_bits = 1;                  // Flip: how many distinct bits
  bool persist = false;                         // Flip: write corrupted data back
  std::optional<std::uint64_t> flip_offset;     // Flip: fixed bit, relative to the rule's first sector
  // Zero, Fill, and Flip given `bytes`: the part of each range changed (every
  // bit of it for Flip). None = all of the rule's ranges (Zero, Fill).
  std::optional<ByteWindow> window;
  std::uint8_t fill_byte = 0;                   // Fill (Zero: 0)
  std::uint32_t delay_ms = 0;                   // Delay
};

struct SourcePos {
  std::uint32_t line = 0, column = 0;
};

struct Rule {
  std::string name;                    // "rule#N" when not given
  std::optional<std::string> phase;    // active only in this phase
  OpMatch op = OpMatch::Any;
  // Sector ranges (inclusive, 512-byte sectors), sorted and merged. Empty =
  // the rule is not limited by position (it matches range-less requests such
  // as flush, and every request of its op).
  std::vector<SectorRange> ranges;
  // The same sectors as named: each range of each target (or the `sectors`
  // range), in order, not merged across targets, so a ByteWindow counts from
  // the start of each. Empty = use `ranges` (rules built in code).
  std::vector<SectorRange> pieces;
  std::vector<std::string> targets;    // the map names the ranges came from (ranges expanded)
  Action action;
  // Firing controls, applied to the rule's n-th match (n counts from 1):
  std::optional<std::uint64_t> count;  // fire at most this many times
  std::uint64_t after = 0;             // n <= after never fires
  std::uint64_t every = 1;             // fire when (n - after - 1) % every == 0
  double probability = 1.0;            // then fire with this probability (seeded)
  std::uint64_t after_ms = 0;          // only once this long into the current phase
  SourcePos pos;                       // where [[rule]] starts
};

struct ParseOptions {
  // Top-level keys besides seed and rule that the caller handles itself and
  // the parser should skip (a scenario file carries name, step, disk, ...).
  std::vector<std::string> extra_top_level_keys;
};

struct Schedule {
  std::uint64_t seed = 0;
  std::vector<Rule> rules;
  std::string source;  // file name or "<control>"

  // map may be null (then `target` is an error); disk_size_bytes 0 = unknown
  // (no bound check). Throws ScheduleError.
  static Schedule parse(std::string_view toml_text, std::string_view source_name, const TargetMap* map,
                        std::uint64_t disk_size_bytes, const ParseOptions& options = {});
  static Schedule load_file(const std::string& path, const TargetMap* map, std::uint64_t disk_size_bytes,
                            const ParseOptions& options = {});
};

}  // namespace fsfault::faults
