/* Shared helpers for the bench's C baselines: monotonic time, attaching to a
 * TUN by name, and crafting the IPv4/UDP packet every writer pushes. Kept in
 * one header so each baseline stays a single translation unit for `cc -O2`. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system) this process has used, in seconds. */
static inline double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static inline void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

/* Opens /dev/net/tun and binds it to `name` (creating it or attaching to a
 * persistent device of that name). Same flags as the binding: IFF_TUN|IFF_NO_PI. */
static inline int tun_attach(const char *name, int nonblock) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  return fd;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (uint32_t)p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* IPv4 header (20) + UDP header (8) + payload; UDP checksum 0 (allowed for
 * IPv4) so the kernel accepts it without us summing the payload. Returns length. */
static inline size_t build_udp4(uint8_t *buf, const char *src, const char *dst,
                                uint16_t sport, uint16_t dport, size_t payload) {
  size_t total = 20 + 8 + payload;
  memset(buf, 0, total);
  buf[0] = 0x45;
  buf[2] = (uint8_t)(total >> 8);
  buf[3] = (uint8_t)total;
  buf[8] = 64;
  buf[9] = 17;
  inet_pton(AF_INET, src, buf + 12);
  inet_pton(AF_INET, dst, buf + 16);
  uint16_t c = ip_checksum(buf, 20);
  buf[10] = (uint8_t)(c >> 8);
  buf[11] = (uint8_t)c;
  uint8_t *u = buf + 20;
  u[0] = (uint8_t)(sport >> 8); u[1] = (uint8_t)sport;
  u[2] = (uint8_t)(dport >> 8); u[3] = (uint8_t)dport;
  u[4] = (uint8_t)((8 + payload) >> 8); u[5] = (uint8_t)(8 + payload);
  for (size_t i = 0; i < payload; i++) u[8 + i] = (uint8_t)i;
  return total;
}

#endif
