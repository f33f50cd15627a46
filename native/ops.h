// The exported functions: each validates nothing (TypeScript did), starts one
// kernel conversation on the threadpool and returns its promise.
#pragma once

#include <napi.h>

namespace tunl {

void RegisterOps(Napi::Env env, Napi::Object exports);

}  // namespace tunl
