// Running a child without CAP_NET_ADMIN: dropped from its bounding and
// inheritable sets by setpriv (util-linux), so neither the child nor anything
// it executes can have it. The child keeps its uid, and with it read access to
// the checkout wherever that lives (a 0700 home or `mktemp -d` folder), which
// switching to another user would lose. Dropping the bounding set needs
// CAP_SETPCAP: use it as root.

export const WITHOUT_NET_ADMIN: readonly string[] = ['setpriv', '--bounding-set', '-net_admin', '--inh-caps', '-net_admin', '--'];
