#include "offload_probe.h"

#include <string.h>

#include <atomic>

#include "offload/checksum.h"
#include "offload/wire.h"

namespace tunl {

static std::atomic<int> probe_fault{0};
static std::atomic<int> write_fault{0};

int ProbeFault() { return probe_fault.load(); }
int WriteFault() { return write_fault.load(std::memory_order_relaxed); }

static void BuildSegment(uint8_t* p, size_t payload, uint32_t seq) {
  const uint8_t addr[4] = {192, 0, 2, 1};  // TEST-NET-1: never anyone's
  size_t total = 40 + payload;
  memset(p, 0, total);
  p[0] = 0x45;
  offload::Store16(p + 2, static_cast<uint16_t>(total));
  p[6] = 0x40;  // DF
  p[8] = 0;     // TTL 0: dropped by the stack, never forwarded
  p[9] = offload::kProtoTcp;
  memcpy(p + 12, addr, 4);
  memcpy(p + 16, addr, 4);
  offload::Store16(p + 10, offload::Ipv4HeaderChecksum(p, 20));
  uint8_t* t = p + 20;
  offload::Store16(t, 9);  // discard
  offload::Store16(t + 2, 9);
  offload::Store32(t + 4, seq);
  offload::Store32(t + 8, 1);  // ack 1
  t[12] = 5 << 4;
  t[13] = offload::kTcpAck;
  offload::Store16(t + 14, 65535);
  for (size_t i = 0; i < payload; i++) t[20 + i] = static_cast<uint8_t>('p' + (i % 7));
  uint64_t pseudo = offload::PseudoHeaderSum(p + 12, 4, offload::kProtoTcp, static_cast<uint32_t>(20 + payload));
  offload::Store16(t + 16, static_cast<uint16_t>(~offload::Fold(offload::SumBytes(t, 20 + payload, pseudo))));
}

void BuildProbeSegments(uint8_t* out, size_t payload, size_t* len) {
  BuildSegment(out, payload, 1000);
  BuildSegment(out + 40 + payload, payload, 1000 + static_cast<uint32_t>(payload));
  len[0] = len[1] = 40 + payload;
}

static Napi::Value SetProbeFault(const Napi::CallbackInfo& info) {
  probe_fault.store(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

static Napi::Value SetWriteFault(const Napi::CallbackInfo& info) {
  write_fault.store(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

void RegisterOffloadProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("setOffloadProbeFault", Napi::Function::New(env, SetProbeFault, "setOffloadProbeFault"));
  exports.Set("setOffloadWriteFault", Napi::Function::New(env, SetWriteFault, "setOffloadWriteFault"));
}

}  // namespace tunl
