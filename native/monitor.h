// Link and address notifications for one interface: a nonblocking
// NETLINK_ROUTE socket in the link and address multicast groups, watched by
// uv_poll. It remembers the link's flags and MTU (seeded by an RTM_GETLINK
// sent on the same socket) and the addresses (seeded by an RTM_GETADDR dump),
// so it reports changes only, never repeats.
#pragma once

#include <napi.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "errors.h"
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

class MonitorCore : public PollCore {
 public:
  MonitorCore(AddonData* data, int fd, int ifindex, Monitor* wrapper)
      : PollCore(data, fd), ifindex_(ifindex), wrapper_(wrapper) {}
  // Sends the seeding requests; false with err on failure.
  bool Seed(SysError* err);
  void Unhook() { wrapper_ = nullptr; }
  const std::string& name() const { return name_; }

 protected:
  void OnEvents(int status, int events) override;
  void Detach() override;

 private:
  bool SendLinkRequest(SysError* err);
  bool SendAddrDump(SysError* err);
  void Handle(const nlmsghdr* h, std::vector<LinkEventData>* out, SysError* report);
  void Fail(const SysError& err);

  int ifindex_;
  Monitor* wrapper_;
  std::string name_;
  bool have_link_ = false;
  bool gone_ = false;
  unsigned flags_ = 0;
  uint32_t mtu_ = 0;
  uint32_t seq_ = 0;
  uint32_t port_ = 0;  // our netlink port id: replies to our requests carry it
  uint32_t link_seq_ = 0;
  uint32_t addr_seq_ = 0;
  bool dumping_ = false;
  std::set<std::string> addresses_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
};

class Monitor : public Napi::ObjectWrap<Monitor> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Monitor(ifindex, onEvents(events[]), onError(err))
  explicit Monitor(const Napi::CallbackInfo& info);
  ~Monitor() override;

  void DeliverEvents(const std::vector<LinkEventData>& events, const std::string& name);
  void DeliverError(const SysError& err, bool fatal);
  void CoreGone() { core_ = nullptr; }

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  void Invoke(Napi::FunctionReference& fn, std::initializer_list<napi_value> args);
  void ReleaseJs();

  MonitorCore* core_ = nullptr;
  int ifindex_ = 0;
  Napi::FunctionReference on_events_, on_error_;
  std::unique_ptr<Napi::AsyncContext> async_;
  int delivering_ = 0;
  bool release_pending_ = false;
  bool released_ = false;
};

}  // namespace tunl
