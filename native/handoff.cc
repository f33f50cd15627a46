#include "handoff.h"

#include <errno.h>
#include <unistd.h>

#include <mutex>
#include <random>
#include <unordered_map>

#include "errors.h"
#include "queue.h"

namespace tunl {

static std::mutex registry_mutex;
static std::unordered_map<uint64_t, HandedQueue> registry;

// Tokens are random (53 bits, exact in a JS number): a stale or guessed one finds nothing.
static uint64_t NewToken() {
  static std::mt19937_64 rng{std::random_device{}()};
  return (rng() & ((uint64_t{1} << 53) - 1)) | 1;
}

double DepositQueue(const HandedQueue& q) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  uint64_t token;
  do token = NewToken(); while (registry.count(token) != 0);
  registry[token] = q;
  return static_cast<double>(token);
}

bool WithdrawQueue(double token, HandedQueue* out) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto found = registry.find(static_cast<uint64_t>(token));
  if (found == registry.end()) return false;
  *out = found->second;
  registry.erase(found);
  return true;
}

static Napi::Value AdoptQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HandedQueue q;
  if (!WithdrawQueue(info[0].As<Napi::Number>().DoubleValue(), &q)) {
    SysError err;
    err.Set(EBADF, "adoptQueue");
    throw Napi::Error(env, MakeError(env, err));
  }
  try {
    return Queue::Create(env, q.fd, q.index, q.ifname, static_cast<QueueMode>(q.mode), q.offload_mask);
  } catch (...) {
    close(q.fd);
    throw;
  }
}

static Napi::Value ReclaimQueue(const Napi::CallbackInfo& info) {
  HandedQueue q;
  bool found = WithdrawQueue(info[0].As<Napi::Number>().DoubleValue(), &q);
  if (found) close(q.fd);
  return Napi::Boolean::New(info.Env(), found);
}

void RegisterHandoff(Napi::Env env, Napi::Object exports) {
  exports.Set("adoptQueue", Napi::Function::New(env, AdoptQueue, "adoptQueue"));
  exports.Set("reclaimQueue", Napi::Function::New(env, ReclaimQueue, "reclaimQueue"));
}

}  // namespace tunl
