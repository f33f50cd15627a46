/* The kernel's end of bench/throughput.ts's TCP rows, where the other end is
 * the bench's mini-TCP on a TUN queue (bench/lib/tcp-responder.ts, tcp-sender.ts).
 *   tcp_stream send DST PORT SECONDS
 *       connects to DST:PORT (routed into the TUN), writes as fast as the
 *       kernel takes it for SECONDS, closes (the kernel then sends what is
 *       buffered and a FIN); prints {"bytes": accepted by send(), ...}.
 *   tcp_stream sink ADDR PORT IDLE_MS MAX_S
 *       listens on ADDR:PORT, prints "ready", accepts one connection, reads
 *       and discards until EOF (or IDLE_MS of silence, or MAX_S); prints
 *       {"bytes": received, "seconds": first to last byte, "eof": 0|1}. */
#include "common.h"
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static struct sockaddr_in address_of(const char *ip, const char *port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", ip); exit(2); }
  return a;
}

static int send_for(const char *dst, const char *port, double seconds) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  struct sockaddr_in to = address_of(dst, port);
  if (connect(s, (struct sockaddr *)&to, sizeof to) < 0) die("connect");
  static uint8_t data[1 << 18];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)i;
  unsigned long long bytes = 0;
  double start = now_s(), t = start;
  while (t < start + seconds) {
    ssize_t n = send(s, data, sizeof data, 0);
    if (n < 0) die("send");
    bytes += (unsigned long long)n;
    t = now_s();
  }
  close(s);
  printf("{\"bytes\":%llu,\"seconds\":%.6f}\n", bytes, t - start);
  return 0;
}

static int sink(const char *ip, const char *port, int idle_ms, double max_s) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) die("socket");
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = address_of(ip, port);
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(l, 1) < 0) die("listen");
  printf("ready\n");
  fflush(stdout);
  double start = now_s();
  struct pollfd pl = {.fd = l, .events = POLLIN};
  if (poll(&pl, 1, (int)(max_s * 1000)) <= 0) { printf("{\"bytes\":0,\"seconds\":0,\"eof\":0}\n"); return 0; }
  int s = accept(l, NULL, NULL);
  if (s < 0) die("accept");
  static uint8_t buf[1 << 18];
  unsigned long long bytes = 0;
  int eof = 0;
  double first = 0, last = 0;
  struct pollfd p = {.fd = s, .events = POLLIN};
  while (now_s() - start < max_s) {
    int r = poll(&p, 1, idle_ms);
    if (r < 0) { if (errno == EINTR) continue; die("poll"); }
    if (r == 0) break; /* silence: the sender stalled */
    ssize_t n = read(s, buf, sizeof buf);
    if (n < 0) die("read");
    if (n == 0) { eof = 1; break; }
    last = now_s();
    if (!bytes) first = last;
    bytes += (unsigned long long)n;
  }
  printf("{\"bytes\":%llu,\"seconds\":%.6f,\"eof\":%d}\n", bytes, last - first, eof);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "send") == 0) return send_for(argv[2], argv[3], atof(argv[4]));
  if (argc >= 6 && strcmp(argv[1], "sink") == 0) return sink(argv[2], argv[3], atoi(argv[4]), atof(argv[5]));
  fprintf(stderr, "usage: tcp_stream send DST PORT SECONDS | sink ADDR PORT IDLE_MS MAX_S\n");
  return 2;
}
