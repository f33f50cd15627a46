// What the bench's TCP responder (tcp-responder.ts) has of a stream, as byte
// offsets from its start: the in-order edge, and the ranges that came past a
// gap (a packet the TUN ring dropped). Only which bytes arrived is kept, never
// the bytes: the bench counts data, it does not deliver it. The ranges give
// the SACK blocks that let the kernel resend just the holes.

export class StreamRanges {
  /** Bytes taken in order from the start. */
  edge = 0;
  /** Sorted, disjoint, every one past the edge with a gap before it. */
  readonly #held: [number, number][] = [];
  /** The range that took the latest segment past a gap (RFC 2018: reported first). */
  #latest: [number, number] | undefined;

  /** Records that bytes [from, to) arrived; returns how far the edge moved. */
  take(from: number, to: number): number {
    if (to <= this.edge) return 0;
    from = Math.max(from, this.edge);
    if (from > this.edge) {
      this.#hold(from, to);
      return 0;
    }
    let edge = to;
    while (this.#held.length && this.#held[0]![0] <= edge) edge = Math.max(edge, this.#held.shift()![1]);
    if (this.#latest && this.#latest[1] <= edge) this.#latest = undefined;
    const moved = edge - this.edge;
    this.edge = edge;
    return moved;
  }

  #hold(from: number, to: number): void {
    let i = 0;
    while (i < this.#held.length && this.#held[i]![1] < from) i++;
    // Merge with every range it touches or overlaps.
    let j = i;
    while (j < this.#held.length && this.#held[j]![0] <= to) {
      from = Math.min(from, this.#held[j]![0]);
      to = Math.max(to, this.#held[j]![1]);
      j++;
    }
    const merged: [number, number] = [from, to];
    this.#held.splice(i, j - i, merged);
    this.#latest = merged;
  }

  /** Up to `n` held ranges for SACK blocks: the latest first, then the lowest. */
  blocks(n: number): [number, number][] {
    const rest = this.#held.filter((r) => r !== this.#latest);
    return (this.#latest ? [this.#latest, ...rest] : rest).slice(0, n);
  }
}
