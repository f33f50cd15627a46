#include "monitor.h"

#include "js_call.h"

#include <errno.h>
#include <linux/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tunl {

static std::string AddressKey(const AddrData& a) {
  std::string key(1, static_cast<char>(a.family));
  key.append(reinterpret_cast<const char*>(a.addr), a.family == 4 ? 4 : 16);
  key.push_back(static_cast<char>(a.prefix_len));
  return key;
}

static uint32_t PortIdOf(int fd) {
  sockaddr_nl sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) return 0;
  return sa.nl_pid;
}

// ---------------------------------------------------------------- core

bool MonitorCore::SendLinkRequest(SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex_;
  NlMessage msg(RTM_GETLINK, 0, &ifi, sizeof ifi);
  msg.header()->nlmsg_seq = link_seq_ = ++seq_;
  if (send(fd_, msg.header(), msg.size(), 0) < 0) {
    err->Set(errno, "RTM_GETLINK");
    return false;
  }
  return true;
}

bool MonitorCore::SendAddrDump(SysError* err) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  ifa.ifa_index = static_cast<uint32_t>(ifindex_);
  NlMessage msg(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  msg.header()->nlmsg_seq = addr_seq_ = ++seq_;
  if (send(fd_, msg.header(), msg.size(), 0) < 0) {
    err->Set(errno, "RTM_GETADDR");
    return false;
  }
  dumping_ = true;
  return true;
}

bool MonitorCore::Seed(SysError* err) {
  // The kernel answers a GET inside send(), so the baseline sits in the
  // socket queue ahead of any notification about a later change.
  if (!SendLinkRequest(err) || !SendAddrDump(err)) return false;
  Watch(UV_READABLE);
  return true;
}

void MonitorCore::OnEvents(int status, int /*events*/) {
  if (status < 0) {
    SysError e;
    e.Set(-status, "poll");
    Fail(e);
    return;
  }
  static const uint32_t kMaxReads = 64;  // give other handles a turn on a busy namespace
  if (port_ == 0) port_ = PortIdOf(fd_);
  uint32_t port = port_;
  std::vector<LinkEventData> events;
  SysError report;
  for (uint32_t i = 0; i < kMaxReads; i++) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == ENOBUFS) {
        // Notifications were lost: say so, and ask for the state again.
        report.Set(ENOBUFS, "recv(NETLINK_ROUTE)");
        SysError ignored;
        SendLinkRequest(&ignored);
        if (!dumping_) SendAddrDump(&ignored);
        continue;
      }
      SysError e;
      e.Set(errno, "recv(NETLINK_ROUTE)");
      Fail(e);
      return;
    }
    size_t left = static_cast<size_t>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      bool mine = h->nlmsg_pid == port && h->nlmsg_seq != 0;
      if (mine && (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)) {
        std::string extack;
        int e = ParseNlError(h, &extack);
        if (h->nlmsg_seq == addr_seq_) dumping_ = false;
        if (e != 0) {
          report.Set(e, h->nlmsg_seq == link_seq_ ? "RTM_GETLINK" : "RTM_GETADDR");
          report.extack = extack;
        }
        continue;
      }
      Handle(h, &events, mine ? nullptr : &report);
    }
  }
  if (!events.empty() && wrapper_ != nullptr) wrapper_->DeliverEvents(events, name_);
  if (closed_) return;
  if (report.failed() && wrapper_ != nullptr) wrapper_->DeliverError(report, false);
}

void MonitorCore::Handle(const nlmsghdr* h, std::vector<LinkEventData>* out, SysError* notification) {
  bool is_reply = notification == nullptr;
  if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
    LinkData link;
    if (!ParseLink(h, &link) || link.ifindex != ifindex_ || gone_) return;
    if (!link.name.empty()) name_ = link.name;
    if (h->nlmsg_type == RTM_DELLINK) {
      gone_ = true;
      out->push_back({LinkEventData::kDeleted});
      return;
    }
    if (!have_link_) {
      have_link_ = true;
      flags_ = link.flags;
      mtu_ = link.mtu;
      return;
    }
    unsigned changed = flags_ ^ link.flags;
    if (changed & IFF_UP) {
      LinkEventData e{LinkEventData::kAdmin};
      e.on = (link.flags & IFF_UP) != 0;
      out->push_back(e);
    }
    if (changed & IFF_LOWER_UP) {
      LinkEventData e{LinkEventData::kCarrier};
      e.on = (link.flags & IFF_LOWER_UP) != 0;
      out->push_back(e);
    }
    if (link.mtu != 0 && link.mtu != mtu_) {
      LinkEventData e{LinkEventData::kMtu};
      e.mtu = link.mtu;
      out->push_back(e);
      mtu_ = link.mtu;
    }
    flags_ = link.flags;
    return;
  }
  if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
    AddrData a;
    if (!ParseAddr(h, &a) || a.ifindex != ifindex_ || gone_) return;
    std::string key = AddressKey(a);
    LinkEventData e{LinkEventData::kAddressAdded};
    e.family = a.family;
    memcpy(e.addr, a.addr, sizeof e.addr);
    e.prefix_len = a.prefix_len;
    if (h->nlmsg_type == RTM_NEWADDR) {
      // IPv6 repeats RTM_NEWADDR when an address's flags change (DAD, link
      // up): only a new one is news. Dump entries only seed the set.
      bool added = addresses_.insert(key).second;
      if (added && !is_reply) out->push_back(e);
    } else {
      addresses_.erase(key);
      e.type = LinkEventData::kAddressRemoved;
      out->push_back(e);
    }
  }
}

void MonitorCore::Fail(const SysError& err) {
  Monitor* wrapper = wrapper_;
  wrapper_ = nullptr;
  Close();
  if (wrapper != nullptr) {
    wrapper->CoreGone();
    wrapper->DeliverError(err, true);
  }
}

void MonitorCore::Detach() {
  if (wrapper_ != nullptr) wrapper_->CoreGone();
  wrapper_ = nullptr;
}

// ---------------------------------------------------------------- wrapper

Napi::Function Monitor::Define(Napi::Env env) {
  return DefineClass(env, "TunLinkMonitor",
                     {
                         InstanceMethod<&Monitor::Close>("close"),
                         InstanceAccessor<&Monitor::GetClosed>("closed"),
                     });
}

Monitor::Monitor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Monitor>(info) {
  Napi::Env env = info.Env();
  ifindex_ = info[0].As<Napi::Number>().Int32Value();
  Napi::Function on_events = info[1].As<Napi::Function>();
  Napi::Function on_error = info[2].As<Napi::Function>();
  AddonData* data = env.GetInstanceData<AddonData>();

  SysError err;
  err.ifname.clear();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) {
    err.Set(errno, "socket(NETLINK_ROUTE)");
    throw Napi::Error(env, MakeError(env, err));
  }
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  int rcvbuf = 1 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    err.Set(errno, "bind(NETLINK_ROUTE)");
    close(fd);
    throw Napi::Error(env, MakeError(env, err));
  }
  core_ = new MonitorCore(data, fd, ifindex_, this);
  int r = core_->Init();
  if (r == 0 && !core_->Seed(&err)) r = -err.err;
  if (r != 0) {
    if (!err.failed()) err.Set(-r, "uv_poll_init");
    MonitorCore* core = core_;
    core->Unhook();
    core_ = nullptr;
    core->Close();
    throw Napi::Error(env, MakeError(env, err));
  }
  on_events_ = Napi::Persistent(on_events);
  on_error_ = Napi::Persistent(on_error);
  async_ = std::make_unique<Napi::AsyncContext>(env, "TunLinkMonitor", Value());
  Ref();
}

Monitor::~Monitor() {
  if (core_ != nullptr) {
    core_->Unhook();
    core_->Close();
    core_ = nullptr;
  }
}

Napi::Value Monitor::Close(const Napi::CallbackInfo& info) {
  if (core_ != nullptr) {
    MonitorCore* core = core_;
    core->Unhook();
    core_ = nullptr;
    core->Close();
    ReleaseJs();
  }
  return info.Env().Undefined();
}

Napi::Value Monitor::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_ == nullptr);
}

static const char* EventTypeName(LinkEventData::Type t) {
  switch (t) {
    case LinkEventData::kDeleted: return "deleted";
    case LinkEventData::kAdmin: return "admin";
    case LinkEventData::kCarrier: return "carrier";
    case LinkEventData::kMtu: return "mtu";
    case LinkEventData::kAddressAdded: return "address-added";
    case LinkEventData::kAddressRemoved: return "address-removed";
  }
  return "unknown";
}

void Monitor::DeliverEvents(const std::vector<LinkEventData>& events, const std::string& name) {
  Napi::Env env = Env();
  if (env.GetInstanceData<AddonData>()->tearing_down || !CanCallJs(env)) return;
  Napi::HandleScope scope(env);
  Napi::Array list = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); i++) {
    const LinkEventData& e = events[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", EventTypeName(e.type));
    o.Set("ifindex", ifindex_);
    o.Set("name", name);
    switch (e.type) {
      case LinkEventData::kAdmin: o.Set("up", e.on); break;
      case LinkEventData::kCarrier: o.Set("carrier", e.on); break;
      case LinkEventData::kMtu: o.Set("mtu", e.mtu); break;
      case LinkEventData::kAddressAdded:
      case LinkEventData::kAddressRemoved:
        o.Set("family", e.family);
        o.Set("address", Napi::Buffer<uint8_t>::Copy(env, e.addr, e.family == 4 ? 4 : 16));
        o.Set("prefixLength", e.prefix_len);
        break;
      default: break;
    }
    list.Set(static_cast<uint32_t>(i), o);
  }
  Invoke(on_events_, {list});
}

void Monitor::DeliverError(const SysError& err, bool fatal) {
  Napi::Env env = Env();
  if (!env.GetInstanceData<AddonData>()->tearing_down && CanCallJs(env)) {
    Napi::HandleScope scope(env);
    Invoke(on_error_, {MakeError(env, err), Napi::Boolean::New(env, fatal)});
  }
  if (fatal) ReleaseJs();
}

void Monitor::Invoke(Napi::FunctionReference& ref, std::initializer_list<napi_value> args) {
  if (ref.IsEmpty() || !async_) return;
  napi_env env = Env();
  napi_value fn = ref.Value();
  napi_value self = Value();
  if (self == nullptr) napi_get_undefined(env, &self);
  delivering_++;
  CallJs(env, *async_, self, fn, args);
  delivering_--;
  if (delivering_ == 0 && release_pending_) {
    release_pending_ = false;
    ReleaseJs();
  }
}

void Monitor::ReleaseJs() {
  if (released_) return;
  if (delivering_ > 0) {
    release_pending_ = true;
    return;
  }
  released_ = true;
  on_events_.Reset();
  on_error_.Reset();
  async_.reset();
  Unref();
}

}  // namespace tunl
