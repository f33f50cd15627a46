// The CLI's help text (also the README's usage section) and version. Only
// the bin's entry (src/cli.ts) imports this; main is handed both.

import { createRequire } from 'node:module';

/** The package's version, from its own package.json (through its "./package.json" export). */
export const VERSION = (createRequire(import.meta.url)('tun-lifecycle/package.json') as { version: string }).version;

export const USAGE = `Usage: tun-lifecycle <command> [options]

Commands:
  up NAME --address CIDR [--address CIDR ...] [--mtu N] [--route CIDR ...] [--offload MODE] [--inspect PORT]
        Bring NAME up under the lifecycle statechart, print each transition with its
        timing, hold it until Ctrl-C or SIGTERM, then clean up and say what was verified.
  inspect NAME [up options] [--port PORT]
        Same as up, with the offline inspector on http://127.0.0.1:PORT/ (default 7357).
  status [NAME]
        No NAME: the interfaces tun-lifecycle made (tagged), with their owner process
        and whether they are leftovers. NAME: its link state, addresses, routes, counters.
  down NAME
        Delete a leftover: an interface tagged by tun-lifecycle whose owner process is
        gone. Refuses an untagged interface, and one whose owner is still running.
  diagram
        Print the lifecycle statechart as Mermaid (stateDiagram-v2), generated from the machine.
  demo [--inspect PORT]
        The whole story in a private network namespace it makes itself: bring-up, an
        echo responder answering ping and UDP, the interface deleted from outside and
        recovered, cleanup, nothing left. Without root it runs on the simulated binding.

Options:
  --address CIDR    address for the interface, repeatable (10.0.0.1/24, fd00::1/64)
  --route CIDR      route through the interface, repeatable (10.1.0.0/16)
  --mtu N           interface MTU (68..65535; 1280 or more with IPv6)
  --offload MODE    (up, inspect) off, on, auto (default: on where the kernel takes it and the
                    coalesced-write probe passes) or raw (pass-through: a virtio header per frame)
  --inspect PORT    serve the offline inspector page on 127.0.0.1:PORT (0: any free port)
  --port PORT       (inspect) the inspector's port
  --stately URL     also stream to Stately's inspector via a WebSocket relay (ws://127.0.0.1:8080);
                    says it is waiting until the relay listens, and says when it connects
  --simulated       (up, inspect) use the in-memory simulated binding: no kernel, no root
  --netns NAME      (up, inspect, status, down) the interface lives in network namespace NAME
                    (/var/run/netns/NAME) or at a path such as /proc/PID/ns/net
  --json            machine-readable output, one JSON object per line
  -h, --help        show this help
  -V, --version     show the version

Exit codes:
  0    success (up: cleaned up and verified after Ctrl-C/SIGTERM)
  1    the lifecycle failed (configuration failed, cleanup failed or timed out)
  2    usage error (unknown command/option, invalid name, CIDR, MTU or port)
  3    missing privilege: needs root or CAP_NET_ADMIN, and read/write /dev/net/tun
  4    no such interface
  5    refused (down of an interface tun-lifecycle did not make, or still in use)
  130  interrupted again while cleaning up

Creating, configuring and deleting interfaces needs root or CAP_NET_ADMIN;
status and diagram do not.
`;
