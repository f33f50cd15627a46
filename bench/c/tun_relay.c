/* The C baseline of bench/tunnel.ts: a TUN <-> TUN relay between two network
 * namespaces, one packet per read()/write(), poll() on both fds.
 *   tun_relay relay NS_A NS_B NAME_A NAME_B
 *       opens NAME_A in NS_A and NAME_B in NS_B (paths of namespace files),
 *       prints "ready", relays until SIGTERM.
 *   tun_relay relay-vnet NS_A NS_B NAME_A NAME_B
 *       the same with IFF_VNET_HDR and TUNSETOFFLOAD CSUM|TSO4|TSO6 (+USO when
 *       the kernel takes it): superframes and their virtio headers pass
 *       through unsplit (the pass-through ceiling).
 *   tun_relay exec NS_A NS_B NAME_A NAME_B CMD ARGS...
 *       opens both (blocking) as fds 3 and 4 and execs CMD: the naive-Node
 *       relay gets its fds this way (Node cannot issue TUNSETIFF).
 * Single-threaded, so setns() here moves nothing but this program. */
#include "common.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>

static int open_in(const char *ns_path, const char *name, int nonblock, int vnet) {
  int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) { perror(ns_path); exit(1); }
  close(ns);
  int fd = open("/dev/net/tun", O_RDWR | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) { perror("/dev/net/tun"); exit(1); }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); exit(1); }
  if (vnet) {
    unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(fd, TUNSETOFFLOAD, tcp) < 0) { perror("TUNSETOFFLOAD"); exit(1); }
    ioctl(fd, TUNSETOFFLOAD, tcp | 0x20 | 0x40); /* USO4|USO6, Linux 6.2+; EINVAL leaves the TCP mask */
  }
  return fd;
}

static volatile sig_atomic_t stop = 0;
static void on_term(int sig) { (void)sig; stop = 1; }

/* Moves every packet waiting on from to to; returns packets moved. */
static long drain(int from, int to, unsigned char *buf) {
  long moved = 0;
  for (;;) {
    ssize_t n = read(from, buf, 65536 + 10);
    if (n < 0) return moved;
    if (write(to, buf, (size_t)n) < 0 && errno != EINVAL) { /* a dropped packet, like a full ring */ }
    moved++;
  }
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: tun_relay relay|relay-vnet|exec NS_A NS_B NAME_A NAME_B [CMD...]\n"); return 2; }
  int exec_mode = strcmp(argv[1], "exec") == 0;
  int vnet = strcmp(argv[1], "relay-vnet") == 0;
  int a = open_in(argv[2], argv[4], !exec_mode, vnet);
  int b = open_in(argv[3], argv[5], !exec_mode, vnet);
  if (exec_mode) {
    if (argc < 7) return 2;
    if (dup2(a, 3) < 0 || dup2(b, 4) < 0) { perror("dup2"); return 1; }
    execvp(argv[6], argv + 6);
    perror("execvp");
    return 1;
  }
  signal(SIGTERM, on_term);
  static unsigned char buf[65536 + 10];
  printf("ready\n");
  fflush(stdout);
  long packets = 0;
  struct pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (!stop) {
    if (poll(fds, 2, 200) <= 0) continue;
    if (fds[0].revents & POLLIN) packets += drain(a, b, buf);
    if (fds[1].revents & POLLIN) packets += drain(b, a, buf);
  }
  printf("{\"packets\": %ld}\n", packets);
  return 0;
}
