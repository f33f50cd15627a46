#include "errors.h"

#include <string.h>

#include "addon_data.h"

namespace tunl {

Napi::Value MakeError(Napi::Env env, const SysError& e) {
  const char* code = strerrorname_np(e.err);
  const char* text = strerrordesc_np(e.err);
  Napi::Object init = Napi::Object::New(env);
  init.Set("errno", Napi::Number::New(env, e.err));
  init.Set("code", code ? std::string(code) : "E" + std::to_string(e.err));
  init.Set("syscall", e.syscall);
  init.Set("message", text ? text : "Unknown error");
  if (!e.extack.empty()) init.Set("extack", e.extack);
  if (!e.ifname.empty()) init.Set("interfaceName", e.ifname);

  AddonData* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->error_factory.IsEmpty()) {
    // Plain C call: a terminating worker must get undefined here, not a fatal error.
    napi_value undefined;
    napi_value error = nullptr;
    napi_value arg = init;
    napi_get_undefined(env, &undefined);
    if (napi_call_function(env, undefined, data->error_factory.Value(), 1, &arg, &error) != napi_ok) {
      bool pending = false;
      napi_value ignored;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
      return env.Undefined();
    }
    return Napi::Value(env, error);
  }
  // Only before init() ran: still an Error with the same fields, never a string.
  Napi::Error fallback = Napi::Error::New(env, e.syscall + " " + init.Get("code").ToString().Utf8Value() + ": " +
                                                   (text ? text : "Unknown error"));
  Napi::Object obj = fallback.Value();
  for (const char* key : {"errno", "code", "syscall", "extack", "interfaceName"}) {
    if (init.Has(key)) obj.Set(key, init.Get(key));
  }
  return obj;
}

}  // namespace tunl
