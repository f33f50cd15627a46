/* Receiving end of the write benchmarks: counts what the kernel actually
 * delivered to a UDP socket after the writer pushed packets into the TUN.
 *   udp_sink BIND_ADDR PORT IDLE_MS MAX_S [gro]
 * With gro the socket takes UDP_GRO (Linux 5.0+): a USO superframe arriving
 * whole stays one message instead of being cut for the socket ("packets" then
 * counts messages; "bytes" is the payload either way).
 * Prints "ready" once bound, then one JSON line when IDLE_MS pass without a packet. */
#include "common.h"
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifndef UDP_GRO
#define UDP_GRO 104 /* linux/udp.h */
#endif

#define BATCH 64

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: udp_sink BIND_ADDR PORT IDLE_MS MAX_S [gro]\n"); return 2; }
  int idle_ms = atoi(argv[3]);
  double max_s = atof(argv[4]);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) die("socket");
  int rcvbuf = 64 << 20; /* large, so socket-buffer drops do not cap the measurement */
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) { fprintf(stderr, "bad BIND_ADDR\n"); return 2; }
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (argc > 5 && strcmp(argv[5], "gro") == 0) {
    int one = 1;
    if (setsockopt(s, IPPROTO_UDP, UDP_GRO, &one, sizeof one) < 0) die("UDP_GRO");
  }
  printf("ready\n");
  fflush(stdout);
  static uint8_t bufs[BATCH][65536]; /* a GRO message is up to 64 KiB */
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = sizeof bufs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long packets = 0, bytes = 0;
  double first = 0, last = 0, start = now_s();
  struct pollfd pfd = {.fd = s, .events = POLLIN};
  for (;;) {
    int r = poll(&pfd, 1, packets ? idle_ms : 500);
    if (r < 0) { if (errno == EINTR) continue; die("poll"); }
    if (r == 0) {
      if (packets || now_s() - start > max_s) break;
      continue;
    }
    for (;;) {
      int n = recvmmsg(s, msgs, BATCH, 0, NULL);
      if (n <= 0) break;
      if (!packets) first = now_s();
      packets += (unsigned long long)n;
      for (int i = 0; i < n; i++) bytes += msgs[i].msg_len;
    }
    last = now_s();
    if (last - start > max_s) break;
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n", packets, bytes,
         packets ? last - first : 0.0);
  return 0;
}
