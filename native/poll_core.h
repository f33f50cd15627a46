// The uv side of an fd watched by uv_poll (a packet queue or a link monitor).
// It is kept apart from the JS wrapper object: the wrapper can be collected
// while the uv handle is closing, and this memory is freed only in
// uv_close's callback, so a close() from inside a callback never frees memory
// that the code below it on the stack still uses.
#pragma once

#include <uv.h>

#include "addon_data.h"

namespace tunl {

class PollCore {
 public:
  PollCore(AddonData* data, int fd);
  virtual ~PollCore() = default;
  PollCore(const PollCore&) = delete;
  PollCore& operator=(const PollCore&) = delete;

  // uv_poll_init; on failure the fd is closed and the core freed by the caller.
  int Init();
  // Idempotent: stops polling, closes the fd now, frees this memory later.
  void Close();
  bool closed() const { return closed_; }
  int fd() const { return fd_; }

  // Called from the environment's teardown hook.
  static void CloseAll(AddonData* data);

 protected:
  // Sets the uv_poll interest (0 stops it).
  void Watch(int events);
  virtual void OnEvents(int status, int events) = 0;
  // Last chance to unhook from a wrapper before the memory goes.
  virtual void Detach() {}

  AddonData* data_;
  int fd_;
  bool closed_ = false;

 private:
  static void PollCallback(uv_poll_t* handle, int status, int events);
  static void ClosedCallback(uv_handle_t* handle);
  uv_poll_t poll_{};
  bool initialized_ = false;
  int watching_ = 0;
};

}  // namespace tunl
