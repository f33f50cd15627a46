// A small rtnetlink client: build a request, send it, wait for the kernel's
// acknowledgement (or walk a dump), and surface errno plus the extended-ack
// text. Plain C++ with no N-API, so it runs on threadpool threads.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "errors.h"

namespace tunl {

// One request: nlmsghdr + family header + attributes, each 4-byte aligned.
class NlMessage {
 public:
  NlMessage(uint16_t type, uint16_t flags, const void* family_header, size_t header_len);
  void Put(uint16_t attr, const void* data, size_t len);
  void PutU32(uint16_t attr, uint32_t value) { Put(attr, &value, sizeof value); }
  void PutString(uint16_t attr, const std::string& value) { Put(attr, value.c_str(), value.size() + 1); }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  size_t size() const { return buf_.size() * sizeof(uint32_t); }

 private:
  std::vector<uint32_t> buf_;  // uint32_t keeps the storage aligned for nlmsghdr
};

// A NETLINK_ROUTE socket fd (SOCK_CLOEXEC | extra_type, e.g. SOCK_NONBLOCK)
// with extended acks and strict dump checking; -1 with err on failure.
int OpenRouteSocket(int extra_type, SysError* err);

// A NETLINK_ROUTE socket (SOCK_CLOEXEC, extended acks, strict dump checking).
class NlSocket {
 public:
  // Opens (inside the namespace ns_fd names, or this thread's when -1);
  // counter (if given) tracks fds held.
  static std::unique_ptr<NlSocket> Open(std::atomic<int>* counter, int ns_fd, SysError* err);
  ~NlSocket();
  // Sends msg (NLM_F_ACK is added) and waits for its acknowledgement.
  bool Request(NlMessage& msg, const char* what, SysError* err);
  // Sends a request whose answer is one or more messages (a dump, or a
  // single GET); calls each() for every answer until NLMSG_DONE/ack.
  bool Collect(NlMessage& msg, const char* what, SysError* err, const std::function<void(const nlmsghdr*)>& each);
  // Sends every message (NLM_F_ACK added to each) in one sendmsg, then reads
  // their acknowledgements in one pass: (*errnos)[i] is message i's (0 or a
  // positive errno), (*extacks)[i] the kernel's text. False (with err) only
  // when the socket itself failed.
  bool Batch(std::vector<NlMessage>& msgs, const char* what, std::vector<int>* errnos,
             std::vector<std::string>* extacks, SysError* err);
  int fd() const { return fd_; }

 private:
  NlSocket(int fd, std::atomic<int>* counter) : fd_(fd), counter_(counter), buf_(64 * 1024) {}
  bool Send(NlMessage& msg, const char* what, SysError* err);
  int fd_;
  uint32_t seq_ = 0;
  std::atomic<int>* counter_;
  std::vector<uint8_t> buf_;
};

// Reads errno and the extended-ack text out of an NLMSG_ERROR (or a DONE
// carrying an error). Returns the positive errno, 0 for a plain ack.
int ParseNlError(const nlmsghdr* h, std::string* extack);

// A few idle sockets kept for reuse, guarded by a mutex (threadpool threads
// share it). max_idle 0 means one socket per request. One pool per network
// namespace: its sockets are born in the namespace ns_fd names (the pool owns
// that fd; -1 is the environment's own namespace).
class NlPool {
 public:
  explicit NlPool(size_t max_idle, int ns_fd = -1) : max_idle_(max_idle), ns_fd_(ns_fd) {}
  ~NlPool();
  int ns_fd() const { return ns_fd_; }
  std::unique_ptr<NlSocket> Acquire(SysError* err);
  void Release(std::unique_ptr<NlSocket> sock);
  void SetMaxIdle(size_t n);
  void Drain();
  std::atomic<int>& fd_count() { return fd_count_; }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<NlSocket>> idle_;
  size_t max_idle_;
  int ns_fd_;
  std::atomic<int> fd_count_{0};
};

// Scoped use of a pooled socket.
class PooledSocket {
 public:
  PooledSocket(NlPool* pool, SysError* err) : pool_(pool), sock_(pool->Acquire(err)) {}
  ~PooledSocket() {
    if (sock_) pool_->Release(std::move(sock_));
  }
  NlSocket* operator->() { return sock_.get(); }
  explicit operator bool() const { return sock_ != nullptr; }

 private:
  NlPool* pool_;
  std::unique_ptr<NlSocket> sock_;
};

// ---- parsed kernel objects ----

struct LinkData {
  int ifindex = 0;
  unsigned flags = 0;
  std::string name;
  uint32_t mtu = 0;
  uint8_t operstate = 0;
  std::string alias;
  uint32_t group = 0;
  uint64_t stats[8] = {0};  // rx/tx packets, rx/tx bytes, rx/tx errors, rx/tx dropped
};

struct AddrData {
  int family = 0;  // 4 or 6
  int ifindex = 0;
  uint8_t prefix_len = 0;
  uint8_t scope = 0;
  uint32_t flags = 0;
  uint8_t addr[16] = {0};
};

struct RouteData {
  int family = 0;  // 4 or 6
  uint8_t dst_len = 0;
  uint32_t table = 0;
  uint8_t protocol = 0;
  uint8_t scope = 0;
  uint8_t type = 0;
  int oif = 0;
  uint32_t metric = 0;
  bool has_gateway = false;
  uint8_t dst[16] = {0};
};

bool ParseLink(const nlmsghdr* h, LinkData* out);
bool ParseAddr(const nlmsghdr* h, AddrData* out);
bool ParseRoute(const nlmsghdr* h, RouteData* out);

}  // namespace tunl
