// The Internet checksum (RFC 1071) in pieces: a running sum that can be fed
// header and payload separately (each piece but the last of even length), the
// IPv4/IPv6 pseudo-headers of TCP and UDP (RFC 793, 768, 8200 §8.1), and the
// fold to 16 bits. Sums are of big-endian 16-bit words; complement the fold to
// get the value a header carries.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace tunl {
namespace offload {

// acc + the 16-bit words of [p, p + n); an odd last byte counts as its high half.
uint64_t SumBytes(const uint8_t* p, size_t n, uint64_t acc);

// The one's-complement fold of a running sum to 16 bits (not complemented).
uint16_t Fold(uint64_t acc);

// The pseudo-header sum. `addrs` points at source then destination address as
// they sit in the IP header (4+4 or 16+16 bytes, `addr_len` each).
uint64_t PseudoHeaderSum(const uint8_t* addrs, size_t addr_len, uint8_t protocol, uint32_t l4_len);

// The IPv4 header checksum of [ip, ip + ihl_bytes), computed as if its field were zero.
uint16_t Ipv4HeaderChecksum(const uint8_t* ip, size_t ihl_bytes);

inline uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace offload
}  // namespace tunl
