// Per-environment state (main thread and each worker_thread get their own):
// the error constructor handed in by JS, the netlink socket pool, the
// packet-read slab, and every uv handle still open, so the environment's
// cleanup hook can close what a worker left behind.
#pragma once

#include <napi.h>
#include <uv.h>

#include <map>
#include <memory>
#include <unordered_set>
#include <vector>

#include "netlink.h"
#include "read_slab.h"

namespace tunl {

class PollCore;

struct AddonData {
  Napi::FunctionReference error_factory;
  Napi::FunctionReference queue_ctor;
  std::shared_ptr<NlPool> pool;
  // The netlink pools of other network namespaces this environment works in,
  // by handle id (the namespace object's functions carry the id, never a
  // pointer, so a call after close() finds nothing instead of freed memory).
  std::map<uint32_t, std::shared_ptr<NlPool>> namespaces;
  // The same pools by the namespace's identity (st_dev, st_ino of its nsfs
  // inode): handles on one namespace share one pool while any of them is open.
  std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<NlPool>> pools_by_namespace;
  uint32_t next_namespace = 1;
  uv_loop_t* loop = nullptr;
  // Handles not yet through uv_close's callback (their memory is still ours).
  std::unordered_set<PollCore*> live;
  // Queue and monitor fds currently open (loop thread only).
  int poll_fds = 0;
  // Set once the environment started tearing down: no more JS calls.
  bool tearing_down = false;
  napi_async_cleanup_hook_handle cleanup_handle = nullptr;
  // One read buffer for every queue of this environment: reads on a loop
  // thread never overlap, and each batch is handed over or copied out before
  // the next (native/read_slab.h).
  ReadSlab read_slab;
};

}  // namespace tunl
