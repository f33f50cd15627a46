/* The practical limit for TUN packet I/O: a plain C loop on the TUN fd.
 *   tun_rw read  IFNAME IDLE_MS MAX_S       drain packets until IDLE_MS without one
 *   tun_rw write IFNAME PAYLOAD SECONDS SRC DST DPORT   write one IPv4/UDP packet repeatedly
 *   tun_rw exec  IFNAME CMD [ARGS...]       attach (blocking fd), hand it to CMD as fd 3
 * read/write print "ready" once attached, then one JSON line of results
 * (including the CPU time the loop used, which other load on the machine barely changes).
 * `exec` exists because Node cannot issue TUNSETIFF itself: the naive-Node
 * baseline gets a real TUN fd this way and then uses only fs.read/fs.write. */
#include "common.h"
#include <poll.h>

static int do_read(const char *name, int idle_ms, double max_s) {
  int fd = tun_attach(name, 1);
  printf("ready\n");
  fflush(stdout);
  double cpu0 = cpu_s();
  static uint8_t buf[65536];
  unsigned long long packets = 0, bytes = 0;
  double first = 0, last = 0, start = now_s();
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (;;) {
    int timeout = packets ? idle_ms : 1000;
    int r = poll(&pfd, 1, timeout);
    if (r < 0) { if (errno == EINTR) continue; die("poll"); }
    if (r == 0) {
      if (packets) break;
      if (now_s() - start > max_s) break;
      continue;
    }
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        die("read");
      }
      if (!packets) first = now_s();
      packets++;
      bytes += (unsigned long long)n;
    }
    last = now_s();
    if (last - start > max_s) break;
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"cpuSeconds\":%.6f}\n", packets, bytes,
         packets ? last - first : 0.0, cpu_s() - cpu0);
  close(fd);
  return 0;
}

static int do_write(const char *name, size_t payload, double seconds, const char *src,
                    const char *dst, int dport) {
  int fd = tun_attach(name, 0);
  static uint8_t pkt[65536];
  size_t len = build_udp4(pkt, src, dst, 40000, (uint16_t)dport, payload);
  printf("ready\n");
  fflush(stdout);
  unsigned long long packets = 0, errors = 0;
  double cpu0 = cpu_s();
  double start = now_s(), end = start + seconds, t = start;
  while (t < end) {
    for (int i = 0; i < 256; i++) {
      if (write(fd, pkt, len) == (ssize_t)len) packets++;
      else errors++;
    }
    t = now_s();
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"cpuSeconds\":%.6f}\n", packets,
         packets * len, errors, t - start, cpu_s() - cpu0);
  close(fd);
  return 0;
}

static int do_exec(const char *name, char **argv) {
  int fd = tun_attach(name, 0);
  if (fd != 3) {
    if (dup2(fd, 3) < 0) die("dup2");
    close(fd);
  }
  /* dup2 onto itself (fd already 3) keeps FD_CLOEXEC, so clear it explicitly. */
  if (fcntl(3, F_SETFD, 0) < 0) die("fcntl");
  execvp(argv[0], argv);
  die("execvp");
  return 1;
}

int main(int argc, char **argv) {
  if (argc >= 5 && !strcmp(argv[1], "read"))
    return do_read(argv[2], atoi(argv[3]), atof(argv[4]));
  if (argc >= 8 && !strcmp(argv[1], "write"))
    return do_write(argv[2], (size_t)atoi(argv[3]), atof(argv[4]), argv[5], argv[6], atoi(argv[7]));
  if (argc >= 4 && !strcmp(argv[1], "exec")) return do_exec(argv[2], argv + 3);
  fprintf(stderr, "usage: tun_rw read IFNAME IDLE_MS MAX_S | write IFNAME PAYLOAD SECONDS SRC DST DPORT | exec IFNAME CMD...\n");
  return 2;
}
