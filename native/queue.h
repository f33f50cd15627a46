// One TUN queue fd: uv_poll readiness, batched nonblocking reads handed to
// JS once per batch, direct writes with a backlog on EAGAIN, counters.
#pragma once

#include <napi.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "js_delivery.h"
#include "poll_core.h"

namespace tunl {

class Queue;

struct QueueCounters {
  double rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, rx_errors = 0, tx_errors = 0;
};

// Packets per crossing into JS.
constexpr int kBatch = 64;
// Largest packet a TUN hands out (its maximum MTU); each read offers this much room.
constexpr size_t kMaxPacket = 65535;

class QueueCore : public PollCore {
 public:
  QueueCore(AddonData* data, int fd, Queue* wrapper) : PollCore(data, fd), wrapper_(wrapper) {}
  void SetReading(bool reading);
  // 1 written, 0 queued behind the backlog, -errno refused.
  int Write(const uint8_t* data, size_t len);
  size_t pending() const { return pending_.size(); }
  void Unhook() { wrapper_ = nullptr; }
  QueueCounters counters;

 protected:
  void OnEvents(int status, int events) override;
  void Detach() override;

 private:
  void ReadBatch();
  void Flush();
  void Fail(int err, const char* syscall);
  void Rewatch();
  Queue* wrapper_;
  bool reading_ = false;
  std::deque<std::vector<uint8_t>> pending_;
  uint32_t lengths_[kBatch];
};

class Queue : public Napi::ObjectWrap<Queue> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an open queue fd (ownership passes to the new object).
  static Napi::Object Create(Napi::Env env, int fd, int index, const std::string& ifname);
  explicit Queue(const Napi::CallbackInfo& info);
  ~Queue() override;

  // Called by the core, on the loop thread, outside any JS frame.
  void DeliverPackets(const uint8_t* data, size_t used, const uint32_t* lengths, int count);
  void DeliverDrain();
  // The core closed itself after an error; JS hears about it once.
  void CoreFailed(const SysError& err, const QueueCounters& counters);
  // The core was closed by the environment's teardown and is being freed.
  void CoreGone(const QueueCounters& counters) {
    final_counters_ = counters;
    core_ = nullptr;
  }

 private:
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // handOff() -> token: the fd, duplicated, goes to the handoff registry
  // (native/handoff.h) and this queue closes as close() would.
  Napi::Value HandOff(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value SetPersist(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);

  void Invoke(Napi::FunctionReference& fn, std::initializer_list<napi_value> args);
  void Detach();       // core closed: keep final counters, drop the core pointer
  void ReleaseJs();    // drop callbacks and the strong self-reference (deferred mid-delivery)

  QueueCore* core_ = nullptr;
  QueueCounters final_counters_;
  std::string ifname_;
  int index_ = 0;
  Napi::FunctionReference on_packets_, on_error_, on_drain_;
  Napi::Reference<Napi::Uint32Array> lengths_ref_;
  uint32_t* lengths_ = nullptr;
  JsDelivery js_;
};

}  // namespace tunl
