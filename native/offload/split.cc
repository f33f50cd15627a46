// The read side: one TUN read (virtio header + IP packet or superframe) into
// the ordinary packets it stands for. Everything in the virtio header is
// checked against the packet before use; hdr_len is recomputed from
// csum_start and the transport header (the kernel's can be the whole first
// packet on the forward path), and the ECN bit of gso_type is masked off
// before the type is compared.
#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "offload.h"
#include "wire.h"

namespace tunl {
namespace offload {

namespace {

// GSO_NONE with NEEDS_CSUM: the field at csum_start + csum_offset holds the
// pseudo-header partial sum, so summing from csum_start to the end with the
// field as it is and complementing gives the full checksum.
// Sums the source `from` (what was copied to `pkt`): it was not just stored.
int CompleteChecksum(const VnetHdr& hdr, const uint8_t* from, uint8_t* pkt, size_t len) {
  size_t start = hdr.csum_start;
  size_t field = start + hdr.csum_offset;
  // The checksummed part starts after the IP header: a csum_start inside it
  // would have us overwrite the header (found by the fuzzer).
  size_t ip_len = (pkt[0] >> 4) == 4 ? static_cast<size_t>(pkt[0] & 0x0f) * 4 : 40;
  if (start < ip_len || ip_len < 20 || field + 2 > len) return -EINVAL;
  uint16_t sum = static_cast<uint16_t>(~Fold(SumBytes(from + start, len - start, 0)));
  // A UDP checksum that computes to 0 goes out as 0xFFFF (RFC 768: 0 means
  // "none", and an IPv6 receiver must drop it).
  if (sum == 0 && hdr.csum_offset == kUdpCsumOffset) sum = 0xffff;
  Store16(pkt + field, sum);
  return 1;
}

int CopyUnsegmented(const VnetHdr& hdr, const uint8_t* pkt, size_t len, uint8_t* out, size_t out_cap,
                    uint32_t* lengths) {
  if (len > out_cap) return -ENOBUFS;
  memcpy(out, pkt, len);
  lengths[0] = static_cast<uint32_t>(len);
  if (hdr.flags & kFlagNeedsCsum) return CompleteChecksum(hdr, pkt, out, len);
  return 1;
}

// Where the pieces of a superframe are, once checked.
struct Layout {
  bool v4;
  bool tcp;
  size_t ip_len;   // csum_start: IP header plus any IPv6 extension headers
  size_t hdr_len;  // ip_len + transport header, recomputed
  size_t payload;  // bytes after hdr_len
  size_t gso_size;
  int segments;
};

int CheckSuperframe(const VnetHdr& hdr, const uint8_t* pkt, size_t len, Layout* out) {
  uint8_t type = hdr.gso_type & static_cast<uint8_t>(~kGsoEcn);
  bool v4 = (pkt[0] >> 4) == 4;
  bool tcp;
  if (type == kGsoTcpV4 && v4) tcp = true;
  else if (type == kGsoTcpV6 && !v4) tcp = true;
  else if (type == kGsoUdpL4) tcp = false;
  else return -EINVAL;
  if (hdr.gso_size == 0) return -EINVAL;
  if (hdr.csum_offset != (tcp ? kTcpCsumOffset : kUdpCsumOffset)) return -EINVAL;
  size_t ip_len = hdr.csum_start;
  uint8_t protocol = tcp ? kProtoTcp : kProtoUdp;
  if (v4) {
    if (len < 20 || ip_len != static_cast<size_t>(pkt[0] & 0x0f) * 4 || ip_len < 20) return -EINVAL;
    if (pkt[9] != protocol) return -EINVAL;
  } else {
    if (len < 40 || ip_len < 40) return -EINVAL;
    // With no extension header the next header must be the transport itself;
    // with some, csum_start is where the kernel says the transport starts.
    if (ip_len == 40 && pkt[6] != protocol) return -EINVAL;
  }
  size_t l4_hdr = 8;
  if (tcp) {
    if (ip_len + 20 > len) return -EINVAL;
    l4_hdr = static_cast<size_t>(pkt[ip_len + 12] >> 4) * 4;
    if (l4_hdr < 20) return -EINVAL;
  }
  size_t hdr_len = ip_len + l4_hdr;
  if (hdr_len > len) return -EINVAL;
  size_t payload = len - hdr_len;
  size_t first = payload < hdr.gso_size ? payload : hdr.gso_size;
  // Every segment must be a valid IP packet: its length fields are 16 bits.
  if (hdr_len + first > kMaxFrame) return -EINVAL;
  size_t segments = payload == 0 ? 1 : (payload + hdr.gso_size - 1) / hdr.gso_size;
  *out = Layout{v4, tcp, ip_len, hdr_len, payload, hdr.gso_size, static_cast<int>(segments)};
  return 0;
}

// What every segment of one superframe shares, summed once: the header
// words that do not change from segment to segment. Each segment's sums are
// then this plus its own fields, added as values, never read back from the
// bytes just stored (a load over fresh byte stores stalls the CPU, and the
// split did that ~7 times per segment).
struct Template {
  uint64_t ip_sum;    // IPv4 header without total length, ID and checksum
  uint16_t ip_id;
  uint64_t l4_sum;    // pseudo-header addresses and protocol, transport header without seq, flags, lengths, checksum
  uint32_t seq;
  uint8_t data_offset;  // TCP byte 12 (data offset, reserved bits)
  uint8_t flags;        // TCP byte 13
};

Template MakeTemplate(const Layout& lay, const uint8_t* pkt) {
  Template t{};
  const uint8_t* l4 = pkt + lay.ip_len;
  size_t l4_hdr = lay.hdr_len - lay.ip_len;
  if (lay.v4) {
    t.ip_sum = SumBytes(pkt + 12, lay.ip_len - 12, SumBytes(pkt + 6, 4, SumBytes(pkt, 2, 0)));
    t.ip_id = Load16(pkt + 4);
  }
  // The pseudo-header without its length, which each segment adds.
  t.l4_sum = PseudoHeaderSum(lay.v4 ? pkt + 12 : pkt + 8, lay.v4 ? 4 : 16, lay.tcp ? kProtoTcp : kProtoUdp, 0);
  if (lay.tcp) {
    t.l4_sum = SumBytes(l4 + 18, l4_hdr - 18, SumBytes(l4 + 14, 2, SumBytes(l4 + 8, 4, SumBytes(l4, 4, t.l4_sum))));
    t.seq = Load32(l4 + 4);
    t.data_offset = l4[12];
    t.flags = l4[13];
  } else {
    t.l4_sum = SumBytes(l4, 4, t.l4_sum);  // the ports
  }
  return t;
}

// Writes segment `index`: the headers, its fields, its payload and both checksums.
void WriteSegment(const Layout& lay, const Template& t, const uint8_t* pkt, const uint8_t* payload,
                  size_t seg_payload, int index, bool last, uint8_t* seg) {
  size_t total = lay.hdr_len + seg_payload;
  uint32_t l4_len = static_cast<uint32_t>(total - lay.ip_len);
  memcpy(seg, pkt, lay.hdr_len);
  memcpy(seg + lay.hdr_len, payload, seg_payload);
  if (lay.v4) {
    uint16_t id = static_cast<uint16_t>(t.ip_id + index);
    Store16(seg + 2, static_cast<uint16_t>(total));
    Store16(seg + 4, id);
    Store16(seg + 10, static_cast<uint16_t>(~Fold(t.ip_sum + total + id)));
  } else {
    Store16(seg + 4, static_cast<uint16_t>(total - 40));  // extension headers count, the fixed header not
  }
  uint8_t* l4 = seg + lay.ip_len;
  uint64_t acc = t.l4_sum + (l4_len >> 16) + (l4_len & 0xffff);
  size_t csum_field;
  if (lay.tcp) {
    uint32_t seq = t.seq + static_cast<uint32_t>(index * lay.gso_size);
    uint8_t flags = t.flags;
    if (!last) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    if (index > 0) flags &= static_cast<uint8_t>(~kTcpCwr);
    Store32(l4 + 4, seq);
    l4[13] = flags;
    acc += (seq >> 16) + (seq & 0xffff) + (static_cast<uint32_t>(t.data_offset) << 8 | flags);
    csum_field = kTcpCsumOffset;
  } else {
    Store16(l4 + 4, static_cast<uint16_t>(l4_len));
    acc += l4_len & 0xffff;  // the UDP length field, as the segment carries it
    csum_field = kUdpCsumOffset;
  }
  // The payload is summed where it came from: those bytes were not just stored.
  uint16_t sum = static_cast<uint16_t>(~Fold(SumBytes(payload, seg_payload, acc)));
  if (sum == 0 && !lay.tcp) sum = 0xffff;
  Store16(l4 + csum_field, sum);
}

}  // namespace

int Split(const uint8_t* frame, size_t frame_len, uint8_t* out, size_t out_cap, uint32_t* lengths,
          int max_packets) {
  VnetHdr hdr;
  if (!ParseVnetHdr(frame, frame_len, &hdr)) return -EINVAL;
  const uint8_t* pkt = frame + kVnetHdrLen;
  size_t len = frame_len - kVnetHdrLen;
  if (len == 0) return -EINVAL;
  uint8_t version = pkt[0] >> 4;
  if (version != 4 && version != 6) return -EINVAL;
  if ((hdr.gso_type & static_cast<uint8_t>(~kGsoEcn)) == kGsoNone) {
    if (max_packets < 1) return -ENOBUFS;
    return CopyUnsegmented(hdr, pkt, len, out, out_cap, lengths);
  }
  Layout lay;
  int rc = CheckSuperframe(hdr, pkt, len, &lay);
  if (rc < 0) return rc;
  if (lay.segments > max_packets) return -ENOBUFS;
  if (static_cast<size_t>(lay.segments) * lay.hdr_len + lay.payload > out_cap) return -ENOBUFS;
  const Template t = MakeTemplate(lay, pkt);
  const uint8_t* payload = pkt + lay.hdr_len;
  size_t left = lay.payload;
  uint8_t* at = out;
  for (int i = 0; i < lay.segments; i++) {
    size_t seg_payload = left < lay.gso_size ? left : lay.gso_size;
    WriteSegment(lay, t, pkt, payload, seg_payload, i, i == lay.segments - 1, at);
    lengths[i] = static_cast<uint32_t>(lay.hdr_len + seg_payload);
    at += lay.hdr_len + seg_payload;
    payload += seg_payload;
    left -= seg_payload;
  }
  return lay.segments;
}

}  // namespace offload
}  // namespace tunl
