// RFC 1071 sums. The one's-complement sum does not depend on byte order
// (RFC 1071 §2(B)): the bulk is summed as native 64-bit words with the
// carries added back (two chains, so the adds overlap), folded, and swapped
// into the big-endian words the callers' running sums are made of. Only the
// last < 16 bytes go word by word.
#include "checksum.h"

#include <string.h>

namespace tunl {
namespace offload {

namespace {

// Folds a native-order sum to 16 bits, as the big-endian words it stands for.
uint64_t NativeToBigEndianSum(uint64_t sum) {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  sum = ((sum & 0xff) << 8) | (sum >> 8);
#endif
  return sum;
}

}  // namespace

uint64_t SumBytes(const uint8_t* p, size_t n, uint64_t acc) {
  if (n >= 16) {
    uint64_t a = 0, b = 0, carries = 0;
    while (n >= 16) {
      uint64_t x, y;
      memcpy(&x, p, 8);
      memcpy(&y, p + 8, 8);
      a += x;
      carries += a < x;
      b += y;
      carries += b < y;
      p += 16;
      n -= 16;
    }
    // a + b + carries without losing a carry: each half-sum below 2^33.
    uint64_t sum = (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32) + carries;
    acc += NativeToBigEndianSum(sum);
  }
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
