// What negotiation hands to the transmission phase: the export the client
// chose and the options it negotiated. Negotiation fills it in, dispatch reads
// it; neither needs the other's header.
#pragma once

#include <cstdint>

namespace fsfault::nbd {

struct Export;

struct Session {
  const Export* exp = nullptr;
  bool structured = false;
  bool base_allocation = false;        // base:allocation selected
  std::uint32_t base_allocation_id = 0;
};

}  // namespace fsfault::nbd
