#include "netlink.h"

#include "netns.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace tunl {

NlMessage::NlMessage(uint16_t type, uint16_t flags, const void* family_header, size_t header_len) {
  size_t len = NLMSG_LENGTH(header_len);
  buf_.assign((NLMSG_ALIGN(len) + 3) / 4, 0);
  nlmsghdr* h = header();
  h->nlmsg_len = static_cast<uint32_t>(NLMSG_ALIGN(len));
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  memcpy(NLMSG_DATA(h), family_header, header_len);
}

void NlMessage::Put(uint16_t attr, const void* data, size_t len) {
  size_t old_len = header()->nlmsg_len;
  size_t attr_len = RTA_LENGTH(len);
  size_t new_len = old_len + RTA_ALIGN(attr_len);
  buf_.resize((new_len + 3) / 4, 0);
  nlmsghdr* h = header();
  rtattr* rta = reinterpret_cast<rtattr*>(reinterpret_cast<uint8_t*>(h) + old_len);
  rta->rta_type = attr;
  rta->rta_len = static_cast<uint16_t>(attr_len);
  memcpy(RTA_DATA(rta), data, len);
  h->nlmsg_len = static_cast<uint32_t>(new_len);
}

int OpenRouteSocket(int extra_type, SysError* err) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | extra_type, NETLINK_ROUTE);
  if (fd < 0) {
    err->Set(errno, "socket(NETLINK_ROUTE)");
    return -1;
  }
  int one = 1;
  // Best effort: extended acks give the kernel's reason; strict checking lets
  // the kernel filter dumps by ifindex.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  return fd;
}

std::unique_ptr<NlSocket> NlSocket::Open(std::atomic<int>* counter, int ns_fd, SysError* err) {
  int fd = OpenInNamespace(ns_fd, [](SysError* e) { return OpenRouteSocket(0, e); }, err);
  if (fd < 0) return nullptr;
  int one = 1;
  // CAP_ACK keeps error replies small.
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  // The kernel answers synchronously; the timeout only guards a threadpool
  // thread against a reply that never comes.
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (counter) counter->fetch_add(1);
  return std::unique_ptr<NlSocket>(new NlSocket(fd, counter));
}

NlSocket::~NlSocket() {
  if (fd_ >= 0) {
    close(fd_);
    if (counter_) counter_->fetch_sub(1);
  }
}

bool NlSocket::Send(NlMessage& msg, const char* what, SysError* err) {
  nlmsghdr* h = msg.header();
  h->nlmsg_seq = ++seq_;
  h->nlmsg_pid = 0;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = sendto(fd_, h, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    err->Set(errno, what);
    return false;
  }
}

static std::string ExtackFrom(const uint8_t* p, size_t len) {
  while (len >= sizeof(nlattr)) {
    const nlattr* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < sizeof(nlattr) || a->nla_len > len) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* s = reinterpret_cast<const char*>(p + NLA_HDRLEN);
      return std::string(s, strnlen(s, a->nla_len - NLA_HDRLEN));
    }
    size_t step = NLA_ALIGN(a->nla_len);
    if (step >= len) break;
    p += step;
    len -= step;
  }
  return std::string();
}

int ParseNlError(const nlmsghdr* h, std::string* extack) {
  const uint8_t* data = static_cast<const uint8_t*>(NLMSG_DATA(h));
  size_t payload = h->nlmsg_len - NLMSG_HDRLEN;
  int error;
  size_t tlv_offset;
  if (h->nlmsg_type == NLMSG_DONE) {
    if (payload < sizeof(int)) return 0;
    memcpy(&error, data, sizeof error);
    tlv_offset = NLMSG_ALIGN(sizeof(int));
  } else {
    if (payload < sizeof(nlmsgerr)) return EIO;
    const nlmsgerr* e = reinterpret_cast<const nlmsgerr*>(data);
    error = e->error;
    size_t echoed = (h->nlmsg_flags & NLM_F_CAPPED) ? 0 : e->msg.nlmsg_len - NLMSG_HDRLEN;
    tlv_offset = NLMSG_ALIGN(sizeof(nlmsgerr) + echoed);
  }
  if (extack && (h->nlmsg_flags & NLM_F_ACK_TLVS) && tlv_offset < payload) {
    *extack = ExtackFrom(data + tlv_offset, payload - tlv_offset);
  }
  return -error;
}

bool NlSocket::Request(NlMessage& msg, const char* what, SysError* err) {
  return Collect(msg, what, err, [](const nlmsghdr*) {});
}

bool NlSocket::Collect(NlMessage& msg, const char* what, SysError* err,
                       const std::function<void(const nlmsghdr*)>& each) {
  bool dump = (msg.header()->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump) msg.header()->nlmsg_flags |= NLM_F_ACK;
  if (!Send(msg, what, err)) return false;
  for (;;) {
    iovec iov{buf_.data(), buf_.size()};
    sockaddr_nl from{};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = recvmsg(fd_, &mh, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err->Set(errno == EAGAIN ? ETIMEDOUT : errno, what);
      return false;
    }
    if (mh.msg_flags & MSG_TRUNC) {
      err->Set(EMSGSIZE, what);
      return false;
    }
    size_t left = static_cast<size_t>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq_) continue;  // a late answer to an earlier request
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
        int e = ParseNlError(h, &err->extack);
        if (e != 0) {
          err->Set(e, what);
          return false;
        }
        err->extack.clear();
        return true;
      }
      if (h->nlmsg_type == NLMSG_NOOP) continue;
      each(h);
    }
  }
}

bool NlSocket::Batch(std::vector<NlMessage>& msgs, const char* what, std::vector<int>* errnos,
                     std::vector<std::string>* extacks, SysError* err) {
  size_t count = msgs.size();
  errnos->assign(count, -1);
  extacks->assign(count, std::string());
  if (count == 0) return true;
  std::vector<iovec> iov(count);
  uint32_t first = seq_ + 1;
  for (size_t i = 0; i < count; i++) {
    nlmsghdr* h = msgs[i].header();
    h->nlmsg_flags |= NLM_F_ACK;
    h->nlmsg_seq = ++seq_;
    h->nlmsg_pid = 0;
    iov[i] = iovec{h, h->nlmsg_len};
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr out{};
  out.msg_name = &kernel;
  out.msg_namelen = sizeof kernel;
  out.msg_iov = iov.data();
  out.msg_iovlen = count;
  for (;;) {
    if (sendmsg(fd_, &out, 0) >= 0) break;
    if (errno == EINTR) continue;
    err->Set(errno, what);
    return false;
  }
  size_t answered = 0;
  while (answered < count) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err->Set(errno == EAGAIN ? ETIMEDOUT : errno, what);
      return false;
    }
    size_t left = static_cast<size_t>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      uint32_t i = h->nlmsg_seq - first;  // unsigned: a late answer to an earlier request lands out of range
      if (i >= count || h->nlmsg_type != NLMSG_ERROR || (*errnos)[i] >= 0) continue;
      (*errnos)[i] = ParseNlError(h, &(*extacks)[i]);
      answered++;
    }
  }
  return true;
}

NlPool::~NlPool() {
  Drain();
  if (ns_fd_ >= 0) close(ns_fd_);
}

std::unique_ptr<NlSocket> NlPool::Acquire(SysError* err) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<NlSocket> s = std::move(idle_.back());
      idle_.pop_back();
      return s;
    }
  }
  return NlSocket::Open(&fd_count_, ns_fd_, err);
}

void NlPool::Release(std::unique_ptr<NlSocket> sock) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(sock));
  // else: the unique_ptr closes it on return
}

void NlPool::SetMaxIdle(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  max_idle_ = n;
  while (idle_.size() > max_idle_) idle_.pop_back();
}

void NlPool::Drain() { SetMaxIdle(0); }

// ---- parsers ----

template <typename T>
static T ReadScalar(const rtattr* a) {
  T v{};
  memcpy(&v, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof v ? RTA_PAYLOAD(a) : sizeof v);
  return v;
}

static std::string ReadString(const rtattr* a) {
  const char* s = static_cast<const char*>(RTA_DATA(a));
  return std::string(s, strnlen(s, RTA_PAYLOAD(a)));
}

bool ParseLink(const nlmsghdr* h, LinkData* out) {
  if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) return false;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return false;
  const ifinfomsg* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  out->ifindex = ifi->ifi_index;
  out->flags = ifi->ifi_flags;
  int len = static_cast<int>(IFLA_PAYLOAD(h));
  for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case IFLA_IFNAME: out->name = ReadString(a); break;
      case IFLA_MTU: out->mtu = ReadScalar<uint32_t>(a); break;
      case IFLA_OPERSTATE: out->operstate = ReadScalar<uint8_t>(a); break;
      case IFLA_IFALIAS: out->alias = ReadString(a); break;
      case IFLA_GROUP: out->group = ReadScalar<uint32_t>(a); break;
      case IFLA_STATS64: {
        rtnl_link_stats64 s{};
        memcpy(&s, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof s ? RTA_PAYLOAD(a) : sizeof s);
        uint64_t v[8] = {s.rx_packets, s.tx_packets, s.rx_bytes,   s.tx_bytes,
                         s.rx_errors,  s.tx_errors,  s.rx_dropped, s.tx_dropped};
        memcpy(out->stats, v, sizeof v);
        break;
      }
      default: break;
    }
  }
  return true;
}

static int FamilyNumber(int af) { return af == AF_INET ? 4 : af == AF_INET6 ? 6 : 0; }

bool ParseAddr(const nlmsghdr* h, AddrData* out) {
  if (h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR) return false;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return false;
  const ifaddrmsg* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  out->family = FamilyNumber(ifa->ifa_family);
  if (out->family == 0) return false;
  out->ifindex = static_cast<int>(ifa->ifa_index);
  out->prefix_len = ifa->ifa_prefixlen;
  out->scope = ifa->ifa_scope;
  out->flags = ifa->ifa_flags;
  size_t alen = out->family == 4 ? 4 : 16;
  const rtattr* local = nullptr;
  const rtattr* address = nullptr;
  int len = static_cast<int>(IFA_PAYLOAD(h));
  for (const rtattr* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFA_LOCAL) local = a;
    else if (a->rta_type == IFA_ADDRESS) address = a;
    else if (a->rta_type == IFA_FLAGS) out->flags = ReadScalar<uint32_t>(a);
  }
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on a
  // point-to-point address and the same address otherwise.
  const rtattr* own = local ? local : address;
  if (!own || RTA_PAYLOAD(own) < alen) return false;
  memcpy(out->addr, RTA_DATA(own), alen);
  return true;
}

bool ParseRoute(const nlmsghdr* h, RouteData* out) {
  if (h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE) return false;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return false;
  const rtmsg* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
  out->family = FamilyNumber(rt->rtm_family);
  if (out->family == 0) return false;
  out->dst_len = rt->rtm_dst_len;
  out->table = rt->rtm_table;
  out->protocol = rt->rtm_protocol;
  out->scope = rt->rtm_scope;
  out->type = rt->rtm_type;
  size_t alen = out->family == 4 ? 4 : 16;
  int len = static_cast<int>(RTM_PAYLOAD(h));
  for (const rtattr* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case RTA_TABLE: out->table = ReadScalar<uint32_t>(a); break;
      case RTA_OIF: out->oif = ReadScalar<int32_t>(a); break;
      case RTA_PRIORITY: out->metric = ReadScalar<uint32_t>(a); break;
      case RTA_GATEWAY:
      case RTA_VIA: out->has_gateway = true; break;
      case RTA_DST:
        if (RTA_PAYLOAD(a) >= alen) memcpy(out->dst, RTA_DATA(a), alen);
        break;
      default: break;
    }
  }
  return true;
}

}  // namespace tunl
