// The netlink listener behind the link monitors: a nonblocking NETLINK_ROUTE
// socket in the link, address and route multicast groups, watched by uv_poll.
// On readable it reads until EAGAIN (or a batch limit), parses each message
// into a record (link: NEW/DEL, ifindex, name, flags, mtu; address: NEW/DEL,
// ifindex, family, bytes, prefix length; route: NEW/DEL, output ifindex,
// family, destination, prefix length, metric, table, protocol, type; the end
// of an answer: DONE or an errno) and hands the burst to JS in one call, with
// a flag when the socket overran (ENOBUFS; given with the burst that empties
// the socket). Requests (RTM_GETLINK for one link, an RTM_GETADDR or
// RTM_GETROUTE dump) go out on the same socket
// with the sequence number JS gives, so their answers sit in the stream in
// order with the notifications; answers carry that number, notifications 0.
// A socket runs one dump at a time (a second is refused with EBUSY until the
// first has been read), so a dump request first reads the socket up to the
// end of the dump before it — nonblocking: those messages are already there
// or made by the kernel as they are read — and hands what it read back to the
// caller. Nothing here waits on the kernel.
//
// What the records mean (baselines, diffs, repeats, re-sync) is decided in
// TypeScript: src/binding/contract/link-changes.ts. One listener serves every
// monitor of an environment (src/binding/contract/link-monitors.ts opens it
// with the first and closes it with the last), so openFdCount() counts its
// socket only while a monitor is open.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "errors.h"
#include "js_delivery.h"
#include "poll_core.h"

struct nlmsghdr;

namespace tunl {

class LinkListener;

struct ListenerRecord {
  enum Kind { kLink, kAddress, kRoute, kDone } kind;
  uint32_t seq = 0;  // of the request it answers; 0 for a notification
  bool deleted = false;
  int ifindex = 0;
  // link
  std::string name;
  unsigned flags = 0;
  uint32_t mtu = 0;
  // address (addr: its bytes) and route (addr: the destination's)
  int family = 0;
  uint8_t addr[16] = {0};
  int prefix_len = 0;
  // route
  uint32_t metric = 0;
  uint32_t table = 0;
  int protocol = 0;
  int route_type = 0;
  // done: 0, or the positive errno of an NLMSG_ERROR
  int error = 0;
  std::string extack;
};

class ListenerCore : public PollCore {
 public:
  // A socket in the link and address groups, polled; null with err on failure.
  static ListenerCore* Open(AddonData* data, LinkListener* wrapper, int ns_fd, SysError* err);
  // Sends the request; records read ahead of a dump (see above) land in early.
  bool Send(const std::string& type, int ifindex, uint32_t seq, std::vector<ListenerRecord>* early, bool* overrun,
            SysError* err);
  void SetInterest(int ifindex, bool interested);
  // Records read ahead whose request then failed: delivered first with the next burst.
  void Requeue(std::vector<ListenerRecord> records, bool overrun);
  void Unhook() { wrapper_ = nullptr; }

 protected:
  void OnEvents(int status, int events) override;
  void Detach() override;

 private:
  ListenerCore(AddonData* data, int fd, LinkListener* wrapper) : PollCore(data, fd), wrapper_(wrapper) {}
  // Reads up to max_reads datagrams (fewer at EAGAIN, setting drained, or once
  // no dump of ours is in progress when until_dump_done); 0, or the errno that
  // ended reading.
  int Read(std::vector<ListenerRecord>* out, bool* overrun, uint32_t max_reads, bool until_dump_done, bool* drained);
  // An overrun is reported with the burst that empties the socket: requests
  // sent to re-sync while it is still full would find no room for their answer.
  bool TakeOverrun(bool seen, bool drained);
  void Parse(const nlmsghdr* h, std::vector<ListenerRecord>* out);
  // Answers always; notifications only about links of interest (checked before their attributes are parsed).
  bool Wanted(int ifindex, uint32_t seq) const { return seq != 0 || interest_.count(ifindex) != 0; }
  void Fail(const SysError& err);

  LinkListener* wrapper_;
  uint32_t port_ = 0;
  // The sequence number of our dump still being answered (0: none).
  uint32_t dump_seq_ = 0;
  // Notifications about other links are dropped before their attributes are parsed.
  std::unordered_set<int> interest_;
  std::vector<ListenerRecord> held_;
  bool held_overrun_ = false;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
};

class LinkListener : public Napi::ObjectWrap<LinkListener> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new LinkListener(onRecords(records[], overrun), onError(err), namespace?); throws when the socket
  // cannot be made. With a namespace handle ({ id }), the socket listens in that namespace.
  explicit LinkListener(const Napi::CallbackInfo& info);
  ~LinkListener() override;

  // Called by the core, on the loop thread, outside any JS frame.
  void DeliverRecords(const std::vector<ListenerRecord>& records, bool overrun);
  static Napi::Array ToJs(Napi::Env env, const std::vector<ListenerRecord>& records);
  // The core closed itself after an error; JS hears about it once.
  void CoreFailed(const SysError& err);
  // The core was closed by the environment's teardown and is being freed.
  void CoreGone() { core_ = nullptr; }

 private:
  Napi::Value Request(const Napi::CallbackInfo& info);
  Napi::Value SetInterest(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  void Invoke(Napi::FunctionReference& fn, std::initializer_list<napi_value> args);
  // Closes the socket now (false when it was closed already).
  bool CloseCore();
  void ReleaseJs();

  ListenerCore* core_ = nullptr;
  Napi::FunctionReference on_records_, on_error_;
  JsDelivery js_;
};

}  // namespace tunl
