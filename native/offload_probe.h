// The coalesced-write probe (tailscale#13041): some kernels (Linux 6.6.44,
// 6.10.3, 6.1.103 ... until 89add40066f9) accept TUNSETOFFLOAD and then refuse
// every GSO write with EINVAL. After link-up one coalesced write of two TCP
// segments with TTL 0 (the stack drops them: no traffic leaves) tells.
#pragma once

#include <napi.h>

#include <stddef.h>
#include <stdint.h>

namespace tunl {

// Two back-to-back IPv4 TCP segments (ACK, TTL 0, 192.0.2.1 -> itself, full
// checksums) of `payload` bytes each into out[0..2*(40+payload)); lengths in len[0..1].
void BuildProbeSegments(uint8_t* out, size_t payload, size_t* len);

// Test hooks, process-wide, set from JS (0 clears): a nonzero errno makes
// every probe fail with it without writing (setOffloadProbeFault), or every
// superframe write (setOffloadWriteFault), as a kernel refusing them would.
int ProbeFault();
int WriteFault();
void RegisterOffloadProbe(Napi::Env env, Napi::Object exports);

}  // namespace tunl
