// Test-only exposure of the pure segmentation code (offload.h) to JS, so the
// split and coalescing rules can be table-tested and property-tested through
// the ordinary addon without a TUN.
#pragma once

#include <napi.h>

namespace tunl {

void RegisterOffload(Napi::Env env, Napi::Object exports);

}  // namespace tunl
