/**
 * What every mode of the Byzantine validator shares: its key and chain (read
 * from the validator's data dir), the honest peers in a seeded order, the DAG
 * it holds, its own heads, the report of `GET /byz/status`, and the making of
 * its own events.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signEvent, type Tip, type UnsignedEvent } from '@pos/gossip';
import { type HashFn, toHex } from '@pos/merkle';
import {
  createEd25519Signer,
  type NodeConfig,
  readKeyFile,
  resolveConfig,
  sha256Node,
  type ValidatorKey,
} from '@pos/node';
import { chainIdOf, type Genesis, genesisFromJSON } from '@pos/protocol';
import { mulberry32 } from '../faults/random.js';
import { Dag, type Held } from './dag.js';
import type { ByzantineArgs, ByzantineStatus, PeerReport } from './types.js';
import { log, shuffle, sinceStart } from './util.js';

/** An honest validator as the puller sees it. */
export interface Peer {
  readonly hex: string;
  readonly name: string;
  readonly url: string;
  /** `performance.now()` before which it is not pulled again (backoff). */
  retryAt: number;
  failures: number;
  /** The tip of its last answer. */
  lastTip: Tip | null;
}

/** The validator's files, as the testnet writes them (`validator.key`, `genesis.json`, `config.json`). */
export interface ValidatorFiles {
  key: ValidatorKey;
  genesis: Genesis;
  config: NodeConfig;
}

/** The state and the helpers every mode works with. */
export interface Adversary {
  readonly args: ByzantineArgs;
  /** The seeded PRNG behind every choice. */
  readonly rand: () => number;
  readonly key: ValidatorKey;
  readonly config: NodeConfig;
  readonly chainId: Uint8Array;
  readonly hash: HashFn;
  readonly sign: (message: Uint8Array) => Uint8Array;
  readonly selfHex: string;
  readonly dag: Dag;
  /** Every genesis validator but this key, in a seeded order. */
  readonly peers: readonly Peer[];
  readonly peerByHex: ReadonlyMap<string, Peer>;
  readonly report: ByzantineStatus;
  /** Own heads by branch name; a single-chain mode uses `main` only. */
  readonly heads: Map<string, Held | null>;
  /** Whether the own chain of earlier runs is known (see `resumeOwnChain`). */
  resumed: boolean;
}

/** Reads the validator's key, genesis and config from its data dir. */
export async function readValidatorFiles(dataDir: string): Promise<ValidatorFiles> {
  const key = await readKeyFile(join(dataDir, 'validator.key'));
  const genesis = genesisFromJSON(JSON.parse(readFileSync(join(dataDir, 'genesis.json'), 'utf8')));
  const config = resolveConfig({
    file: JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')),
  });
  return { key, genesis, config };
}

/** The honest validators: every genesis validator but `selfHex`, in a seeded order. */
function peersOf(genesis: Genesis, selfHex: string, rand: () => number): Peer[] {
  return shuffle(
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
}

/** An empty report: every peer seen as `all`, nothing done yet. */
function emptyReport(a: ByzantineArgs, selfHex: string, peers: readonly Peer[]): ByzantineStatus {
  const peerReport = (p: Peer): PeerReport => ({
    name: p.name,
    requests: 0,
    lastRequestMs: null,
    view: 'all',
    awareAtMs: null,
    garbage: [],
  });
  return {
    mode: a.mode,
    seed: a.seed,
    publicKey: selfHex,
    created: 0,
    heads: [],
    honestEvents: 0,
    pulls: { ok: 0, failed: 0 },
    peers: Object.fromEntries(peers.map((p) => [p.hex, peerReport(p)])),
    forks: [],
    reforks: 0,
    released: null,
  };
}

/**
 * The shared state of one run: the seeded PRNG's first draw orders the
 * peers (the modes draw next, see `drawChoices`).
 */
export function createAdversary(a: ByzantineArgs, files: ValidatorFiles): Adversary {
  const { key, genesis, config } = files;
  const rand = mulberry32(a.seed);
  const hash = sha256Node;
  const selfHex = toHex(key.publicKey);
  const peers = peersOf(genesis, selfHex, rand);
  const report = emptyReport(a, selfHex, peers);
  log('byzantine validator', {
    mode: a.mode,
    seed: a.seed,
    publicKey: selfHex,
    p2p: `${config.p2pHost}:${config.p2pPort}`,
    peers: peers.map((p) => p.name),
  });
  return {
    args: a,
    rand,
    key,
    config,
    chainId: chainIdOf(genesis, hash),
    hash,
    sign: createEd25519Signer(key.secretKey, key.publicKey),
    selfHex,
    dag: new Dag(selfHex),
    peers,
    peerByHex: new Map(peers.map((p) => [p.hex, p])),
    report,
    heads: new Map(),
    resumed: false,
  };
}

/** The head of the single-chain modes' `main` branch (null before the first event). */
export const mainHead = (adv: Adversary): Held | null => adv.heads.get('main') ?? null;

/** An unsigned own event on `prev` (null: the first), with `other` as other-parent. */
export function nextEvent(
  adv: Adversary,
  prev: Held | null,
  other: Held | undefined,
): UnsignedEvent {
  return {
    chainId: adv.chainId,
    creator: adv.key.publicKey,
    seq: prev === null ? 0 : prev.ev.seq + 1,
    selfParent: prev === null ? null : prev.ev.hash,
    otherParent:
      other === undefined
        ? null
        : { hash: other.ev.hash, creator: other.ev.creator, seq: other.ev.seq },
    // Above the self-parent's (docs/PROTOCOL.md 5.1), whatever the clock says.
    timestamp: Math.max(Date.now(), (prev?.ev.timestamp ?? 0) + 1),
    transactions: [],
    payloads: [],
  };
}

/** Signs the next own event of `branch` on `other`, holds it, and moves the branch's head. */
export function createOwn(adv: Adversary, branch: string, other: Held | undefined): Held {
  const prev = adv.heads.get(branch) ?? null;
  const h = adv.dag.add(signEvent(nextEvent(adv, prev, other), adv.sign, adv.hash));
  adv.heads.set(branch, h);
  adv.report.created++;
  return h;
}

/** The newest honest event `ok` accepts, preferring the tips pulled from `from`. */
export function otherParentFor(
  adv: Adversary,
  ok: (h: Held) => boolean,
  from: readonly Peer[],
): Held | undefined {
  for (const p of from) {
    const h = p.lastTip === null ? undefined : adv.dag.get(p.lastTip.hash);
    if (h !== undefined && !h.mine && ok(h)) return h;
  }
  const log = adv.dag.log;
  for (let i = log.length - 1, n = 0; i >= 0 && n < 2000; i--, n++) {
    const h = log[i]!;
    if (!h.mine && ok(h)) return h;
  }
  return undefined;
}

/** The newest honest event, preferring the tip of a peer picked at random (seeded). */
export const anyTip = (adv: Adversary): Held | undefined =>
  otherParentFor(adv, () => true, shuffle(adv.peers, adv.rand));

/** Counts a sync request of a peer in its report, and returns the report. */
export function noteRequest(adv: Adversary, peerHex: string): PeerReport {
  const pr = adv.report.peers[peerHex]!;
  pr.requests++;
  pr.lastRequestMs = sinceStart();
  return pr;
}

/**
 * Continues the key's own chain where an earlier run left it (the testnet
 * runs the modes one after the other on one network): its highest event
 * held by any honest peer, pulled back at the start. Starting again at seq
 * 0 would be a fork nobody asked for.
 */
export function resumeOwnChain(
  adv: Adversary,
  branches: readonly string[],
  resumed: (own: readonly Held[]) => void,
): void {
  adv.resumed = true;
  let top: Held | null = null;
  for (const h of adv.dag.mine) if (top === null || h.ev.seq > top.ev.seq) top = h;
  for (const b of branches) adv.heads.set(b, top);
  resumed(adv.dag.mine);
  log('resumed the own chain', {
    seq: top?.ev.seq ?? null,
    ownEvents: adv.dag.mine.length,
    honestEvents: adv.report.honestEvents,
  });
}
