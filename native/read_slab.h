// The buffer a loop thread's queues read their batches into, and how a batch
// gets to JS. Two ways:
//  - handed over (the default): a batch that fills a good part of the slab
//    (superframes, full batches of large packets) is given to JS as it lies,
//    as the batch's Buffer, and the next read gets another slab; a small
//    batch is copied into a Buffer of its own size, so a few small packets
//    never pin a whole slab. Packets live as long as JS keeps them.
//  - lent (a queue's reuseReadBuffer(true), for relays that write what they
//    read within the listener): every batch is a view of the same slab, which
//    the next read overwrites. No allocation, and the slab stays in cache.
// Slabs are reference-counted (the reader, and each Buffer over one), so a
// Buffer over a slab can never see it freed, whatever JS does with it.
#pragma once

#include <node_api.h>

#include <stddef.h>
#include <stdint.h>

namespace tunl {

struct SlabMemory;

class ReadSlab {
 public:
  ReadSlab() = default;
  ~ReadSlab();
  ReadSlab(const ReadSlab&) = delete;
  ReadSlab& operator=(const ReadSlab&) = delete;

  // Once, before the first read (the size the queues' batches need).
  void SetSize(size_t size) { size_ = size; }
  size_t size() const { return size_; }
  // The memory to read into (another slab after a hand-over); nullptr when out of memory.
  uint8_t* data();

  // A Buffer holding the batch (its first `used` bytes): lent, handed over or
  // copied, as above. False if N-API failed.
  bool Deliver(napi_env env, size_t used, bool lend, napi_value* out);

  // Batches of at least size / kHandOverShare bytes are handed over: what a
  // view can pin is then at most this many times what a copy would hold.
  static constexpr size_t kHandOverShare = 4;

 private:
  void DropLent(napi_env env);
  SlabMemory* slab_ = nullptr;
  size_t size_ = 0;
  // The Buffer over the whole of slab_ that lent batches reuse (one per slab).
  napi_ref lent_ = nullptr;
};

}  // namespace tunl
