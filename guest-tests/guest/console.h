// The serial console (ttyS0): the runner's last resort when the channel breaks.
#pragma once

#include <string>

namespace fsfault::guest {

// Writes "fsfault-guest: <s>" as one line to stderr (the console).
void console(const std::string& s);

}  // namespace fsfault::guest
