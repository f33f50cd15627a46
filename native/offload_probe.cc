#include "offload_probe.h"

#include <string.h>

#include <atomic>

namespace tunl {

static std::atomic<int> probe_fault{0};
static std::atomic<int> write_fault{0};

int ProbeFault() { return probe_fault.load(); }
int WriteFault() { return write_fault.load(std::memory_order_relaxed); }

static uint32_t SumWords(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  return sum;
}

static uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

static void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

static void BuildSegment(uint8_t* p, size_t payload, uint32_t seq) {
  const uint8_t addr[4] = {192, 0, 2, 1};  // TEST-NET-1: never anyone's
  size_t total = 40 + payload;
  memset(p, 0, total);
  p[0] = 0x45;
  Put16(p + 2, static_cast<uint16_t>(total));
  p[6] = 0x40;  // DF
  p[8] = 0;     // TTL 0: dropped by the stack, never forwarded
  p[9] = 6;     // TCP
  memcpy(p + 12, addr, 4);
  memcpy(p + 16, addr, 4);
  Put16(p + 10, Fold(SumWords(p, 20, 0)));
  uint8_t* t = p + 20;
  Put16(t, 9);      // discard
  Put16(t + 2, 9);
  t[4] = static_cast<uint8_t>(seq >> 24);
  t[5] = static_cast<uint8_t>(seq >> 16);
  t[6] = static_cast<uint8_t>(seq >> 8);
  t[7] = static_cast<uint8_t>(seq);
  t[8] = 0, t[9] = 0, t[10] = 0, t[11] = 1;  // ack 1
  t[12] = 5 << 4;
  t[13] = 0x10;  // ACK
  Put16(t + 14, 65535);
  for (size_t i = 0; i < payload; i++) t[20 + i] = static_cast<uint8_t>('p' + (i % 7));
  uint32_t pseudo = SumWords(p + 12, 8, 0) + 6 + static_cast<uint32_t>(20 + payload);
  Put16(t + 16, Fold(SumWords(t, 20 + payload, pseudo)));
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
