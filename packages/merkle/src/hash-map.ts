/**
 * A map keyed by 32-byte hashes (SHA-256 outputs), for the trie's
 * bookkeeping of nodes by hash (docs/PROTOCOL.md 3.5). A JS `Map` needs a
 * primitive key, so each lookup first built a 32-character string and then
 * hashed it; the profile of a deferred commit showed those map operations as
 * its largest self time. Here the keys live in one flat byte array, the slot
 * is the hash's first four bytes (uniform, since the keys are SHA-256
 * outputs), and a lookup compares bytes in place: no string, no allocation.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), grown at 3/4 load. Keys are copied in; iteration yields views
 * into the table that stay valid only until the next change.
 */
export class HashMap<V> {
  private keys: Uint8Array;
  private vals: (V | undefined)[];
  private used: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.keys = new Uint8Array(cap * 32);
    this.vals = new Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  /** Entries in the map. */
  get size(): number {
    return this.count;
  }

  private home(h: Uint8Array, off = 0): number {
    return ((h[off]! << 24) | (h[off + 1]! << 16) | (h[off + 2]! << 8) | h[off + 3]!) & this.mask;
  }

  private equalAt(slot: number, h: Uint8Array): boolean {
    const k = this.keys;
    const base = slot * 32;
    for (let i = 0; i < 32; i++) if (k[base + i] !== h[i]) return false;
    return true;
  }

  /** The slot holding `h` (>= 0), or -1 - the empty slot where it would go. */
  private find(h: Uint8Array): number {
    if (h.length !== 32) throw new RangeError('HashMap keys are 32 bytes');
    let i = this.home(h);
    while (this.used[i] === 1) {
      if (this.equalAt(i, h)) return i;
      i = (i + 1) & this.mask;
    }
    return -1 - i;
  }

  get(h: Uint8Array): V | undefined {
    const i = this.find(h);
    return i >= 0 ? this.vals[i] : undefined;
  }

  has(h: Uint8Array): boolean {
    return this.find(h) >= 0;
  }

  set(h: Uint8Array, v: V): this {
    if ((this.count + 1) * 4 > this.used.length * 3) this.grow();
    const i = this.find(h);
    if (i >= 0) {
      this.vals[i] = v;
      return this;
    }
    const slot = -1 - i;
    this.keys.set(h, slot * 32);
    this.used[slot] = 1;
    this.vals[slot] = v;
    this.count++;
    return this;
  }

  delete(h: Uint8Array): boolean {
    let i = this.find(h);
    if (i < 0) return false;
    this.count--;
    // Backward shift: move later entries of the probe run into the hole
    // unless their home slot lies cyclically in (hole, their slot].
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.used[j] === 0) break;
      const k = this.home(this.keys, j * 32);
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      this.keys.copyWithin(i * 32, j * 32, j * 32 + 32);
      this.vals[i] = this.vals[j];
      i = j;
    }
    this.used[i] = 0;
    this.vals[i] = undefined;
    return true;
  }

  clear(): void {
    this.used.fill(0);
    this.vals.fill(undefined);
    this.count = 0;
  }

  /** Calls `fn` for each entry; `key` is a view into the table, valid during the call. */
  forEach(fn: (value: V, key: Uint8Array) => void): void {
    for (let i = 0; i < this.used.length; i++) {
      if (this.used[i] === 1) fn(this.vals[i] as V, this.keys.subarray(i * 32, i * 32 + 32));
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const oldUsed = this.used;
    const cap = oldUsed.length * 2;
    this.keys = new Uint8Array(cap * 32);
    this.vals = new Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldUsed.length; i++) {
      if (oldUsed[i] === 1) this.set(oldKeys.subarray(i * 32, i * 32 + 32), oldVals[i] as V);
    }
  }
}
