#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <thread>

namespace tunl {

int OpenInNamespace(int ns_fd, const std::function<int(SysError*)>& make, SysError* err) {
  if (ns_fd < 0) return make(err);
  int fd = -1;
  // The thread enters, makes the fd and ends: its namespace dies with it, and
  // the caller's (a pool thread) never changed. Signals stay with other threads.
  std::thread opener([&] {
    if (setns(ns_fd, CLONE_NEWNET) < 0) {
      err->Set(errno, "setns(CLONE_NEWNET)");
      return;
    }
    fd = make(err);
  });
  opener.join();
  return fd;
}

bool NetnsIdentity(int fd, uint64_t* dev, uint64_t* ino, SysError* err) {
  // statx, not fstat: glibc 2.33 versioned fstat, which would raise the
  // prebuilds' glibc floor (README) for this one call.
  struct statx st;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_INO, &st) < 0) {
    err->Set(errno, "statx(netns)");
    return false;
  }
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    err->Set(EINVAL, "ioctl(NS_GET_NSTYPE)");
    return false;
  }
  *dev = static_cast<uint64_t>(makedev(st.stx_dev_major, st.stx_dev_minor));
  *ino = static_cast<uint64_t>(st.stx_ino);
  return true;
}

}  // namespace tunl
