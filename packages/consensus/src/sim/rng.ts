/** The simulator's seeded PRNG (its only source of randomness). */
import { ConsensusError } from '../errors.js';
import { TWO_32 } from './bytes.js';

/**
 * Seeded PRNG: xoshiro128** (Blackman and Vigna) on 32-bit integers, its state
 * filled by splitmix32 from the seed. Small, fast, and the same sequence on
 * every JS engine (only `Math.imul`, shifts and xor).
 */
export class SimRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed`: any safe integer; its low and high 32-bit halves both matter. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new ConsensusError('BAD_ARGUMENT', 'seed: safe integer');
    let s = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_32) | 0, 0x9e3779b9);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // The all-zero state is a fixed point of xoshiro; splitmix never yields it
    // for four draws in a row, but make it impossible rather than unlikely.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** A uniform integer in [0, n) for 1 <= n <= 2^32, without modulo bias (rejection). */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > TWO_32) {
      throw new ConsensusError('BAD_ARGUMENT', `below(${n})`);
    }
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const r = this.u32();
      if (r < limit) return r % n;
    }
  }

  /** True with probability p (a scheduling choice only: this float never reaches an event). */
  chance(p: number): boolean {
    return this.u32() / TWO_32 < p;
  }

  /** n uniform random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let r = this.u32();
      for (let j = i; j < Math.min(i + 4, n); j++, r >>>= 8) out[j] = r & 0xff;
    }
    return out;
  }

  /** A uniform element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** Fisher–Yates shuffle, in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
