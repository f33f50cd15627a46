// TunAdapter and createAdapter: the public face of one TUN interface.
export * from './tun-adapter.js';
export type { PacketIteratorOptions } from './packets.js';
export type { AlertInfo, TunAdapterEvents, TunAdapterEventName, TunAdapterListener } from './events.js';
