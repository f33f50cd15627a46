/* The C reference for interface bring-up and teardown: the same kernel
 * conversations the binding has (TUNSETIFF, then one rtnetlink request per
 * step, each acknowledged), written as plainly as possible on one socket.
 *   netlink_bringup cycle PREFIX REPS         bring one interface up and tear it down, REPS times
 *   netlink_bringup scale PREFIX N TEARDOWN   bring N up (all alive), then tear them all down;
 *                                             TEARDOWN is "each" (RTM_DELLINK per link) or
 *                                             "group" (one RTM_DELLINK with IFLA_GROUP)
 *   netlink_bringup getlink NAME REPS         RTM_GETLINK by name, REPS times (the cost of one request)
 * "open" is what the binding's open does: RTM_GETLINK by name (must answer
 * ENODEV: TUNSETIFF alone would attach to an existing TUN), TUNSETIFF, and
 * RTM_GETLINK again for the new ifindex. Interface i gets MTU 1400, 10.(100+i/256).(i%256).1/24, and a route to
 * 172.(16+i/256).(i%256).0/24 through it, then is set up (IPv4 refuses a
 * route through a device that is down, so "up" precedes "route").
 * Prints one JSON line: per-interface microseconds for each phase (cycle mode
 * also each step's, flattened: open, MTU, address, up, route per cycle). */
#include "common.h"
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#define BENCH_GROUP 4242

static int nl;
static uint32_t seq;

struct req {
  struct nlmsghdr h;
  char body[512];
};

static void *nl_tail(struct req *r) { return (char *)r + NLMSG_ALIGN(r->h.nlmsg_len); }

static void add_attr(struct req *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = nl_tail(r);
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void start(struct req *r, unsigned short type, unsigned short flags, size_t fixed) {
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
  r->h.nlmsg_seq = ++seq;
}

/* Sends the request and waits for its ack (or, for a get, its answer then
 * ack). Returns 0 or the kernel's errno; a get's answer is copied to `reply`. */
static int transact_errno(struct req *r, const char *what, struct nlmsghdr *reply, size_t reply_size) {
  if (send(nl, r, r->h.nlmsg_len, 0) < 0) die(what);
  char buf[16384];
  for (;;) {
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n < 0) { if (errno == EINTR) continue; die(what); }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != r->h.nlmsg_seq) continue;
      if (h->nlmsg_type != NLMSG_ERROR) {
        if (reply && h->nlmsg_len <= reply_size) memcpy(reply, h, h->nlmsg_len);
        continue;
      }
      return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
    }
  }
}

/* Exits with the kernel's errno on failure. */
static void transact(struct req *r, const char *what) {
  int err = transact_errno(r, what, NULL, 0);
  if (err) { errno = err; die(what); }
}

/* RTM_GETLINK by name: 0 and the ifindex, or the errno (ENODEV when absent). */
static int get_link(const char *name, int *ifindex) {
  struct req r;
  start(&r, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
  ifi->ifi_family = AF_UNSPEC;
  add_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  static char reply[16384];
  int err = transact_errno(&r, "RTM_GETLINK", (struct nlmsghdr *)reply, sizeof reply);
  if (!err) *ifindex = ((struct ifinfomsg *)NLMSG_DATA((struct nlmsghdr *)reply))->ifi_index;
  return err;
}

static void link_change(int ifindex, const uint32_t *mtu, const int *up, const uint32_t *group) {
  struct req r;
  start(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (up) { ifi->ifi_change = IFF_UP; ifi->ifi_flags = *up ? IFF_UP : 0; }
  if (mtu) add_attr(&r, IFLA_MTU, mtu, sizeof *mtu);
  if (group) add_attr(&r, IFLA_GROUP, group, sizeof *group);
  transact(&r, "RTM_NEWLINK");
}

static void add_address(int ifindex, int i) {
  struct req r;
  start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
  struct ifaddrmsg *ifa = NLMSG_DATA(&r.h);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 24;
  ifa->ifa_index = (uint32_t)ifindex;
  uint8_t a[4] = {10, (uint8_t)(100 + i / 256), (uint8_t)(i % 256), 1};
  add_attr(&r, IFA_LOCAL, a, 4);
  add_attr(&r, IFA_ADDRESS, a, 4);
  transact(&r, "RTM_NEWADDR");
}

static void add_route(int ifindex, int i) {
  struct req r;
  start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
  struct rtmsg *rt = NLMSG_DATA(&r.h);
  rt->rtm_family = AF_INET;
  rt->rtm_dst_len = 24;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_LINK;
  rt->rtm_type = RTN_UNICAST;
  uint8_t d[4] = {172, (uint8_t)(16 + i / 256), (uint8_t)(i % 256), 0};
  uint32_t oif = (uint32_t)ifindex;
  add_attr(&r, RTA_DST, d, 4);
  add_attr(&r, RTA_OIF, &oif, 4);
  transact(&r, "RTM_NEWROUTE");
}

static void del_link(int ifindex, const uint32_t *group) {
  struct req r;
  start(&r, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (group) add_attr(&r, IFLA_GROUP, group, sizeof *group);
  transact(&r, "RTM_DELLINK");
}

struct iface { int fd; int ifindex; };

/* Steps of one bring-up, for the per-step table: open, MTU, address, up, route. */
#define STEPS 5
static double step_us[STEPS];

static struct iface bring_up(const char *prefix, int i) {
  struct iface t;
  char name[IFNAMSIZ];
  snprintf(name, sizeof name, "%s%d", prefix, i);
  double t0 = now_s();
  /* What the binding's open does: refuse an existing name (TUNSETIFF would
   * silently attach), create, then read the new link back for its ifindex. */
  if (get_link(name, &t.ifindex) != ENODEV) { fprintf(stderr, "%s exists\n", name); exit(1); }
  t.fd = tun_attach(name, 1);
  int err = get_link(name, &t.ifindex);
  if (err) { errno = err; die("RTM_GETLINK"); }
  double t1 = now_s();
  uint32_t mtu = 1400;
  int up = 1;
  link_change(t.ifindex, &mtu, NULL, NULL);
  double t2 = now_s();
  add_address(t.ifindex, i);
  double t3 = now_s();
  link_change(t.ifindex, NULL, &up, NULL);
  double t4 = now_s();
  add_route(t.ifindex, i);
  double t5 = now_s();
  step_us[0] = (t1 - t0) * 1e6;
  step_us[1] = (t2 - t1) * 1e6;
  step_us[2] = (t3 - t2) * 1e6;
  step_us[3] = (t4 - t3) * 1e6;
  step_us[4] = (t5 - t4) * 1e6;
  return t;
}

static void tear_down(struct iface t) {
  del_link(t.ifindex, NULL);
  close(t.fd);
}

static void print_list(const char *key, const double *us, int n, int last) {
  printf("\"%s\":[", key);
  for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", us[i]);
  printf("]%s", last ? "" : ",");
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: netlink_bringup cycle PREFIX REPS | scale PREFIX N each|group | getlink NAME REPS\n");
    return 2;
  }
  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) die("netlink socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(nl, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind netlink");
  const char *prefix = argv[2];
  int n = atoi(argv[3]);
  double *up_us = calloc((size_t)n, sizeof(double));
  double *down_us = calloc((size_t)n, sizeof(double));
  if (!strcmp(argv[1], "cycle")) {
    double *steps = calloc((size_t)n * STEPS, sizeof(double));
    for (int r = 0; r < n; r++) {
      double t0 = now_s();
      struct iface t = bring_up(prefix, 0);
      double t1 = now_s();
      memcpy(steps + r * STEPS, step_us, sizeof step_us);
      tear_down(t);
      double t2 = now_s();
      up_us[r] = (t1 - t0) * 1e6;
      down_us[r] = (t2 - t1) * 1e6;
    }
    printf("{");
    print_list("bringupUs", up_us, n, 0);
    print_list("teardownUs", down_us, n, 0);
    print_list("stepUs", steps, n * STEPS, 1);
    printf("}\n");
    return 0;
  }
  if (!strcmp(argv[1], "scale") && argc >= 5) {
    int group = !strcmp(argv[4], "group");
    struct iface *all = calloc((size_t)n, sizeof *all);
    for (int i = 0; i < n; i++) {
      double t0 = now_s();
      all[i] = bring_up(prefix, i);
      up_us[i] = (now_s() - t0) * 1e6;
    }
    double groupUs = 0;
    if (group) {
      /* Tagging is not part of bring-up: it is the price of the batched teardown. */
      uint32_t g = BENCH_GROUP;
      for (int i = 0; i < n; i++) link_change(all[i].ifindex, NULL, NULL, &g);
      double t0 = now_s();
      del_link(0, &g);
      groupUs = (now_s() - t0) * 1e6;
      for (int i = 0; i < n; i++) close(all[i].fd);
    } else {
      for (int i = 0; i < n; i++) {
        double t0 = now_s();
        tear_down(all[i]);
        down_us[i] = (now_s() - t0) * 1e6;
      }
    }
    printf("{");
    print_list("bringupUs", up_us, n, 0);
    if (group) printf("\"groupDeleteUs\":%.1f}\n", groupUs);
    else { print_list("teardownUs", down_us, n, 1); printf("}\n"); }
    return 0;
  }
  if (!strcmp(argv[1], "getlink")) {
    int ifindex = 0;
    for (int r = 0; r < n; r++) {
      double t0 = now_s();
      int err = get_link(prefix, &ifindex);
      up_us[r] = (now_s() - t0) * 1e6;
      if (err) { errno = err; die("RTM_GETLINK"); }
    }
    printf("{");
    print_list("requestUs", up_us, n, 1);
    printf("}\n");
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
