// The buffer a loop thread's queues read their batches into, and how a batch
// gets to JS. A batch that fills a good part of the slab (superframes, full
// batches of large packets) is handed over as it lies: the slab becomes the
// batch's Buffer (external, freed when JS drops the last view of it) and the
// next read gets a fresh slab. A small batch is copied into a Buffer of its
// own size, so a few small packets never pin a whole slab.
#pragma once

#include <node_api.h>

#include <stddef.h>
#include <stdint.h>

namespace tunl {

class ReadSlab {
 public:
  ReadSlab() = default;
  ~ReadSlab();
  ReadSlab(const ReadSlab&) = delete;
  ReadSlab& operator=(const ReadSlab&) = delete;

  // The memory to read into (allocated on first use after a hand-over);
  // nullptr when out of memory.
  uint8_t* data();
  size_t size() const { return size_; }
  // Once, before the first read (the size the queues' batches need).
  void SetSize(size_t size) { size_ = size; }

  // A Buffer holding the first `used` bytes: the slab itself when the batch
  // is worth it (the slab is then JS's), else a copy. False if N-API failed.
  bool Deliver(napi_env env, size_t used, napi_value* out);

  // Batches of at least size / kHandOverShare bytes are handed over: what a
  // view can pin is then at most this many times what a copy would hold.
  static constexpr size_t kHandOverShare = 4;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tunl
