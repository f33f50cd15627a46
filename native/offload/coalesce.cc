// The write side: ordinary IP packets grouped per flow into the superframes a
// TUN with TSO/USO accepts (GRO done in user space). A packet joins the open
// group of its flow only by appending, so the order within a flow is the
// order it was written in; a flow's group closes as soon as a packet of that
// flow cannot join it. A packet that is not a candidate (see Classify) is a
// frame of its own with a GSO_NONE header and is never rewritten.
#include <errno.h>
#include <string.h>

#include <vector>

#include "checksum.h"
#include "offload.h"
#include "wire.h"

namespace tunl {
namespace offload {

namespace {

constexpr size_t kMaxHeaders = 40 + 60;  // IPv6 + the longest TCP header
// The most payload pieces one frame's iovecs can carry, TCP and UDP alike.
constexpr int kMaxSegments = kMaxIov - 2;

// What Classify learned about one packet.
struct Info {
  bool candidate = false;  // may be merged with others
  bool has_flow = false;   // TCP/UDP with addresses and ports: closes its flow's group
  bool has_addrs = false;  // an IP header with addresses
  bool barrier = false;    // TCP/UDP (or maybe) without readable ports: closes every group of its address pair
  bool v4 = false;
  bool tcp = false;
  size_t ip_len = 0;
  size_t hdr_len = 0;  // IP + transport header
  size_t payload = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
};

bool SameAddresses(const uint8_t* a, const Info& ia, const uint8_t* b, const Info& ib) {
  if (ia.v4 != ib.v4) return false;
  return ia.v4 ? memcmp(a + 12, b + 12, 8) == 0 : memcmp(a + 8, b + 8, 32) == 0;
}

// Same addresses, ports and protocol (the flow a TCP ACK number further splits).
bool SameFlow(const uint8_t* a, const Info& ia, const uint8_t* b, const Info& ib) {
  if (ia.tcp != ib.tcp || !SameAddresses(a, ia, b, ib)) return false;
  return memcmp(a + ia.ip_len, b + ib.ip_len, 4) == 0;
}

// The packet carries exactly the checksums it claims (IPv4 header, transport).
bool ChecksumsVerify(const uint8_t* p, size_t len, const Info& info) {
  if (info.v4 && Fold(SumBytes(p, info.ip_len, 0)) != 0xffff) return false;
  size_t l4_len = len - info.ip_len;
  const uint8_t* l4 = p + info.ip_len;
  // UDP "no checksum" (0, IPv4 only) cannot be verified: such a packet is written alone.
  if (!info.tcp && Load16(l4 + 6) == 0) return false;
  uint64_t acc = PseudoHeaderSum(info.v4 ? p + 12 : p + 8, info.v4 ? 4 : 16, info.tcp ? kProtoTcp : kProtoUdp,
                                 static_cast<uint32_t>(l4_len));
  return Fold(SumBytes(l4, l4_len, acc)) == 0xffff;
}

Info Classify(const Packet& pkt, const CoalesceOptions& options) {
  Info info;
  const uint8_t* p = pkt.data;
  size_t len = pkt.len;
  if (len < 1) return info;
  uint8_t protocol;
  bool plain;  // no IPv4 options, no fragment, no IPv6 extension header, lengths = buffer
  if ((p[0] >> 4) == 4) {
    size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    if (len < 20 || ihl < 20 || ihl > len) return info;
    info.has_addrs = info.v4 = true;
    info.ip_len = ihl;
    protocol = p[9];
    uint16_t frag = Load16(p + 6);
    // A later fragment carries no ports: which flow it belongs to is unknown.
    if ((frag & 0x1fff) != 0) {
      info.barrier = protocol == kProtoTcp || protocol == kProtoUdp;
      return info;
    }
    plain = ihl == 20 && Load16(p + 2) == len && (frag & 0x2000) == 0;
  } else if ((p[0] >> 4) == 6) {
    if (len < 40) return info;
    info.has_addrs = true;
    info.ip_len = 40;
    protocol = p[6];
    plain = static_cast<size_t>(Load16(p + 4)) + 40 == len;
  } else {
    return info;
  }
  // An IPv6 extension header hides the ports (and maybe a TCP/UDP flow).
  if (protocol != kProtoTcp && protocol != kProtoUdp) {
    info.barrier = !info.v4 && protocol != kProtoIcmpV6 && protocol != kNoNextHeader;
    return info;
  }
  const uint8_t* l4 = p + info.ip_len;
  size_t l4_len = len - info.ip_len;
  if (l4_len < 4) {
    info.barrier = true;
    return info;
  }
  info.has_flow = true;
  info.tcp = protocol == kProtoTcp;
  if (!plain || len > kMaxFrame) return info;
  if (info.tcp) {
    if (l4_len < 20) return info;
    size_t th = static_cast<size_t>(l4[12] >> 4) * 4;
    if (th < 20 || th > l4_len) return info;
    info.hdr_len = info.ip_len + th;
    info.seq = Load32(l4 + 4);
    info.flags = l4[13];
    // Only ACK or ACK|PSH, no reserved/AE bits: SYN, FIN, RST, URG, ECE, CWR never merge.
    if (!options.tcp || (l4[12] & 0x0f) != 0 || (info.flags != kTcpAck && info.flags != (kTcpAck | kTcpPsh))) return info;
  } else {
    if (l4_len < 8) return info;
    info.hdr_len = info.ip_len + 8;
    if (!options.udp || Load16(l4 + 4) != l4_len) return info;
  }
  info.payload = len - info.hdr_len;
  info.candidate = info.payload > 0 && ChecksumsVerify(p, len, info);
  return info;
}

// IPv4 TOS, DF/reserved bits and TTL, or IPv6 version + traffic class and
// hop limit, equal; for TCP the ACK number and the options too.
bool HeadersMatch(const uint8_t* a, const uint8_t* b, const Info& ia, const Info& ib) {
  if (ia.hdr_len != ib.hdr_len) return false;
  if (ia.v4) {
    if (a[1] != b[1] || a[6] != b[6] || a[8] != b[8]) return false;
  } else {
    if (a[0] != b[0] || (a[1] & 0xf0) != (b[1] & 0xf0) || a[7] != b[7]) return false;
  }
  if (!ia.tcp) return true;
  const uint8_t* ta = a + ia.ip_len;
  const uint8_t* tb = b + ib.ip_len;
  return memcmp(ta + 8, tb + 8, 4) == 0 && memcmp(ta + 20, tb + 20, ia.hdr_len - ia.ip_len - 20) == 0;
}

struct Group {
  int head;          // index of the first packet
  int last;          // index of the last packet (members chain through next[])
  int segments;
  size_t bytes;      // headers + all payloads, as the superframe will be
  size_t gso_size;   // the head's payload
  size_t last_payload;
  uint32_t next_seq;
  bool open;
};

struct Scratch {
  std::vector<Info> info;
  std::vector<int> next;
  std::vector<Group> groups;
  std::vector<int> open;  // indices into groups, one per flow that has an open group
};

bool CanAppend(const Group& g, const Info& gi, const uint8_t* head, const Info& pi, const uint8_t* p) {
  if (!g.open || g.segments >= kMaxSegments) return false;
  if (g.last_payload < g.gso_size || pi.payload > g.gso_size) return false;  // nothing after a short segment
  if (g.bytes + pi.payload > kMaxFrame) return false;
  if (!HeadersMatch(head, p, gi, pi)) return false;
  if (gi.tcp && pi.seq != g.next_seq) return false;
  return true;
}

int EmitAlone(const Packet& pkt, EmitFrame emit, void* ctx) {
  uint8_t vnet[kVnetHdrLen];
  WriteVnetHdr(VnetHdr{}, vnet);
  struct iovec iov[2] = {{vnet, kVnetHdrLen}, {const_cast<uint8_t*>(pkt.data), pkt.len}};
  return emit(ctx, iov, 2);
}

int EmitGroup(const Packet* packets, const Scratch& s, const Group& g, EmitFrame emit, void* ctx) {
  const Info& hi = s.info[g.head];
  const uint8_t* head = packets[g.head].data;
  uint8_t headers[kMaxHeaders];
  memcpy(headers, head, hi.hdr_len);
  size_t l4_len = g.bytes - hi.ip_len;
  if (hi.v4) {
    Store16(headers + 2, static_cast<uint16_t>(g.bytes));
    Store16(headers + 10, Ipv4HeaderChecksum(headers, hi.ip_len));
  } else {
    Store16(headers + 4, static_cast<uint16_t>(g.bytes - 40));
  }
  uint8_t* l4 = headers + hi.ip_len;
  uint16_t csum_offset = hi.tcp ? kTcpCsumOffset : kUdpCsumOffset;
  if (hi.tcp) l4[13] = s.info[g.last].flags;  // PSH of the last segment (only the last may have it)
  else Store16(l4 + 4, static_cast<uint16_t>(l4_len));
  // CHECKSUM_PARTIAL: the folded pseudo-header sum, uncomplemented; the
  // kernel adds the segment bytes as it cuts.
  uint64_t pseudo = PseudoHeaderSum(hi.v4 ? headers + 12 : headers + 8, hi.v4 ? 4 : 16, hi.tcp ? kProtoTcp : kProtoUdp,
                                    static_cast<uint32_t>(l4_len));
  Store16(l4 + csum_offset, Fold(pseudo));

  VnetHdr vh;
  vh.flags = kFlagNeedsCsum;
  vh.gso_type = hi.tcp ? (hi.v4 ? kGsoTcpV4 : kGsoTcpV6) : kGsoUdpL4;
  vh.hdr_len = static_cast<uint16_t>(hi.hdr_len);
  vh.gso_size = static_cast<uint16_t>(g.gso_size);
  vh.csum_start = static_cast<uint16_t>(hi.ip_len);
  vh.csum_offset = csum_offset;
  uint8_t vnet[kVnetHdrLen];
  WriteVnetHdr(vh, vnet);

  struct iovec iov[kMaxIov];
  int n = 0;
  iov[n++] = {vnet, kVnetHdrLen};
  iov[n++] = {headers, hi.hdr_len};
  for (int i = g.head; i >= 0; i = s.next[i]) {
    iov[n++] = {const_cast<uint8_t*>(packets[i].data + s.info[i].hdr_len), s.info[i].payload};
  }
  return emit(ctx, iov, n);
}

}  // namespace

int Coalesce(const Packet* packets, int count, const CoalesceOptions& options, EmitFrame emit, void* ctx) {
  if (count <= 0) return 0;
  // Per call, not thread_local: dynamic TLS in a dlopen'd addon needs
  // __tls_get_addr from ld-linux, a dependency the prebuilds must not have
  // (test/package/prebuilds); four allocations per loop turn cost nothing
  // next to the write they plan.
  Scratch s;
  s.info.resize(count);
  s.next.assign(count, -1);
  s.groups.clear();
  s.open.clear();
  for (int i = 0; i < count; i++) {
    const Info& pi = s.info[i] = Classify(packets[i], options);
    const uint8_t* p = packets[i].data;
    int joined = -1;
    if (pi.barrier) {
      for (size_t k = 0; k < s.open.size();) {
        const Group& g = s.groups[s.open[k]];
        if (SameAddresses(packets[g.head].data, s.info[g.head], p, pi)) {
          s.open[k] = s.open.back();
          s.open.pop_back();
        } else {
          k++;
        }
      }
    } else if (pi.has_flow) {
      for (size_t k = 0; k < s.open.size(); k++) {
        Group& g = s.groups[s.open[k]];
        const Info& gi = s.info[g.head];
        if (!SameFlow(packets[g.head].data, gi, p, pi)) continue;
        if (pi.candidate && CanAppend(g, gi, packets[g.head].data, pi, p)) {
          joined = s.open[k];
        } else {
          // This flow's group ends here; the packet may start the next one.
          s.open[k] = s.open.back();
          s.open.pop_back();
        }
        break;
      }
    }
    if (joined >= 0) {
      Group& g = s.groups[joined];
      s.next[g.last] = i;
      g.last = i;
      g.segments++;
      g.bytes += pi.payload;
      g.last_payload = pi.payload;
      g.next_seq += static_cast<uint32_t>(pi.payload);
      // Nothing after a PSH segment.
      if (pi.tcp && (pi.flags & kTcpPsh)) g.open = false;
      continue;
    }
    Group g{i, i, 1, packets[i].len, pi.payload, pi.payload, pi.seq + static_cast<uint32_t>(pi.payload), pi.candidate};
    if (pi.tcp && (pi.flags & kTcpPsh)) g.open = false;
    s.groups.push_back(g);
    if (pi.has_flow) s.open.push_back(static_cast<int>(s.groups.size() - 1));
  }
  int frames = 0;
  for (const Group& g : s.groups) {
    int rc = g.segments == 1 ? EmitAlone(packets[g.head], emit, ctx) : EmitGroup(packets, s, g, emit, ctx);
    if (rc < 0) return rc;
    frames++;
  }
  return frames;
}

}  // namespace offload
}  // namespace tunl
