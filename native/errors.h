// A kernel failure as plain data, filled in on whatever thread made the call
// (threadpool or loop) and turned into a JS TunSystemError on the loop thread.
#pragma once

#include <napi.h>

#include <string>

namespace tunl {

struct SysError {
  int err = 0;             // positive errno; 0 means no error
  std::string syscall;     // 'ioctl(TUNSETIFF)', 'RTM_NEWADDR', 'read' ...
  std::string extack;      // NLMSGERR_ATTR_MSG, when the kernel gave one
  std::string ifname;      // the interface the call was about, when known

  bool failed() const { return err != 0; }
  void Set(int e, const std::string& call) {
    err = e;
    syscall = call;
  }
};

// Builds the error through the constructor the JS side registered at load
// (TunSystemError), so every error the addon raises is the same class.
Napi::Value MakeError(Napi::Env env, const SysError& e);

}  // namespace tunl
