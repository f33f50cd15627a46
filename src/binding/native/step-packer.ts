// A LinkPlan packed as the words the addon's ParseSteps reads (native/ops.cc),
// in the layout the addon itself exports (native/ops.h is its one definition):
// this file knows which plan field goes to which named word or flag, not where
// those are. Packing is on the measured create path, so the layout is read
// once, when the packer is made, into constants the packing loop uses.

import { planSteps } from '../contract/link-plan.js';
import type { RawLinkSteps, StepLayout } from './addon.js';

/** A plan as addon steps, in the order LinkPlan documents; all validated before any is sent. */
export type StepPacker = (plan: unknown, argument?: string) => RawLinkSteps;

function constantOf(layout: StepLayout | undefined, key: string): number {
  const value: unknown = layout?.[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`tun-lifecycle: the native addon exports no stepLayout.${key}; it is older than this package, ` +
      'rebuild it with `npx node-gyp rebuild`.');
  }
  return value;
}

export function stepPacker(layout: StepLayout): StepPacker {
  const WORDS = constantOf(layout, 'words');
  const HEAD = constantOf(layout, 'wordHead');
  const MTU = constantOf(layout, 'wordMtu');
  const GROUP = constantOf(layout, 'wordGroup');
  const FAMILY = constantOf(layout, 'wordFamily');
  const PREFIX_LENGTH = constantOf(layout, 'wordPrefixLength');
  const METRIC = constantOf(layout, 'wordMetric');
  const ADDRESS = constantOf(layout, 'wordAddress');
  const KIND_LINK = constantOf(layout, 'kindLink');
  const KIND_ADDRESS = constantOf(layout, 'kindAddress');
  const KIND_ROUTE = constantOf(layout, 'kindRoute');
  const HAS_MTU = constantOf(layout, 'hasMtu');
  const HAS_UP = constantOf(layout, 'hasUp');
  const UP = constantOf(layout, 'up');
  const HAS_ALIAS = constantOf(layout, 'hasAlias');
  const HAS_GROUP = constantOf(layout, 'hasGroup');
  const ADD = constantOf(layout, 'add');

  // Packed steps are written here and copied out by the addon before the call
  // returns, so one buffer serves every call (grown when a plan is longer); a
  // fresh ArrayBuffer per call would cost more than the packing.
  let packedWords = new Uint32Array(WORDS * 8);
  let packedBytes = new Uint8Array(packedWords.buffer);

  return (plan, argument = 'plan') => {
    const steps = planSteps(plan, argument);
    if (packedWords.length < steps.length * WORDS) {
      packedWords = new Uint32Array(steps.length * WORDS);
      packedBytes = new Uint8Array(packedWords.buffer);
    }
    // Plain stores: fill() and set() are calls into the runtime that cost more
    // here than the few stores they save.
    const words = packedWords;
    const bytes = packedBytes;
    let alias: string | undefined;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const w = i * WORDS;
      for (let k = 0; k < WORDS; k++) words[w + k] = 0;
      let address: Uint8Array | undefined;
      switch (step.kind) {
        case 'link': {
          let flags = 0;
          if (step.mtu !== undefined) {
            flags |= HAS_MTU;
            words[w + MTU] = step.mtu;
          }
          if (step.group !== undefined) {
            flags |= HAS_GROUP;
            words[w + GROUP] = step.group;
          }
          if (step.alias !== undefined) {
            flags |= HAS_ALIAS;
            alias = step.alias;
          }
          words[w + HEAD] = KIND_LINK | (flags << 8);
          break;
        }
        case 'up':
          words[w + HEAD] = KIND_LINK | ((HAS_UP | (step.up ? UP : 0)) << 8);
          break;
        case 'address':
          words[w + HEAD] = KIND_ADDRESS | ((step.add ? ADD : 0) << 8);
          words[w + FAMILY] = step.cidr.family;
          words[w + PREFIX_LENGTH] = step.cidr.prefixLength;
          address = step.cidr.bytes;
          break;
        case 'route': {
          const d = step.route.destination;
          words[w + HEAD] = KIND_ROUTE | ((step.add ? ADD : 0) << 8);
          words[w + FAMILY] = d.family;
          words[w + PREFIX_LENGTH] = d.prefixLength;
          words[w + METRIC] = step.route.metric;
          address = d.bytes;
          break;
        }
      }
      if (address) {
        const at = (w + ADDRESS) * 4;
        for (let k = 0; k < address.length; k++) bytes[at + k] = address[k]!;
      }
    }
    return { words, count: steps.length, alias };
  };
}
