// The JS callbacks of one wrapped object (a queue, a link monitor) and their
// release. A callback may close its own object, which asks for the release
// while the call is still on the stack; the release then waits until the
// outermost call has returned, so no reference is reset under a running call.
#pragma once

#include <napi.h>

#include <initializer_list>
#include <memory>

#include "js_call.h"

namespace tunl {

class JsDelivery {
 public:
  // Calls may go out once there is an async context (named for async_hooks).
  void Begin(Napi::Env env, const char* name, Napi::Object resource) {
    async_ = std::make_unique<Napi::AsyncContext>(env, name, resource);
  }

  // Calls ref with self and args (nothing once released or before Begin).
  // True when a release was asked for during the call: it is due now.
  bool Invoke(napi_env env, napi_value self, Napi::FunctionReference& ref, std::initializer_list<napi_value> args) {
    if (ref.IsEmpty() || !async_) return false;
    napi_value fn = ref.Value();  // a local handle: ref may be reset inside the call
    if (self == nullptr) napi_get_undefined(env, &self);
    delivering_++;
    CallJs(env, *async_, self, fn, args);
    delivering_--;
    if (delivering_ > 0 || !release_pending_) return false;
    release_pending_ = false;
    return true;
  }

  // True when the owner must drop its references now; false when already
  // released, or deferred until the running call returns (Invoke says so).
  bool Release() {
    if (released_) return false;
    if (delivering_ > 0) {
      release_pending_ = true;
      return false;
    }
    released_ = true;
    async_.reset();
    return true;
  }

 private:
  std::unique_ptr<Napi::AsyncContext> async_;
  int delivering_ = 0;
  bool release_pending_ = false;
  bool released_ = false;
};

}  // namespace tunl
