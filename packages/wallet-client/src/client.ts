/**
 * The thin wallet's client (issue 5, wallet points 1 and 3): it talks to one
 * agent over JSON-RPC and uses nothing the agent says until it has checked
 * it against its trust anchor (docs/PROTOCOL.md 11).
 *
 * A balance is verified in three steps, each failing closed with a typed
 * {@link WalletError}:
 * 1. the agent names its latest certified height h; the header and finality
 *    certificate of h must verify against the validator table of h's epoch
 *    (more than 2/3 of its stake signed that header's hash, on the trusted
 *    chainId), and the header must commit to the table of h + 1's epoch -
 *    `BAD_CERTIFICATE`, `WRONG_CHAIN`, `UNKNOWN_SET`;
 * 2. the outputs at that height must be complete for the owner under that
 *    header's state root: the wallet rebuilds each entry (its own
 *    `outputKey(owner, outpoint)` and `encodeOutput(output)`) and checks the
 *    completeness proof of the prefix `sha256(owner)` - `BAD_PROOF`;
 * 3. only then is the sum returned, with what was verified.
 *
 * **Following set changes** (docs/PROTOCOL.md 11.1, 6.5 and 7). The trust
 * anchor is the table of one epoch (genesis: epoch 0). The table of epoch
 * k >= 1 is committed in the state trie at `epochTableKey(k)` by the first
 * block at or after its snapshot round; the client learns it from
 * `pos_getValidators(k)` only with a proof: a header of height in
 * `[snapshotRound(k), firstRound(k))`, certified by the already verified
 * table of that height's epoch (always < k, since LAG >= 1), whose state
 * root includes `epochTableKey(k) ↦ encodeValidatorSet(table)`. Tables are
 * verified one epoch after another from the anchor, kept for the client's
 * lifetime, and fetched once even by concurrent callers (a failed fetch is
 * forgotten, so a retry asks again). Cost: one RPC, one certificate check
 * and one trie proof per epoch between the anchor and the height asked for;
 * a height more than `maxEpochWalk` epochs past the last verified one is
 * refused (`UNKNOWN_SET`) before any request, so an agent naming an absurd
 * height costs nothing.
 *
 * Browser-safe: `fetch` is the global one (undici's in Node) unless given.
 */
import {
  equalBytes,
  type HashFn,
  logConsistencyProofFromJSON,
  logInclusionProofFromJSON,
  sha256Noble,
  toHex,
  trieProofFromJSON,
  verifyLogConsistency,
  verifyLogInclusion,
  verifyTrieCompleteness,
  verifyTrieInclusion,
} from '@pos/merkle';
import {
  type BlockHeader,
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  chainIdOf,
  decodeValidatorSet,
  type EpochParams,
  ed25519PublicKey,
  encodeOutput,
  encodeReceipt,
  encodeTx,
  epochOfRound,
  epochTableKey,
  type FinalityCertificate,
  firstRoundOf,
  fromHex,
  type Genesis,
  genesisStakes,
  lastRoundOf,
  makeValidatorSet,
  type Outpoint,
  type Output,
  outputKey,
  ownerPrefix,
  parseAmount,
  type Receipt,
  receiptFromJSON,
  signEd25519,
  signTx,
  snapshotRoundOf,
  type TxBody,
  txHashOf,
  type Validator,
  type ValidatorSet,
  validatorIdOfKey,
  validatorSetHash,
  verifyCertificate,
} from '@pos/protocol';
import { WalletError, type WalletErrorCode } from './errors.js';

/**
 * What the wallet trusts: a chain, its epoch parameters, and the validator
 * table of one epoch (the genesis set of epoch 0, or a pinned checkpoint's
 * table of a later epoch), from which it follows every later table by proofs.
 */
export interface WalletTrust {
  readonly chainId: Uint8Array;
  /** The table of epoch {@link epoch}: public keys and stakes (ids are derived). */
  readonly validators: readonly {
    readonly publicKey: Uint8Array;
    readonly stake: bigint;
    /** Display name and p2p endpoint, as the anchor (the genesis) names them. */
    readonly name?: string;
    readonly endpoint?: string;
  }[];
  /** LAG of the genesis (docs/PROTOCOL.md 6.5), >= 1. */
  readonly lag: number;
  /** EPOCH of the genesis (docs/PROTOCOL.md 6.5; `params.epoch`), >= 1. */
  readonly epochLength: number;
  /** The epoch whose table {@link validators} is: 0 (default) for the genesis set. */
  readonly epoch?: number;
}

/**
 * The trust anchor a genesis gives (docs/PROTOCOL.md 11): its chainId, its
 * epoch parameters, and its validators with their genesis stakes (the
 * outputs each hosts, docs/PROTOCOL.md 6.5), all of them (one hosting nothing has no
 * weight but is still in the set whose hash the headers of epoch 0 commit
 * to): the table of epoch 0.
 */
export function trustFromGenesis(g: Genesis, hash: HashFn = sha256Noble): WalletTrust {
  const byId = new Map(g.validators.map((v) => [toHex(v.pubkey), v]));
  return {
    chainId: chainIdOf(g, hash),
    validators: genesisStakes(g, hash).map((s) => {
      const v = byId.get(toHex(s.pubkey));
      return {
        publicKey: s.pubkey,
        stake: s.stake,
        ...(v === undefined ? {} : { name: v.name, endpoint: v.p2p }),
      };
    }),
    lag: g.params.lag,
    epochLength: g.params.epoch,
    epoch: 0,
  };
}

/** How a {@link VerifiedValidatorSet} was verified. */
export type TableProvenance =
  /** It is the trust anchor's own table (the genesis, or a pinned checkpoint). */
  | { readonly kind: 'anchor' }
  | {
      readonly kind: 'proof';
      /** The certified header whose state root includes the table (in [snapshotRound, firstRound)). */
      readonly height: number;
      readonly blockHash: Uint8Array;
      readonly stateRoot: Uint8Array;
      /** The epoch whose (already verified) table certified that header: `epochOfRound(height)`. */
      readonly certifiedBy: number;
      readonly signedStake: bigint;
      readonly certifierTotalStake: bigint;
    };

/**
 * A validator table the client verified (a `ValidatorSet`, so it can be
 * handed to `verifyCertificate`), with its epoch and how it was verified.
 */
export interface VerifiedValidatorSet extends ValidatorSet {
  readonly epoch: number;
  /** The rounds (block heights) it certifies: `firstRound ..= lastRound`. */
  readonly firstRound: number;
  readonly lastRound: number;
  /** The round after which it was taken; null for epoch 0 (the genesis state). */
  readonly snapshotRound: number | null;
  readonly totalStake: bigint;
  readonly validatorSetHash: Uint8Array;
  readonly provenance: TableProvenance;
  /**
   * Display names and p2p endpoints by validatorId (hex). For the anchor's
   * table, as the anchor names them; for a proven table, as the agent listed
   * them: NOT verified (the committed table holds ids, keys and stakes only).
   */
  readonly labels: ReadonlyMap<string, { readonly name: string; readonly endpoint: string }>;
}

/** The part of `fetch` the client uses (the global one by default). */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
) => Promise<{ status: number; json(): Promise<unknown> }>;

/** Options of {@link createWalletClient}. */
export interface WalletClientOpts {
  /** The agent's RPC origin, e.g. `http://127.0.0.1:8680`. */
  url: string;
  trust: WalletTrust;
  fetch?: FetchLike;
  hash?: HashFn;
  /**
   * Most epochs one call may verify past the last verified table (default
   * 10,000): one RPC, one certificate and one trie proof each. A height
   * further ahead is refused `UNKNOWN_SET` before any request.
   */
  maxEpochWalk?: number;
}

/** A balance the wallet checked, with what it checked it against. */
export interface VerifiedBalance {
  owner: Uint8Array;
  balance: bigint;
  outputs: { outpoint: Outpoint; output: Output }[];
  /** The certified block the balance is read at. */
  height: number;
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  /** The epoch whose verified table certified that block. */
  epoch: number;
  /** Stake that signed the certificate, and the table's total. */
  signedStake: bigint;
  totalStake: bigint;
}

/** A verified header and its certificate's stake. */
export interface CertifiedHeader {
  /** The chain it is of (the trusted one of the client that verified it). */
  chainId: Uint8Array;
  height: number;
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  historyRoot: Uint8Array;
  historySize: number;
  /** The epoch whose verified table certified it (`epochOfRound(height)`). */
  epoch: number;
  /** Stake that signed its certificate, and that table's total. */
  signedStake: bigint;
  totalStake: bigint;
}

/** What {@link WalletClient.send} moves. */
export interface SendOpts {
  /** The sender's 32-byte Ed25519 secret key (from the keystore). */
  secretKey: Uint8Array;
  to: Uint8Array;
  amount: bigint;
  /** Default 1 (the testnet's minFee). */
  fee?: bigint;
  /** Validator that hosts the new outputs (where the stake goes); default: the first input's host. */
  host?: Uint8Array;
  /** How long to wait for the certificate, ms (default 60 s). */
  timeoutMs?: number;
  /**
   * Called with the signed transaction before it is submitted, so that a
   * caller can record it first (a write-ahead journal: after a crash the same
   * bytes can be resubmitted, harmlessly, and the receipt looked up by hash).
   * A throw here aborts the send before anything leaves the wallet.
   */
  onSigned?: (signed: SignedTransfer) => void | Promise<void>;
}

/** A transfer {@link WalletClient.send} signed, as handed to `onSigned`. */
export interface SignedTransfer {
  txHash: Uint8Array;
  /** The canonical encoding that is submitted. */
  tx: Uint8Array;
  body: TxBody;
  /** The verified outputs it spends. */
  spent: { outpoint: Outpoint; output: Output }[];
  /** Height of the certified balance they were read at. */
  height: number;
}

/** A receipt the wallet proved included under a certified history root. */
export interface VerifiedReceipt {
  txHash: Uint8Array;
  receipt: Receipt;
  /** The block that ordered the transaction. */
  height: number;
  /** The certified header the inclusion was proved under (at or after `height`). */
  certifiedHeight: number;
  historyRoot: Uint8Array;
  historySize: number;
  /** The epoch whose verified table certified the header at `certifiedHeight`. */
  epoch: number;
  signedStake: bigint;
  totalStake: bigint;
}

/** The wallet's view of one agent. */
export interface WalletClient {
  /** The latest certified header the agent names, verified. */
  certifiedHeader(): Promise<CertifiedHeader>;
  /** `owner`'s unspent outputs at the latest certified height, verified complete. */
  balance(owner: Uint8Array): Promise<VerifiedBalance>;
  /**
   * Proves `txHash`'s receipt included in the history log under the latest
   * certified header, once one covers it (`NOT_YET` before). `at`, a header
   * this client returned, proves under that header instead: many receipts
   * under one header cost one certificate check.
   */
  receipt(txHash: Uint8Array, at?: CertifiedHeader): Promise<VerifiedReceipt>;
  /**
   * Spends verified outputs of the sender: builds and signs the transfer
   * (change back to the sender), submits it (a resubmission is harmless:
   * the agent is idempotent by hash), waits for a certified header that
   * covers its block, and returns the receipt proved under it. A lost
   * connection is retried, and the transfer resent every 3 s until a
   * certified block holds it: always the same bytes, so it is paid once.
   */
  send(opts: SendOpts): Promise<VerifiedReceipt>;
  /**
   * Checks that this agent and `other` share one history (RFC 9162
   * consistency): both latest certified headers verified, then the larger
   * log proven an extension of the smaller, with the proof asked of this
   * agent. Returns the two verified headers; `BAD_PROOF` if the histories
   * diverge (one agent serves a forged past), `WRONG_CHAIN` if `other`
   * follows another chain.
   */
  consistentWith(other: WalletClient): Promise<{ mine: CertifiedHeader; theirs: CertifiedHeader }>;
  /**
   * Checks that two verified headers (from any agents, at any times) share
   * one history: the larger log extends the smaller (RFC 9162 consistency,
   * the proof asked of this agent). `BAD_PROOF` if not.
   */
  verifyConsistency(a: CertifiedHeader, b: CertifiedHeader): Promise<void>;
  /**
   * The verified validator table of `epoch` (default: the table that signs
   * the block after the agent's latest certified one, as `pos_getValidators`
   * without a param), following every table from the trust anchor up to it
   * as needed. `UNKNOWN_SET` if the agent cannot prove it (yet), or if it
   * precedes a pinned checkpoint's epoch.
   */
  validators(epoch?: number): Promise<VerifiedValidatorSet>;
}

// setTimeout exists in browsers and Node; declared here since the package
// compiles without DOM or Node typings.
const sleep = (ms: number) =>
  new Promise<void>((r) =>
    (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(r, ms),
  );

/** How often {@link WalletClient.send} resends a transfer that no certified block holds yet. */
const RESUBMIT_MS = 3000;

const fail = (code: WalletErrorCode, msg: string): never => {
  throw new WalletError(code, msg);
};

type Json = Record<string, unknown>;
const obj = (v: unknown, what: string): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Json)
    : fail('BAD_ANSWER', `${what} must be an object`);

/** Creates a client of the agent at `opts.url` that trusts `opts.trust` only. */
export function createWalletClient(opts: WalletClientOpts): WalletClient {
  const hash = opts.hash ?? sha256Noble;
  const doFetch: FetchLike =
    opts.fetch ?? ((globalThis as unknown as { fetch: FetchLike }).fetch as FetchLike);
  if (typeof doFetch !== 'function') fail('BAD_ARGUMENT', 'no fetch available');
  const trust = opts.trust;
  if (typeof trust !== 'object' || trust === null) fail('BAD_ARGUMENT', 'trust is required');
  if (!(trust.chainId instanceof Uint8Array) || trust.chainId.length !== 32) {
    fail('BAD_ARGUMENT', 'trust.chainId must be 32 bytes');
  }
  if (!Number.isSafeInteger(trust.lag) || trust.lag < 1 || trust.lag > 0xffffffff) {
    fail('BAD_ARGUMENT', 'trust.lag must be an integer in 1..2^32-1 (the genesis LAG)');
  }
  if (
    !Number.isSafeInteger(trust.epochLength) ||
    trust.epochLength < 1 ||
    trust.epochLength > 0xffffffff
  ) {
    fail('BAD_ARGUMENT', 'trust.epochLength must be an integer in 1..2^32-1 (the genesis EPOCH)');
  }
  const anchorEpoch = trust.epoch ?? 0;
  if (!Number.isSafeInteger(anchorEpoch) || anchorEpoch < 0) {
    fail('BAD_ARGUMENT', 'trust.epoch must be an integer >= 0');
  }
  const maxEpochWalk = opts.maxEpochWalk ?? 10_000;
  if (!Number.isSafeInteger(maxEpochWalk) || maxEpochWalk < 1) {
    fail('BAD_ARGUMENT', 'maxEpochWalk must be an integer >= 1');
  }
  const params: EpochParams = { lag: trust.lag, epoch: trust.epochLength };
  const chainId = trust.chainId.slice();
  const base = opts.url.replace(/\/+$/, '');
  let nextId = 1;
  const verifiedHeaders = new WeakSet<CertifiedHeader>();

  // --- validator tables, epoch by epoch from the anchor ---------------------------

  /** Verified tables: every epoch from the anchor's to `verifiedUpTo`, no gaps. */
  const tables = new Map<number, VerifiedValidatorSet>();
  let verifiedUpTo = anchorEpoch;
  /** Fetches under way, shared by concurrent callers; dropped when they fail. */
  const inFlight = new Map<number, Promise<VerifiedValidatorSet>>();
  {
    // Copies: the caller's later edits of `trust` must not change the anchor.
    const set = makeValidatorSet(
      trust.validators.map((v) => ({ publicKey: v.publicKey.slice(), stake: v.stake })),
      hash,
    );
    const labels = new Map<string, { name: string; endpoint: string }>();
    for (const v of trust.validators) {
      if (typeof v.name === 'string' || typeof v.endpoint === 'string') {
        labels.set(toHex(validatorIdOfKey(v.publicKey, hash)), {
          name: v.name ?? '',
          endpoint: v.endpoint ?? '',
        });
      }
    }
    tables.set(anchorEpoch, tableOf(anchorEpoch, set, { kind: 'anchor' }, labels));
  }

  function tableOf(
    epoch: number,
    set: ValidatorSet,
    provenance: TableProvenance,
    labels: ReadonlyMap<string, { name: string; endpoint: string }>,
  ): VerifiedValidatorSet {
    return {
      validators: set.validators,
      epoch,
      firstRound: firstRoundOf(epoch, params),
      lastRound: lastRoundOf(epoch, params),
      snapshotRound: snapshotRoundOf(epoch, params),
      totalStake: set.validators.reduce((a, v) => a + v.stake, 0n),
      validatorSetHash: validatorSetHash(set, hash),
      provenance,
      labels,
    };
  }

  /** The verified table of `epoch`, verifying every missing one before it in order. */
  async function table(epoch: number): Promise<VerifiedValidatorSet> {
    const have = tables.get(epoch);
    if (have !== undefined) return have;
    if (epoch < anchorEpoch) {
      fail(
        'UNKNOWN_SET',
        `epoch ${epoch} precedes the trust anchor's epoch ${anchorEpoch}: its table is not trusted`,
      );
    }
    if (epoch - verifiedUpTo > maxEpochWalk) {
      fail(
        'UNKNOWN_SET',
        `epoch ${epoch} is ${epoch - verifiedUpTo} epochs past the last verified table ` +
          `(${verifiedUpTo}); at most ${maxEpochWalk} are followed in one call: pin a later checkpoint`,
      );
    }
    for (let j = verifiedUpTo + 1; j <= epoch; j++) await step(j);
    return tables.get(epoch)!;
  }

  /** Verifies epoch `j`'s table, every earlier one being verified; one fetch at a time per epoch. */
  function step(j: number): Promise<VerifiedValidatorSet> {
    const have = tables.get(j);
    if (have !== undefined) return Promise.resolve(have);
    let p = inFlight.get(j);
    if (p === undefined) {
      p = fetchTable(j).then(
        (t) => {
          tables.set(j, t);
          if (j > verifiedUpTo) verifiedUpTo = j;
          inFlight.delete(j);
          return t;
        },
        (e: unknown) => {
          inFlight.delete(j);
          throw e;
        },
      );
      inFlight.set(j, p);
    }
    return p;
  }

  /**
   * `pos_getValidators(j)`, accepted only with its proof (module comment);
   * the table of every epoch before `j` is verified.
   */
  async function fetchTable(j: number): Promise<VerifiedValidatorSet> {
    let raw: unknown;
    try {
      raw = await rpc('pos_getValidators', [j]);
    } catch (e) {
      // The agent does not know the epoch (yet): nothing to verify.
      if (e instanceof WalletError && e.code === 'AGENT_ERROR') {
        fail('UNKNOWN_SET', `the agent gives no table of epoch ${j}: ${e.message}`);
      }
      throw e;
    }
    const r = obj(raw, 'pos_getValidators');
    if (r.epoch !== j) fail('BAD_ANSWER', `asked for epoch ${j}'s table, got ${String(r.epoch)}`);
    const snapshot = snapshotRoundOf(j, params)!;
    const first = firstRoundOf(j, params);
    if (
      r.snapshotRound !== snapshot ||
      r.firstRound !== first ||
      r.lastRound !== lastRoundOf(j, params)
    ) {
      fail('BAD_ANSWER', `epoch ${j}'s rounds are not those of the trusted genesis parameters`);
    }
    if (r.proof === null || r.proof === undefined) {
      fail('UNKNOWN_SET', `the agent cannot prove epoch ${j}'s table (yet): no proof`);
    }
    const pr = obj(r.proof, 'proof');
    let header: BlockHeader;
    let cert: FinalityCertificate;
    let encoded: Uint8Array;
    let claimedHash: Uint8Array;
    let key: Uint8Array;
    const listed: { validatorId: string; publicKey: string; stake: string }[] = [];
    const labels = new Map<string, { name: string; endpoint: string }>();
    try {
      header = blockHeaderFromJSON(pr.header);
      cert = certificateFromJSON(pr.certificate);
      encoded = fromHex(r.encoded);
      claimedHash = fromHex(r.validatorSetHash, 32);
      key = fromHex(pr.key);
      if (!Array.isArray(r.validators)) throw new Error('validators must be an array');
      for (const x of r.validators as unknown[]) {
        const v = obj(x, 'validator');
        const id = toHex(fromHex(v.validatorId, 32));
        listed.push({
          validatorId: id,
          publicKey: toHex(fromHex(v.publicKey, 32)),
          stake: parseAmount(v.stake).toString(),
        });
        if (typeof v.name !== 'string' || typeof v.endpoint !== 'string') {
          throw new Error('validator name and endpoint must be strings');
        }
        labels.set(id, { name: v.name, endpoint: v.endpoint });
      }
      if (typeof r.totalStake !== 'string') throw new Error('totalStake must be a decimal string');
    } catch (e) {
      return fail('BAD_ANSWER', `epoch ${j}'s table: ${(e as Error).message}`);
    }
    const height = pr.height;
    if (!Number.isSafeInteger(height)) fail('BAD_ANSWER', 'proof.height must be an integer');
    const h = height as number;
    // The window: after the snapshot (so the table is in the state), before
    // the epoch starts (so an older table certified the header).
    if (h < snapshot || h >= first) {
      fail(
        'BAD_PROOF',
        `epoch ${j}'s table must be proven under a header of height ${snapshot}..${first - 1}, not ${h}`,
      );
    }
    if (header.height !== h)
      fail('BAD_PROOF', `proof.height ${h} but a header of ${header.height}`);
    if (!equalBytes(header.chainId, chainId)) {
      fail('WRONG_CHAIN', `epoch ${j}'s proof header is of chain ${toHex(header.chainId)}`);
    }
    const by = epochOfRound(h, params);
    const certifier = tables.get(by);
    if (certifier === undefined) {
      // Only before a pinned checkpoint: every epoch from it to j - 1 is verified.
      fail('UNKNOWN_SET', `the proof header ${h} is of epoch ${by}, whose table is not trusted`);
    }
    const v = verifyCertificate(header, cert, certifier!, undefined, hash);
    if (!v.ok) {
      fail(
        'BAD_CERTIFICATE',
        `the certificate of height ${h} (proving epoch ${j}'s table) does not verify against epoch ${by}'s table: ${v.reason}`,
      );
    }
    const { signedStake, totalStake: certifierTotalStake } = v as {
      signedStake: bigint;
      totalStake: bigint;
    };
    if (!equalBytes(key, epochTableKey(j))) {
      fail('BAD_PROOF', `the proof is for key ${toHex(key)}, not epoch ${j}'s table key`);
    }
    let trieProof: ReturnType<typeof trieProofFromJSON>;
    try {
      trieProof = trieProofFromJSON(pr.trieProof);
    } catch (e) {
      return fail('BAD_PROOF', `epoch ${j}'s trie proof: ${(e as Error).message}`);
    }
    if (!verifyTrieInclusion(header.stateRoot, epochTableKey(j), encoded, trieProof, { hash })) {
      fail(
        'BAD_PROOF',
        `epoch ${j}'s table is not in the state of certified block ${h} (the inclusion proof fails)`,
      );
    }
    let set: ValidatorSet;
    try {
      set = decodeValidatorSet(encoded, hash);
    } catch (e) {
      return fail(
        'BAD_PROOF',
        `epoch ${j}'s committed table does not decode: ${(e as Error).message}`,
      );
    }
    const setHash = validatorSetHash(set, hash);
    if (!equalBytes(setHash, claimedHash)) {
      fail('BAD_PROOF', `epoch ${j}'s validatorSetHash is not the hash of the proven table`);
    }
    // What the agent lists must be what was proven (names and endpoints aside).
    const total = set.validators.reduce((a, x) => a + x.stake, 0n);
    if (
      listed.length !== set.validators.length ||
      set.validators.some(
        (x, i) =>
          listed[i]!.validatorId !== toHex(x.validatorId) ||
          listed[i]!.publicKey !== toHex(x.publicKey) ||
          listed[i]!.stake !== x.stake.toString(),
      ) ||
      r.totalStake !== total.toString()
    ) {
      fail('BAD_PROOF', `the validators listed for epoch ${j} are not the proven table`);
    }
    for (const id of labels.keys()) {
      if (!set.validators.some((x) => toHex(x.validatorId) === id)) labels.delete(id);
    }
    // The header also commits to the table of the round after it: epoch j's
    // own (the window's last height) or one verified before.
    const next = epochOfRound(h + 1, params);
    const nextHash = next === j ? setHash : tables.get(next)?.validatorSetHash;
    if (nextHash === undefined || !equalBytes(header.validatorSetHash, nextHash)) {
      fail(
        'UNKNOWN_SET',
        `the proof header ${h} commits to a validator set that is not epoch ${next}'s table`,
      );
    }
    return tableOf(
      j,
      set,
      {
        kind: 'proof',
        height: h,
        blockHash: blockHashOf(header, hash),
        stateRoot: header.stateRoot,
        certifiedBy: by,
        signedStake,
        certifierTotalStake,
      },
      labels,
    );
  }

  /** A copy of a cached table: a caller's edits must not reach the cache. */
  function copyTable(t: VerifiedValidatorSet): VerifiedValidatorSet {
    const validators: Validator[] = t.validators.map((v) => ({
      validatorId: v.validatorId.slice(),
      publicKey: v.publicKey.slice(),
      stake: v.stake,
    }));
    const p = t.provenance;
    return {
      ...t,
      validators,
      validatorSetHash: t.validatorSetHash.slice(),
      provenance:
        p.kind === 'anchor'
          ? p
          : { ...p, blockHash: p.blockHash.slice(), stateRoot: p.stateRoot.slice() },
      labels: new Map(t.labels),
    };
  }

  // --- JSON-RPC and headers -------------------------------------------------------

  async function rpc(method: string, params: unknown[]): Promise<unknown> {
    let body: unknown;
    try {
      const res = await doFetch(`${base}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      });
      body = await res.json();
    } catch (e) {
      return fail('AGENT_UNREACHABLE', `${method}: ${(e as Error).message}`);
    }
    const o = obj(body, 'the JSON-RPC answer');
    if (o.error !== undefined) {
      const err = obj(o.error, 'error');
      return fail('AGENT_ERROR', `${method}: ${String(err.message)} (${String(err.code)})`);
    }
    if (!('result' in o)) fail('BAD_ANSWER', `${method}: no result`);
    return o.result;
  }

  async function headerAt(height: number): Promise<CertifiedHeader> {
    const r = obj(await rpc('pos_getCertificate', [height]), 'pos_getCertificate');
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
    const set = await table(epoch);
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
    const nextSet = next === epoch ? set : await table(next);
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
    };
    verifiedHeaders.add(verified);
    return verified;
  }

  async function certifiedHeader(): Promise<CertifiedHeader> {
    const st = obj(await rpc('pos_status', []), 'pos_status');
    const h = st.lastCertifiedHeight;
    if (h === null) fail('NOT_YET', 'the agent has no certified block yet');
    if (!Number.isSafeInteger(h) || (h as number) < 0) fail('BAD_ANSWER', 'lastCertifiedHeight');
    return headerAt(h as number);
  }

  async function receipt(txHash: Uint8Array, at?: CertifiedHeader): Promise<VerifiedReceipt> {
    // Only a header this client verified: a caller's object is not evidence.
    if (at !== undefined && !verifiedHeaders.has(at)) {
      fail('BAD_ARGUMENT', 'at must be a header this client returned');
    }
    const head = at ?? (await certifiedHeader());
    const r = obj(
      await rpc('pos_getTransaction', [toHex(txHash), head.height]).catch((e: unknown) => {
        // The certified block does not hold the receipt yet.
        if (e instanceof WalletError && e.code === 'AGENT_ERROR' && /-32001/.test(e.message)) {
          return { status: 'pending' };
        }
        throw e;
      }),
      'pos_getTransaction',
    );
    if (r.status !== 'committed' && r.status !== 'rejected') {
      fail('NOT_YET', `the transaction is ${String(r.status)} at certified height ${head.height}`);
    }
    let rc: Receipt;
    let proof: ReturnType<typeof logInclusionProofFromJSON>;
    try {
      rc = receiptFromJSON(r.receipt);
    } catch (e) {
      return fail('BAD_ANSWER', `receipt: ${(e as Error).message}`);
    }
    try {
      proof = logInclusionProofFromJSON(r.inclusionProof);
    } catch (e) {
      return fail('BAD_PROOF', `inclusion proof: ${(e as Error).message}`);
    }
    if (toHex(rc.txHash) !== toHex(txHash)) fail('BAD_PROOF', 'a receipt of another transaction');
    if (proof.treeSize !== head.historySize) {
      fail('BAD_PROOF', 'the inclusion proof is not for the certified history size');
    }
    if (!verifyLogInclusion(head.historyRoot, encodeReceipt(rc), proof, { hash })) {
      fail('BAD_PROOF', 'the receipt is not in the certified history log');
    }
    return {
      txHash,
      receipt: rc,
      height: rc.height,
      certifiedHeight: head.height,
      historyRoot: head.historyRoot,
      historySize: head.historySize,
      epoch: head.epoch,
      signedStake: head.signedStake,
      totalStake: head.totalStake,
    };
  }

  const client: WalletClient = {
    certifiedHeader,
    receipt,
    async validators(epoch) {
      let k: number;
      if (epoch === undefined) {
        // The table that signs the block after the latest certified one;
        // verifying that header proved it already.
        const head = await certifiedHeader();
        k = epochOfRound(head.height + 1, params);
      } else {
        if (!Number.isSafeInteger(epoch) || epoch < 0) {
          fail('BAD_ARGUMENT', 'epoch must be an integer >= 0');
        }
        k = epoch;
      }
      return copyTable(await table(k));
    },
    async consistentWith(other) {
      const [mine, theirs] = await Promise.all([certifiedHeader(), other.certifiedHeader()]);
      await client.verifyConsistency(mine, theirs);
      return { mine, theirs };
    },
    async verifyConsistency(a, b) {
      // Another chain's header proves nothing here, and its log would pass
      // as consistent with ours whenever one of the two is empty.
      for (const h of [a, b]) {
        if (!(h?.chainId instanceof Uint8Array) || toHex(h.chainId) !== toHex(chainId)) {
          fail('WRONG_CHAIN', 'a header of another chain than the trusted one');
        }
      }
      const [small, large] = a.historySize <= b.historySize ? [a, b] : [b, a];
      if (small.historySize === 0 || small.historySize === large.historySize) {
        if (
          small.historySize === large.historySize &&
          toHex(small.historyRoot) !== toHex(large.historyRoot)
        ) {
          fail('BAD_PROOF', 'two certified history roots of one size differ');
        }
        return;
      }
      const r = await rpc('pos_getConsistencyProof', [small.historySize, large.historySize]);
      let proof: ReturnType<typeof logConsistencyProofFromJSON>;
      try {
        proof = logConsistencyProofFromJSON(r);
      } catch (e) {
        return fail('BAD_PROOF', `consistency proof: ${(e as Error).message}`);
      }
      if (proof.fromSize !== small.historySize || proof.toSize !== large.historySize) {
        fail('BAD_PROOF', 'a consistency proof between other sizes');
      }
      if (!verifyLogConsistency(small.historyRoot, large.historyRoot, proof, { hash })) {
        fail('BAD_PROOF', 'the two certified histories do not extend one another');
      }
    },
    async send(o) {
      const fee = o.fee ?? 1n;
      if (typeof o.amount !== 'bigint' || o.amount <= 0n)
        fail('BAD_ARGUMENT', 'amount must be > 0');
      if (o.timeoutMs !== undefined && !(Number.isFinite(o.timeoutMs) && o.timeoutMs >= 0)) {
        fail('BAD_ARGUMENT', 'timeoutMs must be a finite number >= 0');
      }
      const from = ed25519PublicKey(o.secretKey);
      const have = await client.balance(from);
      // Largest outputs first: few inputs, so a small transaction.
      const coins = [...have.outputs].sort((a, b) =>
        a.output.amount > b.output.amount ? -1 : a.output.amount < b.output.amount ? 1 : 0,
      );
      const inputs: typeof coins = [];
      let sum = 0n;
      for (const c of coins) {
        if (sum >= o.amount + fee || inputs.length >= 256) break;
        inputs.push(c);
        sum += c.output.amount;
      }
      if (sum < o.amount + fee) {
        fail('BAD_ARGUMENT', `verified balance ${have.balance} is below ${o.amount} + fee ${fee}`);
      }
      const host = o.host ?? inputs[0]!.output.host;
      const outputs: Output[] = [{ amount: o.amount, owner: o.to, host }];
      if (sum > o.amount + fee) outputs.push({ amount: sum - o.amount - fee, owner: from, host });
      const body: TxBody = {
        chainId,
        inputs: inputs.map((c) => c.outpoint),
        outputs,
        fee,
        memo: new Uint8Array(0),
      };
      const tx = signTx(
        body,
        [o.secretKey],
        { sign: signEd25519, publicKey: ed25519PublicKey },
        hash,
      );
      const txHash = txHashOf(body, hash);
      const bytes = encodeTx(tx);
      await o.onSigned?.({ txHash, tx: bytes, body, spent: inputs, height: have.height });
      // Retries resend the same bytes, so the same hash: the agent keeps one
      // copy and the ledger spends the inputs once, however often it arrives.
      const submit = () => rpc('pos_sendTransaction', [toHex(bytes)]);
      const deadline = Date.now() + (o.timeoutMs ?? 60_000);
      for (;;) {
        try {
          await submit();
          break;
        } catch (e) {
          // A lost connection may or may not have delivered it: send again.
          // An agent's refusal is an answer, and final.
          if (
            !(e instanceof WalletError) ||
            e.code !== 'AGENT_UNREACHABLE' ||
            Date.now() > deadline
          )
            throw e;
        }
        await sleep(500);
      }
      let resubmitAt = Date.now() + RESUBMIT_MS;
      for (;;) {
        try {
          return await receipt(txHash);
        } catch (e) {
          const waiting =
            e instanceof WalletError && (e.code === 'NOT_YET' || e.code === 'AGENT_UNREACHABLE');
          if (!waiting || Date.now() > deadline) throw e;
        }
        // An agent that restarted or dropped it from its pool gets it again;
        // a refusal now (its inputs already spent by it) changes nothing.
        if (Date.now() >= resubmitAt) {
          resubmitAt = Date.now() + RESUBMIT_MS;
          await submit().catch(() => undefined);
        }
        await sleep(250);
      }
    },
    async balance(owner) {
      if (!(owner instanceof Uint8Array) || owner.length !== 32) {
        fail('BAD_ARGUMENT', 'owner must be a 32-byte public key');
      }
      const head = await certifiedHeader();
      const r = obj(await rpc('pos_getOutputs', [toHex(owner), head.height]), 'pos_getOutputs');
      if (r.height !== head.height) fail('BAD_ANSWER', 'outputs at another height than asked');
      if (!Array.isArray(r.outputs)) fail('BAD_ANSWER', 'outputs must be an array');
      const outputs: { outpoint: Outpoint; output: Output }[] = [];
      try {
        for (const x of r.outputs as unknown[]) {
          const o = obj(x, 'output');
          const op = obj(o.outpoint, 'outpoint');
          const outpoint = { txHash: fromHex(op.txHash as string, 32), index: op.index as number };
          const output: Output = {
            amount: parseAmount(o.amount),
            owner: fromHex(o.owner as string, 32),
            host: fromHex(o.host as string, 32),
          };
          outputs.push({ outpoint, output });
        }
      } catch (e) {
        return fail('BAD_ANSWER', `outputs: ${(e as Error).message}`);
      }
      // The wallet's own entries, not the agent's: a changed amount, owner or
      // outpoint changes a key or a value and so the rebuilt subtree.
      const entries = outputs.map(({ outpoint, output }) => {
        if (toHex(output.owner) !== toHex(owner)) fail('BAD_PROOF', 'an output of another owner');
        return { key: outputKey(owner, outpoint, hash), value: encodeOutput(output) };
      });
      entries.sort((a, b) =>
        toHex(a.key) < toHex(b.key) ? -1 : toHex(a.key) > toHex(b.key) ? 1 : 0,
      );
      let proof: ReturnType<typeof trieProofFromJSON>;
      try {
        proof = trieProofFromJSON(r.proof);
      } catch (e) {
        return fail('BAD_PROOF', `proof: ${(e as Error).message}`);
      }
      if (
        !verifyTrieCompleteness(head.stateRoot, ownerPrefix(owner, hash), entries, proof, { hash })
      ) {
        fail(
          'BAD_PROOF',
          `the outputs are not all of ${toHex(owner)}'s under the certified state root`,
        );
      }
      return {
        owner,
        balance: outputs.reduce((a, o) => a + o.output.amount, 0n),
        outputs,
        height: head.height,
        blockHash: head.blockHash,
        stateRoot: head.stateRoot,
        epoch: head.epoch,
        signedStake: head.signedStake,
        totalStake: head.totalStake,
      };
    },
  };
  return client;
}
