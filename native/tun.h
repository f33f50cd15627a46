// Opening a TUN device: /dev/net/tun fds, TUNSETIFF, persistence, owner.
// Plain C++; runs on a threadpool thread.
#pragma once

#include <string>
#include <vector>

#include "netlink.h"

namespace tunl {

struct OpenParams {
  std::string name;  // a name, or a pattern holding '%d'
  int queues = 1;
  bool multi_queue = false;
  bool persist = false;
  long owner = -1;
  long group = -1;
  bool attach_existing = false;
  int ns_fd = -1;  // the namespace /dev/net/tun is opened in (-1: this thread's)
};

struct OpenResult {
  std::string name;
  int ifindex = 0;
  uint32_t mtu = 0;
  std::vector<int> fds;
  bool created = false;  // false when we attached to an interface that existed
};

// All or nothing: on failure every fd opened is closed again (and a
// persistence flag we set is cleared), and err says which call failed.
// The name's presence and the new ifindex/MTU are read with SIOCGIFINDEX /
// SIOCGIFMTU on nl's fd (no RTM_GETLINK answer to build and parse).
bool OpenTun(NlSocket* nl, const OpenParams& params, OpenResult* out, SysError* err);

// TUNSETPERSIST on an fd of the device.
bool SetPersist(int fd, bool persist, SysError* err);

}  // namespace tunl
