#include "faults/request.h"

namespace fsfault::faults {

std::string_view to_string(Op op) {
  switch (op) {
    case Op::Read: return "read";
    case Op::Write: return "write";
    case Op::Flush: return "flush";
    case Op::Trim: return "trim";
    case Op::Zero: return "zero";
    case Op::Cache: return "cache";
    case Op::BlockStatus: return "block-status";
  }
  return "unknown";
}

}  // namespace fsfault::faults
