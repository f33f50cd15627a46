/* The C reference for route changes on a ready interface: the same rtnetlink
 * requests the binding makes (RTM_NEWROUTE / RTM_DELROUTE, main table, scope
 * link, RTA_OIF, RTA_PRIORITY, NLM_F_CREATE | NLM_F_EXCL on add), on one socket.
 *   netlink_routes single IFNAME REPS     add one route and delete it, REPS times, each acknowledged before the next
 *   netlink_routes batch IFNAME N REPS    add N routes, then delete them, as batches: up to 128 requests per
 *                                         sendmsg, their acks read before the next batch (what the binding does)
 * Route i is 172.(16 + i/65536).((i/256)%256).(i%256)/32 (bench/reconfigure.ts uses the same).
 * Prints one JSON line: microseconds per add and per delete (single), or per
 * whole batch of N adds and of N deletes (batch). */
#include "common.h"
/* <net/if.h> clashes with the <linux/if.h> common.h includes: just the one function. */
extern unsigned int if_nametoindex(const char *ifname);
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define CHUNK 128

static int nl;
static uint32_t seq;

struct req {
  struct nlmsghdr h;
  char body[128];
};

static void add_attr(struct req *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void route_request(struct req *r, int add, int ifindex, int i) {
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(struct rtmsg));
  r->h.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
  r->h.nlmsg_seq = ++seq;
  struct rtmsg *rt = NLMSG_DATA(&r->h);
  rt->rtm_family = AF_INET;
  rt->rtm_dst_len = 32;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
  rt->rtm_scope = add ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
  rt->rtm_type = RTN_UNICAST;
  uint32_t table = RT_TABLE_MAIN, oif = (uint32_t)ifindex, metric = 0;
  uint8_t d[4] = {172, (uint8_t)(16 + i / 65536), (uint8_t)((i / 256) % 256), (uint8_t)(i % 256)};
  add_attr(r, RTA_TABLE, &table, 4);
  add_attr(r, RTA_DST, d, 4);
  add_attr(r, RTA_OIF, &oif, 4);
  if (add) add_attr(r, RTA_PRIORITY, &metric, 4);
}

/* Sends n requests in one sendmsg and reads their n acks; exits on any error. */
static void send_batch(struct req *reqs, int n, const char *what) {
  struct iovec iov[CHUNK];
  for (int k = 0; k < n; k++) iov[k] = (struct iovec){&reqs[k], reqs[k].h.nlmsg_len};
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof kernel, .msg_iov = iov, .msg_iovlen = (size_t)n};
  if (sendmsg(nl, &mh, 0) < 0) die(what);
  static char buf[65536];
  int acked = 0;
  while (acked < n) {
    ssize_t len = recv(nl, buf, sizeof buf, 0);
    if (len < 0) { if (errno == EINTR) continue; die(what); }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int err = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) { errno = err; die(what); }
      acked++;
    }
  }
}

static double run(int add, int ifindex, int n) {
  static struct req reqs[CHUNK];
  double t0 = now_s();
  for (int from = 0; from < n; from += CHUNK) {
    int count = n - from < CHUNK ? n - from : CHUNK;
    for (int k = 0; k < count; k++) route_request(&reqs[k], add, ifindex, from + k);
    send_batch(reqs, count, add ? "RTM_NEWROUTE" : "RTM_DELROUTE");
  }
  return (now_s() - t0) * 1e6;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: netlink_routes single IFNAME REPS | batch IFNAME N REPS\n");
    return 2;
  }
  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) die("netlink socket");
  int ext = 1;
  setsockopt(nl, SOL_NETLINK, NETLINK_CAP_ACK, &ext, sizeof ext);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(nl, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind netlink");
  int ifindex = (int)if_nametoindex(argv[2]);
  if (!ifindex) die("if_nametoindex");
  int single = !strcmp(argv[1], "single");
  int n = single ? 1 : atoi(argv[3]);
  int reps = single ? atoi(argv[3]) : (argc > 4 ? atoi(argv[4]) : 1);
  printf("{\"addUs\":[");
  double *del = calloc((size_t)reps, sizeof(double));
  for (int r = 0; r < reps; r++) {
    printf("%s%.1f", r ? "," : "", run(1, ifindex, n));
    del[r] = run(0, ifindex, n);
  }
  printf("],\"delUs\":[");
  for (int r = 0; r < reps; r++) printf("%s%.1f", r ? "," : "", del[r]);
  printf("]}\n");
  return 0;
}
