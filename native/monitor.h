// Link and address notifications, per interface, from ONE netlink socket per
// environment. The hub (a nonblocking NETLINK_ROUTE socket in the link and
// address multicast groups, watched by uv_poll) parses each notification once
// and hands it to the watches of that ifindex; with N monitors alive, a change
// in the namespace costs one parse, not N.
//
// Each watch reports changes only, starting from the state when its monitor
// was made. Its link baseline comes in-stream: an RTM_GETLINK sent on the hub
// socket, whose answer sits in the socket queue behind every notification
// that predates it (those are ignored for this watch) and ahead of every later
// one. Its address baseline is an RTM_GETADDR dump read at creation on a
// pooled request socket (a dump on the hub could collide with another watch's
// dump still in flight: EBUSY); address notifications count for the watch
// once its link answer has arrived.
//
// The hub opens with the first monitor and closes with the last, so
// openFdCount() counts it only while a monitor is open.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "errors.h"
#include "js_delivery.h"
#include "netlink.h"
#include "poll_core.h"

namespace tunl {

class Monitor;

struct LinkEventData {
  enum Type { kDeleted, kAdmin, kCarrier, kMtu, kAddressAdded, kAddressRemoved } type;
  bool on = false;
  uint32_t mtu = 0;
  int family = 0;
  uint8_t addr[16] = {0};
  int prefix_len = 0;
};

// What one monitor knows of its interface.
struct LinkWatch {
  uint64_t id = 0;
  int ifindex = 0;
  Monitor* wrapper = nullptr;
  std::string name;
  // The link answer (in-stream baseline) has arrived: notifications count.
  bool live = false;
  bool gone = false;
  unsigned flags = 0;
  uint32_t mtu = 0;
  std::set<std::string> addresses;
  // Gathered while reading, delivered after (JS may close monitors meanwhile).
  std::vector<LinkEventData> pending;
  SysError report;
  // Listed for delivery after this read.
  bool touched = false;
};

class MonitorHub : public PollCore {
 public:
  // The environment's hub, opened on first use.
  static MonitorHub* Get(AddonData* data, SysError* err);
  // A new watch of ifindex; its events go to wrapper. Null with err on failure.
  LinkWatch* Add(int ifindex, Monitor* wrapper, SysError* err);
  // The watch is forgotten (and freed); the last one closes the hub.
  void Remove(LinkWatch* watch);

 protected:
  void OnEvents(int status, int events) override;
  void Detach() override;

 private:
  MonitorHub(AddonData* data, int fd) : PollCore(data, fd) {}
  bool SendLinkRequest(LinkWatch* watch, SysError* err);
  bool SendAddressRequest(LinkWatch* watch, SysError* err);
  // Sends msg with the next sequence number, remembered in requests for the answer.
  bool SendRequest(NlMessage* msg, const char* call, std::unordered_map<uint32_t, uint64_t>* requests, uint64_t watch_id,
                   SysError* err);
  void HandleAddressAnswer(const nlmsghdr* h, std::unordered_map<uint32_t, uint64_t>::iterator req);
  void Handle(const nlmsghdr* h, uint32_t port, std::vector<uint64_t>* touched);
  void LinkChanged(LinkWatch* w, const LinkData& link, bool deleted, std::vector<uint64_t>* touched);
  void Touch(LinkWatch* w, std::vector<uint64_t>* touched);
  void Deliver(const std::vector<uint64_t>& touched);
  void FailAll(const SysError& err);
  // Forget every watch (telling its monitor) and stop being the environment's hub.
  void Unregister();

  uint64_t next_id_ = 1;
  uint32_t seq_ = 0;
  uint32_t port_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<LinkWatch>> watches_;
  std::unordered_map<int, std::vector<LinkWatch*>> by_ifindex_;
  // RTM_GETLINK sequence numbers awaiting their answer → watch id.
  std::unordered_map<uint32_t, uint64_t> link_requests_;
  // RTM_GETADDR dump sequence numbers still being answered → watch id.
  std::unordered_map<uint32_t, uint64_t> addr_requests_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
};

class Monitor : public Napi::ObjectWrap<Monitor> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Monitor(ifindex, onEvents(events[]), onError(err, fatal))
  explicit Monitor(const Napi::CallbackInfo& info);
  ~Monitor() override;

  void DeliverEvents(const std::vector<LinkEventData>& events, const std::string& name);
  void DeliverError(const SysError& err, bool fatal);
  // The hub closed (environment teardown or a fatal error): the watch is gone.
  void WatchGone() {
    watch_ = nullptr;
    hub_ = nullptr;
  }

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  void Invoke(Napi::FunctionReference& fn, std::initializer_list<napi_value> args);
  void ReleaseJs();
  void Forget();

  LinkWatch* watch_ = nullptr;
  MonitorHub* hub_ = nullptr;
  int ifindex_ = 0;
  Napi::FunctionReference on_events_, on_error_;
  JsDelivery js_;
};

}  // namespace tunl
