#include "rtnl.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <sys/socket.h>

namespace tunl {

bool GetLink(NlSocket* s, int ifindex, const std::string& name, LinkData* out, SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  NlMessage msg(RTM_GETLINK, 0, &ifi, sizeof ifi);
  if (ifindex == 0) msg.PutString(IFLA_IFNAME, name);
  bool found = false;
  bool ok = s->Collect(msg, "RTM_GETLINK", err, [&](const nlmsghdr* h) {
    if (!found && ParseLink(h, out)) found = true;
  });
  if (ok && !found) {
    err->Set(ENODEV, "RTM_GETLINK");
    return false;
  }
  return ok;
}

bool ListLinks(NlSocket* s, std::vector<LinkData>* out, SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  NlMessage msg(RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
  return s->Collect(msg, "RTM_GETLINK", err, [&](const nlmsghdr* h) {
    LinkData link;
    if (ParseLink(h, &link)) out->push_back(std::move(link));
  });
}

bool ChangeLink(NlSocket* s, const LinkChange& change, SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = change.ifindex;
  if (change.up >= 0) {
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = change.up ? IFF_UP : 0;
  }
  NlMessage msg(RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (change.mtu > 0) msg.PutU32(IFLA_MTU, change.mtu);
  // An empty IFLA_IFALIAS clears the alias.
  if (change.set_alias) msg.Put(IFLA_IFALIAS, change.alias.data(), change.alias.size());
  if (change.set_group) msg.PutU32(IFLA_GROUP, change.group);
  return s->Request(msg, "RTM_NEWLINK", err);
}

bool DeleteLink(NlSocket* s, int ifindex, SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  NlMessage msg(RTM_DELLINK, 0, &ifi, sizeof ifi);
  return s->Request(msg, "RTM_DELLINK", err);
}

bool DeleteLinkGroup(NlSocket* s, uint32_t group, SysError* err) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  NlMessage msg(RTM_DELLINK, 0, &ifi, sizeof ifi);
  msg.PutU32(IFLA_GROUP, group);
  return s->Request(msg, "RTM_DELLINK", err);
}

static int Af(int family) { return family == 4 ? AF_INET : AF_INET6; }

NlMessage AddressMessage(bool add, int ifindex, int family, const uint8_t* addr, int prefix_len) {
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<uint8_t>(Af(family));
  ifa.ifa_prefixlen = static_cast<uint8_t>(prefix_len);
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
  NlMessage msg(add ? RTM_NEWADDR : RTM_DELADDR, add ? (NLM_F_CREATE | NLM_F_EXCL) : 0, &ifa, sizeof ifa);
  size_t alen = family == 4 ? 4 : 16;
  msg.Put(IFA_LOCAL, addr, alen);
  msg.Put(IFA_ADDRESS, addr, alen);
  return msg;
}

bool ChangeAddress(NlSocket* s, bool add, int ifindex, int family, const uint8_t* addr, int prefix_len,
                   SysError* err) {
  NlMessage msg = AddressMessage(add, ifindex, family, addr, prefix_len);
  return s->Request(msg, add ? "RTM_NEWADDR" : "RTM_DELADDR", err);
}

bool ListAddresses(NlSocket* s, int ifindex, std::vector<AddrData>* out, SysError* err) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  ifa.ifa_index = static_cast<uint32_t>(ifindex);  // filtered by the kernel under strict checking
  NlMessage msg(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  return s->Collect(msg, "RTM_GETADDR", err, [&](const nlmsghdr* h) {
    AddrData a;
    if (ParseAddr(h, &a) && a.ifindex == ifindex) out->push_back(a);
  });
}

NlMessage RouteMessage(bool add, int ifindex, int family, const uint8_t* dst, int dst_len, uint32_t metric) {
  rtmsg rt{};
  rt.rtm_family = static_cast<uint8_t>(Af(family));
  rt.rtm_dst_len = static_cast<uint8_t>(dst_len);
  rt.rtm_table = RT_TABLE_MAIN;
  if (add) {
    rt.rtm_protocol = RTPROT_STATIC;
    rt.rtm_scope = RT_SCOPE_LINK;  // no gateway: the destination is on the link
    rt.rtm_type = RTN_UNICAST;
  } else {
    // Match whatever added it (us, `ip route`, a routing daemon).
    rt.rtm_protocol = RTPROT_UNSPEC;
    rt.rtm_scope = RT_SCOPE_NOWHERE;
    rt.rtm_type = RTN_UNICAST;
  }
  NlMessage msg(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? (NLM_F_CREATE | NLM_F_EXCL) : 0, &rt, sizeof rt);
  msg.PutU32(RTA_TABLE, RT_TABLE_MAIN);
  if (dst_len > 0) msg.Put(RTA_DST, dst, family == 4 ? 4 : 16);
  msg.PutU32(RTA_OIF, static_cast<uint32_t>(ifindex));
  if (metric > 0 || add) msg.PutU32(RTA_PRIORITY, metric);
  return msg;
}


bool ChangeRoute(NlSocket* s, bool add, int ifindex, int family, const uint8_t* dst, int dst_len, uint32_t metric,
                 SysError* err) {
  NlMessage msg = RouteMessage(add, ifindex, family, dst, dst_len, metric);
  return s->Request(msg, add ? "RTM_NEWROUTE" : "RTM_DELROUTE", err);
}

bool ListRoutes(NlSocket* s, int ifindex, std::vector<RouteData>* out, SysError* err) {
  for (int af : {AF_INET, AF_INET6}) {
    rtmsg rt{};
    rt.rtm_family = static_cast<uint8_t>(af);
    rt.rtm_table = RT_TABLE_MAIN;
    NlMessage msg(RTM_GETROUTE, NLM_F_DUMP, &rt, sizeof rt);
    msg.PutU32(RTA_TABLE, RT_TABLE_MAIN);               // kernel-side filters under strict checking
    msg.PutU32(RTA_OIF, static_cast<uint32_t>(ifindex));
    bool ok = s->Collect(msg, "RTM_GETROUTE", err, [&](const nlmsghdr* h) {
      RouteData r;
      if (ParseRoute(h, &r) && r.oif == ifindex && r.table == RT_TABLE_MAIN) out->push_back(r);
    });
    if (!ok) return false;
  }
  return true;
}

static bool Batched(const LinkStep& step) { return step.kind == LinkStep::kAddress || step.kind == LinkStep::kRoute; }

static const char* CallOf(const LinkStep& step) {
  if (step.kind == LinkStep::kAddress) return step.add ? "RTM_NEWADDR" : "RTM_DELADDR";
  return step.add ? "RTM_NEWROUTE" : "RTM_DELROUTE";
}

// Steps [from, to): address and route requests, sent together and acknowledged in one pass.
static bool RunBatch(NlSocket* s, int ifindex, const std::vector<LinkStep>& steps, size_t from, size_t to,
                     StepFailure* failure, SysError* err) {
  std::vector<NlMessage> msgs;
  msgs.reserve(to - from);
  for (size_t i = from; i < to; i++) {
    const LinkStep& step = steps[i];
    msgs.push_back(step.kind == LinkStep::kAddress
                       ? AddressMessage(step.add, ifindex, step.family, step.bytes, step.prefix_len)
                       : RouteMessage(step.add, ifindex, step.family, step.bytes, step.prefix_len, step.metric));
  }
  std::vector<int> errnos;
  std::vector<std::string> extacks;
  if (!s->Batch(msgs, CallOf(steps[from]), &errnos, &extacks, err)) {
    // The socket failed: which of these took is unknown; the batch's first step is named.
    failure->step = static_cast<int>(from);
    return false;
  }
  for (size_t i = 0; i < errnos.size(); i++) {
    if (errnos[i] == 0) {
      if (failure->step >= 0) failure->also_applied.push_back(static_cast<int>(from + i));
      continue;
    }
    if (failure->step >= 0) continue;
    failure->step = static_cast<int>(from + i);
    err->Set(errnos[i], CallOf(steps[from + i]));
    err->extack = extacks[i];
  }
  return failure->step < 0;
}

bool RunSteps(NlSocket* s, int ifindex, const std::vector<LinkStep>& steps, bool batch, StepFailure* failure,
              SysError* err) {
  failure->step = -1;
  failure->also_applied.clear();
  // Acks for a batch must fit the socket's receive buffer (each is an skb of its own).
  static const size_t kMaxBatch = 128;
  for (size_t i = 0; i < steps.size();) {
    const LinkStep& step = steps[i];
    if (batch && Batched(step)) {
      size_t end = i + 1;
      while (end < steps.size() && end - i < kMaxBatch && Batched(steps[end])) end++;
      if (!RunBatch(s, ifindex, steps, i, end, failure, err)) return false;
      i = end;
      continue;
    }
    bool ok;
    switch (step.kind) {
      case LinkStep::kLink: {
        LinkChange change = step.link;
        change.ifindex = ifindex;
        ok = ChangeLink(s, change, err);
        break;
      }
      case LinkStep::kAddress:
        ok = ChangeAddress(s, step.add, ifindex, step.family, step.bytes, step.prefix_len, err);
        break;
      case LinkStep::kRoute:
        ok = ChangeRoute(s, step.add, ifindex, step.family, step.bytes, step.prefix_len, step.metric, err);
        break;
      default:
        ok = false;
        err->Set(EINVAL, "configure");
    }
    if (!ok) {
      failure->step = static_cast<int>(i);
      return false;
    }
    i++;
  }
  return true;
}

}  // namespace tunl
