// Queues handed from one environment (thread) to another: the owner deposits a
// duplicate of the queue fd under a token and closes its own; a worker_thread
// withdraws it and wraps it in a queue of its own environment (the addon is
// context-aware: each environment polls on its own loop). Process-wide, under
// a mutex. A token never withdrawn is reclaimed (closed) by the owner.
#pragma once

#include <napi.h>

#include <stdint.h>

#include <string>

namespace tunl {

struct HandedQueue {
  int fd = -1;
  int index = 0;
  std::string ifname;
  int mode = 0;            // QueueMode: the fd's framing goes with it
  unsigned offload_mask = 0;
};

// Takes ownership of q.fd; returns its token.
double DepositQueue(const HandedQueue& q);
// Moves the entry out (the caller owns the fd); false for an unknown token.
bool WithdrawQueue(double token, HandedQueue* out);

// adoptQueue(token) -> TunQueue, reclaimQueue(token) -> boolean (closed one never adopted).
void RegisterHandoff(Napi::Env env, Napi::Object exports);

}  // namespace tunl
