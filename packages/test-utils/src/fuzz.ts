// Shared harness of the fuzz suites (packages/*/test/fuzz.test.ts, issue 7):
// every external input fed random and mutated values by fast-check, bounded
// in time so that CI stays fast, and run for longer on demand with
// `pnpm fuzz --minutes M` (scripts/fuzz.mjs).
//
// Time. Each property makes a few runs (FUZZ_MIN_RUNS, default 10) whatever
// the clock says, then runs until its budget is spent (fast-check's
// `interruptAfterTimeLimit` plugin; `numRuns` is set out of reach, so the
// budget is what bounds it). The budget per property is, first found:
//   FUZZ_MS                  milliseconds per property;
//   FUZZ_SUITE_MS            milliseconds for the whole file, shared equally by
//                            the properties it registers (what scripts/fuzz.mjs sets);
//   DEFAULT_FUZZ_MS          the CI default.
//
// Hangs. An async property's single run is capped by fast-check's `timeout`
// plugin (FUZZ_RUN_TIMEOUT_MS, default 20 s): a request that never answers
// fails the property with its seed. A synchronous run cannot be preempted in
// process; scripts/fuzz.mjs kills a suite that overruns its budget and prints
// the seed it ran with, so the hang can be replayed.
//
// Replay. Every file runs with one seed, printed at start; FUZZ_SEED (and
// FUZZ_PATH, from fast-check's failure report) replays it. FUZZ_VERBOSE=1
// prints how many runs each property made.
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { test } from 'uvu';
import { cat } from './bytes.js';

/** Milliseconds per property when nothing else is set: all four suites stay well under a minute. */
export const DEFAULT_FUZZ_MS = 300;

const envInt = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be an integer >= 0, got ${v}`);
  return n;
};

/**
 * The seed of this process's properties: `FUZZ_SEED`, or a fresh one. Chosen
 * here rather than by fast-check so that it can be printed before anything
 * runs (a suite killed for hanging prints no failure report).
 */
export const FUZZ_SEED: number = envInt('FUZZ_SEED') ?? (Math.random() * 0x7fffffff) | 0;
const FUZZ_PATH = process.env.FUZZ_PATH || undefined;
const RUN_TIMEOUT_MS = envInt('FUZZ_RUN_TIMEOUT_MS') ?? 20_000;
/** FUZZ_VERBOSE=1 prints each property's number of runs. */
const VERBOSE = process.env.FUZZ_VERBOSE === '1';

process.stdout.write(
  `fuzz: seed ${FUZZ_SEED} (replay with FUZZ_SEED=${FUZZ_SEED}${FUZZ_PATH ? ` FUZZ_PATH=${FUZZ_PATH}` : ''})\n`,
);

let registered = 0;

/** Milliseconds each property of this file may run (see the module comment). */
export function fuzzBudgetMs(): number {
  const perProp = envInt('FUZZ_MS');
  if (perProp !== undefined) return perProp;
  const suite = envInt('FUZZ_SUITE_MS');
  if (suite !== undefined)
    return Math.max(DEFAULT_FUZZ_MS, Math.floor(suite / Math.max(1, registered)));
  return DEFAULT_FUZZ_MS;
}

/** Options of {@link fuzzTest}. */
export interface FuzzOpts {
  /**
   * Runs made whatever the clock says (default FUZZ_MIN_RUNS, else 10): on a
   * loaded machine the budget may be spent before a slow property has run at
   * all, and a property must never pass having checked nothing.
   */
  minRuns?: number;
}

/**
 * Registers a uvu test that checks `make()`'s property: first `minRuns`
 * runs with the file's seed, then more with seed + 1 until the budget is
 * spent. A failure throws fast-check's report (counterexample, seed, path);
 * FUZZ_SEED and FUZZ_PATH from it replay that run alone. The property is
 * built when the test runs, so a file's setup may happen in a `before` hook.
 */
export function fuzzTest(
  name: string,
  make: () => fc.IProperty<never> | fc.IAsyncProperty<never>,
  opts: FuzzOpts = {},
): void {
  registered++;
  test(name, async () => {
    const end = Date.now() + fuzzBudgetMs();
    const minRuns = opts.minRuns ?? envInt('FUZZ_MIN_RUNS') ?? 10;
    const timeout = fc.timeout(RUN_TIMEOUT_MS);
    const batches: fc.Parameters<unknown>[] =
      FUZZ_PATH !== undefined
        ? [{ seed: FUZZ_SEED, path: FUZZ_PATH, plugins: [timeout] }]
        : [
            { seed: FUZZ_SEED, numRuns: minRuns, plugins: [timeout] },
            {
              seed: (FUZZ_SEED + 1) | 0,
              numRuns: 1_000_000_000,
              plugins: [fc.interruptAfterTimeLimit(Math.max(0, end - Date.now())), timeout],
            },
          ];
    let runs = 0;
    for (const [i, params] of batches.entries()) {
      if (i > 0 && Date.now() >= end) break;
      // The second batch's time limit counts from now.
      if (i > 0) params.plugins = [fc.interruptAfterTimeLimit(end - Date.now()), timeout];
      const out = await fc.check(make() as fc.IAsyncProperty<unknown>, params);
      runs += out.numRuns;
      // The second batch only uses what is left of the budget: on a loaded
      // machine its time limit can pass before its first run, which
      // fast-check reports as a failure ("interrupted after 0 tests") although
      // the first batch checked its minimum and nothing failed.
      if (i > 0 && out.interrupted && out.numRuns === 0 && out.counterexample === null) break;
      // fast-check's own report: the counterexample, its seed and path.
      if (out.failed) {
        throw new Error(await fc.asyncDefaultReportMessage(out), { cause: out.errorInstance });
      }
    }
    if (VERBOSE) process.stdout.write(`\n  ${name}: ${runs} runs\n`);
  });
}

// ---------------------------------------------------------------- outcomes

/** What a call did: returned a value, or threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `fn` and records what it did, so that a property can judge a throw. */
export function outcome<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** As {@link outcome}, for an async `fn`. */
export async function outcomeAsync<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

// biome-ignore lint/suspicious/noExplicitAny: any error class.
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Throws (failing the property, with the original error as cause) unless
 * `o` is a success or a throw of one of `classes` with a `code` in `codes`
 * (when given). A TypeError or RangeError out of a decoder is the bug the
 * suites look for.
 */
export function expectTyped<T>(
  o: Outcome<T>,
  classes: readonly ErrorClass[],
  codes?: readonly string[],
): Outcome<T> {
  if (o.ok) return o;
  const e = o.error;
  if (!classes.some((c) => e instanceof c)) {
    throw new Error(
      `untyped throw: ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`,
      { cause: e },
    );
  }
  const code = (e as { code?: unknown }).code;
  if (codes !== undefined && !codes.includes(code as string)) {
    throw new Error(`unexpected code ${String(code)}: ${(e as Error).message}`, { cause: e });
  }
  return o;
}

// ---------------------------------------------------------------- bytes

/** Bytes of any length up to `max` (default 512). */
export const anyBytes = (max = 512): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 0, maxLength: max });

type Edit = (b: Uint8Array) => Uint8Array;

/** One edit of a byte string, as an arbitrary of functions applied to it. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  // Flip one bit.
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(
    ([i, bit]): Edit =>
      (b) => {
        if (b.length === 0) return b;
        const out = b.slice();
        out[i % b.length]! ^= 1 << bit;
        return out;
      },
  ),
  // Overwrite one byte with an interesting value.
  fc.tuple(fc.nat(), fc.constantFrom(0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff)).map(
    ([i, v]): Edit =>
      (b) => {
        if (b.length === 0) return b;
        const out = b.slice();
        out[i % b.length] = v;
        return out;
      },
  ),
  // Overwrite a run with 0xff (large counts and lengths) or 0x00.
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 }), fc.constantFrom(0x00, 0xff)).map(
    ([i, n, v]): Edit =>
      (b) => {
        if (b.length === 0) return b;
        const out = b.slice();
        const at = i % b.length;
        out.fill(v, at, Math.min(b.length, at + n));
        return out;
      },
  ),
  // Truncate.
  fc.nat().map(
    (i): Edit =>
      (b) =>
        b.slice(0, i % (b.length + 1)),
  ),
  // Append bytes.
  anyBytes(16).map(
    (x): Edit =>
      (b) =>
        cat(b, x),
  ),
  // Insert or delete bytes in the middle.
  fc.tuple(fc.nat(), anyBytes(8)).map(
    ([i, x]): Edit =>
      (b) => {
        const at = i % (b.length + 1);
        return cat(b.subarray(0, at), x, b.subarray(at));
      },
  ),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(
    ([i, n]): Edit =>
      (b) => {
        const at = i % (b.length + 1);
        return cat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n)));
      },
  ),
  // Duplicate a slice (repeated records, counts that no longer match).
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 100 })).map(
    ([i, n]): Edit =>
      (b) => {
        const at = i % (b.length + 1);
        const piece = b.subarray(at, at + n);
        return cat(b.subarray(0, at), piece, piece, b.subarray(at + piece.length));
      },
  ),
);

/** Equal byte strings. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * 1..`maxEdits` random edits of one of `bases` (bit flips, interesting bytes,
 * truncation, extension, insertion, deletion, duplication). The result may
 * equal the base (an edit can undo another); properties that need a change
 * filter on that.
 */
export function mutatedBytes(bases: readonly Uint8Array[], maxEdits = 4): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: maxEdits }))
    .map(([base, edits]) => edits.reduce((b, e) => e(b), base));
}

// ---------------------------------------------------------------- JSON

/**
 * JSON values a hostile peer likes: numbers at and past every boundary,
 * floats, negative zero, hex of the wrong length or case, unicode and lone
 * surrogates, long strings, deep nesting, and fast-check's arbitrary JSON.
 */
export const nastyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    2 ** 31,
    2 ** 32,
    2 ** 32 - 1,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 64,
    -(2 ** 53),
    1e308,
    -1e308,
    5e-324,
    '',
    '0',
    '-1',
    '01',
    '1e3',
    '18446744073709551616',
    '0x',
    '0X00',
    '0x0',
    '0xAB',
    `0x${'00'.repeat(31)}`,
    `0x${'00'.repeat(33)}`,
    `0x${'ff'.repeat(32)}`,
    `0x${'ff'.repeat(64)}`,
    'latest',
    '\u0000',
    '\ud800',
    '\u{1f4a9}',
    '__proto__',
    'constructor',
    [],
    {},
    { __proto__: null },
  ),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.uint8Array({ maxLength: 70 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.integer({ min: 1, max: 100_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 1, max: 2000 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n))),
  fc.jsonValue({ maxDepth: 3 }),
);

type Json = unknown;
type Path = (string | number)[];

// Paths to every node down to depth 8 (deeper nodes are inside a nasty value
// already; walking a 2000-deep one would cost quadratic time per edit).
function paths(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (at.length >= 8) return out;
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      paths(x, [...at, i], out);
    });
  } else if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) paths((v as Record<string, Json>)[k], [...at, k], out);
  }
  return out;
}

function setAt(
  v: Json,
  path: Path,
  f: (old: Json, parent: Json, key: string | number) => Json,
): Json {
  if (path.length === 0) return f(v, undefined, '');
  const [k, ...rest] = path;
  // An array copy is indexed like a record here (numeric keys).
  const copy = (Array.isArray(v) ? [...v] : { ...(v as Record<string, Json>) }) as Record<
    string | number,
    Json
  >;
  if (rest.length === 0) {
    const nv = f(copy[k!], copy, k!);
    if (nv === REMOVE) {
      if (Array.isArray(copy)) copy.splice(k as number, 1);
      else delete copy[k!];
    } else copy[k!] = nv;
    return copy;
  }
  copy[k!] = setAt(copy[k!], rest, f);
  return copy;
}

const REMOVE = Symbol('remove');

/**
 * 1..`maxEdits` edits of a JSON value: a node replaced by a {@link nastyJson}
 * value, a member or element removed, an unknown member added, an array
 * element duplicated. The base is never changed (copies on write).
 */
export function mutatedJson(base: Json, maxEdits = 3): fc.Arbitrary<Json> {
  const jsonEdit = fc.oneof(
    fc.tuple(fc.constant('replace' as const), fc.nat(), nastyJson),
    fc.tuple(fc.constant('remove' as const), fc.nat(), fc.constant(null)),
    fc.tuple(fc.constant('add' as const), fc.nat(), nastyJson),
    fc.tuple(fc.constant('dup' as const), fc.nat(), fc.constant(null)),
  );
  return fc.array(jsonEdit, { minLength: 1, maxLength: maxEdits }).map((edits) => {
    let v = base;
    for (const [kind, i, x] of edits) {
      const all = paths(v);
      const p = all[i % all.length]!;
      if (kind === 'replace') v = setAt(v, p, () => x);
      else if (kind === 'remove') v = p.length === 0 ? v : setAt(v, p, () => REMOVE);
      else if (kind === 'add') {
        v = setAt(v, p, (old) => {
          if (Array.isArray(old)) return [...old, x];
          if (typeof old === 'object' && old !== null) return { ...old, extra: x };
          return x;
        });
      } else {
        v = setAt(v, p, (old) => (Array.isArray(old) && old.length > 0 ? [...old, old[0]] : old));
      }
    }
    return v;
  });
}

// ---------------------------------------------------------------- memory

let gcFn: (() => void) | undefined;

/** A full garbage collection (exposes `gc` at run time when node was started without it). */
export function forceGc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

/**
 * Heap growth, in bytes, across `rounds` calls of `fn` (after a warm-up
 * tenth), measured after full collections: what the calls keep alive. A
 * decoder that caches or leaks per input shows up here; one that only
 * allocates garbage does not.
 */
export async function heapGrowth(rounds: number, fn: (i: number) => unknown): Promise<number> {
  const warm = Math.max(1, Math.floor(rounds / 10));
  for (let i = 0; i < warm; i++) await fn(i);
  forceGc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < rounds; i++) await fn(warm + i);
  forceGc();
  return process.memoryUsage().heapUsed - before;
}

/** Samples of `arb` drawn with the file's seed (for the memory loops). */
export function samples<T>(arb: fc.Arbitrary<T>, n: number): T[] {
  return fc.sample(arb, { seed: FUZZ_SEED, numRuns: n });
}
