#include "queue.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "handoff.h"
#include "js_call.h"
#include "offload_probe.h"
#include "task.h"
#include "tun.h"

namespace tunl {

// Errors after which the fd is useless: the device is gone or the fd broken.
// (EIO only means the link is down: the packet is dropped, the fd lives on.)
static bool IsFatal(int err) {
  return err == EBADFD || err == EBADF || err == ENODEV || err == ENXIO || err == EPIPE;
}

// ---------------------------------------------------------------- core

QueueCore::QueueCore(AddonData* data, int fd, Queue* wrapper, QueueMode mode, unsigned offload_mask)
    : PollCore(data, fd), wrapper_(wrapper), mode_(mode), offload_mask_(offload_mask) {
  // TUN_F_USO4|TUN_F_USO6: without them a UDP superframe is refused.
  udp_capable_ = (offload_mask & 0x60) == 0x60;
  coalesce_.tcp = (offload_mask & 0x06) != 0;
  coalesce_.udp = udp_capable_;
  if (mode_ == QueueMode::kSegmented) frame_.resize(offload::kVnetHdrLen + kMaxPacket);
}

void QueueCore::SetReading(bool reading) {
  reading_ = reading;
  Rewatch();
}

void QueueCore::Rewatch() {
  Watch((reading_ ? UV_READABLE : 0) | (pending_.empty() ? 0 : UV_WRITABLE));
}

int QueueCore::Write(const uint8_t* data, size_t len) {
  if (mode_ == QueueMode::kSegmented) {
    uint8_t none[offload::kVnetHdrLen] = {};  // GSO_NONE, no flags: an ordinary packet
    struct iovec iov[2] = {{none, sizeof none}, {const_cast<uint8_t*>(data), len}};
    return WriteFrame(iov, 2);
  }
  if (closed_) return -EBADF;
  if (!pending_.empty()) {
    // Keep order: nothing overtakes the backlog.
    pending_.emplace_back(data, data + len);
    return 0;
  }
  for (;;) {
    ssize_t n = write(fd_, data, len);
    if (n >= 0) {
      counters.tx_packets++;
      counters.tx_bytes += static_cast<double>(n);
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      pending_.emplace_back(data, data + len);
      Rewatch();
      return 0;
    }
    counters.tx_errors++;
    return -errno;
  }
}

// Keeps order: once anything waits, every later frame waits behind it.
void QueueCore::Backlog(const struct iovec* iov, int iovcnt) {
  std::vector<uint8_t> frame;
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++) total += iov[i].iov_len;
  frame.reserve(total);
  for (int i = 0; i < iovcnt; i++) {
    const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
    frame.insert(frame.end(), p, p + iov[i].iov_len);
  }
  pending_.push_back(std::move(frame));
}

// Frames up to this size are copied into one buffer and written; larger ones
// are gathered by writev. Measured with bench/c/writev_vs_copy.c (2 cores,
// Linux 6.18, 1448-byte pieces): the copy is 10-15 % cheaper up to ~12
// pieces, writev 10-20 % cheaper from ~16 on (no 64 KiB memcpy).
constexpr size_t kCopyBelow = 16 * 1024;

// One frame, virtio header first.
int QueueCore::WriteFrame(const struct iovec* iov, int iovcnt) {
  if (closed_) return -EBADF;
  if (!pending_.empty()) {
    Backlog(iov, iovcnt);
    return 0;
  }
  bool superframe = static_cast<const uint8_t*>(iov[0].iov_base)[1] != offload::kGsoNone;
  if (superframe && WriteFault() != 0) {
    counters.tx_errors++;
    return -WriteFault();
  }
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++) total += iov[i].iov_len;
  struct iovec flat;
  if (iovcnt > 1 && total <= kCopyBelow) {
    if (flat_.size() < kCopyBelow) flat_.resize(kCopyBelow);
    size_t at = 0;
    for (int i = 0; i < iovcnt; i++) {
      memcpy(flat_.data() + at, iov[i].iov_base, iov[i].iov_len);
      at += iov[i].iov_len;
    }
    flat = {flat_.data(), total};
    iov = &flat;
    iovcnt = 1;
  }
  for (;;) {
    ssize_t n = iovcnt == 1 ? write(fd_, iov[0].iov_base, iov[0].iov_len) : writev(fd_, iov, iovcnt);
    if (n >= 0) {
      counters.tx_packets++;
      counters.tx_bytes += static_cast<double>(n) - offload::kVnetHdrLen;
      if (superframe) counters.tx_superframes++;
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      Backlog(iov, iovcnt);
      Rewatch();
      return 0;
    }
    counters.tx_errors++;
    return -errno;
  }
}

struct BatchWrite {
  QueueCore* core;
  int result;
};

int QueueCore::EmitFrame(void* ctx, const struct iovec* iov, int iovcnt) {
  BatchWrite* batch = static_cast<BatchWrite*>(ctx);
  int r = batch->core->WriteFrame(iov, iovcnt);
  if (r == -EINVAL && static_cast<const uint8_t*>(iov[0].iov_base)[1] != offload::kGsoNone) {
    r = batch->core->CoalescedWriteRefused(iov, iovcnt);
  }
  if (r < 0 && batch->result >= 0) batch->result = r;
  if (r == 0 && batch->result == 1) batch->result = 0;
  // A fatal error ends the batch: the fd is useless. Others (EIO: link down)
  // cost that frame only.
  return r < 0 && IsFatal(-r) ? r : 0;
}

// The kernel took the probe but refused this superframe (a kernel with a
// stricter check, more UDP segments than it allows...): coalescing goes off
// for this queue, counted, and the frame's packets are written one by one,
// so nothing is lost.
int QueueCore::CoalescedWriteRefused(const struct iovec* iov, int iovcnt) {
  counters.coalesce_refusals++;
  counters.tx_errors--;  // WriteFrame counted the refusal; the packets go out below
  coalesce_.tcp = coalesce_.udp = false;
  std::vector<uint8_t> frame;
  for (int i = 0; i < iovcnt; i++) {
    const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
    frame.insert(frame.end(), p, p + iov[i].iov_len);
  }
  std::vector<uint8_t> out(kSplitRoom);
  uint32_t lengths[kMaxBatch];
  int got = offload::Split(frame.data(), frame.size(), out.data(), out.size(), lengths, kMaxBatch);
  if (got < 0) {
    counters.tx_errors++;
    return -EINVAL;
  }
  int result = 1;
  size_t at = 0;
  for (int i = 0; i < got; i++) {
    int r = Write(out.data() + at, lengths[i]);
    at += lengths[i];
    if (r < 0 && result >= 0) result = r;
    if (r == 0 && result == 1) result = 0;
  }
  return result;
}

int QueueCore::WriteBatch(const offload::Packet* packets, int count) {
  if (closed_) return -EBADF;
  if (mode_ != QueueMode::kSegmented) {
    int result = 1;
    for (int i = 0; i < count; i++) {
      int r = Write(packets[i].data, packets[i].len);
      if (r < 0 && result >= 0) result = r;
      if (r == 0 && result == 1) result = 0;
      if (r < 0 && IsFatal(-r)) break;
    }
    return result;
  }
  BatchWrite batch{this, 1};
  int r = offload::Coalesce(packets, count, coalesce_, &QueueCore::EmitFrame, &batch);
  if (r < 0 && batch.result >= 0) batch.result = r;
  return batch.result;
}

int QueueCore::ProbeCoalesce() {
  if (closed_) return EBADF;
  if (mode_ != QueueMode::kSegmented) return EOPNOTSUPP;
  if (ProbeFault() != 0) return ProbeFault();
  uint8_t bytes[2 * (40 + 64)];
  size_t len[2];
  BuildProbeSegments(bytes, 64, len);
  offload::Packet packets[2] = {{bytes, len[0]}, {bytes + len[0], len[1]}};
  struct Probe {
    int fd;
    int err;
    bool coalesced;
  } probe{fd_, 0, false};
  offload::CoalesceOptions tcp_only;
  tcp_only.udp = false;
  offload::Coalesce(packets, 2, tcp_only, [](void* ctx, const struct iovec* iov, int iovcnt) {
    Probe* p = static_cast<Probe*>(ctx);
    if (static_cast<const uint8_t*>(iov[0].iov_base)[1] != offload::kGsoNone) p->coalesced = true;
    if (writev(p->fd, iov, iovcnt) < 0 && p->err == 0) p->err = errno;
    return 0;
  }, &probe);
  // The probe packets were built to coalesce; if they did not, the probe said nothing.
  if (probe.err == 0 && !probe.coalesced) return ENOTSUP;
  return probe.err;
}

void QueueCore::OnEvents(int status, int events) {
  if (status < 0) {
    // libuv turns EPOLLERR into UV_EBADF. The TUN driver raises EPOLLERR only
    // when the fd is detached from its device or the device is unregistering:
    // a read says EBADFD in the first case; in the second (the read still
    // looks fine for a moment) the device is being deleted all the same.
    uint8_t probe[1];
    ssize_t n = read(fd_, probe, 0);
    counters.rx_errors++;
    if (n < 0 && errno != EAGAIN && errno != EINTR) Fail(errno, "read");
    else Fail(status == UV_EBADF ? EBADFD : -status, "poll");
    return;
  }
  if (events & UV_WRITABLE) Flush();
  if (closed_) return;
  if ((events & UV_READABLE) && reading_) ReadBatch();
}

void QueueCore::ReadBatch() {
  ReadSlab& slab = data_->read_slab;
  uint8_t* base = slab.data();
  if (base == nullptr) return;  // out of memory: the fd stays readable, the next turn tries again
  size_t used = 0;
  int count = 0;
  int error = 0;
  const bool split = mode_ == QueueMode::kSegmented;
  // Room one read needs in the slab: a raw frame keeps its virtio header in
  // front; a split superframe repeats its headers per segment. Segmented reads
  // stop at kBatch packets too: the kMaxBatch - kBatch slots left take the
  // segments of one more superframe (64 at gso_size >= 1024), so no frame
  // read is lost to a full batch.
  const size_t room = split ? kSplitRoom : mode_ == QueueMode::kRaw ? kMaxPacket + offload::kVnetHdrLen : kMaxPacket;
  while (count < kBatch && slab.size() - used >= room) {
    ssize_t n = split ? read(fd_, frame_.data(), frame_.size()) : read(fd_, base + used, room);
    if (n > 0) {
      TakeRead(static_cast<size_t>(n), base, slab.size(), &used, &count);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    error = n == 0 ? EIO : errno;
    counters.rx_errors++;
    break;
  }
  // The callback may close the queue (even this core's fd): only the closed
  // flag is read after it; the memory lives until uv_close's callback.
  if (count > 0 && wrapper_ != nullptr) wrapper_->DeliverPackets(used, lengths_, count);
  if (closed_) return;
  if (error != 0) Fail(error, "read");
}

void QueueCore::TakeRead(size_t n, uint8_t* slab, size_t slab_size, size_t* used, int* count) {
  if (mode_ != QueueMode::kSegmented) {
    if (mode_ == QueueMode::kRaw && slab[*used + 1] != offload::kGsoNone) counters.rx_superframes++;
    lengths_[(*count)++] = static_cast<uint32_t>(n);
    *used += n;
    counters.rx_packets++;
    counters.rx_bytes += static_cast<double>(n);
    return;
  }
  int got = offload::Split(frame_.data(), n, slab + *used, slab_size - *used, lengths_ + *count, kMaxBatch - *count);
  if (got < 0) {
    // Malformed, or more segments than a batch holds: dropped, counted.
    counters.split_errors++;
    counters.rx_errors++;
    return;
  }
  if (got > 1) counters.rx_superframes++;
  for (int i = 0; i < got; i++) {
    *used += lengths_[*count + i];
    counters.rx_bytes += static_cast<double>(lengths_[*count + i]);
  }
  counters.rx_packets += got;
  *count += got;
}

void QueueCore::Flush() {
  while (!pending_.empty()) {
    std::vector<uint8_t>& packet = pending_.front();
    ssize_t n = write(fd_, packet.data(), packet.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // still full: stay subscribed to UV_WRITABLE
    if (n < 0) {
      int err = errno;
      counters.tx_errors++;
      pending_.pop_front();
      if (IsFatal(err)) {
        Fail(err, "write");
        return;
      }
      continue;
    }
    counters.tx_packets++;
    counters.tx_bytes += static_cast<double>(n) - (mode_ == QueueMode::kSegmented ? offload::kVnetHdrLen : 0);
    pending_.pop_front();
  }
  Rewatch();
  if (wrapper_ != nullptr) wrapper_->DeliverDrain();
}

void QueueCore::Fail(int err, const char* syscall) {
  Queue* wrapper = wrapper_;
  wrapper_ = nullptr;
  SysError e;
  e.Set(err, syscall);
  QueueCounters last = counters;
  Close();
  if (wrapper != nullptr) wrapper->CoreFailed(e, last);
}

void QueueCore::Detach() {
  if (wrapper_ != nullptr) wrapper_->CoreGone(counters);
  wrapper_ = nullptr;
}

// ---------------------------------------------------------------- wrapper

Napi::Function Queue::Define(Napi::Env env) {
  return DefineClass(env, "TunQueue",
                     {
                         InstanceMethod<&Queue::Bind>("bind"),
                         InstanceMethod<&Queue::Write>("write"),
                         InstanceMethod<&Queue::WriteBatch>("writeBatch"),
                         InstanceMethod<&Queue::ProbeCoalesce>("probeCoalesce"),
                         InstanceMethod<&Queue::SetCoalesce>("setCoalesce"),
                         InstanceMethod<&Queue::ReuseReadBuffer>("reuseReadBuffer"),
                         InstanceMethod<&Queue::Pause>("pause"),
                         InstanceMethod<&Queue::Resume>("resume"),
                         InstanceMethod<&Queue::Close>("close"),
                         InstanceMethod<&Queue::HandOff>("handOff"),
                         InstanceMethod<&Queue::Stats>("stats"),
                         InstanceMethod<&Queue::SetPersist>("setPersist"),
                         InstanceAccessor<&Queue::GetClosed>("closed"),
                     });
}

Napi::Object Queue::Create(Napi::Env env, int fd, int index, const std::string& ifname, QueueMode mode,
                           unsigned offload_mask) {
  AddonData* data = env.GetInstanceData<AddonData>();
  return data->queue_ctor.New({Napi::External<void>::New(env, nullptr), Napi::Number::New(env, fd),
                               Napi::Number::New(env, index), Napi::String::New(env, ifname),
                               Napi::Number::New(env, static_cast<int>(mode)),
                               Napi::Number::New(env, static_cast<double>(offload_mask))});
}

Queue::Queue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Queue>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(env, "TunQueue objects are made by openDevice()");
  }
  int fd = info[1].As<Napi::Number>().Int32Value();
  index_ = info[2].As<Napi::Number>().Int32Value();
  ifname_ = info[3].As<Napi::String>().Utf8Value();
  mode_ = static_cast<QueueMode>(info[4].As<Napi::Number>().Int32Value());
  offload_mask_ = info[5].As<Napi::Number>().Uint32Value();
  AddonData* data = env.GetInstanceData<AddonData>();
  core_ = new QueueCore(data, fd, this, mode_, offload_mask_);
  int r = core_->Init();
  if (r != 0) {
    core_->Close();  // closes the fd and frees the core
    core_ = nullptr;
    SysError e;
    e.Set(-r, "uv_poll_init");
    e.ifname = ifname_;
    throw Napi::Error(env, MakeError(env, e));
  }
  // An open queue is a live resource: it must not be collected until closed.
  Ref();
}

Queue::~Queue() {
  if (core_ != nullptr) {
    core_->Unhook();
    core_->Close();
    core_ = nullptr;
  }
}

Napi::Value Queue::Bind(const Napi::CallbackInfo& info) {
  on_packets_ = Napi::Persistent(info[0].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[1].As<Napi::Function>());
  on_drain_ = Napi::Persistent(info[2].As<Napi::Function>());
  Napi::Uint32Array lengths = info[3].As<Napi::Uint32Array>();
  if (lengths.ElementLength() < static_cast<size_t>(kMaxBatch)) {
    throw Napi::RangeError::New(info.Env(), "lengths must hold at least 128 entries");
  }
  lengths_ref_ = Napi::Persistent(lengths);
  lengths_ = lengths.Data();
  js_.Begin(info.Env(), "TunQueue", Value());
  return info.Env().Undefined();
}

Napi::Value Queue::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_ == nullptr) return Napi::Number::New(env, -EBADF);
  Napi::Uint8Array packet = info[0].As<Napi::Uint8Array>();
  return Napi::Number::New(env, core_->Write(packet.Data(), packet.ByteLength()));
}

Napi::Value Queue::WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_ == nullptr) return Napi::Number::New(env, -EBADF);
  Napi::Array list = info[0].As<Napi::Array>();
  uint32_t count = list.Length();
  // The views stay valid for the call: the array holds them.
  std::vector<offload::Packet> packets(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Uint8Array packet = list.Get(i).As<Napi::Uint8Array>();
    packets[i] = {packet.Data(), packet.ByteLength()};
  }
  return Napi::Number::New(env, core_->WriteBatch(packets.data(), static_cast<int>(count)));
}

Napi::Value Queue::ProbeCoalesce(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_ == nullptr ? EBADF : core_->ProbeCoalesce());
}

Napi::Value Queue::SetCoalesce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (core_ != nullptr) {
    core_->SetCoalesce(info[0].As<Napi::Boolean>().Value(), info[1].As<Napi::Boolean>().Value());
    out.Set("tcp", core_->coalesce().tcp);
    out.Set("udp", core_->coalesce().udp);
  }
  return out;
}

Napi::Value Queue::ReuseReadBuffer(const Napi::CallbackInfo& info) {
  lend_ = info[0].As<Napi::Boolean>().Value();
  return info.Env().Undefined();
}

Napi::Value Queue::Pause(const Napi::CallbackInfo& info) {
  if (core_ != nullptr) core_->SetReading(false);
  return info.Env().Undefined();
}

Napi::Value Queue::Resume(const Napi::CallbackInfo& info) {
  if (core_ != nullptr) core_->SetReading(true);
  return info.Env().Undefined();
}

void Queue::Detach() {
  if (core_ == nullptr) return;
  final_counters_ = core_->counters;
  core_->Unhook();
  core_ = nullptr;
}

Napi::Value Queue::Close(const Napi::CallbackInfo& info) {
  if (core_ != nullptr) {
    QueueCore* core = core_;
    Detach();
    core->Close();
    ReleaseJs();
  }
  return info.Env().Undefined();
}

Napi::Value Queue::HandOff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SysError err;
  if (core_ == nullptr) {
    err.Set(EBADF, "handOff");
    throw Napi::Error(env, MakeError(env, err));
  }
  // A duplicate is the same TUN queue (same file): closing ours keeps it attached.
  int fd = fcntl(core_->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    err.Set(errno, "fcntl(F_DUPFD_CLOEXEC)");
    throw Napi::Error(env, MakeError(env, err));
  }
  double token = DepositQueue(HandedQueue{fd, index_, ifname_, static_cast<int>(mode_), offload_mask_});
  Close(info);
  return Napi::Number::New(env, token);
}

Napi::Value Queue::GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), core_ == nullptr); }

Napi::Value Queue::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const QueueCounters& c = core_ != nullptr ? core_->counters : final_counters_;
  Napi::Object out = Napi::Object::New(env);
  out.Set("rxPackets", c.rx_packets);
  out.Set("rxBytes", c.rx_bytes);
  out.Set("txPackets", c.tx_packets);
  out.Set("txBytes", c.tx_bytes);
  out.Set("txErrors", c.tx_errors);
  out.Set("rxErrors", c.rx_errors);
  out.Set("rxSuperframes", c.rx_superframes);
  out.Set("txSuperframes", c.tx_superframes);
  out.Set("splitErrors", c.split_errors);
  out.Set("coalesceRefusals", c.coalesce_refusals);
  out.Set("pendingWrites", static_cast<double>(core_ != nullptr ? core_->pending() : 0));
  return out;
}

Napi::Value Queue::SetPersist(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool persist = info[0].As<Napi::Boolean>().Value();
  // The ioctl runs on the threadpool against a duplicate, so a close() on
  // the loop meanwhile cannot hand the number to some other file.
  int dup_fd = core_ != nullptr ? fcntl(core_->fd(), F_DUPFD_CLOEXEC, 0) : -1;
  int dup_errno = core_ == nullptr ? EBADF : errno;
  std::string ifname = ifname_;
  return Task::Start(env, "TunSetPersist", nullptr, 0, [dup_fd, dup_errno, persist, ifname](NlSocket*, SysError* err) {
    err->ifname = ifname;
    if (dup_fd < 0) {
      err->Set(dup_errno, "ioctl(TUNSETPERSIST)");
      return;
    }
    if (tunl::SetPersist(dup_fd, persist, err)) err->ifname.clear();
    close(dup_fd);
  });
}

void Queue::Invoke(Napi::FunctionReference& ref, std::initializer_list<napi_value> args) {
  if (js_.Invoke(Env(), Value(), ref, args)) ReleaseJs();
}

void Queue::DeliverPackets(size_t used, const uint32_t* lengths, int count) {
  AddonData* addon = Env().GetInstanceData<AddonData>();
  if (addon->tearing_down || lengths_ == nullptr) return;
  napi_env env = Env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value batch;
  napi_value n;
  if (CanCallJs(env) && addon->read_slab.Deliver(env, used, lend_, &batch) &&
      napi_create_uint32(env, static_cast<uint32_t>(count), &n) == napi_ok) {
    memcpy(lengths_, lengths, sizeof(uint32_t) * static_cast<size_t>(count));
    Invoke(on_packets_, {batch, n});
  }
  napi_close_handle_scope(env, scope);
}

void Queue::DeliverDrain() {
  AddonData* addon = Env().GetInstanceData<AddonData>();
  if (addon->tearing_down || !CanCallJs(Env())) return;
  Napi::HandleScope scope(Env());
  Invoke(on_drain_, {});
}

void Queue::CoreFailed(const SysError& err, const QueueCounters& counters) {
  final_counters_ = counters;
  core_ = nullptr;
  AddonData* addon = Env().GetInstanceData<AddonData>();
  if (!addon->tearing_down && CanCallJs(Env())) {
    Napi::HandleScope scope(Env());
    SysError named = err;
    named.ifname = ifname_;
    Invoke(on_error_, {MakeError(Env(), named)});
  }
  ReleaseJs();
}

void Queue::ReleaseJs() {
  if (!js_.Release()) return;
  on_packets_.Reset();
  on_error_.Reset();
  on_drain_.Reset();
  lengths_ref_.Reset();
  lengths_ = nullptr;
  Unref();
}

}  // namespace tunl
