#include "netns.h"

#include <errno.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

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
  struct stat st;
  if (fstat(fd, &st) < 0) {
    err->Set(errno, "fstat(netns)");
    return false;
  }
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    err->Set(EINVAL, "ioctl(NS_GET_NSTYPE)");
    return false;
  }
  *dev = static_cast<uint64_t>(st.st_dev);
  *ino = static_cast<uint64_t>(st.st_ino);
  return true;
}

}  // namespace tunl
