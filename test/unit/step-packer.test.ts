// The packer must write where the addon's exported layout says, not where it
// guesses: given a layout unlike the addon's, every field lands at that
// layout's word and flag. (The native contract tests run the real layout.)

import { expect } from 'chai';
import type { StepLayout } from '../../src/binding/native/addon.js';
import { stepPacker } from '../../src/binding/native/step-packer.js';

/** Positions, kinds and flags all different from native/ops.h. */
const SHUFFLED: StepLayout = {
  words: 10,
  wordHead: 8,
  wordMtu: 0,
  wordGroup: 7,
  wordFamily: 0,
  wordPrefixLength: 1,
  wordMetric: 2,
  wordAddress: 3,
  kindLink: 5,
  kindAddress: 6,
  kindRoute: 7,
  hasMtu: 1 << 6,
  hasUp: 1 << 5,
  up: 1 << 4,
  hasAlias: 1 << 3,
  hasGroup: 1 << 2,
  add: 1 << 1,
};

function stepWords(words: Uint32Array, index: number): number[] {
  return [...words.subarray(index * SHUFFLED.words, (index + 1) * SHUFFLED.words)];
}

describe('the step packer', () => {
  it('packs each plan field at the word and flag the layout names', () => {
    const pack = stepPacker(SHUFFLED);
    const packed = pack({
      mtu: 1400, alias: 'tag', group: 9, addresses: ['10.0.0.1/24'], up: true, routes: [{ destination: 'fd00::/64', metric: 5 }],
    });
    expect(packed.count).to.equal(4);
    expect(packed.alias).to.equal('tag');
    const head = (kind: number, flags: number) => kind | (flags << 8);
    const { hasMtu, hasGroup, hasAlias, hasUp, up, add } = SHUFFLED;
    expect(stepWords(packed.words, 0), 'link').to.deep.equal([1400, 0, 0, 0, 0, 0, 0, 9, head(5, hasMtu | hasGroup | hasAlias), 0]);
    const ipv4 = new Uint32Array(new Uint8Array([10, 0, 0, 1]).buffer)[0]!;
    expect(stepWords(packed.words, 1), 'address').to.deep.equal([4, 24, 0, ipv4, 0, 0, 0, 0, head(6, add), 0]);
    expect(stepWords(packed.words, 2), 'up').to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, head(5, hasUp | up), 0]);
    const ipv6 = [...new Uint32Array(new Uint8Array([0xfd, ...new Array<number>(15).fill(0)]).buffer)];
    expect(stepWords(packed.words, 3), 'route').to.deep.equal([6, 64, 5, ...ipv6, 0, head(7, add), 0]);
  });

  it('clears what a longer plan left in the shared buffer', () => {
    const pack = stepPacker(SHUFFLED);
    pack({ routes: [{ destination: 'fd00::/64', metric: 5 }] });
    const packed = pack({ up: false });
    expect(stepWords(packed.words, 0)).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, SHUFFLED.kindLink | (SHUFFLED.hasUp << 8), 0]);
  });

  it('refuses an addon whose layout lacks a key, saying to rebuild it', () => {
    const { add: _, ...older } = SHUFFLED;
    expect(() => stepPacker(older)).to.throw(/stepLayout\.add.*rebuild/);
    expect(() => stepPacker(undefined as unknown as StepLayout)).to.throw(/stepLayout\.words/);
  });
});
