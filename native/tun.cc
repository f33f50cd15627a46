#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netns.h"
#include "rtnl.h"

namespace tunl {

// The fd's namespace is fixed at open(); TUNSETIFF then makes the device there.
static int OpenQueue(int ns_fd, const std::string& name, short flags, std::string* actual, SysError* err) {
  int fd = OpenInNamespace(ns_fd, [](SysError* e) {
    int tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tun < 0) e->Set(errno, "open(/dev/net/tun)");
    return tun;
  }, err);
  if (fd < 0) return -1;
  ifreq ifr{};
  ifr.ifr_flags = flags;
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    err->Set(errno, "ioctl(TUNSETIFF)");
    close(fd);
    return -1;
  }
  *actual = std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  return fd;
}

unsigned NegotiateOffload(int fd, int* err_no) {
  const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  *err_no = 0;
  if (ioctl(fd, TUNSETOFFLOAD, tcp) < 0) {
    *err_no = errno;
    ioctl(fd, TUNSETOFFLOAD, 0);
    return 0;
  }
#ifdef TUN_F_USO4
  const unsigned uso = TUN_F_USO4 | TUN_F_USO6;
#else
  const unsigned uso = 0x20 | 0x40;  // TUN_F_USO4 | TUN_F_USO6 (Linux 6.2 headers)
#endif
  if (ioctl(fd, TUNSETOFFLOAD, tcp | uso) == 0) return tcp | uso;
  return tcp;  // EINVAL: this kernel has no USO; the TCP mask stays as set
}

int ClearOffload(int fd) { return ioctl(fd, TUNSETOFFLOAD, 0) < 0 ? errno : 0; }

bool SetPersist(int fd, bool persist, SysError* err) {
  if (ioctl(fd, TUNSETPERSIST, persist ? 1 : 0) < 0) {
    err->Set(errno, "ioctl(TUNSETPERSIST)");
    return false;
  }
  return true;
}

// ifindex (and MTU) of a name through the socket ioctls: dev_ioctl answers
// them from the device itself, without building an RTM_GETLINK reply (stats,
// every attribute) and parsing it. Any socket will do; the netlink one is at hand.
static int IndexOf(int sock, const std::string& name, int* ifindex, uint32_t* mtu) {
  ifreq ifr{};
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) return errno;
  *ifindex = ifr.ifr_ifindex;
  if (mtu != nullptr) {
    if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) return errno;
    *mtu = static_cast<uint32_t>(ifr.ifr_mtu);
  }
  return 0;
}

bool OpenTun(NlSocket* nl, const OpenParams& params, OpenResult* out, SysError* err) {
  err->ifname = params.name;
  out->created = true;
  short flags = IFF_TUN | IFF_NO_PI;
  if (params.multi_queue) flags |= IFF_MULTI_QUEUE;
  if (params.offload) flags |= IFF_VNET_HDR;
  out->vnet_hdr = params.offload;
  auto rollback = [&](bool clear_persist) {
    if (clear_persist && !out->fds.empty()) ioctl(out->fds[0], TUNSETPERSIST, 0);
    for (int fd : out->fds) close(fd);
    out->fds.clear();
  };

  for (int i = 0; i < params.queues; i++) {
    std::string actual;
    int fd;
    if (i == 0) {
      // Plain TUNSETIFF attaches to an existing TUN of that name. IFF_TUN_EXCL
      // makes the kernel refuse any existing device with EBUSY in the same
      // step that would create it, so no other creator can slip in between a
      // check and the create.
      fd = OpenQueue(params.ns_fd, params.name, flags | IFF_TUN_EXCL, &actual, err);
      if (fd < 0 && err->err == EBUSY) {
        if (!params.attach_existing) {
          err->Set(EEXIST, "ioctl(TUNSETIFF)");
          err->extack = "interface " + params.name + " already exists";
          return false;
        }
        out->created = false;
        err->Set(0, "");
        fd = OpenQueue(params.ns_fd, params.name, flags, &actual, err);
      }
    } else {
      fd = OpenQueue(params.ns_fd, out->name, flags, &actual, err);
    }
    if (fd < 0) {
      if (!out->name.empty()) err->ifname = out->name;
      rollback(false);
      return false;
    }
    out->fds.push_back(fd);
    if (i == 0) out->name = actual;
  }
  err->ifname = out->name;
  int fd0 = out->fds[0];
  if (params.owner >= 0 && ioctl(fd0, TUNSETOWNER, static_cast<unsigned long>(params.owner)) < 0) {
    err->Set(errno, "ioctl(TUNSETOWNER)");
    rollback(false);
    return false;
  }
  if (params.group >= 0 && ioctl(fd0, TUNSETGROUP, static_cast<unsigned long>(params.group)) < 0) {
    err->Set(errno, "ioctl(TUNSETGROUP)");
    rollback(false);
    return false;
  }
  if (params.offload) {
    out->offload_mask = NegotiateOffload(fd0, &out->offload_errno);
  } else {
    // Best effort, like the kernel's own default: a fresh device has no mask.
    ClearOffload(fd0);
  }
  bool persisted = false;
  if (params.persist) {
    if (!SetPersist(fd0, true, err)) {
      rollback(false);
      return false;
    }
    persisted = out->created;
  }
  int e = IndexOf(nl->fd(), out->name, &out->ifindex, &out->mtu);
  if (e != 0) {
    err->Set(e, "ioctl(SIOCGIFINDEX)");
    rollback(persisted);
    return false;
  }
  return true;
}

}  // namespace tunl
