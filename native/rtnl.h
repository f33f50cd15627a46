// The rtnetlink conversations, one function per kernel request. Plain C++
// (no N-API): they run on threadpool threads inside AsyncWorkers.
#pragma once

#include <string>
#include <vector>

#include "netlink.h"

namespace tunl {

// By ifindex, or by name when ifindex is 0.
bool GetLink(NlSocket* s, int ifindex, const std::string& name, LinkData* out, SysError* err);
bool ListLinks(NlSocket* s, std::vector<LinkData>* out, SysError* err);

// One RTM_NEWLINK changing what is given: mtu (>0), up (-1 leaves it),
// alias (when set_alias), group (when set_group).
struct LinkChange {
  int ifindex = 0;
  uint32_t mtu = 0;
  int up = -1;
  bool set_alias = false;
  std::string alias;
  bool set_group = false;
  uint32_t group = 0;
};
bool ChangeLink(NlSocket* s, const LinkChange& change, SysError* err);
bool DeleteLink(NlSocket* s, int ifindex, SysError* err);
// One RTM_DELLINK with ifi_index 0 and IFLA_GROUP: every link of the group.
bool DeleteLinkGroup(NlSocket* s, uint32_t group, SysError* err);

// family 4/6; addr holds 4 or 16 bytes. The *Message builders make the
// request the Change* calls send (a batch sends many in one go).
NlMessage AddressMessage(bool add, int ifindex, int family, const uint8_t* addr, int prefix_len);
NlMessage RouteMessage(bool add, int ifindex, int family, const uint8_t* dst, int dst_len, uint32_t metric);
bool ChangeAddress(NlSocket* s, bool add, int ifindex, int family, const uint8_t* addr, int prefix_len, SysError* err);
bool ListAddresses(NlSocket* s, int ifindex, std::vector<AddrData>* out, SysError* err);

bool ChangeRoute(NlSocket* s, bool add, int ifindex, int family, const uint8_t* dst, int dst_len, uint32_t metric,
                 SysError* err);
// Routes in the main table whose RTA_OIF is ifindex (all protocols and types;
// the TypeScript side decides what to keep).
bool ListRoutes(NlSocket* s, int ifindex, std::vector<RouteData>* out, SysError* err);

// One step of a configuration run (configureLink): the same requests as the
// single calls above, sent one after another on one socket by one worker.
struct LinkStep {
  enum Kind { kLink, kAddress, kRoute } kind = kLink;
  LinkChange link;  // kLink (its ifindex is filled in by RunSteps)
  bool add = true;  // kAddress / kRoute
  int family = 4;
  uint8_t bytes[16] = {0};
  int prefix_len = 0;
  uint32_t metric = 0;
};
// Where a run of steps stopped: step is the first that failed (-1: none);
// also_applied, the steps after it that the kernel carried out anyway (they
// were in the same batch: the kernel acts on every message it was sent).
struct StepFailure {
  int step = -1;
  std::vector<int> also_applied;
};
// Runs the steps in order and stops at the first failure. With batch, each
// run of consecutive address/route steps goes out as one sendmsg (up to 128
// requests) whose acknowledgements are read in one pass; link steps always
// go alone.
bool RunSteps(NlSocket* s, int ifindex, const std::vector<LinkStep>& steps, bool batch, StepFailure* failure,
              SysError* err);

}  // namespace tunl
