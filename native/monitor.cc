#include "monitor.h"

#include <errno.h>
#include <linux/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "js_call.h"
#include "rtnl.h"

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

// ---------------------------------------------------------------- hub

MonitorHub* MonitorHub::Get(AddonData* data, SysError* err) {
  if (data->monitor_hub != nullptr) return data->monitor_hub;
  int fd = OpenRouteSocket(SOCK_NONBLOCK, err);
  if (fd < 0) return nullptr;
  // Every link and address change in the namespace lands here (creating a
  // thousand interfaces at once is a burst of several thousand messages).
  int rcvbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    err->Set(errno, "bind(NETLINK_ROUTE)");
    close(fd);
    return nullptr;
  }
  MonitorHub* hub = new MonitorHub(data, fd);
  int r = hub->Init();
  if (r != 0) {
    err->Set(-r, "uv_poll_init");
    hub->Close();  // closes the fd and frees the hub
    return nullptr;
  }
  hub->port_ = PortIdOf(fd);
  hub->Watch(UV_READABLE);
  data->monitor_hub = hub;
  return hub;
}

bool MonitorHub::SendLinkRequest(LinkWatch* watch, SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = watch->ifindex;
  NlMessage msg(RTM_GETLINK, 0, &ifi, sizeof ifi);
  return SendRequest(&msg, "RTM_GETLINK", &link_requests_, watch->id, err);
}

bool MonitorHub::SendAddressRequest(LinkWatch* watch, SysError* err) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  ifa.ifa_index = static_cast<uint32_t>(watch->ifindex);  // filtered by the kernel under strict checking
  NlMessage msg(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  return SendRequest(&msg, "RTM_GETADDR", &addr_requests_, watch->id, err);
}

bool MonitorHub::SendRequest(NlMessage* msg, const char* call, std::unordered_map<uint32_t, uint64_t>* requests,
                             uint64_t watch_id, SysError* err) {
  if (++seq_ == 0) ++seq_;  // 0 marks notifications
  msg->header()->nlmsg_seq = seq_;
  if (send(fd_, msg->header(), msg->size(), 0) < 0) {
    err->Set(errno, call);
    return false;
  }
  (*requests)[seq_] = watch_id;
  return true;
}

LinkWatch* MonitorHub::Add(int ifindex, Monitor* wrapper, SysError* err) {
  auto owned = std::make_unique<LinkWatch>();
  LinkWatch* watch = owned.get();
  watch->id = next_id_++;
  watch->ifindex = ifindex;
  watch->wrapper = wrapper;
  // Both baselines are asked for in-stream, on the hub's own socket, and read
  // by the poll callback: nothing here waits on the kernel. The kernel queues
  // the link answer, then the address dump, ahead of any later notification,
  // so a change made after this call is seen after its baseline.
  if (!SendLinkRequest(watch, err) || !SendAddressRequest(watch, err)) {
    // An answer already asked for finds no watch and is dropped.
    if (watches_.empty()) {
      Unregister();
      Close();
    }
    return nullptr;
  }
  by_ifindex_[ifindex].push_back(watch);
  watches_.emplace(watch->id, std::move(owned));
  return watch;
}

void MonitorHub::Remove(LinkWatch* watch) {
  auto at = by_ifindex_.find(watch->ifindex);
  if (at != by_ifindex_.end()) {
    auto& list = at->second;
    list.erase(std::remove(list.begin(), list.end(), watch), list.end());
    if (list.empty()) by_ifindex_.erase(at);
  }
  watches_.erase(watch->id);  // frees it; a late link answer finds no watch
  if (watches_.empty()) {
    Unregister();
    Close();
  }
}

void MonitorHub::Unregister() {
  if (data_->monitor_hub == this) data_->monitor_hub = nullptr;
  for (auto& entry : watches_) {
    if (entry.second->wrapper != nullptr) entry.second->wrapper->WatchGone();
  }
  watches_.clear();
  by_ifindex_.clear();
  link_requests_.clear();
  addr_requests_.clear();
}

void MonitorHub::Detach() { Unregister(); }

void MonitorHub::Touch(LinkWatch* w, std::vector<uint64_t>* touched) {
  if (w->touched) return;
  w->touched = true;
  touched->push_back(w->id);
}

void MonitorHub::OnEvents(int status, int /*events*/) {
  if (status < 0) {
    SysError e;
    e.Set(-status, "poll");
    FailAll(e);
    return;
  }
  static const uint32_t kMaxReads = 64;  // give other handles a turn on a busy namespace
  std::vector<uint64_t> touched;
  bool overrun = false;
  for (uint32_t i = 0; i < kMaxReads; i++) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == ENOBUFS) {
        overrun = true;
        continue;
      }
      SysError e;
      e.Set(errno, "recv(NETLINK_ROUTE)");
      FailAll(e);
      return;
    }
    size_t left = static_cast<size_t>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      Handle(h, port_, &touched);
    }
  }
  if (overrun) {
    // Notifications (and maybe answers) were lost: every watch hears so and
    // asks for its link again; the answer is compared, so a missed change shows.
    for (auto& entry : watches_) {
      LinkWatch* w = entry.second.get();
      w->report.Set(ENOBUFS, "recv(NETLINK_ROUTE)");
      SysError ignored;
      SendLinkRequest(w, &ignored);
      Touch(w, &touched);
    }
  }
  Deliver(touched);
}

void MonitorHub::Handle(const nlmsghdr* h, uint32_t port, std::vector<uint64_t>* touched) {
  if (h->nlmsg_pid == port && h->nlmsg_seq != 0) {
    auto addr_req = addr_requests_.find(h->nlmsg_seq);
    if (addr_req != addr_requests_.end()) {
      HandleAddressAnswer(h, addr_req);
      return;
    }
    // An answer to one of our link requests.
    auto req = link_requests_.find(h->nlmsg_seq);
    if (req == link_requests_.end()) return;
    uint64_t id = req->second;
    link_requests_.erase(req);
    auto found = watches_.find(id);
    if (found == watches_.end()) return;
    LinkWatch* w = found->second.get();
    if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
      std::string extack;
      int e = ParseNlError(h, &extack);
      if (e != 0) {
        w->report.Set(e, "RTM_GETLINK");
        w->report.extack = extack;
        Touch(w, touched);
      }
      return;
    }
    LinkData link;
    if (h->nlmsg_type != RTM_NEWLINK || !ParseLink(h, &link)) return;
    if (!w->live) {
      w->live = true;
      if (!link.name.empty()) w->name = link.name;
      w->flags = link.flags;
      w->mtu = link.mtu;
    } else {
      LinkChanged(w, link, false, touched);
    }
    return;
  }
  if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
    // Unwatched links are skipped before their attributes are parsed.
    auto at = by_ifindex_.find(static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_index);
    if (at == by_ifindex_.end()) return;
    LinkData link;
    if (!ParseLink(h, &link)) return;
    for (LinkWatch* w : at->second) {
      if (w->live) LinkChanged(w, link, h->nlmsg_type == RTM_DELLINK, touched);
    }
    return;
  }
  if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return;
    auto at = by_ifindex_.find(static_cast<int>(static_cast<const ifaddrmsg*>(NLMSG_DATA(h))->ifa_index));
    if (at == by_ifindex_.end()) return;
    AddrData a;
    if (!ParseAddr(h, &a)) return;
    std::string key = AddressKey(a);
    LinkEventData e{LinkEventData::kAddressAdded};
    e.family = a.family;
    memcpy(e.addr, a.addr, sizeof e.addr);
    e.prefix_len = a.prefix_len;
    for (LinkWatch* w : at->second) {
      if (!w->live || w->gone) continue;
      if (h->nlmsg_type == RTM_NEWADDR) {
        // IPv6 repeats RTM_NEWADDR when an address's flags change (DAD, link
        // up): only a new one is news.
        if (!w->addresses.insert(key).second) continue;
        w->pending.push_back(e);
      } else {
        w->addresses.erase(key);
        LinkEventData removed = e;
        removed.type = LinkEventData::kAddressRemoved;
        w->pending.push_back(removed);
      }
      Touch(w, touched);
    }
  }
}

// One part of a watch's address dump: the addresses it holds now, taken in
// without events (IPv6 repeats RTM_NEWADDR for them; only a new one is news).
// A dump larger than one read continues in later reads, where a notification
// may come first: it is applied, and the dump part after it agrees with it.
void MonitorHub::HandleAddressAnswer(const nlmsghdr* h, std::unordered_map<uint32_t, uint64_t>::iterator req) {
  if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
    // An error (the link gone: ENODEV) is reported by the link answer.
    addr_requests_.erase(req);
    return;
  }
  auto found = watches_.find(req->second);
  if (found == watches_.end() || h->nlmsg_type != RTM_NEWADDR) return;
  LinkWatch* w = found->second.get();
  AddrData a;
  if (ParseAddr(h, &a) && a.ifindex == w->ifindex) w->addresses.insert(AddressKey(a));
}

void MonitorHub::LinkChanged(LinkWatch* w, const LinkData& link, bool deleted, std::vector<uint64_t>* touched) {
  if (w->gone) return;
  if (!link.name.empty()) w->name = link.name;
  size_t before = w->pending.size();
  if (deleted) {
    w->gone = true;
    w->pending.push_back({LinkEventData::kDeleted});
  } else {
    unsigned changed = w->flags ^ link.flags;
    if (changed & IFF_UP) {
      LinkEventData e{LinkEventData::kAdmin};
      e.on = (link.flags & IFF_UP) != 0;
      w->pending.push_back(e);
    }
    if (changed & IFF_LOWER_UP) {
      LinkEventData e{LinkEventData::kCarrier};
      e.on = (link.flags & IFF_LOWER_UP) != 0;
      w->pending.push_back(e);
    }
    if (link.mtu != 0 && link.mtu != w->mtu) {
      LinkEventData e{LinkEventData::kMtu};
      e.mtu = link.mtu;
      w->pending.push_back(e);
      w->mtu = link.mtu;
    }
    w->flags = link.flags;
  }
  if (w->pending.size() != before) Touch(w, touched);
}

// Events first, then a non-fatal error, per watch, in the order they were
// touched. A callback may close any monitor (or the last, closing the hub):
// each watch is looked up again by id before it is used.
void MonitorHub::Deliver(const std::vector<uint64_t>& touched) {
  for (uint64_t id : touched) {
    auto found = watches_.find(id);
    if (found == watches_.end()) continue;
    LinkWatch* w = found->second.get();
    w->touched = false;
    std::vector<LinkEventData> events;
    events.swap(w->pending);
    SysError report = w->report;
    w->report = SysError();
    std::string name = w->name;
    Monitor* wrapper = w->wrapper;
    if (!events.empty() && wrapper != nullptr) wrapper->DeliverEvents(events, name);
    if (closed_) return;
    if (!report.failed()) continue;
    found = watches_.find(id);
    if (found == watches_.end() || found->second->wrapper == nullptr) continue;
    found->second->wrapper->DeliverError(report, false);
    if (closed_) return;
  }
}

void MonitorHub::FailAll(const SysError& err) {
  std::vector<Monitor*> wrappers;
  for (auto& entry : watches_) {
    if (entry.second->wrapper != nullptr) wrappers.push_back(entry.second->wrapper);
  }
  // Held while their error is delivered: one monitor's callback must not let another be collected.
  for (Monitor* m : wrappers) m->Ref();
  Unregister();
  Close();
  for (Monitor* m : wrappers) m->DeliverError(err, true);
  for (Monitor* m : wrappers) m->Unref();
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
  MonitorHub* hub = MonitorHub::Get(data, &err);
  LinkWatch* watch = hub != nullptr ? hub->Add(ifindex_, this, &err) : nullptr;
  if (watch == nullptr) throw Napi::Error(env, MakeError(env, err));
  hub_ = hub;
  watch_ = watch;
  on_events_ = Napi::Persistent(on_events);
  on_error_ = Napi::Persistent(on_error);
  js_.Begin(env, "TunLinkMonitor", Value());
  Ref();
}

Monitor::~Monitor() { Forget(); }

void Monitor::Forget() {
  if (watch_ == nullptr || hub_ == nullptr) return;
  MonitorHub* hub = hub_;
  LinkWatch* watch = watch_;
  watch_ = nullptr;
  hub_ = nullptr;
  hub->Remove(watch);
}

Napi::Value Monitor::Close(const Napi::CallbackInfo& info) {
  if (watch_ != nullptr) {
    Forget();
    ReleaseJs();
  }
  return info.Env().Undefined();
}

Napi::Value Monitor::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), watch_ == nullptr);
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
  if (js_.Invoke(Env(), Value(), ref, args)) ReleaseJs();
}

void Monitor::ReleaseJs() {
  if (!js_.Release()) return;
  on_events_.Reset();
  on_error_.Reset();
  Unref();
}

}  // namespace tunl
