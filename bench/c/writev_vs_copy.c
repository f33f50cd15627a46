/* How a coalesced superframe should reach a TUN with IFF_VNET_HDR: one
 * writev() of [virtio header][IP+TCP headers][payload pieces...] (what
 * native/queue.cc does), or a memcpy of the pieces into one buffer and one
 * write(). Run inside a private namespace (bench/offload-writev.ts makes it):
 * the frames (TTL 0, to an address nobody has) are dropped by the stack after
 * the TUN took them, so both ways pay the same kernel cost but the gathering.
 *   writev_vs_copy NAME SEGMENTS SEG_SIZE SECONDS
 * Prints one JSON line: frames/s and CPU µs per frame for each way. */
#include "common.h"

#include <sys/socket.h>
#include <sys/uio.h>

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: writev_vs_copy NAME SEGMENTS SEG_SIZE SECONDS\n"); return 2; }
  int segs = atoi(argv[2]), size = atoi(argv[3]);
  double seconds = atof(argv[4]);
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) die("TUNSETOFFLOAD");
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("SIOCGIFFLAGS");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("SIOCSIFFLAGS");

  unsigned char vnet[10] = {1, 1 /* TCPV4 */, 40, 0, 0, 0, 20, 0, 16, 0};
  vnet[4] = size & 0xff, vnet[5] = size >> 8;
  unsigned char hdr[40];
  memset(hdr, 0, sizeof hdr);
  int total = 40 + segs * size;
  hdr[0] = 0x45, hdr[2] = total >> 8, hdr[3] = total & 0xff, hdr[6] = 0x40, hdr[8] = 0, hdr[9] = 6;
  unsigned char src[4] = {192, 0, 2, 1}, dst[4] = {192, 0, 2, 2};
  memcpy(hdr + 12, src, 4), memcpy(hdr + 16, dst, 4);
  hdr[20 + 12] = 5 << 4, hdr[20 + 13] = 0x10;
  unsigned char *pieces = malloc((size_t)segs * size);
  memset(pieces, 'x', (size_t)segs * size);
  struct iovec iov[2 + 128];
  iov[0] = (struct iovec){vnet, 10};
  iov[1] = (struct iovec){hdr, 40};
  for (int i = 0; i < segs; i++) iov[2 + i] = (struct iovec){pieces + (size_t)i * size, (size_t)size};
  unsigned char *flat = malloc(10 + (size_t)total);

  double rate[2], cpu[2];
  for (int way = 0; way < 2; way++) {
    long frames = 0;
    double t0 = now_s(), c0 = cpu_s();
    while (now_s() - t0 < seconds) {
      for (int k = 0; k < 64; k++) {
        ssize_t n;
        if (way == 0) {
          n = writev(fd, iov, 2 + segs);
        } else {
          size_t at = 0;
          for (int i = 0; i < 2 + segs; i++) memcpy(flat + at, iov[i].iov_base, iov[i].iov_len), at += iov[i].iov_len;
          n = write(fd, flat, at);
        }
        if (n < 0) die(way == 0 ? "writev" : "write");
        frames++;
      }
    }
    double dt = now_s() - t0;
    rate[way] = frames / dt;
    cpu[way] = (cpu_s() - c0) / frames * 1e6;
  }
  printf("{\"segments\": %d, \"segSize\": %d, \"writevFps\": %.0f, \"copyFps\": %.0f, \"writevCpuUs\": %.2f, \"copyCpuUs\": %.2f}\n",
         segs, size, rate[0], rate[1], cpu[0], cpu[1]);
  return 0;
}
