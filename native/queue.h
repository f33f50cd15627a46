// One TUN queue fd: uv_poll readiness, batched nonblocking reads handed to
// JS once per batch, direct writes with a backlog on EAGAIN, counters.
#pragma once

#include <napi.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "offload/offload.h"
#include "js_delivery.h"
#include "poll_core.h"

namespace tunl {

class Queue;

struct QueueCounters {
  double rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, rx_errors = 0, tx_errors = 0;
  // Offload: frames that carried more than one packet, each way; frames the
  // split refused (malformed or too big for a batch: dropped, counted).
  double rx_superframes = 0, tx_superframes = 0, split_errors = 0;
  // Superframes the kernel refused with EINVAL after the probe passed (each
  // turned coalescing off for the queue; its packets were written alone).
  double coalesce_refusals = 0;
};

// How the fd frames packets.
//   kPlain      no virtio header: one IP packet per read/write.
//   kSegmented  IFF_VNET_HDR; reads are split into ordinary packets
//               (offload::Split), batch writes coalesced (offload::Coalesce).
//   kRaw        IFF_VNET_HDR, pass-through: JS gets and gives each frame with
//               its 10-byte header in front, unsplit (relays).
enum class QueueMode { kPlain = 0, kSegmented = 1, kRaw = 2 };

// Packets per crossing into JS when each read is one packet, and the most a
// batch holds at all (a split superframe may bring more at once).
constexpr int kBatch = 64;
constexpr int kMaxBatch = 128;
// Largest packet a TUN hands out (its maximum MTU); each read offers this much room.
constexpr size_t kMaxPacket = 65535;
// Room a split superframe needs in the slab: its payload plus a copy of the
// headers (<= 120 bytes) per segment.
constexpr size_t kSplitRoom = kMaxPacket + kMaxBatch * 120;

class QueueCore : public PollCore {
 public:
  QueueCore(AddonData* data, int fd, Queue* wrapper, QueueMode mode, unsigned offload_mask);
  void SetReading(bool reading);
  // 1 written, 0 queued behind the backlog, -errno refused. In segmented
  // mode a GSO_NONE header goes in front; in raw mode `data` carries its own.
  int Write(const uint8_t* data, size_t len);
  // Segmented mode: coalesced per flow, then one writev per frame. Otherwise
  // one Write each. 1 all written, 0 some queued, -errno of the first refusal
  // (the rest are still written).
  int WriteBatch(const offload::Packet* packets, int count);
  // Writes two coalescible TCP segments with TTL 0 as one GSO frame (the
  // stack drops them): 0 when the kernel accepts coalesced writes, else the errno.
  int ProbeCoalesce();
  void SetCoalesce(bool tcp, bool udp) {
    coalesce_.tcp = tcp;
    coalesce_.udp = udp && udp_capable_;
  }
  const offload::CoalesceOptions& coalesce() const { return coalesce_; }
  QueueMode mode() const { return mode_; }
  unsigned offload_mask() const { return offload_mask_; }
  size_t pending() const { return pending_.size(); }
  void Unhook() { wrapper_ = nullptr; }
  QueueCounters counters;

 protected:
  void OnEvents(int status, int events) override;
  void Detach() override;

 private:
  void ReadBatch();
  // Accounts one read of n bytes: in place in the slab, or (segmented) from
  // frame_ split into the slab.
  void TakeRead(size_t n, uint8_t* slab, size_t slab_size, size_t* used, int* count);
  void Flush();
  static int EmitFrame(void* self, const struct iovec* iov, int iovcnt);
  int CoalescedWriteRefused(const struct iovec* iov, int iovcnt);
  int WriteFrame(const struct iovec* iov, int iovcnt);
  void Backlog(const struct iovec* iov, int iovcnt);
  void Fail(int err, const char* syscall);
  void Rewatch();
  Queue* wrapper_;
  bool reading_ = false;
  std::deque<std::vector<uint8_t>> pending_;
  uint32_t lengths_[kMaxBatch];
  QueueMode mode_;
  unsigned offload_mask_;
  bool udp_capable_;
  offload::CoalesceOptions coalesce_;
  std::vector<uint8_t> frame_;  // segmented reads land here before the split
  std::vector<uint8_t> flat_;   // small frames are copied here and written whole
};

class Queue : public Napi::ObjectWrap<Queue> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an open queue fd (ownership passes to the new object).
  static Napi::Object Create(Napi::Env env, int fd, int index, const std::string& ifname,
                             QueueMode mode = QueueMode::kPlain, unsigned offload_mask = 0);
  explicit Queue(const Napi::CallbackInfo& info);
  ~Queue() override;

  // Called by the core, on the loop thread, outside any JS frame.
  // The batch is the first `used` bytes of the environment's read slab.
  void DeliverPackets(size_t used, const uint32_t* lengths, int count);
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
  // writeBatch(packets: Uint8Array[]) -> 1 | 0 | -errno
  Napi::Value WriteBatch(const Napi::CallbackInfo& info);
  // probeCoalesce() -> 0 | errno
  Napi::Value ProbeCoalesce(const Napi::CallbackInfo& info);
  // setCoalesce(tcp, udp) -> { tcp, udp } now in force
  Napi::Value SetCoalesce(const Napi::CallbackInfo& info);
  // reuseReadBuffer(on): batches lent from one reused slab (valid during the
  // 'packets' call) instead of handed over (native/read_slab.h).
  Napi::Value ReuseReadBuffer(const Napi::CallbackInfo& info);
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
  QueueMode mode_ = QueueMode::kPlain;
  unsigned offload_mask_ = 0;
  Napi::FunctionReference on_packets_, on_error_, on_drain_;
  Napi::Reference<Napi::Uint32Array> lengths_ref_;
  uint32_t* lengths_ = nullptr;
  bool lend_ = false;
  JsDelivery js_;
};

}  // namespace tunl
