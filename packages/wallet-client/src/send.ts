/**
 * Send (docs/PROTOCOL.md 11): largest verified outputs first, change back to
 * the sender, signed, handed to `onSigned` (the CLI's write-ahead journal),
 * then submitted. A lost connection is retried and the transfer resent
 * every 3 s until a certified block holds it, always the same bytes; the
 * node answers a resend of a pending or already ordered transaction with
 * `added: false` (docs/PROTOCOL.md 10.1), so it is paid once. Returns the
 * receipt proved under a certified header.
 *
 * @module
 */
import { type HashFn, toHex } from '@pos/merkle';
import {
  ed25519PublicKey,
  encodeTx,
  type Outpoint,
  type Output,
  signEd25519,
  signTx,
  type TxBody,
  txHashOf,
} from '@pos/protocol';
import { type Ask, fail } from './agent.js';
import { WalletError } from './errors.js';
import type { SendOpts, VerifiedBalance, VerifiedReceipt } from './types.js';

// setTimeout exists in browsers and Node; declared here since the package
// compiles without DOM or Node typings.
const sleep = (ms: number) =>
  new Promise<void>((r) =>
    (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(r, ms),
  );

/** How often a transfer that no certified block holds yet is resent. */
const RESUBMIT_MS = 3000;

/** What sending needs of the client. */
export interface SendDeps {
  readonly ask: Ask;
  readonly hash: HashFn;
  readonly chainId: Uint8Array;
  balance(owner: Uint8Array): Promise<VerifiedBalance>;
  receipt(txHash: Uint8Array): Promise<VerifiedReceipt>;
}

type Coin = { outpoint: Outpoint; output: Output };

/** Spends verified outputs of the sender; the receipt proved under a certified header. */
export async function send(d: SendDeps, o: SendOpts): Promise<VerifiedReceipt> {
  const fee = o.fee ?? 1n;
  // A name operation may move no amount: the transaction then only pays its fee.
  const minAmount = o.name === undefined ? 1n : 0n;
  if (typeof o.amount !== 'bigint' || o.amount < minAmount) {
    fail('BAD_ARGUMENT', o.name === undefined ? 'amount must be > 0' : 'amount must be >= 0');
  }
  if (o.timeoutMs !== undefined && !(Number.isFinite(o.timeoutMs) && o.timeoutMs >= 0)) {
    fail('BAD_ARGUMENT', 'timeoutMs must be a finite number >= 0');
  }
  const from = ed25519PublicKey(o.secretKey);
  const have = await d.balance(from);
  const inputs = pickInputs(have, o.amount, fee);
  const host = o.host ?? inputs[0]!.output.host;
  const sum = inputs.reduce((a, c) => a + c.output.amount, 0n);
  const outputs: Output[] = o.amount > 0n ? [{ amount: o.amount, owner: o.to, host }] : [];
  if (sum > o.amount + fee) outputs.push({ amount: sum - o.amount - fee, owner: from, host });
  const body: TxBody = {
    chainId: d.chainId,
    inputs: inputs.map((c) => c.outpoint),
    outputs,
    fee,
    memo: new Uint8Array(0),
    ...(o.name === undefined ? {} : { name: o.name }),
  };
  const tx = signTx(
    body,
    [o.secretKey],
    { sign: signEd25519, publicKey: ed25519PublicKey },
    d.hash,
  );
  const txHash = txHashOf(body, d.hash);
  const bytes = encodeTx(tx);
  await o.onSigned?.({ txHash, tx: bytes, body, spent: inputs, height: have.height });
  // Retries resend the same bytes, so the same hash: the agent keeps one
  // copy and the ledger spends the inputs once, however often it arrives.
  const submit = () => d.ask('pos_sendTransaction', (api) => api.sendTransaction(toHex(bytes)));
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  await submitOnce(submit, deadline);
  return waitForReceipt(d, txHash, submit, deadline);
}

/**
 * Largest outputs first (few inputs, so a small transaction), at most 256,
 * until amount + fee; with no amount, above the fee, so that the change
 * output a transaction needs is not empty.
 */
function pickInputs(have: VerifiedBalance, amount: bigint, fee: bigint): Coin[] {
  const need = amount === 0n ? fee + 1n : amount + fee;
  const coins = [...have.outputs].sort((a, b) =>
    a.output.amount > b.output.amount ? -1 : a.output.amount < b.output.amount ? 1 : 0,
  );
  const inputs: Coin[] = [];
  let sum = 0n;
  for (const c of coins) {
    if (sum >= need || inputs.length >= 256) break;
    inputs.push(c);
    sum += c.output.amount;
  }
  if (sum < need) {
    fail('BAD_ARGUMENT', `verified balance ${have.balance} is below ${amount} + fee ${fee}`);
  }
  return inputs;
}

/** Submits until the agent answered; a lost connection may or may not have delivered it. */
async function submitOnce(submit: () => Promise<unknown>, deadline: number): Promise<void> {
  for (;;) {
    try {
      await submit();
      return;
    } catch (e) {
      // A lost connection may or may not have delivered it: send again.
      // An agent's refusal is an answer, and final.
      if (!(e instanceof WalletError) || e.code !== 'AGENT_UNREACHABLE' || Date.now() > deadline)
        throw e;
    }
    await sleep(500);
  }
}

/** The receipt, once a certified block holds it; resends meanwhile. */
async function waitForReceipt(
  d: SendDeps,
  txHash: Uint8Array,
  submit: () => Promise<unknown>,
  deadline: number,
): Promise<VerifiedReceipt> {
  let resubmitAt = Date.now() + RESUBMIT_MS;
  for (;;) {
    try {
      return await d.receipt(txHash);
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
}
