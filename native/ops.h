// The exported functions: each validates nothing (TypeScript did), starts one
// kernel conversation on the threadpool and returns its promise.
#pragma once

#include <napi.h>

#include <stdint.h>

namespace tunl {

// The kernel operations onto target, each talking to the network namespace
// of handle namespace_id (0: the environment's own).
void RegisterOps(Napi::Env env, Napi::Object target, uint32_t namespace_id);

// openNamespace(fd) -> Promise<{ key, ...the operations, close() }> (native/ops.cc).
void RegisterNamespaces(Napi::Env env, Napi::Object exports);

// The pool of the namespace handle a function was registered with; throws
// when that handle was closed.
std::shared_ptr<class NlPool> PoolOf(const Napi::CallbackInfo& info);

// The packed LinkPlan steps, defined here once: ParseSteps (ops.cc) reads them,
// the addon exports kStepLayout as `stepLayout`, and the TypeScript packer
// (src/binding/native/step-packer.ts) writes them from that object. Each step
// is kStepWords 32-bit words, read with no property lookups:
//   word kWordHead:     kind (low byte) | flags << 8
//   link step:          word kWordMtu (with kHasMtu), word kWordGroup (with kHasGroup);
//                       kHasUp/kUp set the link up or down; kHasAlias takes the
//                       plan's one alias, passed beside the words as a string
//   address/route step: words kWordFamily (4 or 6), kWordPrefixLength, kWordMetric (route),
//                       and from kWordAddress the address bytes (4 or 16), network order; kAdd
constexpr uint32_t kStepWords = 8;
constexpr uint32_t kWordHead = 0, kWordMtu = 1, kWordGroup = 2;
constexpr uint32_t kWordFamily = 1, kWordPrefixLength = 2, kWordMetric = 3, kWordAddress = 4;
constexpr uint32_t kStepLink = 0, kStepAddress = 1, kStepRoute = 2;
constexpr uint32_t kHasMtu = 1 << 0, kHasUp = 1 << 1, kUp = 1 << 2, kHasAlias = 1 << 3, kHasGroup = 1 << 4,
                   kAdd = 1 << 5;
static_assert(kWordAddress + 4 <= kStepWords, "an IPv6 address needs four words");

struct NamedConstant {
  const char* name;
  uint32_t value;
};
// What `stepLayout` holds: the name the TypeScript packer reads each constant by.
constexpr NamedConstant kStepLayout[] = {
    {"words", kStepWords},
    {"wordHead", kWordHead},
    {"wordMtu", kWordMtu},
    {"wordGroup", kWordGroup},
    {"wordFamily", kWordFamily},
    {"wordPrefixLength", kWordPrefixLength},
    {"wordMetric", kWordMetric},
    {"wordAddress", kWordAddress},
    {"kindLink", kStepLink},
    {"kindAddress", kStepAddress},
    {"kindRoute", kStepRoute},
    {"hasMtu", kHasMtu},
    {"hasUp", kHasUp},
    {"up", kUp},
    {"hasAlias", kHasAlias},
    {"hasGroup", kHasGroup},
    {"add", kAdd},
};

}  // namespace tunl
