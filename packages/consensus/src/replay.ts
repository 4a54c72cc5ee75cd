/**
 * Fixture replay (docs/PROTOCOL.md 5.8): reads a DAG given
 * as JSON with events named by strings, runs the engine over it, and reports
 * its consensus by name, so that any implementation can be checked against
 * another and against the public hashgraph fixtures in
 * `packages/consensus/test/fixtures/hashgraph/`.
 *
 * Replay rules (docs/PROTOCOL.md 5.8): an event's hash and signature are both
 * `sha256(utf8(name))`, creator i's validatorId is `u32be(i)`, the initial seed
 * is 32 zero bytes, and the stake table is the same for every round. Two rules
 * of our own, because the fixture format leaves them open:
 *
 * - An event without `timestamp` gets its `seq`. That keeps 5.1's rule
 *   (strictly greater than the self-parent's) for every fixture whose events
 *   have no timestamps at all, such as babble's; the block timestamps are then
 *   seq-based, which is all a fixture without clocks can say.
 * - Nothing expires (`expireRounds` is 1,000,000): a fixture is small, and an
 *   event that expired could not be reported.
 *
 * Pure and browser-safe like the rest of `src/`: no I/O (the CLI in
 * `cli/replay.ts` reads the file), and no TextEncoder (this package compiles
 * without DOM or node typings), so UTF-8 is encoded by hand.
 */
import type { HashFn } from '@pos/merkle';
import { createConsensus } from './engine.js';
import { ConsensusError } from './errors.js';
import type { Consensus, ConsensusEventInput, DecidedBlock } from './types.js';

/** Error code of every malformed replay input. */
export type ReplayErrorCode = 'BAD_FIXTURE';

/**
 * A malformed replay input. The message is one line, `<path>: <what>`, where
 * the path names the offending value (`events[3].selfParent`), so that the CLI
 * can print it as is.
 */
export class ReplayError extends Error {
  readonly code: ReplayErrorCode = 'BAD_FIXTURE';
  /** Where in the input the problem is, e.g. `events[3].selfParent`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`.replace(/[\r\n]+/g, ' '));
    this.name = 'ReplayError';
    this.path = path;
  }
}

/** One event of a replay fixture (docs/PROTOCOL.md 5.8), defaults applied. */
export interface ReplayEvent {
  readonly name: string;
  readonly creator: number;
  readonly seq: number;
  readonly selfParent: string | null;
  readonly otherParent: string | null;
  /** As given, or the event's `seq` when the fixture has none (see the module comment). */
  readonly timestamp: number;
  readonly transactions: readonly string[];
}

/** A validated replay fixture (docs/PROTOCOL.md 5.8). */
export interface ReplayInput {
  /** Stake per creator index, the same in every round; its length is the number of creators. */
  readonly stakes: readonly bigint[];
  /** Coin round frequency c (default 10, docs/PROTOCOL.md 5.8). */
  readonly coinRoundFrequency: number;
  /** In the fixture's order, which is topological (every parent comes first). */
  readonly events: readonly ReplayEvent[];
}

/** One block in a {@link ReplayOutput}. */
export interface ReplayBlock {
  readonly round: number;
  readonly leader: string;
  /** The block's events by name, in the block's (generation, hash) order. */
  readonly events: readonly string[];
  /**
   * Block timestamp (docs/PROTOCOL.md 5.6): stake-weighted lower median, above
   * the previous block's.
   */
  readonly timestamp: number;
}

/** The replay output of docs/PROTOCOL.md 5.8. */
export interface ReplayOutput {
  /** Round of every event, in input order. */
  readonly rounds: Record<string, number>;
  /** Names of the witnesses, in input order. */
  readonly witnesses: readonly string[];
  /** Fame of every witness: `null` while undecided. */
  readonly fame: Record<string, boolean | null>;
  /** One key per decided round (0 to `lastDecidedRound`): its leader, or `null` when it has no block. */
  readonly leaders: Record<string, string | null>;
  readonly blocks: readonly ReplayBlock[];
}

/** Options of {@link replay} and {@link replayBundle}. */
export interface ReplayOpts {
  /** SHA-256 (docs/PROTOCOL.md 2): `node:crypto` in the CLI, `@noble/hashes` in a browser. */
  readonly hash: HashFn;
  /** Overrides the fixture's coin round frequency. */
  readonly coinFrequency?: number;
}

/** An engine event built from a replay event: the name rides along for the output. */
export interface ReplayConsensusEvent extends ConsensusEventInput {
  readonly name: string;
}

/** What the engine (or a reference implementation) needs to run a replay input. */
export interface ReplayDag {
  /** Engine events in input order. */
  readonly events: readonly ReplayConsensusEvent[];
  /** `u32be(i)` for creator i (docs/PROTOCOL.md 5.8, replay rules). */
  readonly validators: readonly Uint8Array[];
  readonly stakes: readonly bigint[];
  /** 32 zero bytes (the chainId of a replay). */
  readonly initialSeed: Uint8Array;
}

/** `format` of the conformance bundle in `packages/consensus/test/fixtures/hashgraph/`. */
export const BUNDLE_FORMAT = 'hashgraph-conformance-fixtures/v1';

/** Coin round frequency of bundle fixtures that give none (babble's c = 4, per the bundle README). */
export const BUNDLE_DEFAULT_COIN = 4;

/** Default coin round frequency of a replay fixture (docs/PROTOCOL.md 5.8: default 10). */
export const REPLAY_DEFAULT_COIN = 10;

/**
 * Rounds before an event expires, in replay: large enough that nothing in a
 * fixture expires (an expired event could not be reported by name).
 */
export const REPLAY_EXPIRE_ROUNDS = 1_000_000;

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

// --- small helpers ---------------------------------------------------------

/**
 * UTF-8 bytes of a well-formed string. Throws `RangeError` on a lone
 * surrogate: TextEncoder would map it to U+FFFD, so two different names
 * could hash the same.
 */
export function utf8Bytes(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
    } else if (cp < 0x800) {
      out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      throw new RangeError('lone surrogate: not well-formed Unicode');
    } else if (cp < 0x10000) {
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    } else {
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
    }
  }
  return Uint8Array.from(out);
}

/** `u32be(i)`: creator i's validatorId in replay (docs/PROTOCOL.md 5.8). */
function u32be(i: number): Uint8Array {
  return Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

/**
 * Sets an own enumerable property. Plain assignment would treat a name such
 * as `__proto__` as the prototype instead of a key.
 */
function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string')
    return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function wellFormed(s: string): boolean {
  try {
    utf8Bytes(s);
    return true;
  } catch {
    return false;
  }
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw new ReplayError(
        path,
        `unknown key ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
}

function safeInt(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ReplayError(path, `expected an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

function stakeOf(v: unknown, path: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new ReplayError(path, `stake must be a non-negative safe integer, got ${describe(v)}`);
    }
    return BigInt(v);
  }
  if (typeof v === 'string') {
    // docs/PROTOCOL.md 1: amounts are decimal strings in the u64 range.
    if (!DECIMAL.test(v) || BigInt(v) > U64_MAX) {
      throw new ReplayError(path, `stake must be a u64 decimal string, got ${describe(v)}`);
    }
    return BigInt(v);
  }
  throw new ReplayError(path, `stake must be a number or a decimal string, got ${describe(v)}`);
}

// --- parsing -----------------------------------------------------------------

const INPUT_KEYS = ['stakes', 'coinRoundFrequency', 'events'] as const;
const EVENT_KEYS = [
  'name',
  'creator',
  'seq',
  'selfParent',
  'otherParent',
  'timestamp',
  'transactions',
] as const;

/**
 * Validates a replay fixture (already parsed from JSON) and applies its
 * defaults. Strict: unknown keys are errors (a misspelt `coinRoundFrequency`
 * would otherwise silently replay with the default). Checks what the format
 * itself promises: unique non-empty names, parents named earlier (the order is
 * topological), a self-parent by the same creator with seq one lower (seq 0
 * iff no self-parent), timestamps above the self-parent's, creators in range.
 * The number of creators is `stakes.length` when stakes are given, else the
 * largest creator index plus one (all stakes 1). Throws {@link ReplayError}.
 */
export function parseReplayInput(json: unknown): ReplayInput {
  return parseAt(json, 'input', '');
}

function parseAt(json: unknown, rootName: string, prefix: string): ReplayInput {
  const at = (p: string) => (prefix ? `${prefix}.${p}` : p);
  if (!isRecord(json)) {
    throw new ReplayError(prefix || rootName, `expected an object, got ${describe(json)}`);
  }
  onlyKeys(json, INPUT_KEYS, prefix || rootName);

  let stakes: bigint[] | undefined;
  if (json.stakes !== undefined) {
    if (!Array.isArray(json.stakes)) {
      throw new ReplayError(at('stakes'), `expected an array, got ${describe(json.stakes)}`);
    }
    stakes = json.stakes.map((s, i) => stakeOf(s, at(`stakes[${i}]`)));
  }

  let coin = REPLAY_DEFAULT_COIN;
  if (json.coinRoundFrequency !== undefined) {
    coin = safeInt(json.coinRoundFrequency, at('coinRoundFrequency'), 1);
  }

  if (!Array.isArray(json.events)) {
    throw new ReplayError(at('events'), `expected an array, got ${describe(json.events)}`);
  }
  const byName = new Map<string, ReplayEvent>();
  const events: ReplayEvent[] = [];
  for (let i = 0; i < json.events.length; i++) {
    const p = at(`events[${i}]`);
    const raw: unknown = json.events[i];
    if (!isRecord(raw)) throw new ReplayError(p, `expected an object, got ${describe(raw)}`);
    onlyKeys(raw, EVENT_KEYS, p);

    const name = raw.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new ReplayError(`${p}.name`, `expected a non-empty string, got ${describe(name)}`);
    }
    if (!wellFormed(name)) throw new ReplayError(`${p}.name`, 'not well-formed Unicode');
    if (byName.has(name)) {
      throw new ReplayError(`${p}.name`, `duplicate event name ${JSON.stringify(name)}`);
    }
    const creator = safeInt(raw.creator, `${p}.creator`, 0);
    if (stakes && creator >= stakes.length) {
      throw new ReplayError(
        `${p}.creator`,
        `creator ${creator} out of range: stakes has ${stakes.length} entries`,
      );
    }
    const seq = safeInt(raw.seq, `${p}.seq`, 0);

    const parent = (key: 'selfParent' | 'otherParent'): ReplayEvent | null => {
      const v = raw[key];
      if (v === null) return null;
      if (typeof v !== 'string') {
        throw new ReplayError(`${p}.${key}`, `expected an event name or null, got ${describe(v)}`);
      }
      const e = byName.get(v);
      // Parents come first (docs/PROTOCOL.md 5.8: "in a topological order").
      if (!e) throw new ReplayError(`${p}.${key}`, `unknown event ${JSON.stringify(v)}`);
      return e;
    };
    if (!Object.hasOwn(raw, 'selfParent')) throw new ReplayError(`${p}.selfParent`, 'missing');
    if (!Object.hasOwn(raw, 'otherParent')) throw new ReplayError(`${p}.otherParent`, 'missing');
    const sp = parent('selfParent');
    const op = parent('otherParent');

    // docs/PROTOCOL.md 5.1: seq is 0 iff there is no self-parent, else selfParent.seq + 1.
    if (sp === null && seq !== 0) {
      throw new ReplayError(`${p}.seq`, `must be 0 for an event without self-parent, got ${seq}`);
    }
    if (sp !== null) {
      if (sp.creator !== creator) {
        throw new ReplayError(
          `${p}.selfParent`,
          `${JSON.stringify(sp.name)} is by creator ${sp.creator}, not ${creator}`,
        );
      }
      if (seq !== sp.seq + 1) {
        throw new ReplayError(
          `${p}.seq`,
          `must be selfParent's seq + 1 = ${sp.seq + 1}, got ${seq}`,
        );
      }
    }

    let timestamp = seq;
    if (raw.timestamp !== undefined) {
      const t = raw.timestamp;
      if (typeof t !== 'number' || !Number.isSafeInteger(t)) {
        throw new ReplayError(`${p}.timestamp`, `expected a safe integer, got ${describe(t)}`);
      }
      timestamp = t;
    }
    if (sp !== null && timestamp <= sp.timestamp) {
      throw new ReplayError(
        `${p}.timestamp`,
        `${timestamp} is not above the self-parent's ${sp.timestamp}`,
      );
    }

    let transactions: string[] = [];
    if (raw.transactions !== undefined) {
      if (!Array.isArray(raw.transactions)) {
        throw new ReplayError(
          `${p}.transactions`,
          `expected an array of strings, got ${describe(raw.transactions)}`,
        );
      }
      transactions = raw.transactions.map((t, k) => {
        if (typeof t !== 'string') {
          throw new ReplayError(`${p}.transactions[${k}]`, `expected a string, got ${describe(t)}`);
        }
        if (!wellFormed(t)) {
          throw new ReplayError(`${p}.transactions[${k}]`, 'not well-formed Unicode');
        }
        return t;
      });
    }

    const ev: ReplayEvent = {
      name,
      creator,
      seq,
      selfParent: sp?.name ?? null,
      otherParent: op?.name ?? null,
      timestamp,
      transactions,
    };
    byName.set(name, ev);
    events.push(ev);
  }

  if (!stakes) {
    let n = 0;
    for (const e of events) n = Math.max(n, e.creator + 1);
    stakes = new Array<bigint>(n).fill(1n);
  }
  return { stakes, coinRoundFrequency: coin, events };
}

// --- replay --------------------------------------------------------------------

/**
 * The engine's view of a replay input, per docs/PROTOCOL.md 5.8's replay rules: hash and
 * signature `sha256(utf8(name))`, validatorId `u32be(index)`, initial seed 32
 * zero bytes, transactions the UTF-8 bytes of their strings.
 */
export function buildReplayDag(input: ReplayInput, hash: HashFn): ReplayDag {
  const hashOf = new Map<string, Uint8Array>();
  const events = input.events.map((e): ReplayConsensusEvent => {
    const h = hash(utf8Bytes(e.name));
    hashOf.set(e.name, h);
    return {
      name: e.name,
      hash: h,
      signature: h,
      creator: e.creator,
      seq: e.seq,
      selfParent: e.selfParent === null ? null : hashOf.get(e.selfParent)!,
      otherParent: e.otherParent === null ? null : hashOf.get(e.otherParent)!,
      timestamp: e.timestamp,
      transactions: e.transactions.map(utf8Bytes),
    };
  });
  return {
    events,
    validators: input.stakes.map((_, i) => u32be(i)),
    stakes: input.stakes,
    initialSeed: new Uint8Array(32),
  };
}

/**
 * Runs the engine over a validated fixture, inserting the events in the
 * fixture's order, and reports 5.8's output: rounds, witnesses and fame
 * read back through `info`, one `leaders` entry per decided round (`null` for
 * a decided round without a block) and the blocks. An event the engine
 * rejects (say an other-parent by its own creator) is a {@link ReplayError}
 * at that event's path.
 */
export function replay(input: ReplayInput, opts: ReplayOpts): ReplayOutput {
  const coin = opts.coinFrequency ?? input.coinRoundFrequency;
  if (!Number.isSafeInteger(coin) || coin < 1) {
    throw new ReplayError('coinFrequency', `expected an integer >= 1, got ${String(coin)}`);
  }
  const dag = buildReplayDag(input, opts.hash);
  const output: ReplayOutput = {
    rounds: {},
    witnesses: [],
    fame: {},
    leaders: {},
    blocks: [],
  };
  if (dag.events.length === 0) return output;

  let engine: Consensus<ReplayConsensusEvent>;
  try {
    engine = createConsensus<ReplayConsensusEvent>({
      validators: dag.validators,
      stakeTable: () => dag.stakes,
      initialSeed: dag.initialSeed,
      hash: opts.hash,
      coinFrequency: coin,
      expireRounds: REPLAY_EXPIRE_ROUNDS,
    });
  } catch (e) {
    if (!(e instanceof ConsensusError)) throw e;
    throw new ReplayError('input', `engine refused the options: ${e.code}: ${e.message}`);
  }

  const blocks: DecidedBlock<ReplayConsensusEvent>[] = [];
  dag.events.forEach((ev, i) => {
    try {
      blocks.push(...engine.insert(ev).blocks);
    } catch (e) {
      // A ConsensusError is the engine refusing the event (the input's
      // fault); anything else is a bug and must not look like bad input.
      if (!(e instanceof ConsensusError)) throw e;
      throw new ReplayError(
        `events[${i}]`,
        `engine rejected ${JSON.stringify(ev.name)}: ${e.code}: ${e.message}`,
      );
    }
  });

  const witnesses: string[] = [];
  for (const ev of dag.events) {
    const info = engine.info(ev.hash);
    if (!info) throw new Error(`replay: engine lost event ${JSON.stringify(ev.name)}`);
    setKey(output.rounds, ev.name, info.round);
    if (info.witness) {
      witnesses.push(ev.name);
      setKey(output.fame, ev.name, info.famous ?? null);
    }
  }
  (output.witnesses as string[]).push(...witnesses);

  const byRound = new Map(blocks.map((b) => [b.round, b]));
  for (let r = 0; r <= engine.lastDecidedRound; r++) {
    setKey(output.leaders, String(r), byRound.get(r)?.leader.name ?? null);
  }
  (output.blocks as ReplayBlock[]).push(
    ...blocks.map((b) => ({
      round: b.round,
      leader: b.leader.name,
      events: b.events.map((e) => e.name),
      timestamp: b.timestamp,
    })),
  );
  return output;
}

// --- the conformance bundle ----------------------------------------------------

/** One replay of a bundle: the key of `cross_check.results` it answers. */
export interface BundleEntry {
  /** `name`, `name/variant`, or `name/variant/c=N`. */
  readonly key: string;
  readonly input: ReplayInput;
  /** Coin round frequency of this entry (the fixture's, 4 by default, or N of `/c=N`). */
  readonly coinFrequency: number;
}

/** Whether a parsed JSON value is a conformance bundle rather than a single fixture. */
export function isBundle(json: unknown): boolean {
  return isRecord(json) && Object.hasOwn(json, 'format');
}

const VARIANT = /^all events(?: except (\S+(?:,\s*\S+)*))?$/;
const COIN_SUFFIX = /^(.*)\/c=([1-9][0-9]*)$/;

/**
 * The replays a conformance bundle (`format: "hashgraph-conformance-fixtures/v1"`,
 * see the bundle's README) asks for, keyed like its `cross_check.results`:
 * `name` for a fixture without variants, `name/variant` for each variant
 * (a variant is described as "all events" or "all events except a,b"), and
 * `<one of those>/c=N` for each such key in `cross_check.results`, replayed
 * with coin frequency N. Fixtures have equal stake 1 for each of their `n`
 * creators and coin frequency `coinRoundFrequency`, 4 when absent.
 * `coinFrequency` overrides every fixture's, but not an explicit `/c=N`.
 */
export function bundleEntries(json: unknown, coinFrequency?: number): BundleEntry[] {
  if (!isRecord(json)) throw new ReplayError('bundle', `expected an object, got ${describe(json)}`);
  if (json.format !== BUNDLE_FORMAT) {
    throw new ReplayError(
      'format',
      `expected ${JSON.stringify(BUNDLE_FORMAT)}, got ${describe(json.format)}`,
    );
  }
  if (!isRecord(json.fixtures)) {
    throw new ReplayError('fixtures', `expected an object, got ${describe(json.fixtures)}`);
  }
  const entries: BundleEntry[] = [];
  const byKey = new Map<string, BundleEntry>();
  const add = (e: BundleEntry) => {
    entries.push(e);
    byKey.set(e.key, e);
  };
  for (const [name, fx] of Object.entries(json.fixtures)) {
    const p = `fixtures.${name}`;
    if (!isRecord(fx)) throw new ReplayError(p, `expected an object, got ${describe(fx)}`);
    let stakes: number[] | undefined;
    if (fx.n !== undefined) stakes = new Array<number>(safeInt(fx.n, `${p}.n`, 1)).fill(1);
    const coin =
      fx.coinRoundFrequency === undefined
        ? BUNDLE_DEFAULT_COIN
        : safeInt(fx.coinRoundFrequency, `${p}.coinRoundFrequency`, 1);
    const base = parseAt(
      { ...(stakes ? { stakes } : {}), coinRoundFrequency: coin, events: fx.events },
      p,
      p,
    );
    const c = coinFrequency ?? coin;
    if (fx.variants === undefined) {
      add({ key: name, input: base, coinFrequency: c });
      continue;
    }
    if (!isRecord(fx.variants)) {
      throw new ReplayError(`${p}.variants`, `expected an object, got ${describe(fx.variants)}`);
    }
    for (const [variant, desc] of Object.entries(fx.variants)) {
      const vp = `${p}.variants.${variant}`;
      const m = typeof desc === 'string' ? VARIANT.exec(desc) : null;
      if (!m) {
        throw new ReplayError(
          vp,
          `expected "all events" or "all events except a,b", got ${describe(desc)}`,
        );
      }
      const except = new Set(m[1] ? m[1].split(/,\s*/) : []);
      for (const x of except) {
        if (!base.events.some((e) => e.name === x)) {
          throw new ReplayError(vp, `unknown event ${JSON.stringify(x)}`);
        }
      }
      // Re-parse the subset: leaving events out must not orphan a kept one.
      const input = parseAt(
        {
          stakes: base.stakes.map(String),
          coinRoundFrequency: coin,
          events: (fx.events as unknown[]).filter(
            (e) => !(isRecord(e) && typeof e.name === 'string' && except.has(e.name)),
          ),
        },
        vp,
        vp,
      );
      add({ key: `${name}/${variant}`, input, coinFrequency: c });
    }
  }
  const results = isRecord(json.cross_check) ? json.cross_check.results : undefined;
  if (isRecord(results)) {
    for (const key of Object.keys(results)) {
      if (byKey.has(key)) continue;
      const m = COIN_SUFFIX.exec(key);
      const of = m ? byKey.get(m[1]!) : undefined;
      if (!m || !of) {
        throw new ReplayError(
          `cross_check.results.${key}`,
          'names no fixture or variant of this bundle',
        );
      }
      add({ key, input: of.input, coinFrequency: Number(m[2]) });
    }
  }
  return entries;
}

/**
 * Replays every entry of a conformance bundle (see {@link bundleEntries}):
 * the result has the keys of `cross_check.results` (and one per fixture or
 * variant that has no result there).
 */
export function replayBundle(json: unknown, opts: ReplayOpts): Record<string, ReplayOutput> {
  const out: Record<string, ReplayOutput> = {};
  for (const e of bundleEntries(json, opts.coinFrequency)) {
    try {
      setKey(out, e.key, replay(e.input, { hash: opts.hash, coinFrequency: e.coinFrequency }));
    } catch (err) {
      if (!(err instanceof ReplayError)) throw err;
      throw new ReplayError(`${e.key}: ${err.path}`, err.message.slice(err.path.length + 2));
    }
  }
  return out;
}
