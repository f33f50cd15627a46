// The offload contract between the TUN queue (native/queue.cc) and the
// segmentation code (native/offload/*.cc): pure functions over bytes, no Node,
// no syscalls, so they can be table-tested, property-tested and fuzzed alone.
//
// With IFF_VNET_HDR every read() and write() on the TUN fd starts with a
// struct virtio_net_hdr (10 bytes, little-endian on the hosts we build for;
// no TUNSETVNETLE needed). A read may then carry a "superframe" of up to
// 64 KiB that the header says how to cut (gso_type, gso_size, csum_start...).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

namespace tunl {
namespace offload {

constexpr size_t kVnetHdrLen = 10;

// VIRTIO_NET_HDR_F_* and VIRTIO_NET_HDR_GSO_* (linux/virtio_net.h).
constexpr uint8_t kFlagNeedsCsum = 1;
constexpr uint8_t kFlagDataValid = 2;
constexpr uint8_t kGsoNone = 0;
constexpr uint8_t kGsoTcpV4 = 1;
constexpr uint8_t kGsoUdp = 3;  // UFO, never produced by a TUN we configure
constexpr uint8_t kGsoTcpV6 = 4;
constexpr uint8_t kGsoUdpL4 = 5;
constexpr uint8_t kGsoEcn = 0x80;

// The largest frame (IP packet or superframe) a TUN write accepts, and the
// most UDP segments one superframe may carry (some kernels refuse more).
constexpr size_t kMaxFrame = 65535;
constexpr int kMaxUdpSegments = 64;

// Host-order view of struct virtio_net_hdr.
struct VnetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
};

// false when len < kVnetHdrLen.
bool ParseVnetHdr(const uint8_t* bytes, size_t len, VnetHdr* out);
void WriteVnetHdr(const VnetHdr& hdr, uint8_t* bytes);

// Read side. `frame` is what one read() returned, virtio header first.
// Writes the ordinary IP packets it stands for back to back into `out`, each
// with its lengths, IDs, sequence numbers, flags and full checksums right, and
// their lengths into `lengths`. An unsegmented frame with NEEDS_CSUM gets its
// checksum completed. Returns the number of packets (>= 1), or
//   -EINVAL  the frame is malformed (nothing usable in `out`),
//   -ENOBUFS `out_cap` or `max_packets` is too small for it.
// Never reads outside [frame, frame + frame_len) nor writes outside the outputs.
int Split(const uint8_t* frame, size_t frame_len, uint8_t* out, size_t out_cap, uint32_t* lengths,
          int max_packets);

// Write side.
struct Packet {
  const uint8_t* data;
  size_t len;
};

struct CoalesceOptions {
  bool tcp = true;
  bool udp = true;  // needs USO on the device (Linux 6.2+)
};

// Called once per frame to write, in order. iov[0] is the virtio header and
// iov[1] the (rewritten) IP+transport headers, both valid only during the
// call; the rest are payload pieces pointing into the caller's packets.
// Returns 0 to go on, or a negative errno to stop (Coalesce then returns it).
using EmitFrame = int (*)(void* ctx, const struct iovec* iov, int iovcnt);

// The most iovecs one EmitFrame call passes (header, headers, 64 payloads).
constexpr int kMaxIov = 2 + kMaxUdpSegments;

// Groups `count` ordinary IP packets (in the order they were written) into
// superframes per flow, by the rules of the offload issue (same flow, equal
// TTL/TOS/DF or hop limit/traffic class, equal TCP options, adjacent
// sequence numbers, only ACK or ACK|PSH, nothing after a short or PSH
// segment, verified checksums, no IPv4 options or IPv6 extension headers,
// <= kMaxFrame bytes, <= kMaxUdpSegments UDP segments). What cannot be
// coalesced is emitted alone with a GSO_NONE header. Order within a flow is
// kept: a packet only appends to its flow's newest group (out-of-order
// segments are not merged), and any packet of the flow that cannot join ends
// that group. TCP frames too hold at most kMaxIov - 2 segments. An IPv4 UDP
// packet without a checksum (0) cannot be verified and goes alone. Emitted
// superframes carry NEEDS_CSUM, csum_start/csum_offset, gso_type/gso_size and
// the folded pseudo-header sum in the transport checksum field (what the
// kernel expects of a CHECKSUM_PARTIAL write). Returns the number of frames
// emitted, or the emitter's negative errno.
int Coalesce(const Packet* packets, int count, const CoalesceOptions& options, EmitFrame emit, void* ctx);

}  // namespace offload
}  // namespace tunl
