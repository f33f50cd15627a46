/* Fast packet source for the read benchmarks: a connected UDP socket pushing
 * batches with sendmmsg into an address routed through the TUN.
 *   udp_flood DST PORT PAYLOAD SECONDS [SEGMENTS]
 * With SEGMENTS > 1 every send carries SEGMENTS datagrams of PAYLOAD bytes in
 * one buffer, cut by the kernel (UDP_SEGMENT, Linux 4.18+): a USO superframe
 * where the route's device takes it (the tunnel bench's USO row).
 * Prints one JSON line: datagrams the kernel accepted from us, their payload
 * bytes, and the time. */
#include "common.h"
#include <sys/socket.h>
#include <netinet/in.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h */
#endif

#define BATCH 64

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: udp_flood DST PORT PAYLOAD SECONDS [SEGMENTS]\n"); return 2; }
  size_t payload = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  size_t segments = argc > 5 ? (size_t)atoi(argv[5]) : 1;
  if (segments < 1 || payload * segments > 65507) { fprintf(stderr, "PAYLOAD x SEGMENTS must be 1..65507 bytes\n"); return 2; }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) { fprintf(stderr, "bad DST\n"); return 2; }
  if (connect(s, (struct sockaddr *)&to, sizeof to) < 0) die("connect");
  if (segments > 1) {
    int size = (int)payload;
    if (setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &size, sizeof size) < 0) die("UDP_SEGMENT");
  }
  static uint8_t data[65536];
  for (size_t i = 0; i < payload * segments; i++) data[i] = (uint8_t)(i % payload);
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data;
    iov[i].iov_len = payload * segments;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0, errors = 0;
  double start = now_s(), end = start + seconds, t = start;
  while (t < end) {
    int n = sendmmsg(s, msgs, BATCH, 0);
    if (n < 0) errors++;
    else sent += (unsigned long long)n;
    t = now_s();
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"errors\":%llu,\"seconds\":%.6f}\n", sent * segments,
         sent * segments * payload, errors, t - start);
  return 0;
}
