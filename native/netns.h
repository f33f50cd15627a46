// Network namespaces without moving a thread we do not own.
//
// A TUN device is created in the namespace of the thread that opened
// /dev/net/tun, and a netlink socket talks to the namespace of the thread that
// made it; afterwards either fd works from any thread. So what must be born in
// another namespace is opened on a short-lived std::thread that setns()es into
// it, makes the fd and exits. Never setns on the JS thread or a libuv pool
// thread: the namespace would stick to that thread and leak into every later
// request it runs (another adapter's netlink socket, an fs call's...).
#pragma once

#include <stdint.h>

#include <functional>

#include "errors.h"

namespace tunl {

// Runs make() inside the namespace ns_fd refers to (on the calling thread when
// ns_fd < 0) and returns its fd; -1 with err set when entering or make() fails.
int OpenInNamespace(int ns_fd, const std::function<int(SysError*)>& make, SysError* err);

// The namespace's identity (st_dev, st_ino of the nsfs inode); EINVAL in err
// when fd is not a network namespace.
bool NetnsIdentity(int fd, uint64_t* dev, uint64_t* ino, SysError* err);

}  // namespace tunl
