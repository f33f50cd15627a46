// offloadSplit(frame, maxPackets?) and offloadCoalesce(packets, options): thin
// wrappers over offload::Split and offload::Coalesce. A refusal is thrown as
// the addon's TunSystemError (EINVAL / ENOBUFS) with syscall 'offloadSplit'
// (or 'offloadCoalesce').
#include "offload_js.h"

#include <vector>

#include "../errors.h"
#include "offload.h"

namespace tunl {

namespace {

// Room for the worst split of a 64 KiB frame: every segment repeats the
// largest headers (IPv4 60 + TCP 60, or IPv6 with extension headers).
constexpr size_t kSplitOutCap = 1024 * 1024;

Napi::Value OffloadSplit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "offloadSplit(frame: Uint8Array)");
  Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
  int max_packets = 128;
  if (info.Length() > 1 && info[1].IsNumber()) max_packets = info[1].As<Napi::Number>().Int32Value();
  if (max_packets < 0 || max_packets > 65536) throw Napi::RangeError::New(env, "maxPackets: 0..65536");
  std::vector<uint8_t> out(kSplitOutCap);
  std::vector<uint32_t> lengths(max_packets > 0 ? max_packets : 1);
  int n = offload::Split(frame.Data(), frame.ByteLength(), out.data(), out.size(), lengths.data(), max_packets);
  if (n < 0) {
    SysError err;
    err.Set(-n, "offloadSplit");
    throw Napi::Error(env, MakeError(env, err));
  }
  size_t total = 0;
  Napi::Array lens = Napi::Array::New(env, n);
  for (int i = 0; i < n; i++) {
    total += lengths[i];
    lens.Set(i, Napi::Number::New(env, lengths[i]));
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), total));
  result.Set("lengths", lens);
  return result;
}

// Each emitted frame becomes one Buffer: its iovecs concatenated.
int CollectFrame(void* ctx, const struct iovec* iov, int iovcnt) {
  auto* frames = static_cast<std::vector<std::vector<uint8_t>>*>(ctx);
  std::vector<uint8_t> frame;
  for (int i = 0; i < iovcnt; i++) {
    const uint8_t* base = static_cast<const uint8_t*>(iov[i].iov_base);
    frame.insert(frame.end(), base, base + iov[i].iov_len);
  }
  frames->push_back(std::move(frame));
  return 0;
}

Napi::Value OffloadCoalesce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "offloadCoalesce(packets: Uint8Array[], options?)");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<offload::Packet> packets;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsTypedArray()) throw Napi::TypeError::New(env, "offloadCoalesce: every packet must be a Uint8Array");
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    packets.push_back({bytes.Data(), bytes.ByteLength()});
  }
  offload::CoalesceOptions options;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Has("tcp")) options.tcp = o.Get("tcp").ToBoolean();
    if (o.Has("udp")) options.udp = o.Get("udp").ToBoolean();
  }
  std::vector<std::vector<uint8_t>> frames;
  int n = offload::Coalesce(packets.data(), static_cast<int>(packets.size()), options, CollectFrame, &frames);
  if (n < 0) {
    SysError err;
    err.Set(-n, "offloadCoalesce");
    throw Napi::Error(env, MakeError(env, err));
  }
  Napi::Array result = Napi::Array::New(env, frames.size());
  for (size_t i = 0; i < frames.size(); i++) {
    result.Set(i, Napi::Buffer<uint8_t>::Copy(env, frames[i].data(), frames[i].size()));
  }
  return result;
}

}  // namespace

void RegisterOffload(Napi::Env env, Napi::Object exports) {
  exports.Set("offloadSplit", Napi::Function::New(env, OffloadSplit, "offloadSplit"));
  exports.Set("offloadCoalesce", Napi::Function::New(env, OffloadCoalesce, "offloadCoalesce"));
}

}  // namespace tunl
