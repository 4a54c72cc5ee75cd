/**
 * Collects block signatures from event payloads (kind 1, docs/PROTOCOL.md
 * 6.1 and 7) into finality certificates (docs/PROTOCOL.md 7, "Collector").
 *
 * After applying block h a validator signs its blockHash and gossips the
 * signature in its next event. Every node feeds those payloads here with
 * {@link CertificateCollector.addSignature}, and tells the collector its own
 * hash of block h with {@link CertificateCollector.setBlock}. As soon as the
 * signatures over the node's own hash hold a supermajority of the height's
 * stake (`3·signed > 2·total`), {@link CertificateCollector.certificate}
 * returns the certificate, which `verifyCertificate` in `@pos/protocol`
 * accepts for the same header and set.
 *
 * Rules, per height h:
 *  - a signature is checked on arrival against the key that the set of h
 *    (`validatorSet(h)`) gives its validatorId; an unknown height, an unknown
 *    signer or a bad signature is ignored and reported in the result;
 *  - a signature over a hash that is not (or not yet) the node's own is kept
 *    pending, at most `maxPendingPerHeight` of them per height; when
 *    `setBlock` names that hash it counts at once (it was verified already);
 *  - one signature per (validator, hash): a repeat is ignored (`DUPLICATE`);
 *    a validator's valid signature over a second hash at the same height is
 *    equivocation, reported once as {@link SignatureEvidence} (both signed
 *    hashes with their signatures) and then counted like any other (a
 *    certificate needs valid signatures, not honest signers); a third hash
 *    is ignored;
 *  - memory is bounded: only heights in `[head − window + 1, head + window]`
 *    are kept, `head` being the highest height given to `setBlock` (−1
 *    before the first), and each height holds at most two signatures per
 *    member plus the pending cap.
 *
 * Never throws on network data: malformed arguments give `MALFORMED`.
 */
import { bytesKey, equalBytes } from '@pos/merkle';
import {
  type FinalityCertificate,
  isSupermajorityStake,
  type Validator,
  type ValidatorSet,
  type VerifyFn,
} from '@pos/protocol';

/** Default number of heights a collector keeps. */
export const CERTIFICATE_WINDOW = 64;
/** Default bound on signatures over a hash other than the node's own, per height. */
export const MAX_PENDING_SIGNATURES_PER_HEIGHT = 256;

/** Two valid signatures by one validator over different hashes at one height. */
export interface SignatureEvidence {
  readonly height: number;
  readonly validatorId: Uint8Array;
  readonly first: { readonly blockHash: Uint8Array; readonly signature: Uint8Array };
  readonly second: { readonly blockHash: Uint8Array; readonly signature: Uint8Array };
}

/** Why {@link CertificateCollector.addSignature} dropped a signature. */
export type SignatureRejection =
  | 'MALFORMED'
  | 'STALE'
  | 'FUTURE'
  | 'UNKNOWN_HEIGHT'
  | 'UNKNOWN_VALIDATOR'
  | 'BAD_SIGNATURE'
  | 'DUPLICATE'
  | 'PENDING_FULL'
  | 'TOO_MANY_HASHES';

/** Result of {@link CertificateCollector.addSignature}. */
export type AddSignatureResult =
  | {
      /** `counted`: over the node's own hash; `pending`: over another or a not yet known hash. */
      readonly status: 'counted' | 'pending';
      /** Present when this signature made its validator an equivocator. */
      readonly evidence?: SignatureEvidence;
    }
  | { readonly status: 'ignored'; readonly reason: SignatureRejection };

/** Options of {@link createCertificateCollector}. */
export interface CertificateCollectorOptions {
  /**
   * The set that signs height h (docs/PROTOCOL.md 6.5), or undefined if the
   * node does not know it.
   */
  readonly validatorSet: (height: number) => ValidatorSet | undefined;
  /**
   * Signature check under the acceptance rule of docs/PROTOCOL.md 2 (e.g.
   * `verifyEd25519Sync`).
   */
  readonly verify: VerifyFn;
  /** Heights kept on either side of the head; default {@link CERTIFICATE_WINDOW}. */
  readonly window?: number;
  /** Default {@link MAX_PENDING_SIGNATURES_PER_HEIGHT}. */
  readonly maxPendingPerHeight?: number;
}

/** See {@link createCertificateCollector}. */
export interface CertificateCollector {
  /**
   * The node's own hash of block `height`, once applied. Advances the head and
   * forgets heights that fell out of the window. Throws on a second, different
   * hash for one height (a caller bug: a node applies a block once).
   */
  setBlock(height: number, blockHash: Uint8Array): void;
  /** Feeds one block-signature payload from validator `validatorId`; never throws. */
  addSignature(
    height: number,
    blockHash: Uint8Array,
    validatorId: Uint8Array,
    signature: Uint8Array,
  ): AddSignatureResult;
  /** The certificate over the node's own hash, once its signers hold a supermajority. */
  certificate(height: number): FinalityCertificate | undefined;
  /** Equivocation evidence collected for `height` (all kept heights if omitted). */
  evidence(height?: number): SignatureEvidence[];
  /** Heights currently held (for tests and metrics). */
  heights(): number[];
}

interface Signed {
  readonly blockHash: Uint8Array;
  readonly signature: Uint8Array;
}

interface HeightState {
  readonly set: ValidatorSet;
  readonly members: Map<string, Validator>;
  readonly totalStake: bigint;
  own?: Uint8Array;
  /** validatorId key → its signatures (1 or 2 hashes). */
  readonly byValidator: Map<string, Signed[]>;
  pending: number;
  readonly evidence: SignatureEvidence[];
  cert?: FinalityCertificate;
}

const isBytes = (b: unknown, n: number): b is Uint8Array =>
  b instanceof Uint8Array && b.length === n;
const isHeight = (h: unknown): h is number =>
  typeof h === 'number' && Number.isSafeInteger(h) && h >= 0;

/**
 * Creates a collector of block signatures into finality certificates
 * (docs/PROTOCOL.md 7; rules in the module comment).
 */
export function createCertificateCollector(
  options: CertificateCollectorOptions,
): CertificateCollector {
  const window = options.window ?? CERTIFICATE_WINDOW;
  const maxPending = options.maxPendingPerHeight ?? MAX_PENDING_SIGNATURES_PER_HEIGHT;
  if (!Number.isSafeInteger(window) || window < 1) throw new RangeError('window must be >= 1');
  if (!Number.isSafeInteger(maxPending) || maxPending < 0) {
    throw new RangeError('maxPendingPerHeight must be >= 0');
  }
  const states = new Map<number, HeightState>();
  let head = -1;

  const inWindow = (h: number): 'STALE' | 'FUTURE' | null =>
    h <= head - window ? 'STALE' : h > head + window ? 'FUTURE' : null;

  function stateOf(h: number): HeightState | undefined {
    let s = states.get(h);
    if (s !== undefined) return s;
    const set = options.validatorSet(h);
    if (set === undefined) return undefined;
    const members = new Map<string, Validator>();
    let totalStake = 0n;
    for (const v of set.validators) {
      members.set(bytesKey(v.validatorId), v);
      totalStake += v.stake;
    }
    s = { set, members, totalStake, byValidator: new Map(), pending: 0, evidence: [] };
    states.set(h, s);
    return s;
  }

  function prune(): void {
    for (const h of states.keys()) if (inWindow(h) !== null) states.delete(h);
  }

  function countsFor(s: HeightState, blockHash: Uint8Array): boolean {
    return s.own !== undefined && equalBytes(s.own, blockHash);
  }

  return {
    setBlock(height, blockHash) {
      if (!isHeight(height) || !isBytes(blockHash, 32)) {
        throw new RangeError('setBlock: height must be a safe integer >= 0, blockHash 32 bytes');
      }
      if (height > head) {
        head = height;
        prune();
      }
      if (inWindow(height) !== null) return;
      const s = stateOf(height);
      if (s === undefined) return;
      if (s.own !== undefined) {
        if (!equalBytes(s.own, blockHash)) {
          throw new Error(`setBlock: height ${height} already has another hash`);
        }
        return;
      }
      s.own = blockHash.slice();
      // Signatures over this hash stop being pending.
      for (const sigs of s.byValidator.values()) {
        for (const g of sigs) if (equalBytes(g.blockHash, blockHash)) s.pending--;
      }
    },

    addSignature(height, blockHash, validatorId, signature) {
      const ignored = (reason: SignatureRejection): AddSignatureResult => ({
        status: 'ignored',
        reason,
      });
      try {
        if (
          !isHeight(height) ||
          !isBytes(blockHash, 32) ||
          !isBytes(validatorId, 32) ||
          !isBytes(signature, 64)
        ) {
          return ignored('MALFORMED');
        }
        const w = inWindow(height);
        if (w !== null) return ignored(w);
        const s = stateOf(height);
        if (s === undefined) return ignored('UNKNOWN_HEIGHT');
        const k = bytesKey(validatorId);
        const v = s.members.get(k);
        if (v === undefined) return ignored('UNKNOWN_VALIDATOR');
        const prior = s.byValidator.get(k) ?? [];
        if (prior.some((g) => equalBytes(g.blockHash, blockHash))) return ignored('DUPLICATE');
        if (prior.length >= 2) return ignored('TOO_MANY_HASHES');
        const counts = countsFor(s, blockHash);
        if (!counts && s.pending >= maxPending) return ignored('PENDING_FULL');
        if (options.verify(v.publicKey, blockHash, signature) !== true) {
          return ignored('BAD_SIGNATURE');
        }
        const signed = { blockHash: blockHash.slice(), signature: signature.slice() };
        let evidence: SignatureEvidence | undefined;
        if (prior.length === 1) {
          evidence = {
            height,
            validatorId: v.validatorId,
            first: prior[0]!,
            second: signed,
          };
          s.evidence.push(evidence);
        }
        s.byValidator.set(k, [...prior, signed]);
        if (!counts) s.pending++;
        else s.cert = undefined;
        const status = counts ? 'counted' : 'pending';
        return evidence === undefined ? { status } : { status, evidence };
      } catch {
        return ignored('MALFORMED');
      }
    },

    certificate(height) {
      const s = states.get(height);
      if (s === undefined || s.own === undefined) return undefined;
      if (s.cert !== undefined) return s.cert;
      const own = s.own;
      let signedStake = 0n;
      const signatures: { validatorId: Uint8Array; signature: Uint8Array }[] = [];
      // The set is sorted by validatorId, so the certificate is too.
      for (const v of s.set.validators) {
        const g = s.byValidator
          .get(bytesKey(v.validatorId))
          ?.find((x) => equalBytes(x.blockHash, own));
        if (g === undefined) continue;
        signedStake += v.stake;
        signatures.push({ validatorId: v.validatorId, signature: g.signature });
      }
      if (signatures.length === 0 || !isSupermajorityStake(signedStake, s.totalStake)) {
        return undefined;
      }
      s.cert = { height, blockHash: own, signatures };
      return s.cert;
    },

    evidence(height) {
      if (height !== undefined) return [...(states.get(height)?.evidence ?? [])];
      return [...states.values()].flatMap((s) => s.evidence);
    },

    heights() {
      return [...states.keys()].sort((a, b) => a - b);
    },
  };
}
