#include "read_slab.h"

#include <stdlib.h>

#include <mutex>
#include <vector>

namespace tunl {

namespace {

// Slabs JS let go of, kept for the next hand-over instead of free()d: a fresh
// malloc of this size is fresh pages, and their faults cost more than the
// copy the hand-over saves. Process-wide (finalizers of one environment's
// Buffers may run after it is gone), bounded, never destroyed (a finalizer
// may run during exit).
struct Spare {
  std::mutex mutex;
  std::vector<std::pair<void*, size_t>> slabs;
};
constexpr size_t kMaxSpare = 16;

Spare& spare() {
  static Spare* s = new Spare();
  return *s;
}

void* TakeSpare(size_t size) {
  Spare& s = spare();
  std::lock_guard<std::mutex> lock(s.mutex);
  for (size_t i = 0; i < s.slabs.size(); i++) {
    if (s.slabs[i].second != size) continue;
    void* data = s.slabs[i].first;
    s.slabs[i] = s.slabs.back();
    s.slabs.pop_back();
    return data;
  }
  return nullptr;
}

void GiveBack(napi_env, void* data, void* hint) {
  size_t size = reinterpret_cast<size_t>(hint);
  Spare& s = spare();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.slabs.size() < kMaxSpare) {
      s.slabs.emplace_back(data, size);
      return;
    }
  }
  free(data);
}

}  // namespace

ReadSlab::~ReadSlab() { free(data_); }

uint8_t* ReadSlab::data() {
  if (data_ == nullptr) data_ = static_cast<uint8_t*>(TakeSpare(size_));
  if (data_ == nullptr) data_ = static_cast<uint8_t*>(malloc(size_));
  return data_;
}

bool ReadSlab::Deliver(napi_env env, size_t used, napi_value* out) {
  if (used * kHandOverShare >= size_) {
    // Runtimes that refuse external buffers (a V8 sandbox) get the copy below.
    if (napi_create_external_buffer(env, used, data_, GiveBack, reinterpret_cast<void*>(size_), out) == napi_ok) {
      data_ = nullptr;
      return true;
    }
  }
  return napi_create_buffer_copy(env, used, data_, nullptr, out) == napi_ok;
}

}  // namespace tunl
