// libFuzzer harness over the pure segmentation code (native/offload): built
// with -fsanitize=fuzzer,address,undefined by bench/fuzz-offload.mjs. Every
// input the functions see lives in its own exact-size heap block and every
// output buffer is exactly as large as claimed, so AddressSanitizer catches a
// read or write one byte outside. The first input byte picks a mode:
//   0  raw split: the rest is one TUN read, split into a tight output;
//   1  raw coalesce: the rest is length-prefixed packets, coalesced;
//   2  made split: the rest shapes a superframe whose virtio header and
//      lengths agree (most of them), so the segmenting loop is reached;
//   3  made coalesce: the rest shapes packets of a few flows with correct
//      checksums (most of them), coalesced, and every superframe split back.
// Invariants checked (abort on failure): counts within the bounds offload.h
// promises, outputs within their buffers, frames <= 65,535 bytes + header,
// superframes Coalesce makes are accepted by Split with as many segments.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "../native/offload/checksum.h"
#include "../native/offload/offload.h"

using namespace tunl::offload;

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "offload_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                         \
    }                                                                  \
  } while (0)

namespace {

// Reads bytes from the fuzz input, zeros once it runs out.
struct Reader {
  const uint8_t* p;
  size_t n;
  uint8_t u8() {
    if (n == 0) return 0;
    n--;
    return *p++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
};

int SplitTight(const uint8_t* frame, size_t len, size_t out_cap, int max_packets) {
  uint8_t* in = static_cast<uint8_t*>(malloc(len ? len : 1));
  memcpy(in, frame, len);
  uint8_t* out = static_cast<uint8_t*>(malloc(out_cap ? out_cap : 1));
  uint32_t* lengths = static_cast<uint32_t*>(malloc(sizeof(uint32_t) * (max_packets ? max_packets : 1)));
  int n = Split(in, len, out, out_cap, lengths, max_packets);
  CHECK(n == -EINVAL || n == -ENOBUFS || (n >= 1 && n <= max_packets));
  if (n > 0) {
    size_t total = 0;
    for (int i = 0; i < n; i++) {
      CHECK(lengths[i] >= 1 && lengths[i] <= kMaxFrame);
      total += lengths[i];
    }
    CHECK(total <= out_cap);
    // Every packet starts with the version nibble of the input.
    for (size_t at = 0, i = 0; i < static_cast<size_t>(n); at += lengths[i], i++) CHECK((out[at] >> 4) == (in[kVnetHdrLen] >> 4));
  }
  free(lengths);
  free(out);
  free(in);
  return n;
}

struct EmitCheck {
  int frames = 0;
  bool split_back = false;
  size_t max_out = 0;
};

int CheckFrame(void* ctx, const struct iovec* iov, int iovcnt) {
  auto* check = static_cast<EmitCheck*>(ctx);
  CHECK(iovcnt >= 2 && iovcnt <= kMaxIov);
  CHECK(iov[0].iov_len == kVnetHdrLen);
  std::vector<uint8_t> frame;
  for (int i = 0; i < iovcnt; i++) {
    const uint8_t* b = static_cast<const uint8_t*>(iov[i].iov_base);
    frame.insert(frame.end(), b, b + iov[i].iov_len);  // touches every byte: ASan sees a bad pointer
  }
  VnetHdr hdr;
  CHECK(ParseVnetHdr(frame.data(), frame.size(), &hdr));
  check->frames++;
  if (hdr.gso_type == kGsoNone) {
    CHECK(iovcnt == 2 && hdr.flags == 0);
    return 0;
  }
  CHECK(frame.size() <= kVnetHdrLen + kMaxFrame);
  CHECK(iovcnt - 2 >= 2 && iovcnt - 2 <= kMaxUdpSegments);
  if (check->split_back) {
    // Room for every segment's own headers (at most 100 bytes each) and the payload.
    int n = SplitTight(frame.data(), frame.size(), frame.size() + 64 * 100, 128);
    CHECK(n == iovcnt - 2);
  }
  return 0;
}

void CoalesceOwned(const std::vector<std::vector<uint8_t>>& owned, uint8_t opts, bool split_back) {
  std::vector<uint8_t*> blocks;
  std::vector<Packet> packets;
  for (const auto& o : owned) {
    uint8_t* b = static_cast<uint8_t*>(malloc(o.size() ? o.size() : 1));
    if (!o.empty()) memcpy(b, o.data(), o.size());
    blocks.push_back(b);
    packets.push_back({b, o.size()});
  }
  CoalesceOptions options;
  options.tcp = (opts & 1) == 0;
  options.udp = (opts & 2) == 0;
  EmitCheck check;
  check.split_back = split_back;
  int n = Coalesce(packets.data(), static_cast<int>(packets.size()), options, CheckFrame, &check);
  CHECK(n == check.frames && n <= static_cast<int>(packets.size()));
  CHECK(packets.empty() || n >= 1);
  for (uint8_t* b : blocks) free(b);
}

// Writes IPv4/IPv6 + TCP/UDP headers for `payload` bytes, fields from the reader.
std::vector<uint8_t> MakePacket(Reader& r, uint8_t shape, size_t payload, uint32_t seq, uint16_t id) {
  bool v6 = shape & 1, udp = shape & 2;
  size_t ip = v6 ? 40 : 20, th = udp ? 8 : 20 + (shape & 4 ? 12 : 0);
  std::vector<uint8_t> p(ip + th + payload);
  for (size_t i = 0; i < payload; i++) p[ip + th + i] = static_cast<uint8_t>(i * 31 + shape);
  uint8_t variant = r.u8();  // mostly 0: the "normal" packet
  uint8_t* l4 = p.data() + ip;
  if (v6) {
    p[0] = 0x60 | (variant & 0x80 ? 1 : 0);
    Store16(p.data() + 4, static_cast<uint16_t>(p.size() - 40));
    p[6] = udp ? 17 : 6;
    p[7] = variant & 0x40 ? 1 : 64;
    p[8] = 0xfd;
    p[23] = shape >> 6;  // a few flows
    p[24] = 0xfd;
    p[39] = 2;
  } else {
    p[0] = 0x45;
    p[1] = variant & 0x80 ? 4 : 0;
    Store16(p.data() + 2, static_cast<uint16_t>(p.size()));
    Store16(p.data() + 4, id);
    p[6] = variant & 0x20 ? 0x20 : 0x40;
    p[8] = variant & 0x40 ? 1 : 64;
    p[9] = udp ? 17 : 6;
    p[12] = 10;
    p[15] = shape >> 6;
    p[16] = 10;
    p[19] = 2;
    Store16(p.data() + 10, Ipv4HeaderChecksum(p.data(), 20));
  }
  Store16(l4, 1000 + (shape >> 6));
  Store16(l4 + 2, 5201);
  if (udp) {
    Store16(l4 + 4, static_cast<uint16_t>(th + payload));
  } else {
    Store32(l4 + 4, seq);
    Store32(l4 + 8, variant & 0x10 ? 2 : 1);
    l4[12] = static_cast<uint8_t>((th / 4) << 4);
    l4[13] = variant & 0x08 ? 0x18 : variant & 0x04 ? (r.u8() | 0x10) : 0x10;
    for (size_t i = 20; i < th; i++) l4[i] = 1;
  }
  size_t csum = udp ? 6 : 16;
  uint64_t acc = PseudoHeaderSum(v6 ? p.data() + 8 : p.data() + 12, v6 ? 16 : 4, udp ? 17 : 6,
                                 static_cast<uint32_t>(p.size() - ip));
  uint16_t sum = static_cast<uint16_t>(~Fold(SumBytes(l4, p.size() - ip, acc)));
  if (udp && sum == 0) sum = 0xffff;
  Store16(l4 + csum, variant & 0x02 ? static_cast<uint16_t>(sum ^ 1) : sum);
  if (variant & 0x01) p[r.u16() % p.size()] ^= r.u8();  // one damaged byte
  return p;
}

void MadeCoalesce(Reader& r) {
  uint8_t opts = r.u8() & r.u8();  // mostly both on
  int count = 1 + r.u8() % 72;
  uint32_t seq[4] = {1, 1, 1, 1};
  uint16_t id[4] = {7, 7, 7, 7};
  std::vector<std::vector<uint8_t>> owned;
  for (int i = 0; i < count; i++) {
    uint8_t shape = r.u8();
    uint8_t size = r.u8();
    size_t payload = 1 + (size & 0x80 ? r.u16() % 1460 : size & 0x40 ? 1400 : 60);
    int f = shape >> 6;
    if (r.u8() == 1) seq[f] += 7;  // a gap
    owned.push_back(MakePacket(r, shape, payload, seq[f], id[f]));
    seq[f] += static_cast<uint32_t>(payload);
    id[f]++;
  }
  CoalesceOwned(owned, opts, true);
}

void MadeSplit(Reader& r) {
  uint8_t shape = r.u8();
  // Mostly small superframes (fast), one in eight up to 64 KiB.
  uint8_t size = r.u8();
  size_t payload = (size & 7) == 0 ? r.u16() % (65535 - 100) : r.u16() % 3000;
  uint16_t gso = static_cast<uint16_t>((size & 8) ? 1 + r.u16() % 9000 : 1 + r.u16() % 1500);
  std::vector<uint8_t> pkt = MakePacket(r, shape, payload, r.u16(), r.u16());
  if (pkt.size() > kMaxFrame) return;
  bool v6 = shape & 1, udp = shape & 2;
  VnetHdr hdr;
  hdr.flags = kFlagNeedsCsum;
  hdr.gso_type = static_cast<uint8_t>(udp ? kGsoUdpL4 : v6 ? kGsoTcpV6 : kGsoTcpV4);
  if (r.u8() & 1) hdr.gso_type |= kGsoEcn;
  hdr.hdr_len = r.u16();  // never trusted
  hdr.gso_size = gso;
  hdr.csum_start = static_cast<uint16_t>(v6 ? 40 : 20);
  hdr.csum_offset = static_cast<uint16_t>(udp ? 6 : 16);
  uint8_t damage = r.u8();
  if (damage == 1) hdr.gso_type = r.u8();
  if (damage == 2) hdr.csum_start = r.u16();
  if (damage == 3) hdr.csum_offset = r.u16();
  if (damage == 4) hdr.gso_size = r.u16();
  if (damage == 5) hdr.gso_type = kGsoNone;
  std::vector<uint8_t> frame(kVnetHdrLen + pkt.size());
  WriteVnetHdr(hdr, frame.data());
  memcpy(frame.data() + kVnetHdrLen, pkt.data(), pkt.size());
  size_t cut = damage == 6 ? r.u16() % frame.size() : frame.size();
  int max_packets = 1 + r.u8();
  size_t out_cap = (r.u8() & 1) ? static_cast<size_t>(max_packets) * 140 + payload : r.u16();
  SplitTight(frame.data(), cut, out_cap, max_packets);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Reader r{data + 1, size - 1};
  switch (data[0] & 3) {
    case 0: {
      int max_packets = r.u8();
      size_t out_cap = r.u16() * 2;
      SplitTight(r.p, r.n, out_cap, max_packets);
      break;
    }
    case 1: {
      uint8_t opts = r.u8();
      std::vector<std::vector<uint8_t>> owned;
      while (r.n > 0 && owned.size() < 128) {
        size_t len = r.u16() % 2048;
        if (len > r.n) len = r.n;
        owned.emplace_back(r.p, r.p + len);
        r.p += len;
        r.n -= len;
      }
      CoalesceOwned(owned, opts, true);
      break;
    }
    case 2:
      MadeSplit(r);
      break;
    default:
      MadeCoalesce(r);
      break;
  }
  return 0;
}
