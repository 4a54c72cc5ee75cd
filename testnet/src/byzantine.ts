#!/usr/bin/env node
/**
 * A Byzantine validator for the testnet (issue 7): a real process that runs
 * with one genesis validator's key, on that validator's ports, and misbehaves
 * in one chosen way while the honest `posd` nodes must keep safety and
 * liveness.
 *
 * ```
 * node testnet/dist/byzantine.js --data-dir DIR --mode MODE [--seed N] [options]
 * ```
 *
 * `DIR` is a validator's data dir as the testnet writes it (`validator.key`,
 * `genesis.json`, `config.json`); `startTestnet({external: ['v3']})` leaves
 * one unstarted for this program. Modes:
 *
 * - `equivocate`: a validator that pulls, keeps the DAG and creates events
 *   like an honest one, then forks: two events on one self-parent, one branch
 *   served to some peers (told apart by the signed `from` of their sync
 *   requests) and the other to the rest, both built on from then on. A peer
 *   keeps getting only its own branch (and only honest events that do not
 *   descend from the other) until its own summary shows that it holds the
 *   other branch, learned from honest peers: the fork evidence has to travel
 *   through honest gossip. Once every peer holds both, it forks again every
 *   `--fork-every` events (the other group's head gets a second child).
 * - `withhold`: creates events but serves none of them (nor anything that
 *   descends from them) for `--withhold-ms` (0: until SIGUSR2; SIGUSR2
 *   releases at once), while it keeps pulling; then releases its whole
 *   hidden chain to one peer only (chosen by the seed), which has to absorb
 *   a burst of old events and relay them.
 * - `garbage`: an honest-looking validator whose every sync answer is broken
 *   in one of {@link GARBAGE_KINDS} ways: bytes that are not msgpack,
 *   truncated msgpack, a response of the wrong shape, an empty page that
 *   claims more, an event with a bad signature, of another chain, over
 *   1 MiB, undecodable, with a missing parent, with a wrong parent
 *   descriptor, with a timestamp not above its self-parent's, by a key that
 *   is no validator, a page over the puller's cap, a duplicated event. Each
 *   peer gets its own sequence of kinds (`GARBAGE_PLAN`), ordered so that
 *   each kind is seen by some peer before that peer's penalties reach the
 *   ban (100 points).
 * - `clock-ahead`: not this program's own validator: it runs the real `posd`
 *   on the data dir with the `clock-ahead.js` preload, its wall clock
 *   `--offset-ms` ahead (default one hour), and forwards signals to it.
 * - `stall`: pulls and creates events, and takes every sync request without
 *   ever answering it: the puller waits out its timeout, 10 s in which an
 *   honest node's gossip loop does nothing else, unscored (a known weakness,
 *   measured in docs/PROTOCOL.md 8; not in the test).
 *
 * A run continues the key's own chain where an earlier run on the same
 * network left it (pulled back from the honest peers before its first
 * event), so that the modes can follow one another on one testnet.
 *
 * Every decision of the adversary (which peer it pulls, which branch a peer
 * gets, when it forks, the order of garbage) comes from a PRNG seeded with
 * `--seed` (random and printed if not given); the network's timing is not
 * the seed's, so a run is repeatable in what the adversary does, not to the
 * millisecond. `GET /byz/status` on the validator's p2p port reports what it
 * did (JSON), for the test to check against the honest nodes' view. Log
 * lines are JSON on stdout.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createSyncClient,
  decodeSyncRequest,
  GossipError,
  type KnownEntry,
  MAX_CLOCK_SKEW_MS,
  MAX_PAGE_BYTES,
  MAX_PAGE_EVENTS,
  MAX_SYNC_REQUEST_BYTES,
  SYNC_CONTENT_TYPE,
  SYNC_PATH,
  type SyncRequest,
  signEvent,
  syncRequestHash,
  type Tip,
  type UnsignedEvent,
  type WireEvent,
} from '@pos/gossip';
import { taggedHash, toHex } from '@pos/merkle';
import {
  createEd25519Signer,
  generateValidatorKey,
  readKeyFile,
  resolveConfig,
  sha256Node,
  verifyEd25519Sync,
} from '@pos/node';
import { chainIdOf, genesisFromJSON, Writer } from '@pos/protocol';
import { mulberry32 } from './faults.js';

const MODES = ['equivocate', 'withhold', 'garbage', 'clock-ahead', 'stall'] as const;
type Mode = (typeof MODES)[number];

/** The ways `garbage` breaks a sync answer, in no particular order. */
export const GARBAGE_KINDS = [
  'missing-parent',
  'duplicate',
  'not-msgpack',
  'truncated',
  'bad-signature',
  'wrong-chain',
  'bad-parent',
  'huge-page',
  'too-large-event',
  'wrong-shape',
  'empty-more',
  'stale-timestamp',
  'unknown-creator',
  'undecodable-event',
] as const;
/** One of {@link GARBAGE_KINDS}. */
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

/**
 * The kinds each peer gets, in order (peer i takes plan i mod 3, peers in a
 * seeded order). A peer scores a fault 5 (a missing parent), 25 (a bad
 * response, an oversized page, an event the engine refuses) or 50 (a bad
 * signature, an undecodable event) and bans at 100: each plan stays under
 * 100 until its last kind, so every kind reaches some peer before it bans,
 * and ends at 125 or more, so that the ban outlasts a test (scores halve
 * every 10 minutes: a peer at -105 is let back in after some 40 s).
 */
export const GARBAGE_PLAN: readonly (readonly GarbageKind[])[] = [
  ['missing-parent', 'duplicate', 'not-msgpack', 'truncated', 'wrong-shape', 'bad-signature'],
  ['wrong-chain', 'bad-parent', 'huge-page', 'too-large-event'],
  ['empty-more', 'stale-timestamp', 'unknown-creator', 'undecodable-event'],
];

/** What `GET /byz/status` answers (hex strings; times in ms since the process started). */
export interface ByzantineStatus {
  mode: Mode;
  seed: number;
  publicKey: string;
  /** Own events signed (both branches of a fork count). */
  created: number;
  /** Own events by seq: the current head(s). */
  heads: { branch: string; seq: number; hash: string }[];
  /** Honest events held. */
  honestEvents: number;
  pulls: { ok: number; failed: number };
  peers: Record<string, PeerReport>;
  /** equivocate: every self-parent with two children, and the children. */
  forks: { seq: number; hashes: string[] }[];
  /** equivocate: forks made after every peer had seen both branches. */
  reforks: number;
  /** withhold: when the hidden chain was released, to whom, and its head then. */
  released: { atMs: number; to: string; head: { seq: number; hash: string } | null } | null;
}

/** Per honest peer (by public key): what this process served it. */
export interface PeerReport {
  name: string;
  requests: number;
  lastRequestMs: number | null;
  /** equivocate: the branch it was given; withhold: `hidden` or `all`. */
  view: string;
  /** equivocate: when its summary first showed both branches (null: not yet). */
  awareAtMs: number | null;
  /** garbage: the kinds served, in order. */
  garbage: GarbageKind[];
}

// ------------------------------------------------------------------ utilities

function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const t0 = performance.now();
const sinceStart = () => Math.round(performance.now() - t0);

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ t: sinceStart(), msg, ...fields })}\n`);
}

/**
 * A minimal msgpack writer for the sync response (`{events, more, tip}`) and
 * its broken variants: the responder's bytes are the point of the garbage
 * mode, so they are written by hand rather than by a library that would
 * refuse to write nonsense.
 */
class Pack {
  private chunks: Uint8Array[] = [];
  private raw(...b: number[]): this {
    this.chunks.push(Uint8Array.from(b));
    return this;
  }
  map(n: number): this {
    return this.raw(0x80 | n);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.raw(0xa0 | b.length);
    this.chunks.push(b);
    return this;
  }
  array(n: number): this {
    return n < 16 ? this.raw(0x90 | n) : this.raw(0xdd, ...be(n, 4));
  }
  bin(b: Uint8Array): this {
    if (b.length < 256) this.raw(0xc4, b.length);
    else if (b.length < 65536) this.raw(0xc5, ...be(b.length, 2));
    else this.raw(0xc6, ...be(b.length, 4));
    this.chunks.push(b);
    return this;
  }
  bool(v: boolean): this {
    return this.raw(v ? 0xc3 : 0xc2);
  }
  nil(): this {
    return this.raw(0xc0);
  }
  uint(n: number): this {
    if (n < 128) return this.raw(n);
    if (n < 2 ** 32) return this.raw(0xce, ...be(n, 4));
    return this.raw(0xcf, ...be(Math.floor(n / 2 ** 32), 4), ...be(n >>> 0, 4));
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function be(n: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(n / 2 ** (8 * i)) & 0xff);
  return out;
}

/** The sync response as an honest responder would write it. */
function packResponse(events: readonly Uint8Array[], more: boolean, tip: Tip | null): Uint8Array {
  const p = new Pack().map(3).str('events').array(events.length);
  for (const e of events) p.bin(e);
  p.str('more').bool(more).str('tip');
  if (tip === null) p.nil();
  else p.map(2).str('hash').bin(tip.hash).str('seq').uint(tip.seq);
  return p.finish();
}

// ------------------------------------------------------------------ the DAG

interface Held {
  readonly ev: WireEvent;
  /** Insertion index: parents first. */
  readonly idx: number;
  readonly mine: boolean;
}

/**
 * What this process holds: every event pulled or created, in insertion
 * order, with the lookups the responder needs (per creator by insertion, the
 * own self-parent tree). Memory only: a test run is short, and a Byzantine
 * node has no restart to survive.
 */
class Dag {
  readonly byHash = new Map<string, Held>();
  readonly log: Held[] = [];
  /** Honest creators' events in insertion order (an honest creator's seq grows with it). */
  readonly byCreator = new Map<string, Held[]>();
  readonly mine: Held[] = [];
  /** Own seqs seen twice: the process forked. */
  forked = false;
  private readonly ownSeqs = new Set<number>();

  constructor(readonly selfHex: string) {}

  has(hash: Uint8Array): boolean {
    return this.byHash.has(toHex(hash));
  }
  get(hash: Uint8Array | string): Held | undefined {
    return this.byHash.get(typeof hash === 'string' ? hash : toHex(hash));
  }

  add(ev: WireEvent): Held {
    const key = toHex(ev.hash);
    const known = this.byHash.get(key);
    if (known !== undefined) return known;
    const c = toHex(ev.creator);
    const h: Held = { ev, idx: this.log.length, mine: c === this.selfHex };
    this.byHash.set(key, h);
    this.log.push(h);
    if (h.mine) {
      if (this.ownSeqs.has(ev.seq)) this.forked = true;
      this.ownSeqs.add(ev.seq);
      this.mine.push(h);
    } else {
      let list = this.byCreator.get(c);
      if (list === undefined) this.byCreator.set(c, (list = []));
      list.push(h);
    }
    return h;
  }

  latestOf(creatorHex: string): Held | undefined {
    const list = this.byCreator.get(creatorHex);
    return list?.[list.length - 1];
  }

  /**
   * The events a peer with summary `known` lacks, in insertion order: the
   * rule of `EventStore.since` (per creator, seq above the peer's highest;
   * for this forking creator also what is not a self-ancestor of a tip the
   * peer reported).
   */
  since(known: readonly KnownEntry[]): Held[] {
    const peer = new Map<string, { maxSeq: number; hashes: string[] }>();
    for (const k of known) {
      const c = toHex(k.creator);
      const e = peer.get(c) ?? { maxSeq: -1, hashes: [] };
      e.maxSeq = Math.max(e.maxSeq, k.seq);
      e.hashes.push(toHex(k.hash));
      peer.set(c, e);
    }
    const out: Held[] = [];
    for (const [c, list] of this.byCreator) {
      const maxSeq = peer.get(c)?.maxSeq ?? -1;
      for (let i = list.length - 1; i >= 0 && list[i]!.ev.seq > maxSeq; i--) out.push(list[i]!);
    }
    const p = peer.get(this.selfHex);
    const theirs = new Set<string>();
    if (p !== undefined && this.forked) {
      for (const h of p.hashes) this.selfAncestors(h, theirs);
    }
    for (const h of this.mine) {
      if (p === undefined || h.ev.seq > p.maxSeq) out.push(h);
      else if (this.forked && !theirs.has(toHex(h.ev.hash))) out.push(h);
    }
    return out.sort((a, b) => a.idx - b.idx);
  }

  /** Adds `tipHex` and its own self-ancestors to `into`. */
  selfAncestors(tipHex: string, into: Set<string>): void {
    let cur = this.byHash.get(tipHex);
    while (cur !== undefined) {
      const k = toHex(cur.ev.hash);
      if (into.has(k)) return;
      into.add(k);
      cur = cur.ev.selfParent === null ? undefined : this.byHash.get(toHex(cur.ev.selfParent));
    }
  }

  /** Whether `ancestorHex` is a self-ancestor of (or is) own event `hex`. */
  isSelfAncestor(ancestorHex: string, hex: string): boolean {
    const target = this.byHash.get(ancestorHex);
    let cur = this.byHash.get(hex);
    while (cur !== undefined) {
      if (cur === target) return true;
      if (target !== undefined && cur.ev.seq < target.ev.seq) return false;
      cur = cur.ev.selfParent === null ? undefined : this.byHash.get(toHex(cur.ev.selfParent));
    }
    return false;
  }
}

/**
 * Which events one peer may see: own events in `allowed` (all when null),
 * and anything whose ancestry holds no other own event. Verdicts are kept
 * until `allowed` grows (`bump`), which can turn a refusal into a yes.
 */
class View {
  private memo = new Map<string, boolean>();
  constructor(
    private readonly dag: Dag,
    readonly allowed: Set<string> | null,
  ) {}
  bump(): void {
    this.memo.clear();
  }
  /** Iterative: ancestries are thousands of events deep. */
  ok(h: Held): boolean {
    if (this.allowed === null) return true;
    const stack: Held[] = [h];
    while (stack.length > 0) {
      const x = stack[stack.length - 1]!;
      const key = toHex(x.ev.hash);
      if (this.memo.has(key)) {
        stack.pop();
        continue;
      }
      if (x.mine && !this.allowed.has(key)) {
        this.memo.set(key, false);
        stack.pop();
        continue;
      }
      const parents: Held[] = [];
      for (const p of [x.ev.selfParent, x.ev.otherParent?.hash ?? null]) {
        if (p === null) continue;
        const ph = this.dag.get(p);
        if (ph !== undefined) parents.push(ph); // one we lack the peer must hold
      }
      const pending = parents.filter((p) => !this.memo.has(toHex(p.ev.hash)));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      this.memo.set(
        key,
        parents.every((p) => this.memo.get(toHex(p.ev.hash)) === true),
      );
      stack.pop();
    }
    return this.memo.get(toHex(h.ev.hash)) === true;
  }
}

// ------------------------------------------------------------------ main

interface Args {
  dataDir: string;
  mode: Mode;
  seed: number;
  offsetMs: number;
  forkEvery: number;
  eventMs: number;
  withholdMs: number;
}

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      mode: { type: 'string' },
      seed: { type: 'string' },
      'offset-ms': { type: 'string', default: '3600000' },
      'fork-every': { type: 'string', default: '6' },
      'event-ms': { type: 'string', default: '250' },
      'withhold-ms': { type: 'string', default: '15000' },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: an integer >= ${min}`);
    return n;
  };
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new Error(`--mode: one of ${MODES.join(', ')}`);
  if (values['data-dir'] === undefined) throw new Error('--data-dir is required');
  return {
    dataDir: values['data-dir'],
    mode,
    seed:
      values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed, 0),
    offsetMs: int('offset-ms', values['offset-ms'], -(2 ** 40)),
    forkEvery: int('fork-every', values['fork-every'], 2),
    eventMs: int('event-ms', values['event-ms'], 10),
    withholdMs: int('withhold-ms', values['withhold-ms'], 0),
  };
}

/** clock-ahead: the real posd under the shifted clock; this process only forwards signals. */
function runClockAhead(a: Args): void {
  const pkg = createRequire(import.meta.url).resolve('@pos/node/package.json');
  const posd = join(dirname(pkg), 'dist', 'cli.js');
  const preload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'clock-ahead.js'));
  log('starting posd with a shifted clock', { offsetMs: a.offsetMs, seed: a.seed });
  const child = spawn(
    process.execPath,
    ['--import', preload.href, '--max-old-space-size=1024', posd, 'start', '--data-dir', a.dataDir],
    { env: { ...process.env, POS_CLOCK_OFFSET_MS: String(a.offsetMs) }, stdio: 'inherit' },
  );
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 1));
}

async function main(): Promise<void> {
  const a = parseCli(process.argv.slice(2));
  if (a.mode === 'clock-ahead') return runClockAhead(a);

  const rand = mulberry32(a.seed);
  const key = await readKeyFile(join(a.dataDir, 'validator.key'));
  const genesis = genesisFromJSON(
    JSON.parse(readFileSync(join(a.dataDir, 'genesis.json'), 'utf8')),
  );
  const config = resolveConfig({
    file: JSON.parse(readFileSync(join(a.dataDir, 'config.json'), 'utf8')),
  });
  const hash = sha256Node;
  const chainId = chainIdOf(genesis, hash);
  const sign = createEd25519Signer(key.secretKey, key.publicKey);
  const selfHex = toHex(key.publicKey);
  const dag = new Dag(selfHex);

  /** The honest validators: every genesis validator but this key, in a seeded order. */
  const peers = shuffle(
    genesis.validators
      .filter((v) => toHex(v.pubkey) !== selfHex)
      .map((v) => ({
        hex: toHex(v.pubkey),
        name: v.name,
        url: `http://${v.p2p}`,
        retryAt: 0,
        failures: 0,
        lastTip: null as Tip | null,
      })),
    rand,
  );
  const peerByHex = new Map(peers.map((p) => [p.hex, p]));
  const report: ByzantineStatus = {
    mode: a.mode,
    seed: a.seed,
    publicKey: selfHex,
    created: 0,
    heads: [],
    honestEvents: 0,
    pulls: { ok: 0, failed: 0 },
    peers: Object.fromEntries(
      peers.map((p) => [
        p.hex,
        {
          name: p.name,
          requests: 0,
          lastRequestMs: null,
          view: 'all',
          awareAtMs: null,
          garbage: [],
        },
      ]),
    ),
    forks: [],
    reforks: 0,
    released: null,
  };
  log('byzantine validator', {
    mode: a.mode,
    seed: a.seed,
    publicKey: selfHex,
    p2p: `${config.p2pHost}:${config.p2pPort}`,
    peers: peers.map((p) => p.name),
  });

  // --- own events ------------------------------------------------------------------
  /** Own heads by branch name; a single-chain mode uses `main` only. */
  const heads = new Map<string, Held | null>();
  function createOwn(branch: string, other: Held | undefined): Held {
    const prev = heads.get(branch) ?? null;
    const now = Date.now();
    const unsigned: UnsignedEvent = {
      chainId,
      creator: key.publicKey,
      seq: prev === null ? 0 : prev.ev.seq + 1,
      selfParent: prev === null ? null : prev.ev.hash,
      otherParent:
        other === undefined
          ? null
          : { hash: other.ev.hash, creator: other.ev.creator, seq: other.ev.seq },
      timestamp: prev === null ? now : Math.max(now, prev.ev.timestamp + 1),
      transactions: [],
      payloads: [],
    };
    const h = dag.add(signEvent(unsigned, sign, hash));
    heads.set(branch, h);
    report.created++;
    return h;
  }
  /** The newest honest event `ok` accepts, preferring the tips pulled from `from`. */
  function otherParentFor(ok: (h: Held) => boolean, from: typeof peers): Held | undefined {
    for (const p of from) {
      const h = p.lastTip === null ? undefined : dag.get(p.lastTip.hash);
      if (h !== undefined && !h.mine && ok(h)) return h;
    }
    for (let i = dag.log.length - 1, n = 0; i >= 0 && n < 2000; i--, n++) {
      const h = dag.log[i]!;
      if (!h.mine && ok(h)) return h;
    }
    return undefined;
  }
  const anyTip = () => otherParentFor(() => true, shuffle(peers, rand));

  // --- mode state ------------------------------------------------------------------
  // equivocate: group A is one peer, group B the rest; each sees one branch.
  const groupOf = new Map<string, 'A' | 'B'>(peers.map((p, i) => [p.hex, i === 0 ? 'A' : 'B']));
  const lineage = { A: new Set<string>(), B: new Set<string>() };
  const views = { A: new View(dag, lineage.A), B: new View(dag, lineage.B) };
  const aware = new Set<string>();
  let ticks = 0;
  const warmup = 3 + Math.floor(rand() * 4);
  let refork: 'A' | 'B' = 'A';
  const siblings = new Map<string, Set<string>>(); // self-parent (or "root") -> children
  const noteChild = (h: Held) => {
    const k = h.ev.selfParent === null ? 'root' : toHex(h.ev.selfParent);
    let s = siblings.get(k);
    if (s === undefined) siblings.set(k, (s = new Set()));
    s.add(toHex(h.ev.hash));
  };

  // withhold: nothing of ours is served until the release, then to one peer.
  // Own events of an earlier run (pulled back at the start) are public already.
  const publicOwn = new Set<string>();
  const hidden = new View(dag, publicOwn);
  const withholdUntil = a.withholdMs === 0 ? Infinity : performance.now() + a.withholdMs;
  const releaseTo = peers[0]!.hex;
  let releaseNow = false;
  process.on('SIGUSR2', () => {
    releaseNow = true;
  });

  // garbage: each peer its plan, then the kinds again in a seeded order.
  const plans = new Map<string, GarbageKind[]>(
    peers.map((p, i) => [p.hex, [...GARBAGE_PLAN[i % GARBAGE_PLAN.length]!]]),
  );
  const garbageCycle = shuffle(GARBAGE_KINDS, rand);
  let garbageNext = 0;

  for (const p of peers) {
    const r = report.peers[p.hex]!;
    if (a.mode === 'equivocate') r.view = groupOf.get(p.hex)!;
    if (a.mode === 'withhold') r.view = 'hidden';
  }

  /**
   * Continues the key's own chain where an earlier run left it (the testnet
   * runs the modes one after the other on one network): its highest event
   * held by any honest peer, pulled back at the start. Starting again at seq
   * 0 would be a fork nobody asked for.
   */
  let resumed = false;
  function resume(): void {
    resumed = true;
    let top: Held | null = null;
    for (const h of dag.mine) if (top === null || h.ev.seq > top.ev.seq) top = h;
    for (const b of a.mode === 'equivocate' ? ['A', 'B'] : ['main']) heads.set(b, top);
    for (const h of dag.mine) {
      const k = toHex(h.ev.hash);
      lineage.A.add(k);
      lineage.B.add(k);
      publicOwn.add(k);
    }
    views.A.bump();
    views.B.bump();
    hidden.bump();
    log('resumed the own chain', {
      seq: top?.ev.seq ?? null,
      ownEvents: dag.mine.length,
      honestEvents: report.honestEvents,
    });
  }

  function tick(): void {
    ticks++;
    if (a.mode !== 'equivocate') {
      createOwn('main', anyTip());
      return;
    }
    // equivocate
    if (ticks <= warmup) {
      const h = createOwn('A', anyTip());
      heads.set('B', h);
      lineage.A.add(toHex(h.ev.hash));
      lineage.B.add(toHex(h.ev.hash));
      noteChild(h);
      return;
    }
    const everyoneAware = aware.size === peers.length;
    if (everyoneAware && ticks % a.forkEvery === 0) {
      // A fresh fork: the other group's head gets a second child.
      const from = refork === 'A' ? 'B' : 'A';
      heads.set(refork, heads.get(from)!);
      dag.selfAncestors(toHex(heads.get(from)!.ev.hash), lineage[refork]);
      views[refork].bump();
      refork = from;
      report.reforks++;
    }
    for (const g of ['A', 'B'] as const) {
      const group = peers.filter((p) => groupOf.get(p.hex) === g);
      const other = everyoneAware ? anyTip() : otherParentFor((h) => views[g].ok(h), group);
      const h = createOwn(g, other);
      lineage[g].add(toHex(h.ev.hash));
      noteChild(h);
    }
  }

  // --- the puller ------------------------------------------------------------------
  const client = createSyncClient({
    chainId,
    publicKey: key.publicKey,
    sign,
    hash,
    has: (h) => dag.has(h),
    verify: verifyEd25519Sync,
    timeoutMs: 5000,
  });
  const wholeUntil = new Map<string, number>();
  /** Peers pulled to the end at least once (the start waits for all, see `resume`). */
  const synced = new Set<string>();
  function summary(): KnownEntry[] {
    const now = performance.now();
    const out: KnownEntry[] = [];
    for (const [c, list] of dag.byCreator) {
      if ((wholeUntil.get(c) ?? 0) > now) continue;
      const last = list[list.length - 1]!;
      out.push({ creator: last.ev.creator, seq: last.ev.seq, hash: last.ev.hash });
    }
    const mine = new Map<string, Held>();
    for (const h of heads.values()) if (h !== null) mine.set(toHex(h.ev.hash), h);
    for (const h of [...mine.values()].slice(0, 4)) {
      out.push({ creator: h.ev.creator, seq: h.ev.seq, hash: h.ev.hash });
    }
    return out;
  }

  async function pullOnce(): Promise<void> {
    const now = performance.now();
    const ready = peers.filter((p) => p.retryAt <= now);
    if (ready.length === 0) return;
    const peer = ready[Math.floor(rand() * ready.length)]!;
    try {
      for (let page = 0; page < 16; page++) {
        const res = await client.pull(peer.url, summary());
        for (const ev of res.events) {
          const h = dag.add(ev);
          if (!h.mine) report.honestEvents++;
        }
        if (res.tip !== null) peer.lastTip = res.tip;
        if (!res.more || res.events.length === 0) break;
        if (page === 15) return; // not to the end yet: not counted as synced
      }
      report.pulls.ok++;
      peer.failures = 0;
      synced.add(peer.hex);
    } catch (e) {
      if (!(e instanceof GossipError)) throw e;
      report.pulls.failed++;
      peer.failures++;
      peer.retryAt = performance.now() + Math.min(2000, 20 * 2 ** peer.failures);
      if (e.code === 'MISSING_PARENT' && e.creator !== undefined) {
        wholeUntil.set(toHex(e.creator), performance.now() + 10_000);
      }
      if (peer.failures === 1)
        log('pull failed', { peer: peer.name, code: e.code, err: e.message });
    }
  }

  // --- the responder ---------------------------------------------------------------
  const isPeer = (pk: Uint8Array) => peerByHex.has(toHex(pk));

  /** The honest page for `req` under `ok`, capped like the node's server. */
  function page(req: SyncRequest, ok: (h: Held) => boolean) {
    const capEvents = Math.min(req.maxEvents, MAX_PAGE_EVENTS);
    const capBytes = Math.min(req.maxBytes, MAX_PAGE_BYTES);
    const events: Held[] = [];
    let bytes = 0;
    let more = false;
    for (const h of dag.since(req.known)) {
      if (!ok(h)) continue;
      if (
        events.length >= capEvents ||
        (events.length > 0 && bytes + h.ev.bytes.length > capBytes)
      ) {
        more = true;
        break;
      }
      events.push(h);
      bytes += h.ev.bytes.length;
    }
    return { events, more };
  }

  function respond(req: SyncRequest): { status: number; body: Uint8Array; type: string } {
    const peerHex = toHex(req.from);
    const pr = report.peers[peerHex]!;
    pr.requests++;
    pr.lastRequestMs = sinceStart();
    const ok = (body: Uint8Array) => ({ status: 200, body, type: SYNC_CONTENT_TYPE });

    if (a.mode === 'equivocate') {
      const g = groupOf.get(peerHex)!;
      if (!aware.has(peerHex) && forkedFor(req, g)) {
        aware.add(peerHex);
        pr.awareAtMs = sinceStart();
        pr.view = 'all';
        log('a peer holds both branches', { peer: pr.name, reforks: report.reforks });
      }
      const view = aware.has(peerHex) ? null : views[g];
      const p = page(req, (h) => view === null || view.ok(h));
      const tip = heads.get(g) ?? null;
      return ok(
        packResponse(
          p.events.map((h) => h.ev.bytes),
          p.more,
          tip === null ? null : { hash: tip.ev.hash, seq: tip.ev.seq },
        ),
      );
    }

    if (a.mode === 'withhold') {
      const released = report.released !== null && peerHex === report.released.to;
      const p = page(req, (h) => released || hidden.ok(h));
      const head = heads.get('main') ?? null;
      const tip = released && head !== null ? { hash: head.ev.hash, seq: head.ev.seq } : null;
      return ok(
        packResponse(
          p.events.map((h) => h.ev.bytes),
          p.more,
          tip,
        ),
      );
    }

    // garbage
    const plan = plans.get(peerHex)!;
    const kind = plan.shift() ?? garbageCycle[garbageNext++ % garbageCycle.length]!;
    pr.garbage.push(kind);
    log('garbage', { peer: pr.name, kind });
    return ok(garbage(kind, req));
  }

  /** Whether a peer's summary names an own event off the branch it was given. */
  function forkedFor(req: SyncRequest, g: 'A' | 'B'): boolean {
    for (const k of req.known) {
      if (toHex(k.creator) !== selfHex) continue;
      if (!lineage[g].has(toHex(k.hash))) return true;
    }
    return false;
  }

  /** An own event, signed, with the given fields on top of the next honest-looking one. */
  function ownEvent(over: Partial<UnsignedEvent>, signer = sign): WireEvent {
    const head = heads.get('main') ?? null;
    const other = anyTip();
    const base: UnsignedEvent = {
      chainId,
      creator: key.publicKey,
      seq: head === null ? 0 : head.ev.seq + 1,
      selfParent: head === null ? null : head.ev.hash,
      otherParent:
        other === undefined
          ? null
          : { hash: other.ev.hash, creator: other.ev.creator, seq: other.ev.seq },
      timestamp: Math.max(Date.now(), (head?.ev.timestamp ?? 0) + 1),
      transactions: [],
      payloads: [],
    };
    return signEvent({ ...base, ...over }, signer, hash);
  }

  /** An honest event the peer holds by its own summary (its own tip), if we hold it too. */
  function heldByPeer(req: SyncRequest): Held | undefined {
    for (const k of req.known) {
      const h = dag.get(k.hash);
      if (h !== undefined && !h.mine) return h;
    }
    return undefined;
  }

  function garbage(kind: GarbageKind, req: SyncRequest): Uint8Array {
    const honest = page(req, () => true);
    const evs = honest.events.map((h) => h.ev.bytes);
    const head = heads.get('main') ?? null;
    const tip = head === null ? null : { hash: head.ev.hash, seq: head.ev.seq };
    // The bad event goes last, after a valid page: what comes before it is
    // inserted (or refused with it, for faults the client catches).
    const withTail = (bad: Uint8Array) => packResponse([...evs, bad], false, tip);
    switch (kind) {
      case 'not-msgpack': {
        // 0xc1 is the one byte msgpack never uses.
        const b = new Uint8Array(64);
        crypto.getRandomValues(b);
        b[0] = 0xc1;
        return b;
      }
      case 'truncated': {
        const full = packResponse(evs.length > 0 ? evs : [ownEvent({}).bytes], false, tip);
        return full.subarray(0, Math.max(1, full.length >> 1));
      }
      case 'wrong-shape':
        return new Pack().map(2).str('events').str('nope').str('more').uint(1).finish();
      case 'empty-more':
        // "Nothing, but there is more": a puller that believed it would loop.
        return packResponse([], true, tip);
      case 'bad-signature': {
        const ev = ownEvent({});
        const b = ev.bytes.slice();
        b[b.length - 10]! ^= 0x01;
        return withTail(b);
      }
      case 'wrong-chain':
        return withTail(ownEvent({ chainId: taggedHash('byzantine/chain', chainId, hash) }).bytes);
      case 'too-large-event':
        return withTail(oversizedEvent());
      case 'undecodable-event': {
        const b = ownEvent({}).bytes.slice();
        b[0] = 2; // an unknown version
        return withTail(b);
      }
      case 'huge-page': {
        // Over the puller's body cap (4 MiB of events + framing): refused
        // from the declared length, before it is read.
        const chunk = new Uint8Array(512 * 1024);
        return packResponse(Array(10).fill(chunk), false, tip);
      }
      case 'missing-parent': {
        const sp = new Uint8Array(32);
        crypto.getRandomValues(sp);
        return withTail(ownEvent({ seq: (head?.ev.seq ?? 0) + 1, selfParent: sp }).bytes);
      }
      case 'bad-parent': {
        // A real other-parent with a descriptor that lies about its seq.
        const op = heldByPeer(req) ?? anyTip();
        if (op === undefined) return withTail(ownEvent({ seq: (head?.ev.seq ?? 0) + 5 }).bytes);
        return withTail(
          ownEvent({
            otherParent: { hash: op.ev.hash, creator: op.ev.creator, seq: op.ev.seq + 1 },
          }).bytes,
        );
      }
      case 'stale-timestamp': {
        if (head === null) return withTail(ownEvent({ timestamp: 0 }).bytes);
        // Needs the self-parent at the peer: the honest page carries our
        // events it lacks, parents first.
        return withTail(ownEvent({ timestamp: head.ev.timestamp }).bytes);
      }
      case 'unknown-creator': {
        const stranger = generateValidatorKey();
        const op = heldByPeer(req) ?? anyTip();
        const ev = signEvent(
          {
            chainId,
            creator: stranger.publicKey,
            seq: 0,
            selfParent: null,
            otherParent:
              op === undefined
                ? null
                : { hash: op.ev.hash, creator: op.ev.creator, seq: op.ev.seq },
            timestamp: Date.now(),
            transactions: [],
            payloads: [],
          },
          createEd25519Signer(stranger.secretKey, stranger.publicKey),
          hash,
        );
        return withTail(ev.bytes);
      }
      case 'duplicate': {
        const own = head === null ? [] : [head.ev.bytes];
        return packResponse([...evs, ...own, ...own], false, tip);
      }
    }
  }

  /**
   * A correctly signed event of 17 transactions of 64 KiB: over the 1 MiB
   * cap, so it has to be written by hand (`signEvent` refuses it).
   */
  function oversizedEvent(): Uint8Array {
    const head = heads.get('main') ?? null;
    const w = new Writer(1 << 21);
    w.u8(1)
      .bytes(chainId)
      .bytes(key.publicKey)
      .u64safe(head === null ? 0 : head.ev.seq + 1);
    w.u8(head === null ? 0 : 1);
    if (head !== null) w.bytes(head.ev.hash);
    w.u64safe(Date.now()).u32be(17);
    const tx = new Uint8Array(1 << 16).fill(7);
    for (let i = 0; i < 17; i++) w.u32be(tx.length).bytes(tx);
    w.u16be(0);
    const body = w.finish();
    const out = new Uint8Array(body.length + 64);
    out.set(body);
    out.set(sign(taggedHash('pos/event', body, hash)), body.length);
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: Uint8Array | string, type: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const refuse = (status: number, error: string) =>
      send(status, JSON.stringify({ error }), 'application/json');
    if (req.method === 'GET' && req.url === '/byz/status') {
      report.heads = [...heads.entries()]
        .filter(([, h]) => h !== null)
        .map(([branch, h]) => ({ branch, seq: h!.ev.seq, hash: toHex(h!.ev.hash) }));
      report.forks = [...siblings.values()]
        .filter((c) => c.size > 1)
        .map((c) => ({ seq: dag.get([...c][0]!)!.ev.seq, hashes: [...c] }));
      return send(200, JSON.stringify(report), 'application/json');
    }
    if (req.method !== 'POST' || req.url !== SYNC_PATH) return refuse(404, 'NOT_FOUND');
    if (req.headers['content-type'] !== SYNC_CONTENT_TYPE) {
      return refuse(415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_SYNC_REQUEST_BYTES) return refuse(413, 'TOO_LARGE');
      chunks.push(c);
    }
    let decoded: ReturnType<typeof decodeSyncRequest>;
    try {
      decoded = decodeSyncRequest(new Uint8Array(Buffer.concat(chunks)));
    } catch {
      return refuse(400, 'BAD_REQUEST');
    }
    const { req: sr, sig } = decoded;
    if (toHex(sr.chainId) !== toHex(chainId)) return refuse(400, 'WRONG_CHAIN');
    if (!isPeer(sr.from)) return refuse(403, 'NOT_A_PEER');
    if (!verifyEd25519Sync(sr.from, syncRequestHash(sr, hash), sig)) {
      return refuse(401, 'BAD_SIGNATURE');
    }
    if (Math.abs(Date.now() - sr.timestampMs) > MAX_CLOCK_SKEW_MS) {
      return refuse(401, 'STALE_REQUEST');
    }
    // Until the own chain is known, an empty page: an equivocator would take
    // the peers' tips of an earlier run for the other branch, and garbage is
    // built around the own chain. A valid answer rather than a refusal, so
    // that the peers do not back off from this process before it starts.
    if (!resumed || (a.mode === 'garbage' && (heads.get('main') ?? null) === null)) {
      return send(200, packResponse([], false, null), SYNC_CONTENT_TYPE);
    }
    if (a.mode === 'stall') {
      // Accept the request and never answer: the puller waits for its
      // timeout (a slowloris peer; the socket closes when the puller gives up).
      report.peers[toHex(sr.from)]!.requests++;
      return;
    }
    const out = respond(sr);
    send(out.status, out.body, out.type);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      log('responder failed', { err: String((e as Error)?.stack ?? e) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.p2pPort, config.p2pHost, resolve);
  });
  log('listening', { p2p: `${config.p2pHost}:${config.p2pPort}` });

  // --- the loop --------------------------------------------------------------------
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let lastEvent = 0;
  while (!stopping) {
    await pullOnce();
    const now = performance.now();
    if (a.mode === 'withhold' && report.released === null && (releaseNow || now >= withholdUntil)) {
      const head = heads.get('main') ?? null;
      report.released = {
        atMs: sinceStart(),
        to: releaseTo,
        head: head === null ? null : { seq: head.ev.seq, hash: toHex(head.ev.hash) },
      };
      report.peers[releaseTo]!.view = 'all';
      log('releasing the hidden chain', {
        to: peerByHex.get(releaseTo)!.name,
        head: report.released.head,
      });
    }
    // Own events need something to stand on: the honest DAG, and the own
    // chain of earlier runs, pulled from every peer (or as much as answered).
    if (!resumed && dag.byCreator.size > 0 && (synced.size === peers.length || now - t0 > 15_000)) {
      resume();
    }
    if (resumed && now - lastEvent >= a.eventMs) {
      tick();
      lastEvent = now;
    }
    await sleep(25);
  }
  log('stopping', { created: report.created, pulls: report.pulls });
  await client.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  process.exit(0);
}

// Run only as a program: the test imports the plan and the types.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    process.stderr.write(`byzantine: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
