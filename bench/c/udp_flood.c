/* Fast packet source for the read benchmarks: a connected UDP socket pushing
 * batches with sendmmsg into an address routed through the TUN.
 *   udp_flood DST PORT PAYLOAD SECONDS
 * Prints one JSON line: packets the kernel accepted from us, and the time. */
#include "common.h"
#include <sys/socket.h>
#include <netinet/in.h>

#define BATCH 64

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: udp_flood DST PORT PAYLOAD SECONDS\n"); return 2; }
  size_t payload = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) { fprintf(stderr, "bad DST\n"); return 2; }
  if (connect(s, (struct sockaddr *)&to, sizeof to) < 0) die("connect");
  static uint8_t data[65536];
  for (size_t i = 0; i < payload; i++) data[i] = (uint8_t)i;
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data;
    iov[i].iov_len = payload;
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
  printf("{\"packets\":%llu,\"errors\":%llu,\"seconds\":%.6f}\n", sent, errors, t - start);
  return 0;
}
