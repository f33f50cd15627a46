#include "read_slab.h"

#include <stdlib.h>

#include <atomic>
#include <mutex>
#include <new>
#include <vector>

namespace tunl {

struct SlabMemory {
  std::atomic<int> refs;
  size_t size;
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
};

namespace {

// Slabs nobody holds any more, kept for the next one instead of free()d: a
// fresh malloc of this size is fresh pages, whose faults cost more than the
// copy a hand-over saves. Process-wide (Buffers of one environment may be
// finalized after it is gone), bounded, never destroyed (a finalizer may run
// during exit).
struct Spare {
  std::mutex mutex;
  std::vector<SlabMemory*> slabs;
};
constexpr size_t kMaxSpare = 16;

Spare& spare() {
  static Spare* s = new Spare();
  return *s;
}

SlabMemory* Acquire(size_t size) {
  SlabMemory* slab = nullptr;
  {
    Spare& s = spare();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (size_t i = 0; i < s.slabs.size(); i++) {
      if (s.slabs[i]->size != size) continue;
      slab = s.slabs[i];
      s.slabs[i] = s.slabs.back();
      s.slabs.pop_back();
      break;
    }
  }
  if (slab == nullptr) {
    void* memory = malloc(sizeof(SlabMemory) + size);
    if (memory == nullptr) return nullptr;
    slab = new (memory) SlabMemory();
    slab->size = size;
  }
  slab->refs.store(1);
  return slab;
}

void Release(SlabMemory* slab) {
  if (slab->refs.fetch_sub(1) != 1) return;
  Spare& s = spare();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.slabs.size() < kMaxSpare) {
      s.slabs.push_back(slab);
      return;
    }
  }
  slab->~SlabMemory();
  free(slab);
}

void ReleaseFromJs(napi_env, void*, void* hint) { Release(static_cast<SlabMemory*>(hint)); }

// A Buffer over the first `len` bytes of the slab, holding a reference to it.
bool BufferOver(napi_env env, SlabMemory* slab, size_t len, napi_value* out) {
  slab->refs.fetch_add(1);
  if (napi_create_external_buffer(env, len, slab->bytes(), ReleaseFromJs, slab, out) == napi_ok) return true;
  // Runtimes that refuse external buffers (a V8 sandbox): the caller copies.
  slab->refs.fetch_sub(1);
  return false;
}

}  // namespace

ReadSlab::~ReadSlab() {
  // lent_ is not deleted: the environment (and its references) is gone by now.
  if (slab_ != nullptr) Release(slab_);
}

uint8_t* ReadSlab::data() {
  if (slab_ == nullptr) slab_ = Acquire(size_);
  return slab_ == nullptr ? nullptr : slab_->bytes();
}

void ReadSlab::DropLent(napi_env env) {
  if (lent_ == nullptr) return;
  napi_delete_reference(env, lent_);
  lent_ = nullptr;
}

bool ReadSlab::Deliver(napi_env env, size_t used, bool lend, napi_value* out) {
  if (lend) {
    if (lent_ != nullptr && napi_get_reference_value(env, lent_, out) == napi_ok && *out != nullptr) return true;
    DropLent(env);
    if (BufferOver(env, slab_, size_, out)) {
      if (napi_create_reference(env, *out, 1, &lent_) != napi_ok) lent_ = nullptr;
      return true;
    }
  } else if (used * kHandOverShare >= size_ && BufferOver(env, slab_, used, out)) {
    // JS has this slab now: the next read takes another.
    DropLent(env);
    Release(slab_);
    slab_ = nullptr;
    return true;
  }
  return napi_create_buffer_copy(env, used, slab_->bytes(), nullptr, out) == napi_ok;
}

}  // namespace tunl
