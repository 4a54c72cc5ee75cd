/**
 * The thin wallet's client (issue 5, wallet points 1 and 3): it talks to one
 * agent over JSON-RPC and uses nothing the agent says until it has checked
 * it against its trust anchor (PROTOCOL.md section 1).
 *
 * A balance is verified in three steps, each failing closed with a typed
 * {@link WalletError}:
 * 1. the agent names its latest certified height; the header and finality
 *    certificate of that height must verify against the trusted validator
 *    set (more than 2/3 of the stake signed that header's hash, on the
 *    trusted chainId) - `BAD_CERTIFICATE`, `WRONG_CHAIN`, `UNKNOWN_SET`;
 * 2. the outputs at that height must be complete for the owner under that
 *    header's state root: the wallet rebuilds each entry (its own
 *    `outputKey(owner, outpoint)` and `encodeOutput(output)`) and checks the
 *    completeness proof of the prefix `sha256(owner)` - `BAD_PROOF`;
 * 3. only then is the sum returned, with what was verified.
 *
 * Until validator sets change with the ledger (the proof-of-share issue),
 * the trusted set must be the one every header commits to
 * (`validatorSetHash`); a header naming another set is `UNKNOWN_SET`.
 * Browser-safe: `fetch` is the global one (undici's in Node) unless given.
 */
import {
  type HashFn,
  logConsistencyProofFromJSON,
  logInclusionProofFromJSON,
  sha256Noble,
  toHex,
  trieProofFromJSON,
  verifyLogConsistency,
  verifyLogInclusion,
  verifyTrieCompleteness,
} from '@pos/merkle';
import {
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  makeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
  verifyCertificate,
} from './block.js';
import { ed25519PublicKey, signEd25519 } from './ed25519.js';
import { WalletError, type WalletErrorCode } from './errors.js';
import { chainIdOf, type Genesis, genesisStakes } from './genesis.js';
import { fromHex, parseAmount } from './json.js';
import {
  encodeOutput,
  encodeReceipt,
  encodeTx,
  type Outpoint,
  type Output,
  outputKey,
  ownerPrefix,
  type Receipt,
  receiptFromJSON,
  signTx,
  type TxBody,
  txHashOf,
} from './tx.js';

/** What the wallet trusts: a chain and its validator set (from the genesis, or a pinned checkpoint). */
export interface WalletTrust {
  readonly chainId: Uint8Array;
  readonly validators: readonly { readonly publicKey: Uint8Array; readonly stake: bigint }[];
}

/**
 * The trust anchor a genesis gives (PROTOCOL.md section 1): its chainId and
 * its validators with their genesis stakes (the outputs each hosts, section
 * 5), all of them (one hosting nothing has no weight but is still in the
 * set whose hash every header commits to).
 */
export function trustFromGenesis(g: Genesis, hash: HashFn = sha256Noble): WalletTrust {
  return {
    chainId: chainIdOf(g, hash),
    validators: genesisStakes(g, hash).map((s) => ({ publicKey: s.pubkey, stake: s.stake })),
  };
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
  /** Stake that signed the certificate, and the set's total. */
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
  const set: ValidatorSet = makeValidatorSet(opts.trust.validators, hash);
  const setHash = validatorSetHash(set, hash);
  const chainId = opts.trust.chainId;
  const base = opts.url.replace(/\/+$/, '');
  let nextId = 1;
  const verifiedHeaders = new WeakSet<CertifiedHeader>();

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
    let header: ReturnType<typeof blockHeaderFromJSON>;
    let cert: ReturnType<typeof certificateFromJSON>;
    try {
      header = blockHeaderFromJSON(r.header);
      cert = certificateFromJSON(r.certificate);
    } catch (e) {
      return fail('BAD_ANSWER', `certificate answer: ${(e as Error).message}`);
    }
    if (header.height !== height)
      fail('BAD_CERTIFICATE', `asked for height ${height}, got ${header.height}`);
    if (toHex(header.chainId) !== toHex(chainId)) {
      fail('WRONG_CHAIN', `the header is of chain ${toHex(header.chainId)}, not the trusted one`);
    }
    const v = verifyCertificate(header, cert, set, undefined, hash);
    if (!v.ok)
      fail('BAD_CERTIFICATE', `the certificate of height ${height} does not verify: ${v.reason}`);
    if (toHex(header.validatorSetHash) !== toHex(setHash)) {
      fail('UNKNOWN_SET', 'the header names a validator set the wallet has not verified');
    }
    const verified: CertifiedHeader = {
      chainId,
      height,
      blockHash: blockHashOf(header, hash),
      stateRoot: header.stateRoot,
      historyRoot: header.historyRoot,
      historySize: header.historySize,
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
      signedStake: head.signedStake,
      totalStake: head.totalStake,
    };
  }

  const client: WalletClient = {
    certifiedHeader,
    receipt,
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
        signedStake: head.signedStake,
        totalStake: head.totalStake,
      };
    },
  };
  return client;
}
