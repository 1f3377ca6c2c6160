// Unix stream sockets between the runner and its children: the NBD servers' control sockets and
// the guest channel QEMU connects to.
#pragma once

#include "process/process.h"

#include <string>

namespace fsfault::vm {

struct Connection {
  enum class Status {
    connected,      // fd is the connected socket
    server_exited,  // the server ended before it accepted
    gave_up,        // nobody listened within the timeout, or the runner was signalled
  };
  Status status = Status::gave_up;
  int fd = -1;
};

// Bounded retry: the server creates its sockets before it accepts.
Connection connect_retry(const std::string& path, int timeout_ms, proc::Child& server);

// A listening socket at `path` (backlog 1). Throws std::runtime_error.
int listen_unix(const std::string& path);

// Sends s + "\n" whole; false when the peer is gone.
bool send_line(int fd, const std::string& s);

}  // namespace fsfault::vm
