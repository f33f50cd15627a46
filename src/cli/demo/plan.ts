// The demo's addresses: the TUN's own, and peers routed into it (answered
// by the user-space echo responder). All private, all inside the namespace.

export const DEMO = {
  name: 'tl-demo0',
  mtu: 1400,
  addresses: ['10.77.0.1/24', 'fd77::1/64'],
  routes: ['10.78.0.0/16', 'fd78::/64'],
  local: { 4: '10.77.0.1', 6: 'fd77::1' },
  peer: { 4: '10.78.0.7', 6: 'fd78::7' },
  echoPort: 7,
  /** Pushed live while ping runs (step 4): a peer the demo reaches only after the push. */
  pushed: { route: '10.79.0.0/16', peer: '10.79.0.7' },
} as const;

export type Family = 4 | 6;
