#include "monitor.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iterator>

#include "js_call.h"
#include "netns.h"
#include "netlink.h"

namespace tunl {

static uint32_t PortIdOf(int fd) {
  sockaddr_nl sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) return 0;
  return sa.nl_pid;
}

// ---------------------------------------------------------------- core

ListenerCore* ListenerCore::Open(AddonData* data, LinkListener* wrapper, int ns_fd, SysError* err) {
  // Made inside its namespace (native/netns.h), then read from the loop thread.
  int fd = OpenInNamespace(ns_fd, [](SysError* e) { return OpenRouteSocket(SOCK_NONBLOCK, e); }, err);
  if (fd < 0) return nullptr;
  // Every link, address and route change in the namespace lands here (creating a
  // thousand interfaces at once is a burst of several thousand messages).
  int rcvbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    err->Set(errno, "bind(NETLINK_ROUTE)");
    close(fd);
    return nullptr;
  }
  ListenerCore* core = new ListenerCore(data, fd, wrapper);
  int r = core->Init();
  if (r != 0) {
    err->Set(-r, "uv_poll_init");
    core->Unhook();
    core->Close();  // closes the fd and frees the core
    return nullptr;
  }
  core->port_ = PortIdOf(fd);
  core->Watch(UV_READABLE);
  return core;
}

bool ListenerCore::Send(const std::string& type, int ifindex, uint32_t seq, std::vector<ListenerRecord>* early,
                        bool* overrun, SysError* err) {
  bool dump = type != "link";
  // Bounded: a dump the kernel keeps making (a namespace changing as fast as it is read) is left to EBUSY.
  static const uint32_t kMaxReadAhead = 1024;
  if (dump && dump_seq_ != 0) {
    bool drained = false;
    Read(early, overrun, kMaxReadAhead, true, &drained);
    *overrun = TakeOverrun(*overrun, drained);
  }
  const char* call;
  NlMessage msg = [&]() {
    if (type == "link") {
      call = "RTM_GETLINK";
      ifinfomsg ifi{};
      ifi.ifi_family = AF_UNSPEC;
      ifi.ifi_index = ifindex;
      return NlMessage(RTM_GETLINK, 0, &ifi, sizeof ifi);
    }
    if (type == "routes") {
      call = "RTM_GETROUTE";
      // Both families in one dump; the main table and ifindex filtered by the kernel (strict checking).
      rtmsg rt{};
      rt.rtm_family = AF_UNSPEC;
      rt.rtm_table = RT_TABLE_MAIN;
      NlMessage m(RTM_GETROUTE, NLM_F_DUMP, &rt, sizeof rt);
      m.PutU32(RTA_TABLE, RT_TABLE_MAIN);
      m.PutU32(RTA_OIF, static_cast<uint32_t>(ifindex));
      return m;
    }
    call = "RTM_GETADDR";
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_UNSPEC;
    ifa.ifa_index = static_cast<uint32_t>(ifindex);  // 0: every link; else filtered by the kernel (strict checking)
    return NlMessage(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  }();
  msg.header()->nlmsg_seq = seq;
  if (send(fd_, msg.header(), msg.size(), 0) < 0) {
    err->Set(errno, call);
    return false;
  }
  if (dump) dump_seq_ = seq;
  return true;
}

void ListenerCore::SetInterest(int ifindex, bool interested) {
  if (interested) interest_.insert(ifindex);
  else interest_.erase(ifindex);
}

void ListenerCore::Requeue(std::vector<ListenerRecord> records, bool overrun) {
  records.insert(records.end(), std::make_move_iterator(held_.begin()), std::make_move_iterator(held_.end()));
  held_ = std::move(records);
  held_overrun_ = held_overrun_ || overrun;
}

void ListenerCore::Detach() {
  if (wrapper_ != nullptr) wrapper_->CoreGone();
  wrapper_ = nullptr;
}

void ListenerCore::Fail(const SysError& err) {
  LinkListener* wrapper = wrapper_;
  wrapper_ = nullptr;
  Close();
  if (wrapper != nullptr) wrapper->CoreFailed(err);
}

void ListenerCore::OnEvents(int status, int /*events*/) {
  bool overrun = held_overrun_;
  held_overrun_ = false;
  if (status < 0) {
    // libuv turns EPOLLERR into UV_EBADF and stops polling. A netlink socket
    // raises it when it overran: the pending socket error is then ENOBUFS
    // (reading it clears it). Anything else ends the listener.
    int pending = 0;
    socklen_t len = sizeof pending;
    if (status == UV_EBADF && getsockopt(fd_, SOL_SOCKET, SO_ERROR, &pending, &len) < 0) pending = errno;
    if (status != UV_EBADF || (pending != 0 && pending != ENOBUFS)) {
      SysError e;
      e.Set(status == UV_EBADF ? pending : -status, "poll");
      Fail(e);
      return;
    }
    overrun = overrun || pending == ENOBUFS;
    Watch(0);  // libuv stopped it; start it again
    Watch(UV_READABLE);
  }
  static const uint32_t kMaxReads = 64;  // give other handles a turn on a busy namespace
  std::vector<ListenerRecord> records;
  records.swap(held_);
  bool drained = false;
  int failed = Read(&records, &overrun, kMaxReads, false, &drained);
  if (failed != 0) {
    SysError e;
    e.Set(failed, "recv(NETLINK_ROUTE)");
    Fail(e);
    return;
  }
  overrun = TakeOverrun(overrun, drained);
  if ((records.empty() && !overrun) || wrapper_ == nullptr) return;
  wrapper_->DeliverRecords(records, overrun);
}

bool ListenerCore::TakeOverrun(bool seen, bool drained) {
  if (!seen || drained) return seen;
  held_overrun_ = true;
  return false;
}

int ListenerCore::Read(std::vector<ListenerRecord>* out, bool* overrun, uint32_t max_reads, bool until_dump_done,
                       bool* drained) {
  for (uint32_t i = 0; i < max_reads && !(until_dump_done && dump_seq_ == 0); i++) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        *drained = true;
        return 0;
      }
      if (errno == ENOBUFS) {
        *overrun = true;
        continue;
      }
      return errno;
    }
    size_t left = static_cast<size_t>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      Parse(h, out);
    }
  }
  return 0;
}

void ListenerCore::Parse(const nlmsghdr* h, std::vector<ListenerRecord>* out) {
  // Answers to our requests carry our port and their sequence number; notifications 0.
  uint32_t seq = h->nlmsg_pid == port_ ? h->nlmsg_seq : 0;
  switch (h->nlmsg_type) {
    case NLMSG_DONE:
    case NLMSG_ERROR: {
      if (seq == 0) return;
      if (seq == dump_seq_) dump_seq_ = 0;
      ListenerRecord r{ListenerRecord::kDone, seq};
      r.error = ParseNlError(h, &r.extack);
      out->push_back(std::move(r));
      return;
    }
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
      if (!Wanted(static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_index, seq)) return;
      LinkData link;
      if (!ParseLink(h, &link)) return;
      ListenerRecord r{ListenerRecord::kLink, seq, h->nlmsg_type == RTM_DELLINK, link.ifindex};
      r.name = std::move(link.name);
      r.flags = link.flags;
      r.mtu = link.mtu;
      out->push_back(std::move(r));
      return;
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return;
      if (!Wanted(static_cast<int>(static_cast<const ifaddrmsg*>(NLMSG_DATA(h))->ifa_index), seq)) return;
      AddrData a;
      if (!ParseAddr(h, &a)) return;
      ListenerRecord r{ListenerRecord::kAddress, seq, h->nlmsg_type == RTM_DELADDR, a.ifindex};
      r.family = a.family;
      memcpy(r.addr, a.addr, sizeof r.addr);
      r.prefix_len = a.prefix_len;
      out->push_back(std::move(r));
      return;
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      // The output interface is an attribute: parsed before the interest check.
      // A multipath route names none (RTA_MULTIPATH): not one of ours.
      RouteData route;
      if (!ParseRoute(h, &route) || route.oif == 0 || !Wanted(route.oif, seq)) return;
      ListenerRecord r{ListenerRecord::kRoute, seq, h->nlmsg_type == RTM_DELROUTE, route.oif};
      r.family = route.family;
      memcpy(r.addr, route.dst, sizeof r.addr);
      r.prefix_len = route.dst_len;
      r.metric = route.metric;
      r.table = route.table;
      r.protocol = route.protocol;
      r.route_type = route.type;
      out->push_back(std::move(r));
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------- wrapper

Napi::Function LinkListener::Define(Napi::Env env) {
  return DefineClass(env, "TunLinkListener",
                     {
                         InstanceMethod<&LinkListener::Request>("request"),
                         InstanceMethod<&LinkListener::SetInterest>("setInterest"),
                         InstanceMethod<&LinkListener::Close>("close"),
                         InstanceAccessor<&LinkListener::GetClosed>("closed"),
                     });
}

LinkListener::LinkListener(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinkListener>(info) {
  Napi::Env env = info.Env();
  Napi::Function on_records = info[0].As<Napi::Function>();
  Napi::Function on_error = info[1].As<Napi::Function>();
  SysError err;
  int ns_fd = -1;
  if (info.Length() > 2 && info[2].IsObject()) {
    AddonData* data = env.GetInstanceData<AddonData>();
    auto found = data->namespaces.find(info[2].As<Napi::Object>().Get("id").As<Napi::Number>().Uint32Value());
    if (found == data->namespaces.end()) throw Napi::Error::New(env, "this network namespace handle is closed");
    ns_fd = found->second->ns_fd();
  }
  core_ = ListenerCore::Open(env.GetInstanceData<AddonData>(), this, ns_fd, &err);
  if (core_ == nullptr) throw Napi::Error(env, MakeError(env, err));
  on_records_ = Napi::Persistent(on_records);
  on_error_ = Napi::Persistent(on_error);
  js_.Begin(env, "TunLinkListener", Value());
  Ref();
}

LinkListener::~LinkListener() { CloseCore(); }

bool LinkListener::CloseCore() {
  if (core_ == nullptr) return false;
  ListenerCore* core = core_;
  core_ = nullptr;
  core->Unhook();
  core->Close();
  return true;
}

// request({ type: 'link' | 'addresses' | 'routes', ifindex, seq })
Napi::Value LinkListener::Request(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SysError err;
  if (core_ == nullptr) {
    err.Set(EBADF, "send(NETLINK_ROUTE)");
  } else {
    Napi::Object request = info[0].As<Napi::Object>();
    std::string type = request.Get("type").As<Napi::String>().Utf8Value();
    int ifindex = request.Get("ifindex").As<Napi::Number>().Int32Value();
    uint32_t seq = request.Get("seq").As<Napi::Number>().Uint32Value();
    std::vector<ListenerRecord> early;
    bool overrun = false;
    bool sent = core_->Send(type, ifindex, seq, &early, &overrun, &err);
    if (sent && early.empty() && !overrun) return env.Undefined();
    if (sent) {
      Napi::Object burst = Napi::Object::New(env);
      burst.Set("records", ToJs(env, early));
      burst.Set("overrun", overrun);
      return burst;
    }
    // What was read ahead is still delivered: the caller's failure is about this request only.
    if (!early.empty() || overrun) core_->Requeue(std::move(early), overrun);
  }
  throw Napi::Error(env, MakeError(env, err));
}

// setInterest(ifindex, interested)
Napi::Value LinkListener::SetInterest(const Napi::CallbackInfo& info) {
  if (core_ != nullptr) core_->SetInterest(info[0].As<Napi::Number>().Int32Value(), info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value LinkListener::Close(const Napi::CallbackInfo& info) {
  if (CloseCore()) ReleaseJs();
  return info.Env().Undefined();
}

Napi::Value LinkListener::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_ == nullptr);
}

void LinkListener::DeliverRecords(const std::vector<ListenerRecord>& records, bool overrun) {
  Napi::Env env = Env();
  if (env.GetInstanceData<AddonData>()->tearing_down || !CanCallJs(env)) return;
  // A worker terminated between the probe and here makes the wrappers below
  // throw; this runs from a uv callback, where an escaping C++ exception ends
  // the whole process. Nothing is left to tell such an environment.
  try {
    Napi::HandleScope scope(env);
    Invoke(on_records_, {ToJs(env, records), Napi::Boolean::New(env, overrun)});
  } catch (const Napi::Error&) {
  }
}

// A burst may hold thousands of records (a big reconfiguration, a dump):
// the property names are made once per burst, not once per record, and the
// addresses are views into one buffer, not a Buffer each.
Napi::Array LinkListener::ToJs(Napi::Env env, const std::vector<ListenerRecord>& records) {
  enum Key { kSeq, kType, kDeleted, kIfindex, kName, kFlags, kMtu, kFamily, kAddress, kDestination, kPrefixLength,
             kMetric, kTable, kProtocol, kRouteType, kErrno, kExtack, kKeys };
  static const char* const kNames[kKeys] = {"seq", "type", "deleted", "ifindex", "name", "flags", "mtu", "family",
                                            "address", "destination", "prefixLength", "metric", "table",
                                            "protocol", "routeType", "errno", "extack"};
  Napi::String keys[kKeys];
  for (int k = 0; k < kKeys; k++) keys[k] = Napi::String::New(env, kNames[k]);
  static const char* const kTypes[] = {"link", "address", "route", "done"};
  Napi::String types[4];
  for (int t = 0; t < 4; t++) types[t] = Napi::String::New(env, kTypes[t]);
  size_t bytes = 0;
  for (const ListenerRecord& r : records) {
    if (r.kind == ListenerRecord::kAddress || r.kind == ListenerRecord::kRoute) bytes += r.family == 4 ? 4 : 16;
  }
  Napi::ArrayBuffer addresses = Napi::ArrayBuffer::New(env, bytes);
  uint8_t* at = static_cast<uint8_t*>(addresses.Data());
  size_t used = 0;
  auto addressOf = [&](const ListenerRecord& r) {
    size_t len = r.family == 4 ? 4 : 16;
    memcpy(at + used, r.addr, len);
    Napi::Uint8Array view = Napi::Uint8Array::New(env, len, addresses, used);
    used += len;
    return view;
  };
  Napi::Array list = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); i++) {
    const ListenerRecord& r = records[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set(keys[kSeq], r.seq);
    o.Set(keys[kType], types[r.kind]);
    if (r.kind != ListenerRecord::kDone) {
      o.Set(keys[kDeleted], r.deleted);
      o.Set(keys[kIfindex], r.ifindex);
    }
    switch (r.kind) {
      case ListenerRecord::kLink:
        o.Set(keys[kName], r.name);
        o.Set(keys[kFlags], r.flags);
        o.Set(keys[kMtu], r.mtu);
        break;
      case ListenerRecord::kAddress:
        o.Set(keys[kFamily], r.family);
        o.Set(keys[kAddress], addressOf(r));
        o.Set(keys[kPrefixLength], r.prefix_len);
        break;
      case ListenerRecord::kRoute:
        o.Set(keys[kFamily], r.family);
        o.Set(keys[kDestination], addressOf(r));
        o.Set(keys[kPrefixLength], r.prefix_len);
        o.Set(keys[kMetric], r.metric);
        o.Set(keys[kTable], r.table);
        o.Set(keys[kProtocol], r.protocol);
        o.Set(keys[kRouteType], r.route_type);
        break;
      case ListenerRecord::kDone:
        o.Set(keys[kErrno], r.error);
        o.Set(keys[kExtack], r.extack);
        break;
    }
    list.Set(static_cast<uint32_t>(i), o);
  }
  return list;
}

void LinkListener::CoreFailed(const SysError& err) {
  core_ = nullptr;
  Napi::Env env = Env();
  if (!env.GetInstanceData<AddonData>()->tearing_down && CanCallJs(env)) {
    try {  // as in DeliverRecords: a terminating worker must not end the process
      Napi::HandleScope scope(env);
      Invoke(on_error_, {MakeError(env, err)});
    } catch (const Napi::Error&) {
    }
  }
  ReleaseJs();
}

void LinkListener::Invoke(Napi::FunctionReference& ref, std::initializer_list<napi_value> args) {
  if (js_.Invoke(Env(), Value(), ref, args)) ReleaseJs();
}

void LinkListener::ReleaseJs() {
  if (!js_.Release()) return;
  on_records_.Reset();
  on_error_.Reset();
  Unref();
}

}  // namespace tunl
