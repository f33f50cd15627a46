// RFC 1071 sums. A 64-bit accumulator takes 32-bit big-endian words without
// carrying until the fold (2^32 words before it could overflow: far beyond a
// 64 KiB frame), which is the whole speed trick; the fold is the same sum.
#include "checksum.h"

namespace tunl {
namespace offload {

uint64_t SumBytes(const uint8_t* p, size_t n, uint64_t acc) {
  while (n >= 4) {
    acc += Load32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += Load16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) acc += static_cast<uint64_t>(p[0]) << 8;
  return acc;
}

uint16_t Fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

uint64_t PseudoHeaderSum(const uint8_t* addrs, size_t addr_len, uint8_t protocol, uint32_t l4_len) {
  uint64_t acc = SumBytes(addrs, 2 * addr_len, 0);
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, 24 zero bits,
  // next header. Summed as words both come to protocol + length.
  return acc + protocol + (l4_len >> 16) + (l4_len & 0xffff);
}

uint16_t Ipv4HeaderChecksum(const uint8_t* ip, size_t ihl_bytes) {
  uint64_t acc = SumBytes(ip, 10, 0);                   // up to the checksum field
  acc = SumBytes(ip + 12, ihl_bytes - 12, acc);          // after it
  return static_cast<uint16_t>(~Fold(acc));
}

}  // namespace offload
}  // namespace tunl
