/**
 * A certified header (docs/PROTOCOL.md 7, 11): `pos_status` names the
 * agent's latest certified height; `pos_getCertificate(height)` gives the
 * header and certificate. In this order: the header is of the asked height
 * (`BAD_CERTIFICATE`), of the trusted chain (`WRONG_CHAIN`), signed by
 * members of the verified table of its epoch holding more than 2/3 of its
 * stake over this header's hash (`BAD_CERTIFICATE` with the verifier's
 * reason), and commits to the verified table of the next round's epoch
 * (`UNKNOWN_SET`).
 *
 * @module
 */
import { equalBytes, type HashFn, toHex } from '@pos/merkle';
import {
  type BlockHeader,
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  type EpochParams,
  epochOfRound,
  type FinalityCertificate,
  verifyCertificate,
} from '@pos/protocol';
import { type Ask, fail, obj } from '../agent.js';
import type { CertifiedAt, CertifiedHeader } from '../types.js';
import type { TableBook } from './validator-sets.js';

/** What header verification needs. */
export interface HeaderOpts {
  readonly ask: Ask;
  readonly hash: HashFn;
  readonly params: EpochParams;
  readonly chainId: Uint8Array;
  readonly book: TableBook;
  /** The oldest latest-certified header accepted (`STALE_STATE` beyond). */
  readonly maxStateAgeMs: number;
  readonly nowMs: () => number;
}

/** Verifies headers; remembers which ones it returned (only those are evidence later). */
export interface HeaderVerifier {
  /** The header of `height`, verified. */
  at(height: number): Promise<CertifiedHeader>;
  /** The latest certified header the agent names, verified, and no older than `maxStateAgeMs`. */
  latest(): Promise<CertifiedHeader>;
  /** Whether `h` is a header this verifier returned. */
  returned(h: CertifiedHeader): boolean;
  /** The highest epoch of a header this verifier returned; -1 before any. */
  readonly highestEpoch: number;
}

/** The header verifier of one client. */
export function createHeaderVerifier(o: HeaderOpts): HeaderVerifier {
  const { ask, hash, params, chainId, book } = o;
  const verifiedHeaders = new WeakSet<CertifiedHeader>();
  let highestEpoch = -1;

  async function at(height: number): Promise<CertifiedHeader> {
    const r = obj(
      await ask('pos_getCertificate', (api) => api.getCertificate(height)),
      'pos_getCertificate',
    );
    let header: BlockHeader;
    let cert: FinalityCertificate;
    try {
      header = blockHeaderFromJSON(r.header);
      cert = certificateFromJSON(r.certificate);
    } catch (e) {
      return fail('BAD_ANSWER', `certificate answer: ${(e as Error).message}`);
    }
    if (header.height !== height)
      fail('BAD_CERTIFICATE', `asked for height ${height}, got ${header.height}`);
    if (!equalBytes(header.chainId, chainId)) {
      fail('WRONG_CHAIN', `the header is of chain ${toHex(header.chainId)}, not the trusted one`);
    }
    const epoch = epochOfRound(height, params);
    const set = await book.table(epoch);
    const v = verifyCertificate(header, cert, set, undefined, hash);
    if (!v.ok) {
      fail(
        'BAD_CERTIFICATE',
        `the certificate of height ${height} does not verify against epoch ${epoch}'s table: ${v.reason}`,
      );
    }
    // The header names the table that signs the next height: epoch's own, or
    // the next epoch's at the epoch's last height (proven first).
    const next = epochOfRound(height + 1, params);
    const nextSet = next === epoch ? set : await book.table(next);
    if (!equalBytes(header.validatorSetHash, nextSet.validatorSetHash)) {
      fail(
        'UNKNOWN_SET',
        `the header of height ${height} names a validator set that is not epoch ${next}'s verified table`,
      );
    }
    const verified: CertifiedHeader = {
      chainId,
      height,
      blockHash: blockHashOf(header, hash),
      stateRoot: header.stateRoot,
      historyRoot: header.historyRoot,
      historySize: header.historySize,
      epoch,
      signedStake: (v as { signedStake: bigint }).signedStake,
      totalStake: (v as { totalStake: bigint }).totalStake,
      timestamp: header.timestamp,
    };
    verifiedHeaders.add(verified);
    if (epoch > highestEpoch) highestEpoch = epoch;
    return verified;
  }

  async function latest(): Promise<CertifiedHeader> {
    const st = obj(await ask('pos_status', (api) => api.status()), 'pos_status');
    const h = st.lastCertifiedHeight;
    if (h === null) fail('NOT_YET', 'the agent has no certified block yet');
    if (!Number.isSafeInteger(h) || (h as number) < 0) fail('BAD_ANSWER', 'lastCertifiedHeight');
    const head = await at(h as number);
    // Checked after the certificate: only a genuine header's age means anything.
    const ageMs = o.nowMs() - head.timestamp;
    if (ageMs > o.maxStateAgeMs) {
      fail(
        'STALE_STATE',
        `the agent's latest certified block (height ${head.height}) is ${Math.round(ageMs / 1000)} s old; the limit is ${Math.round(o.maxStateAgeMs / 1000)} s`,
      );
    }
    return head;
  }

  return {
    at,
    latest,
    returned: (h) => verifiedHeaders.has(h),
    get highestEpoch() {
      return highestEpoch;
    },
  };
}

/** The {@link CertifiedAt} fields of a verified header (copied: results share no arrays with the cache). */
export function certifiedAt(h: CertifiedHeader): CertifiedAt {
  return {
    height: h.height,
    blockHash: h.blockHash.slice(),
    stateRoot: h.stateRoot.slice(),
    epoch: h.epoch,
    signedStake: h.signedStake,
    totalStake: h.totalStake,
    timestamp: h.timestamp,
  };
}
