/**
 * Finality certificates of applied blocks (docs/PROTOCOL.md 7): block
 * signatures from event payloads go to the collector; once a height's
 * signatures over this node's hash pass 2/3 of its set's stake, the
 * certificate is stored (`u64 height → encodeCertificate`, docs/PROTOCOL.md
 * 9.3) and announced. A failed write outside shutdown stops the node, like a
 * failed block (a restart recovers from disk, docs/PROTOCOL.md 9.3).
 */

import { PayloadKind, type WireEvent } from '@pos/gossip';
import { type KVStore, toHex, u64be } from '@pos/merkle';
import {
  decodeBlockSignature,
  decodeCertificate,
  encodeCertificate,
  type FinalityCertificate,
} from '@pos/protocol';
import type { NodeEvents } from '../api/events.js';
import { failpoint } from '../failpoints.js';
import type { ValidatorIndex } from '../pipeline/dag.js';
import type { CertificateCollector } from './certificates.js';
import type { Chain } from './chain.js';

/** Options of {@link createCertifier}. */
export interface CertifierOpts {
  /** Applied heights below the latest minus this are no longer waited on. */
  windowHeights: number;
  /**
   * A block with committed transactions keeps the gossip at full pace until
   * its certificate is stored here, for at most this long after it was
   * applied (a network that cannot certify does not keep every node busy).
   */
  awaitCertificateMs: number;
}

export const defaultCertifierOpts: Readonly<CertifierOpts> = Object.freeze({
  windowHeights: 64,
  awaitCertificateMs: 10_000,
});

/** What the certifier reads and writes. */
export interface CertifierDeps {
  readonly collector: CertificateCollector;
  readonly store: KVStore;
  readonly chain: Pick<Chain, 'header'>;
  readonly index: Pick<ValidatorIndex, 'ids' | 'indexOf'>;
  readonly events: Pick<NodeEvents, 'emit'>;
  readonly logger: { debug(o: object, m: string): void; error(o: object, m: string): void };
  /** The block at a height got its certificate: its committed transactions. */
  onCertified(txHashes: readonly Uint8Array[]): void;
  /** Whether the node replays its store (no per-block debug lines then). */
  replaying(): boolean;
  /** Whether the node is stopping: a failed write is then the shutdown's, not a fault. */
  closing(): boolean;
  /** A certificate could not be stored: the node must stop. */
  onFatal(e: unknown): void;
}

/** The node's certificates. */
export interface Certifier {
  /** The highest height with a stored certificate (null: none yet). */
  readonly lastCertified: number | null;
  /** Waits for a certificate of `height` (applied now, with its committed transactions). */
  expect(height: number, committedTxHashes: Uint8Array[]): void;
  /**
   * Whether a block with committed transactions, applied less than
   * `awaitCertificateMs` ago, still waits for its certificate: a wallet
   * waits for it, so the gossip runs at full pace (docs/PROTOCOL.md 8.1).
   */
  awaiting(nowMs: number): boolean;
  /** Notes a height whose certificate is stored already (found again at replay). */
  noteStored(height: number): void;
  /** Checks `height` now and stores its certificate if there is one. */
  certify(height: number): void;
  /** Feeds the block signatures an event carries (kind 1 payloads, docs/PROTOCOL.md 6.1). */
  addSignatures(ev: WireEvent): void;
  /** The stored certificate of `height`. */
  certificate(height: number): Promise<FinalityCertificate | undefined>;
  /** Whether a certificate of `height` is stored. */
  stored(height: number): Promise<boolean>;
  /** Resolves when no check is under way (before the stores close). */
  drain(): Promise<void>;
}

/** Creates the certifier. */
export function createCertifier(deps: CertifierDeps, opts: Partial<CertifierOpts> = {}): Certifier {
  const o: CertifierOpts = { ...defaultCertifierOpts, ...opts };
  const { collector, store } = deps;
  /** Applied heights not yet certified → their committed tx hashes (for latency). */
  const uncertified = new Map<number, Uint8Array[]>();
  /** Heights with committed transactions waiting for a certificate → when applied (ms). */
  const awaited = new Map<number, number>();
  let lastCertified: number | null = null;
  /** Checks under way: `drain()` waits for them before the stores close. */
  const certifying = new Set<Promise<void>>();
  const noteCertified = (height: number) => {
    if (lastCertified === null || height > lastCertified) lastCertified = height;
  };

  async function check(height: number): Promise<void> {
    const pending = uncertified.get(height);
    if (pending === undefined) return;
    const cert = collector.certificate(height);
    if (cert === undefined) return;
    uncertified.delete(height);
    awaited.delete(height);
    failpoint('node.cert.beforeStore');
    await store.batch([{ type: 'put', key: u64be(height), value: encodeCertificate(cert) }]);
    noteCertified(height);
    deps.onCertified(pending);
    const head = await deps.chain.header(height);
    if (head !== undefined) {
      deps.events.emit('newBlock', {
        height,
        blockHash: toHex(head.blockHash),
        timestamp: head.header.timestamp,
        txCount: head.header.txCount,
        certified: true,
      });
    }
    if (!deps.replaying()) {
      deps.logger.debug({ height, signers: cert.signatures.length }, 'block certified');
    }
  }

  function certify(height: number): void {
    // A check's writes must not outlive the database (a check still reading
    // a header when the node closed it crashed a stopping node).
    const p: Promise<void> = check(height)
      .catch((e) => {
        if (deps.closing()) return;
        deps.logger.error({ err: e, height }, 'storing a certificate failed');
        deps.onFatal(e);
      })
      .finally(() => certifying.delete(p));
    certifying.add(p);
  }

  return {
    get lastCertified() {
      return lastCertified;
    },
    expect(height, committedTxHashes) {
      uncertified.set(height, committedTxHashes);
      if (committedTxHashes.length > 0) awaited.set(height, Date.now());
      for (const h of uncertified.keys()) if (h <= height - o.windowHeights) uncertified.delete(h);
    },
    awaiting(nowMs) {
      for (const [h, at] of awaited) {
        if (nowMs - at < o.awaitCertificateMs) return true;
        awaited.delete(h);
      }
      return false;
    },
    noteStored: noteCertified,
    certify,
    addSignatures(ev) {
      const validatorId = deps.index.ids[deps.index.indexOf(ev.creator) ?? -1];
      if (validatorId === undefined) return;
      for (const p of ev.payloads) {
        if (p.kind !== PayloadKind.BLOCK_SIGNATURE) continue;
        let s: ReturnType<typeof decodeBlockSignature>;
        try {
          s = decodeBlockSignature(p.data);
        } catch {
          continue; // a malformed payload in a signed event: ignored, the event stands
        }
        const r = collector.addSignature(s.height, s.blockHash, validatorId, s.signature);
        if (r.status === 'counted') certify(s.height);
      }
    },
    async certificate(height) {
      const bytes = await store.get(u64be(height));
      return bytes === undefined ? undefined : decodeCertificate(bytes);
    },
    stored: async (height) => (await store.get(u64be(height))) !== undefined,
    async drain() {
      while (certifying.size > 0) await Promise.all(certifying);
    },
  };
}
