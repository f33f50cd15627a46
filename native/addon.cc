// Module entry: per-environment state, the teardown hook, and the exports.
// Context-aware (NODE_API_MODULE), so each worker_thread gets its own state.
#include <napi.h>

#include "addon_data.h"
#include "handoff.h"
#include "offload/offload_js.h"
#include "monitor.h"
#include "ops.h"
#include "poll_core.h"
#include "offload_probe.h"
#include "queue.h"

namespace tunl {

// Runs when the environment (a worker, or the main thread at exit) is torn
// down: close every queue and monitor it left open, and let uv_close finish
// before Node closes the loop.
static void TeardownHook(napi_async_cleanup_hook_handle handle, void* arg) {
  AddonData* data = static_cast<AddonData*>(arg);
  data->tearing_down = true;
  data->pool->Drain();
  data->namespaces.clear();  // pools still used by a running task go when it ends
  data->pools_by_namespace.clear();
  if (data->live.empty()) {
    napi_remove_async_cleanup_hook(handle);
    return;
  }
  data->cleanup_handle = handle;
  PollCore::CloseAll(data);  // the last uv_close callback removes the hook
}

// init(errorFactory): the JS side hands in (init) => new TunSystemError(init).
static Napi::Value InitJs(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  data->error_factory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// stepLayout: the packed step layout of native/ops.h, for the TypeScript packer.
static Napi::Object StepLayout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  for (const NamedConstant& constant : kStepLayout) layout.Set(constant.name, constant.value);
  layout.Freeze();
  return layout;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  env.SetInstanceData(data);
  data->pool = std::make_shared<NlPool>(2);
  data->read_slab.SetSize(kBatch * 2048 + kSplitRoom);
  if (napi_get_uv_event_loop(env, &data->loop) != napi_ok) {
    throw Napi::Error::New(env, "tun_lifecycle: no uv loop");
  }
  napi_async_cleanup_hook_handle ignored;
  if (napi_add_async_cleanup_hook(env, TeardownHook, data, &ignored) != napi_ok) {
    throw Napi::Error::New(env, "tun_lifecycle: cannot register the cleanup hook");
  }
  data->queue_ctor = Napi::Persistent(Queue::Define(env));
  exports.Set("init", Napi::Function::New(env, InitJs, "init"));
  exports.Set("stepLayout", StepLayout(env));
  exports.Set("LinkListener", LinkListener::Define(env));
  RegisterOps(env, exports, 0);
  RegisterNamespaces(env, exports);
  RegisterHandoff(env, exports);
  RegisterOffloadProbe(env, exports);
  RegisterOffload(env, exports);
  return exports;
}

}  // namespace tunl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tunl::Init(env, exports); }

NODE_API_MODULE(tun_lifecycle, InitModule)
