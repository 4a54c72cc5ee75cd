/**
 * Proof-of-share operations on a testnet (docs/PROTOCOL.md 6.5): register a
 * validator, re-host stake (an owner spends outputs back to itself naming a
 * new host), read the validator set of an epoch, and wait for the transaction
 * that does it to commit. The testnet's own tools trust their network (the
 * ledger checks every transaction anyway); the wallet client is the one that
 * verifies what a node says.
 */
import { fromHex, toHex } from '@pos/merkle';
import { createEd25519Signer, type ValidatorKey } from '@pos/node';
import {
  encodeTx,
  type Outpoint,
  type Output,
  type Registration,
  signTx,
  type TxBody,
  txHashOf,
} from '@pos/protocol';
import { rpcCall } from './rpc.js';
import { TestnetError } from './stakes.js';

/** An unspent output as `pos_getOutputs` lists it. */
export interface OwnedCoin {
  outpoint: Outpoint;
  output: Output;
}

/** The validator set of one epoch as `pos_getValidators` reports it. */
export interface EpochSet {
  epoch: number;
  firstRound: number;
  lastRound: number;
  snapshotRound: number | null;
  validators: { validatorId: string; publicKey: string; stake: string; name: string }[];
  totalStake: string;
}

async function call<T>(origin: string, method: string, params: unknown[]): Promise<T> {
  const r = await rpcCall(origin, method, params);
  if (r.error !== undefined) {
    throw new TestnetError(`${method}: ${r.error.message} (${r.error.code ?? '?'})`);
  }
  return r.result as T;
}

/** `owner`'s unspent outputs at the node's latest block. */
export async function ownedCoins(origin: string, owner: Uint8Array): Promise<OwnedCoin[]> {
  const r = await call<{
    outputs: {
      outpoint: { txHash: string; index: number };
      amount: string;
      owner: string;
      host: string;
    }[];
  }>(origin, 'pos_getOutputs', [toHex(owner)]);
  return r.outputs.map((o) => ({
    outpoint: { txHash: fromHex(o.outpoint.txHash, 32), index: o.outpoint.index },
    output: { amount: BigInt(o.amount), owner: fromHex(o.owner, 32), host: fromHex(o.host, 32) },
  }));
}

/** The set of `epoch` (default: the one that signs the next block). */
export async function epochSet(origin: string, epoch?: number): Promise<EpochSet> {
  return call<EpochSet>(origin, 'pos_getValidators', epoch === undefined ? [] : [epoch]);
}

/** What a submitted stake transaction did. */
export interface StakeTx {
  txHash: Uint8Array;
  /** Height of the block that committed it. */
  height: number;
}

/** Submits `body` signed by `keys` and waits (up to `timeoutMs`) for its committed receipt. */
async function submit(
  origin: string,
  body: TxBody,
  keys: readonly ValidatorKey[],
  timeoutMs: number,
): Promise<StakeTx> {
  const tx = signTx(
    body,
    keys.map((k) => k.secretKey),
    {
      sign: (sk, m) => {
        const k = keys.find((x) => x.secretKey === sk)!;
        return createEd25519Signer(k.secretKey, k.publicKey)(m);
      },
      publicKey: (sk) => keys.find((x) => x.secretKey === sk)!.publicKey,
    },
  );
  const txHash = txHashOf(body);
  await call(origin, 'pos_sendTransaction', [toHex(encodeTx(tx))]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rpcCall(origin, 'pos_getTransaction', [toHex(txHash)]);
    const res = r.result as {
      receipt?: { status: string; reason?: string; height: number };
    } | null;
    const rc = res?.receipt;
    if (rc !== undefined && rc !== null) {
      if (rc.status !== 'committed') {
        throw new TestnetError(`transaction ${toHex(txHash)} rejected: ${rc.reason}`);
      }
      return { txHash, height: rc.height };
    }
    if (Date.now() > deadline) throw new TestnetError(`transaction ${toHex(txHash)} not committed`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Options of {@link rehostStake}. */
export interface RehostOpts {
  chainId: Uint8Array;
  /** The owner of the outputs (it signs). */
  owner: ValidatorKey;
  /** The validatorId the moved amount will be hosted by. */
  host: Uint8Array;
  /** How much to move (default: everything but the fee). */
  amount?: bigint;
  fee: bigint;
  timeoutMs?: number;
}

/**
 * Moves `amount` of `owner`'s value to outputs hosted by `host` by spending
 * to itself (docs/PROTOCOL.md 6.5: stake is what validators host); the change keeps
 * its old host. Spends the owner's largest outputs first.
 */
export async function rehostStake(origin: string, o: RehostOpts): Promise<StakeTx> {
  const coins = (await ownedCoins(origin, o.owner.publicKey)).sort((a, b) =>
    a.output.amount > b.output.amount ? -1 : a.output.amount < b.output.amount ? 1 : 0,
  );
  const want = o.amount ?? coins.reduce((s, c) => s + c.output.amount, 0n) - o.fee;
  const inputs: OwnedCoin[] = [];
  let sum = 0n;
  for (const c of coins) {
    if (sum >= want + o.fee || inputs.length === 256) break;
    inputs.push(c);
    sum += c.output.amount;
  }
  if (want <= 0n || sum < want + o.fee) {
    throw new TestnetError(`the owner holds ${sum} in its largest outputs, not ${want} + fee`);
  }
  const outputs: Output[] = [{ amount: want, owner: o.owner.publicKey, host: o.host }];
  const change = sum - want - o.fee;
  if (change > 0n) {
    outputs.push({ amount: change, owner: o.owner.publicKey, host: inputs[0]!.output.host });
  }
  const body: TxBody = {
    chainId: o.chainId,
    inputs: inputs.map((c) => c.outpoint),
    outputs,
    fee: o.fee,
    memo: new Uint8Array(0),
  };
  return submit(origin, body, [o.owner], o.timeoutMs ?? 30_000);
}

/** Options of {@link registerValidator}. */
export interface RegisterOpts {
  chainId: Uint8Array;
  /** Pays the fee (its smallest output above the fee; change back to it, same host). */
  payer: ValidatorKey;
  /** The validator's key (it signs too). */
  validator: ValidatorKey;
  name: string;
  p2p: string;
  fee: bigint;
  timeoutMs?: number;
  /** The payer's output to spend (default: its smallest above the fee). */
  coin?: OwnedCoin;
}

/** Registers a validator (docs/PROTOCOL.md 6.5): a transfer back to the payer that carries the registration. */
export async function registerValidator(origin: string, o: RegisterOpts): Promise<StakeTx> {
  const coins =
    o.coin !== undefined
      ? [o.coin]
      : (await ownedCoins(origin, o.payer.publicKey))
          .filter((c) => c.output.amount > o.fee)
          .sort((a, b) => (a.output.amount < b.output.amount ? -1 : 1));
  const coin = coins[0];
  if (coin === undefined) throw new TestnetError('the payer has no output above the fee');
  const register: Registration = { pubkey: o.validator.publicKey, name: o.name, p2p: o.p2p };
  const body: TxBody = {
    chainId: o.chainId,
    inputs: [coin.outpoint],
    outputs: [
      { amount: coin.output.amount - o.fee, owner: o.payer.publicKey, host: coin.output.host },
    ],
    fee: o.fee,
    memo: new Uint8Array(0),
    register,
  };
  const keys =
    toHex(o.payer.publicKey) === toHex(o.validator.publicKey) ? [o.payer] : [o.payer, o.validator];
  return submit(origin, body, keys, o.timeoutMs ?? 30_000);
}
