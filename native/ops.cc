#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "addon_data.h"
#include "netns.h"
#include "queue.h"
#include "rtnl.h"
#include "task.h"
#include "tun.h"

namespace tunl {

// The plan of an open, right after TUNSETIFF in the same worker. All or
// nothing: when a step fails the device goes (persistence this open set is
// cleared first, so closing the fds deletes it); an interface attached to is
// only let go of.
static void OpenPlan(NlSocket* nl, const OpenParams& params, const std::vector<LinkStep>& steps, OpenResult* result,
                     int* failed, SysError* err) {
  // One request at a time: an interface attached to keeps exactly the steps before the failing one.
  StepFailure failure;
  bool ok = RunSteps(nl, result->ifindex, steps, false, &failure, err);
  *failed = failure.step;
  if (ok) {
    for (const LinkStep& step : steps) {
      if (step.kind == LinkStep::kLink && step.link.mtu > 0) result->mtu = step.link.mtu;
    }
    return;
  }
  err->ifname = result->name;
  if (params.persist && result->created && !result->fds.empty()) {
    SysError ignored;
    SetPersist(result->fds[0], false, &ignored);
  }
  for (int fd : result->fds) close(fd);
  result->fds.clear();
}

std::shared_ptr<NlPool> PoolOf(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  uint32_t id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(info.Data()));
  if (id == 0) return data->pool;
  auto found = data->namespaces.find(id);
  if (found == data->namespaces.end()) throw Napi::Error::New(info.Env(), "this network namespace handle is closed");
  return found->second;
}

static Napi::Object LinkToJs(Napi::Env env, const LinkData& l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", l.name);
  o.Set("ifindex", l.ifindex);
  o.Set("flags", static_cast<double>(l.flags));
  o.Set("mtu", static_cast<double>(l.mtu));
  o.Set("operstate", static_cast<double>(l.operstate));
  o.Set("alias", l.alias);
  o.Set("group", static_cast<double>(l.group));
  Napi::Array stats = Napi::Array::New(env, 8);
  for (uint32_t i = 0; i < 8; i++) stats.Set(i, Napi::BigInt::New(env, l.stats[i]));
  o.Set("stats", stats);
  return o;
}

// One JS array of the converted items.
template <typename T, typename Convert>
static Napi::Array ArrayOf(Napi::Env env, const std::vector<T>& items, Convert convert) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) out.Set(static_cast<uint32_t>(i), convert(env, items[i]));
  return out;
}

static Napi::Object AddressToJs(Napi::Env env, const AddrData& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", a.family);
  o.Set("address", Napi::Buffer<uint8_t>::Copy(env, a.addr, a.family == 4 ? 4 : 16));
  o.Set("prefixLength", a.prefix_len);
  o.Set("scope", a.scope);
  o.Set("flags", static_cast<double>(a.flags));
  return o;
}

// Routes as one buffer of fixed records, not an object each: a dump of
// thousands is one allocation, decoded in JS (toRoutes, src/binding/native/
// binding.ts, which names the layout: kRouteRecordBytes per route, family,
// prefix length, protocol, type, scope, gateway, two zero bytes, metric and
// table as little-endian u32, then the destination's 16 bytes).
static const size_t kRouteRecordBytes = 32;

static void PutU32Le(uint8_t* at, uint32_t v) {
  for (int i = 0; i < 4; i++) at[i] = static_cast<uint8_t>(v >> (8 * i));
}

static Napi::Value RoutesToJs(Napi::Env env, const std::vector<RouteData>& routes) {
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, routes.size() * kRouteRecordBytes);
  uint8_t* at = out.Data();
  if (!routes.empty()) memset(at, 0, out.Length());
  for (const RouteData& r : routes) {
    at[0] = static_cast<uint8_t>(r.family);
    at[1] = static_cast<uint8_t>(r.dst_len);
    at[2] = static_cast<uint8_t>(r.protocol);
    at[3] = static_cast<uint8_t>(r.type);
    at[4] = static_cast<uint8_t>(r.scope);
    at[5] = r.has_gateway ? 1 : 0;
    PutU32Le(at + 8, r.metric);
    PutU32Le(at + 12, r.table);
    memcpy(at + 16, r.dst, r.family == 4 ? 4 : 16);
    at += kRouteRecordBytes;
  }
  return out;
}

// The kernel's view of a link right after its plan ran, read in the open's own
// worker: the link, its addresses, its routes (a table never used answers
// ENOENT: no routes). What the caller verifies against; `ok` false when any
// read failed (the device is still good: the caller then asks on its own).
struct ReadBack {
  bool ok = false;
  LinkData link;
  std::vector<AddrData> addrs;
  std::vector<RouteData> routes;
};

static void ReadBackLink(NlSocket* nl, int ifindex, ReadBack* out) {
  SysError err;
  if (!GetLink(nl, ifindex, std::string(), &out->link, &err)) return;
  if (!ListAddresses(nl, ifindex, &out->addrs, &err)) return;
  if (!ListRoutes(nl, ifindex, &out->routes, &err)) {
    if (err.err != ENOENT) return;
    out->routes.clear();
  }
  out->ok = true;
}

static Napi::Object ReadBackToJs(Napi::Env env, const ReadBack& back) {
  Napi::Object view = Napi::Object::New(env);
  view.Set("link", LinkToJs(env, back.link));
  view.Set("addresses", ArrayOf(env, back.addrs, AddressToJs));
  view.Set("routes", RoutesToJs(env, back.routes));
  return view;
}

// Steps packed as native/ops.h lays them out; the plan's one alias comes as a
// separate string.
static std::vector<LinkStep> ParseSteps(Napi::Env env, Napi::Value packed, Napi::Value count_value,
                                        Napi::Value alias) {
  Napi::Uint32Array words = packed.As<Napi::Uint32Array>();
  size_t count = count_value.As<Napi::Number>().Uint32Value();
  if (words.ElementLength() < count * kStepWords) {
    throw Napi::RangeError::New(env, "packed steps are shorter than their count");
  }
  const uint32_t* w = words.Data();
  std::vector<LinkStep> out(count);
  for (size_t i = 0; i < count; i++, w += kStepWords) {
    LinkStep& step = out[i];
    uint32_t kind = w[kWordHead] & 0xff;
    uint32_t flags = w[kWordHead] >> 8;
    if (kind == kStepLink) {
      step.kind = LinkStep::kLink;
      if (flags & kHasMtu) step.link.mtu = w[kWordMtu];
      if (flags & kHasUp) step.link.up = (flags & kUp) ? 1 : 0;
      if (flags & kHasGroup) {
        step.link.set_group = true;
        step.link.group = w[kWordGroup];
      }
      if (flags & kHasAlias) {
        step.link.set_alias = true;
        step.link.alias = alias.As<Napi::String>().Utf8Value();
      }
    } else if (kind == kStepAddress || kind == kStepRoute) {
      step.kind = kind == kStepAddress ? LinkStep::kAddress : LinkStep::kRoute;
      step.add = (flags & kAdd) != 0;
      step.family = static_cast<int>(w[kWordFamily]);
      if (step.family != 4 && step.family != 6) throw Napi::RangeError::New(env, "address family must be 4 or 6");
      memcpy(step.bytes, w + kWordAddress, step.family == 4 ? 4 : 16);
      step.prefix_len = static_cast<int>(w[kWordPrefixLength]);
      step.metric = w[kWordMetric];
    } else {
      throw Napi::TypeError::New(env, "unknown configuration step kind " + std::to_string(kind));
    }
  }
  return out;
}

static void SetStep(Napi::Value error, int step) {
  if (error.IsObject() && step >= 0) error.As<Napi::Object>().Set("step", step);
}

// openDevice(name, queues, multiQueue, persist, owner, group, attachExisting, steps?, stepCount, alias?, readBack?, offload)
//   -> { name, ifindex, mtu, created, offloadMask, offloadErrno, queues: TunQueue[], readBack?: { link, addresses, routes } }
// offload: 0 none (the device's mask is cleared), 1 segmented, 2 pass-through.
// With steps, they run in the same worker right after TUNSETIFF (OpenPlan):
// bring-up in one threadpool round trip. A failing step's error gets `step`.
// With readBack, that worker then reads the link, its addresses and routes
// back (ReadBackLink): open, plan and verification's reads in one trip.
static Napi::Value OpenDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto params = std::make_shared<OpenParams>();
  params->name = info[0].As<Napi::String>().Utf8Value();
  params->queues = info[1].As<Napi::Number>().Int32Value();
  params->multi_queue = info[2].As<Napi::Boolean>().Value();
  params->persist = info[3].As<Napi::Boolean>().Value();
  params->owner = info[4].As<Napi::Number>().Int64Value();
  params->group = info[5].As<Napi::Number>().Int64Value();
  params->attach_existing = info[6].As<Napi::Boolean>().Value();
  int offload = info.Length() > 11 && info[11].IsNumber() ? info[11].As<Napi::Number>().Int32Value() : 0;
  if (offload < 0 || offload > 2) throw Napi::RangeError::New(env, "offload must be 0, 1 or 2");
  params->offload = offload != 0;
  auto steps = std::make_shared<std::vector<LinkStep>>();
  if (info[7].IsTypedArray()) *steps = ParseSteps(env, info[7], info[8], info[9]);
  bool read_back = info.Length() > 10 && info[10].ToBoolean().Value();
  auto result = std::make_shared<OpenResult>();
  auto failed = std::make_shared<int>(-1);
  auto back = std::make_shared<ReadBack>();
  std::shared_ptr<NlPool> pool = PoolOf(info);
  params->ns_fd = pool->ns_fd();  // the task holds the pool, and so the fd, until it ends
  return Task::Start(
      env, "TunOpen", pool, 0,
      [params, steps, result, failed, back, read_back](NlSocket* nl, SysError* err) {
        if (!OpenTun(nl, *params, result.get(), err)) return;
        err->ifname.clear();
        if (!steps->empty()) OpenPlan(nl, *params, *steps, result.get(), failed.get(), err);
        if (read_back && !err->failed()) ReadBackLink(nl, result->ifindex, back.get());
      },
      [result, back, offload](Napi::Env env) -> Napi::Value {
        AddonData* data = env.GetInstanceData<AddonData>();
        if (data->tearing_down) {
          // The environment is going away: nobody will ever close these.
          for (int fd : result->fds) close(fd);
          result->fds.clear();
          return env.Undefined();
        }
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", result->name);
        o.Set("ifindex", result->ifindex);
        o.Set("mtu", static_cast<double>(result->mtu));
        o.Set("created", result->created);
        o.Set("offloadMask", static_cast<double>(result->offload_mask));
        o.Set("offloadErrno", result->offload_errno);
        QueueMode mode = offload == 0 ? QueueMode::kPlain : offload == 1 ? QueueMode::kSegmented : QueueMode::kRaw;
        Napi::Array queues = Napi::Array::New(env, result->fds.size());
        // Each fd passes to its queue object; if one cannot be made the rest
        // are closed here rather than leaked.
        size_t i = 0;
        try {
          for (; i < result->fds.size(); i++) {
            queues.Set(static_cast<uint32_t>(i), Queue::Create(env, result->fds[i], static_cast<int>(i), result->name, mode,
                                                                      result->offload_mask));
          }
        } catch (...) {
          for (size_t j = i + 1; j < result->fds.size(); j++) close(result->fds[j]);
          result->fds.clear();
          throw;
        }
        result->fds.clear();
        o.Set("queues", queues);
        if (back->ok) o.Set("readBack", ReadBackToJs(env, *back));
        return o;
      },
      [result]() {
        for (int fd : result->fds) close(fd);
        result->fds.clear();
      },
      [failed](Napi::Env, Napi::Value error) { SetStep(error, *failed); });
}

// getLink(ifindex | name) -> raw link
static Napi::Value GetLinkJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = 0;
  std::string name;
  if (info[0].IsNumber()) ifindex = info[0].As<Napi::Number>().Int32Value();
  else name = info[0].As<Napi::String>().Utf8Value();
  auto link = std::make_shared<LinkData>();
  return Task::Start(
      env, "TunGetLink", PoolOf(info), 0,
      [ifindex, name, link](NlSocket* nl, SysError* err) {
        if (!GetLink(nl, ifindex, name, link.get(), err) && ifindex == 0) err->ifname = name;
      },
      [link](Napi::Env env) -> Napi::Value { return LinkToJs(env, *link); });
}

static Napi::Value ListLinksJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto links = std::make_shared<std::vector<LinkData>>();
  return Task::Start(
      env, "TunListLinks", PoolOf(info), 0,
      [links](NlSocket* nl, SysError* err) { ListLinks(nl, links.get(), err); },
      [links](Napi::Env env) -> Napi::Value { return ArrayOf(env, *links, LinkToJs); });
}

// changeLink(ifindex, mtu (0 = keep), up (-1 keep, 0, 1), alias (string|undefined), group (number|undefined))
static Napi::Value ChangeLinkJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LinkChange change;
  change.ifindex = info[0].As<Napi::Number>().Int32Value();
  change.mtu = info[1].As<Napi::Number>().Uint32Value();
  change.up = info[2].As<Napi::Number>().Int32Value();
  if (info[3].IsString()) {
    change.set_alias = true;
    change.alias = info[3].As<Napi::String>().Utf8Value();
  }
  if (info[4].IsNumber()) {
    change.set_group = true;
    change.group = info[4].As<Napi::Number>().Uint32Value();
  }
  return Task::Start(env, "TunChangeLink", PoolOf(info), change.ifindex,
                     [change](NlSocket* nl, SysError* err) { ChangeLink(nl, change, err); });
}

static Napi::Value DeleteLinkJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  return Task::Start(env, "TunDeleteLink", PoolOf(info), ifindex,
                     [ifindex](NlSocket* nl, SysError* err) { DeleteLink(nl, ifindex, err); });
}

static Napi::Value DeleteLinkGroupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t group = info[0].As<Napi::Number>().Uint32Value();
  return Task::Start(env, "TunDeleteLinkGroup", PoolOf(info), 0,
                     [group](NlSocket* nl, SysError* err) { DeleteLinkGroup(nl, group, err); });
}

struct AddrArgs {
  bool add;
  int ifindex;
  int family;
  uint8_t bytes[16];
  int prefix_len;
  uint32_t metric;
};

static AddrArgs ReadAddrArgs(const Napi::CallbackInfo& info) {
  AddrArgs a{};
  a.add = info[0].As<Napi::Boolean>().Value();
  a.ifindex = info[1].As<Napi::Number>().Int32Value();
  a.family = info[2].As<Napi::Number>().Int32Value();
  Napi::Uint8Array bytes = info[3].As<Napi::Uint8Array>();
  size_t want = a.family == 4 ? 4 : 16;
  if (bytes.ByteLength() != want) throw Napi::RangeError::New(info.Env(), "address bytes do not match the family");
  memcpy(a.bytes, bytes.Data(), want);
  a.prefix_len = info[4].As<Napi::Number>().Int32Value();
  if (info.Length() > 5 && info[5].IsNumber()) a.metric = info[5].As<Napi::Number>().Uint32Value();
  return a;
}

// changeAddress(add, ifindex, family, bytes, prefixLength)
static Napi::Value ChangeAddressJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddrArgs a = ReadAddrArgs(info);
  return Task::Start(env, "TunChangeAddress", PoolOf(info), a.ifindex, [a](NlSocket* nl, SysError* err) {
    ChangeAddress(nl, a.add, a.ifindex, a.family, a.bytes, a.prefix_len, err);
  });
}

// listAddresses(ifindex) -> [{ family, address: Buffer, prefixLength, scope, flags }]
static Napi::Value ListAddressesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  auto addrs = std::make_shared<std::vector<AddrData>>();
  return Task::Start(
      env, "TunListAddresses", PoolOf(info), ifindex,
      [ifindex, addrs](NlSocket* nl, SysError* err) { ListAddresses(nl, ifindex, addrs.get(), err); },
      [addrs](Napi::Env env) -> Napi::Value { return ArrayOf(env, *addrs, AddressToJs); });
}

// changeRoute(add, ifindex, family, bytes, prefixLength, metric)
static Napi::Value ChangeRouteJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddrArgs a = ReadAddrArgs(info);
  return Task::Start(env, "TunChangeRoute", PoolOf(info), a.ifindex, [a](NlSocket* nl, SysError* err) {
    ChangeRoute(nl, a.add, a.ifindex, a.family, a.bytes, a.prefix_len, a.metric, err);
  });
}

// listRoutes(ifindex) -> Buffer of route records (RoutesToJs)
static Napi::Value ListRoutesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  auto routes = std::make_shared<std::vector<RouteData>>();
  return Task::Start(
      env, "TunListRoutes", PoolOf(info), ifindex,
      [ifindex, routes](NlSocket* nl, SysError* err) { ListRoutes(nl, ifindex, routes.get(), err); },
      [routes](Napi::Env env) -> Napi::Value { return RoutesToJs(env, *routes); });
}

// configureLink(ifindex, steps, stepCount, alias?, readBack?): one worker runs
// the requests in order, address and route requests batched (RunSteps), and
// stops at the first failure: the error carries `step`, its index, and
// `alsoApplied`, the later steps of its batch the kernel carried out too (the
// caller undoes them). Steps packed as ParseSteps reads them. With readBack,
// the same worker then reads the link, its addresses and routes
// (ReadBackLink) and resolves with them (undefined when a read failed): the
// plan and its verification's reads in one trip, as open's.
static Napi::Value ConfigureLinkJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  auto steps = std::make_shared<std::vector<LinkStep>>(ParseSteps(env, info[1], info[2], info[3]));
  bool read_back = info.Length() > 4 && info[4].ToBoolean().Value();
  auto failure = std::make_shared<StepFailure>();
  auto back = std::make_shared<ReadBack>();
  return Task::Start(
      env, "TunConfigureLink", PoolOf(info), ifindex,
      [ifindex, steps, failure, back, read_back](NlSocket* nl, SysError* err) {
        if (RunSteps(nl, ifindex, *steps, true, failure.get(), err) && read_back) ReadBackLink(nl, ifindex, back.get());
      },
      [back](Napi::Env env) -> Napi::Value { return back->ok ? Napi::Value(ReadBackToJs(env, *back)) : env.Undefined(); },
      nullptr, [failure](Napi::Env env, Napi::Value error) {
        SetStep(error, failure->step);
        if (!error.IsObject() || failure->also_applied.empty()) return;
        Napi::Array also = Napi::Array::New(env, failure->also_applied.size());
        for (size_t i = 0; i < failure->also_applied.size(); i++) also.Set(static_cast<uint32_t>(i), failure->also_applied[i]);
        error.As<Napi::Object>().Set("alsoApplied", also);
      });
}

// fdCount(): queue and monitor fds plus netlink sockets (idle or in use).
// Each namespace pool counts its own namespace fd.
static Napi::Value FdCount(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  int count = data->poll_fds + data->pool->fd_count().load();
  for (const auto& entry : data->pools_by_namespace) {
    if (std::shared_ptr<NlPool> pool = entry.second.lock()) count += 1 + pool->fd_count().load();
  }
  return Napi::Number::New(info.Env(), count);
}

// setPoolSize(n): how many idle netlink sockets to keep (0 = one per request).
static Napi::Value SetPoolSize(const Napi::CallbackInfo& info) {
  info.Env().GetInstanceData<AddonData>()->pool->SetMaxIdle(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

void RegisterOps(Napi::Env env, Napi::Object exports, uint32_t namespace_id) {
  void* id = reinterpret_cast<void*>(static_cast<uintptr_t>(namespace_id));
  exports.Set("openDevice", Napi::Function::New(env, OpenDevice, "openDevice", id));
  exports.Set("getLink", Napi::Function::New(env, GetLinkJs, "getLink", id));
  exports.Set("listLinks", Napi::Function::New(env, ListLinksJs, "listLinks", id));
  exports.Set("changeLink", Napi::Function::New(env, ChangeLinkJs, "changeLink", id));
  exports.Set("deleteLink", Napi::Function::New(env, DeleteLinkJs, "deleteLink", id));
  exports.Set("deleteLinkGroup", Napi::Function::New(env, DeleteLinkGroupJs, "deleteLinkGroup", id));
  exports.Set("changeAddress", Napi::Function::New(env, ChangeAddressJs, "changeAddress", id));
  exports.Set("listAddresses", Napi::Function::New(env, ListAddressesJs, "listAddresses", id));
  exports.Set("changeRoute", Napi::Function::New(env, ChangeRouteJs, "changeRoute", id));
  exports.Set("listRoutes", Napi::Function::New(env, ListRoutesJs, "listRoutes", id));
  exports.Set("configureLink", Napi::Function::New(env, ConfigureLinkJs, "configureLink", id));
  if (namespace_id != 0) return;
  exports.Set("fdCount", Napi::Function::New(env, FdCount, "fdCount"));
  exports.Set("setPoolSize", Napi::Function::New(env, SetPoolSize, "setPoolSize"));
}

// closeNamespace(id): drops the handle's pool (its idle sockets and the
// namespace fd go once no task still uses them).
static Napi::Value CloseNamespace(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  data->namespaces.erase(info[0].As<Napi::Number>().Uint32Value());
  for (auto it = data->pools_by_namespace.begin(); it != data->pools_by_namespace.end();) {
    it = it->second.expired() ? data->pools_by_namespace.erase(it) : std::next(it);
  }
  return info.Env().Undefined();
}

// openNamespace(fd): fd (the caller keeps it) must be a network namespace
// (EINVAL otherwise); the first netlink socket is made in it at once, so no
// privilege over it (EPERM from setns) shows here, before anything changes.
// Resolves to { id, key: 'dev:ino', ...operations } for that namespace.
static Napi::Value OpenNamespace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  int fd = info[0].As<Napi::Number>().Int32Value();
  SysError err;
  uint64_t dev = 0, ino = 0;
  if (!NetnsIdentity(fd, &dev, &ino, &err)) throw Napi::Error(env, MakeError(env, err));
  std::shared_ptr<NlPool> pool = data->pools_by_namespace[{dev, ino}].lock();
  if (!pool) {
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
      err.Set(errno, "fcntl(F_DUPFD_CLOEXEC)");
      throw Napi::Error(env, MakeError(env, err));
    }
    pool = std::make_shared<NlPool>(2, own);
    data->pools_by_namespace[{dev, ino}] = pool;
  }
  uint32_t id = data->next_namespace++;
  data->namespaces[id] = pool;
  std::string key = std::to_string(dev) + ":" + std::to_string(ino);
  return Task::Start(
      env, "TunOpenNamespace", pool, 0, [](NlSocket*, SysError*) {},
      [id, key](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("id", id);
        o.Set("key", key);
        RegisterOps(env, o, id);
        return o;
      },
      nullptr,
      [id](Napi::Env env, Napi::Value) { env.GetInstanceData<AddonData>()->namespaces.erase(id); });
}

void RegisterNamespaces(Napi::Env env, Napi::Object exports) {
  exports.Set("openNamespace", Napi::Function::New(env, OpenNamespace, "openNamespace"));
  exports.Set("closeNamespace", Napi::Function::New(env, CloseNamespace, "closeNamespace"));
}

}  // namespace tunl
