// struct virtio_net_hdr on the wire: flags, gso_type, then four 16-bit fields
// in the device's byte order, little-endian for a TUN on the hosts we build
// for (x64, arm64; legacy virtio byte order = native).
#include "offload.h"

namespace tunl {
namespace offload {

static uint16_t LoadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
static void StoreLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

bool ParseVnetHdr(const uint8_t* bytes, size_t len, VnetHdr* out) {
  if (len < kVnetHdrLen) return false;
  out->flags = bytes[0];
  out->gso_type = bytes[1];
  out->hdr_len = LoadLe16(bytes + 2);
  out->gso_size = LoadLe16(bytes + 4);
  out->csum_start = LoadLe16(bytes + 6);
  out->csum_offset = LoadLe16(bytes + 8);
  return true;
}

void WriteVnetHdr(const VnetHdr& hdr, uint8_t* bytes) {
  bytes[0] = hdr.flags;
  bytes[1] = hdr.gso_type;
  StoreLe16(bytes + 2, hdr.hdr_len);
  StoreLe16(bytes + 4, hdr.gso_size);
  StoreLe16(bytes + 6, hdr.csum_start);
  StoreLe16(bytes + 8, hdr.csum_offset);
}

}  // namespace offload
}  // namespace tunl
