// Calling into JS from uv callbacks and async-work completions, in a way that
// survives a worker being terminated at any moment: worker.terminate() flips
// "may run JS" from another thread, after which every N-API call that could
// run JS fails, and node-addon-api's C++ wrappers turn such a failure into a
// fatal error. So: probe first, call with the plain C API, never throw.
#pragma once

#include <node_api.h>

#include <initializer_list>

namespace tunl {

// False once the environment may no longer run JS (a terminating worker).
inline bool CanCallJs(napi_env env) {
  napi_handle_scope scope;  // callers may have none open yet (uv callbacks)
  if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
  napi_value obj;
  napi_value value;
  bool ok = napi_create_object(env, &obj) == napi_ok && napi_get_undefined(env, &value) == napi_ok &&
            napi_set_named_property(env, obj, "probe", value) == napi_ok;  // runs the "can call into JS" check
  napi_close_handle_scope(env, scope);
  return ok;
}

// Like a uv-driven callback in Node core: async context, microtasks drained
// after. A listener that throws becomes the process's uncaught exception.
inline void CallJs(napi_env env, napi_async_context context, napi_value recv, napi_value fn,
                   std::initializer_list<napi_value> args) {
  napi_value result;
  if (napi_make_callback(env, context, recv, fn, args.size(), args.begin(), &result) == napi_ok) return;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value exception;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
  }
}

}  // namespace tunl
