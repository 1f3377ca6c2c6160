// Shipped files ([[file]] in the scenario): written before the first step.
#pragma once

#include <nlohmann/json.hpp>

namespace fsfault::guest {

// Writes one shipped file (parents created, mode set regardless of the umask) and records it
// as {"type":"file"}; the judge fails the scenario when ok is false.
void put_shipped_file(const nlohmann::json& f);

}  // namespace fsfault::guest
