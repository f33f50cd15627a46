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
  // IFF_VNET_HDR on every queue and TUNSETOFFLOAD CSUM|TSO4|TSO6 (+USO4|USO6
  // when the kernel takes them). Without it the device's mask is cleared.
  bool offload = false;
};

struct OpenResult {
  std::string name;
  int ifindex = 0;
  uint32_t mtu = 0;
  std::vector<int> fds;
  bool created = false;  // false when we attached to an interface that existed
  bool vnet_hdr = false;       // every fd carries a virtio_net_hdr before each frame
  unsigned offload_mask = 0;   // the TUN_F_* bits the kernel accepted (device-wide)
  int offload_errno = 0;       // why TUNSETOFFLOAD CSUM|TSO refused, when it did
};

// All or nothing: on failure every fd opened is closed again (and a
// persistence flag we set is cleared), and err says which call failed.
// The name's presence and the new ifindex/MTU are read with SIOCGIFINDEX /
// SIOCGIFMTU on nl's fd (no RTM_GETLINK answer to build and parse).
bool OpenTun(NlSocket* nl, const OpenParams& params, OpenResult* out, SysError* err);

// TUNSETOFFLOAD: CSUM|TSO4|TSO6, then the same with USO4|USO6 (Linux 6.2+;
// the kernel refuses bits it does not know with EINVAL, so the second call is
// the probe). The mask is the device's, not the fd's: a persistent device
// keeps it across processes. Returns the accepted mask; *err_no says why the
// TCP mask was refused (0 when it was not).
unsigned NegotiateOffload(int fd, int* err_no);

// TUNSETOFFLOAD 0: a device attached without offload must not keep a mask a
// previous owner set, or the stack hands it GSO superframes with no header
// to cut them by (tun-rs#141). 0 or errno.
int ClearOffload(int fd);

// TUNSETPERSIST on an fd of the device.
bool SetPersist(int fd, bool persist, SysError* err);

}  // namespace tunl
