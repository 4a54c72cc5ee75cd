/**
 * The `pos_*` JSON-RPC methods (PROTOCOL.md section 10 table;
 * docs/PROTOCOL.md section 10 gives every params and result shape). Params
 * are taken by position (`[a, b]`) or by name (`{"a": …, "b": …}`) as the
 * JSON-RPC specification allows; bytes are `0x`-prefixed lowercase hex,
 * amounts decimal strings (section 1). Every param is checked here, at the
 * edge, and refused with -32602 before anything else runs.
 *
 * {@link mapNodeError} is the one place where domain errors become JSON-RPC
 * errors.
 */

import {
  logConsistencyProofToJSON,
  logInclusionProofToJSON,
  MerkleError,
  sha256Noble,
  trieProofToJSON,
} from '@pos/merkle';
import {
  blockHeaderToJSON,
  certificateToJSON,
  encodeValidatorSet,
  epochTableKey,
  firstRoundOf,
  formatAmount,
  fromHex,
  lastRoundOf,
  receiptToJSON,
  snapshotRoundOf,
  toHex,
  validatorSetHash,
} from '@pos/protocol';
import { ChainError } from './chain/chain.js';
import { LedgerError } from './chain/ledger.js';
import type { NodeView } from './interface.js';
import { MempoolError } from './mempool.js';
import {
  type AnyRpcMethod,
  defineRpcMethod,
  RPC_INVALID_PARAMS,
  RPC_LIMIT_EXCEEDED,
  RPC_NOT_FOUND,
  RPC_TX_REJECTED,
  RpcError,
} from './rpc.js';

/** Most rounds one `pos_getDag` call may span. */
export const MAX_DAG_ROUNDS = 16;
/** Most events one `pos_getDag` call returns (then `truncated: true`). */
export const MAX_DAG_EVENTS = 2000;
/** Most outputs one `pos_getOutputs` answer holds (a bigger wallet gets -32005). */
export const MAX_OUTPUTS = 10_000;
/** Largest hex transaction accepted by `pos_sendTransaction` (64 KiB of bytes). */
const MAX_TX_HEX = 2 + 2 * 65_536;

const invalid = (message: string) => new RpcError(RPC_INVALID_PARAMS, `Invalid params: ${message}`);
const notFound = (message: string) => new RpcError(RPC_NOT_FOUND, message);

/**
 * Reads params given by position or by name into an array in `names` order.
 * At most `names.length` positional params; no unknown names.
 */
function args(raw: unknown, names: readonly string[], required: number): unknown[] {
  let out: unknown[];
  if (raw === undefined) out = [];
  else if (Array.isArray(raw)) {
    if (raw.length > names.length) throw invalid(`at most ${names.length} params`);
    out = [...raw];
  } else if (typeof raw === 'object' && raw !== null) {
    const o = raw as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!names.includes(k)) throw invalid(`unknown param "${k.slice(0, 40)}"`);
    }
    out = names.map((n) => o[n]);
    while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  } else throw invalid('params must be an array or an object');
  for (let i = 0; i < required; i++) {
    if (out[i] === undefined) throw invalid(`missing ${names[i]}`);
  }
  return out;
}

function hexParam(v: unknown, bytes: number, name: string): Uint8Array {
  if (typeof v !== 'string' || v.length !== 2 + 2 * bytes) {
    throw invalid(`${name} must be 0x-prefixed hex of ${bytes} bytes`);
  }
  try {
    return fromHex(v, bytes);
  } catch {
    throw invalid(`${name} must be 0x-prefixed hex of ${bytes} bytes`);
  }
}

function uintParam(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${name} must be an integer >= 0`);
  }
  return v;
}

const none = (raw: unknown) => {
  args(raw, [], 0);
  return undefined;
};

/**
 * Every `pos_*` method over the node's state. Results are JSON only.
 */
export function createNodeRpcMethods(view: NodeView): Record<string, AnyRpcMethod> {
  const hash = sha256Noble;

  async function blockJSON(height: number) {
    const b = await view.chain.header(height);
    if (b === undefined) return undefined;
    const txs = (await view.chain.blockTxHashes(height)) ?? [];
    const cert = await view.certificate(height);
    return {
      height,
      blockHash: toHex(b.blockHash),
      header: blockHeaderToJSON(b.header),
      txHashes: txs.map(toHex),
      certified: cert !== undefined,
    };
  }

  function eventJSON(h: Uint8Array) {
    const wire = view.store.get(h);
    if (wire === undefined) return undefined;
    const info = view.engine.info(h);
    const orderedIn = info?.orderedIn;
    return {
      hash: toHex(wire.hash),
      creator: toHex(wire.creator),
      seq: wire.seq,
      selfParent: wire.selfParent === null ? null : toHex(wire.selfParent),
      otherParent:
        wire.otherParent === null
          ? null
          : {
              hash: toHex(wire.otherParent.hash),
              creator: toHex(wire.otherParent.creator),
              seq: wire.otherParent.seq,
            },
      timestamp: wire.timestamp,
      txHashes: wire.transactions.map((t) => toHex(txHashOf(t))),
      payloads: wire.payloads.map((p) => ({ kind: p.kind, data: toHex(p.data) })),
      signature: toHex(wire.signature),
      // Consensus facts while the engine holds the event in full (docs/PROTOCOL.md 5.7).
      round: info?.round ?? null,
      generation: info?.generation ?? null,
      witness: info?.witness ?? null,
      famous: info === undefined ? null : (info.famous ?? null),
      orderedIn: orderedIn ?? null,
      leader: orderedIn === undefined ? false : leaderOf(orderedIn, wire.hash),
    };
  }
  const leaders = new Map<number, string>();
  const leaderOf = (round: number, h: Uint8Array): boolean => leaders.get(round) === toHex(h);
  const txHashOf = (tx: Uint8Array) => view.txHash(tx);

  return {
    pos_status: defineRpcMethod({ params: none, handler: () => view.status() }),

    pos_sendTransaction: defineRpcMethod({
      params: (raw) => {
        const [tx] = args(raw, ['tx'], 1);
        if (typeof tx !== 'string' || tx.length > MAX_TX_HEX || tx.length < 4) {
          throw invalid('tx must be 0x-prefixed hex of 1..65536 bytes');
        }
        try {
          return fromHex(tx);
        } catch {
          throw invalid('tx must be 0x-prefixed hex of 1..65536 bytes');
        }
      },
      handler: async (tx) => {
        const r = await view.submit(tx);
        return { txHash: toHex(r.txHash), added: r.added };
      },
    }),

    pos_getTransaction: defineRpcMethod({
      params: (raw) => {
        const [t, at] = args(raw, ['txHash', 'atHeight'], 1);
        return {
          txHash: hexParam(t, 32, 'txHash'),
          atHeight: at === undefined || at === null ? undefined : uintParam(at, 'atHeight'),
        };
      },
      handler: async ({ txHash, atHeight }) => {
        if (atHeight !== undefined && (await view.chain.header(atHeight)) === undefined) {
          throw notFound(`no block at height ${atHeight}`);
        }
        let proof: Awaited<ReturnType<typeof view.chain.receipt>>;
        try {
          proof = await view.chain.receipt(txHash, atHeight);
        } catch (e) {
          if ((e as { code?: string }).code === 'BAD_HEIGHT') throw notFound((e as Error).message);
          throw e;
        }
        if (proof !== undefined) {
          return {
            txHash: toHex(txHash),
            status: proof.receipt.status,
            height: proof.height,
            receipt: receiptToJSON(proof.receipt),
            leafIndex: proof.leafIndex,
            inclusionProof: logInclusionProofToJSON(proof.inclusionProof),
            historyRoot: toHex(proof.historyRoot),
            historySize: proof.historySize,
          };
        }
        if (view.mempool.has(txHash)) return { txHash: toHex(txHash), status: 'pending' };
        return { txHash: toHex(txHash), status: 'unknown' };
      },
    }),

    pos_getBlock: defineRpcMethod({
      params: (raw) => {
        const [h] = args(raw, ['height'], 1);
        return h === 'latest' ? ('latest' as const) : uintParam(h, 'height');
      },
      handler: async (h) => {
        const height = h === 'latest' ? view.chain.latest()?.header.height : h;
        if (height === undefined) throw notFound('no block yet');
        const b = await blockJSON(height);
        if (b === undefined) throw notFound(`no block at height ${height}`);
        return b;
      },
    }),

    pos_getCertificate: defineRpcMethod({
      params: (raw) => uintParam(args(raw, ['height'], 1)[0], 'height'),
      handler: async (height) => {
        const c = await view.certificate(height);
        if (c === undefined) throw notFound(`no certificate for height ${height} (yet)`);
        const b = await view.chain.header(height);
        return {
          height,
          certificate: certificateToJSON(c),
          header: b === undefined ? null : blockHeaderToJSON(b.header),
        };
      },
    }),

    pos_getOutputs: defineRpcMethod({
      params: (raw) => {
        const [owner, height] = args(raw, ['owner', 'height'], 1);
        return {
          owner: hexParam(owner, 32, 'owner'),
          height: height === undefined || height === null ? undefined : uintParam(height, 'height'),
        };
      },
      handler: async ({ owner, height }) => {
        const latest = view.chain.latest();
        if (height !== undefined && (latest === null || height > latest.header.height)) {
          throw notFound(`height ${height} is not committed`);
        }
        if (height !== undefined && (await view.chain.header(height)) === undefined) {
          throw notFound(`no block at height ${height}`);
        }
        const p = await view.chain.ledger.proveOutputs(owner, {
          ...(height === undefined ? {} : { height }),
          maxEntries: MAX_OUTPUTS,
        });
        return {
          owner: toHex(owner),
          height: p.height,
          stateRoot: toHex(p.stateRoot),
          prefix: toHex(p.prefix),
          entries: p.entries.map((e) => ({ key: toHex(e.key), value: toHex(e.value) })),
          proof: trieProofToJSON(p.proof),
          outputs: p.outputs.map((o) => ({
            outpoint: { txHash: toHex(o.outpoint.txHash), index: o.outpoint.index },
            amount: formatAmount(o.output.amount),
            owner: toHex(o.output.owner),
            host: toHex(o.output.host),
          })),
        };
      },
    }),

    pos_getConsistencyProof: defineRpcMethod({
      params: (raw) => {
        const [from, to] = args(raw, ['fromSize', 'toSize'], 2);
        return { from: uintParam(from, 'fromSize'), to: uintParam(to, 'toSize') };
      },
      handler: async ({ from, to }) =>
        logConsistencyProofToJSON(await view.chain.consistencyProof(from, to)),
    }),

    pos_getValidators: defineRpcMethod({
      params: (raw) => {
        const [k] = args(raw, ['epoch'], 0);
        return k === undefined || k === null ? undefined : uintParam(k, 'epoch');
      },
      handler: async (asked) => {
        const params = view.genesis.params;
        const epoch = asked ?? view.currentEpoch();
        const set = view.validatorSet(epoch);
        if (set === undefined) throw notFound(`the table of epoch ${epoch} is not known yet`);
        const total = set.validators.reduce((a, v) => a + v.stake, 0n);
        const encoded = encodeValidatorSet(set, hash);
        // Section 5: a wallet follows set changes from its trust anchor; the
        // proof is the table's inclusion under the state root of the block that
        // first held it, a block the previous epoch's set certified.
        let proof: unknown = null;
        const p = epoch === 0 ? undefined : await view.epochProof(epoch);
        if (p !== undefined) {
          const [cert, b] = await Promise.all([
            view.certificate(p.height),
            view.chain.header(p.height),
          ]);
          if (cert !== undefined && b !== undefined) {
            proof = {
              height: p.height,
              header: blockHeaderToJSON(b.header),
              certificate: certificateToJSON(cert),
              key: toHex(epochTableKey(epoch)),
              trieProof: trieProofToJSON(p.proof),
            };
          }
        }
        return {
          epoch,
          firstRound: firstRoundOf(epoch, params),
          lastRound: lastRoundOf(epoch, params),
          snapshotRound: snapshotRoundOf(epoch, params),
          validators: set.validators.map((v) => {
            const r = view.chain.ledger.registration(v.validatorId);
            return {
              validatorId: toHex(v.validatorId),
              publicKey: toHex(v.publicKey),
              stake: formatAmount(v.stake),
              name: r?.name ?? '',
              endpoint: r?.p2p ?? '',
            };
          }),
          totalStake: formatAmount(total),
          // Headers commit to this hash (validatorSetHash, of the set of
          // height + 1); `encoded` is the trie value, so a client recomputes both.
          validatorSetHash: toHex(validatorSetHash(set, hash)),
          encoded: toHex(encoded),
          proof,
        };
      },
    }),

    pos_getEvent: defineRpcMethod({
      params: (raw) => hexParam(args(raw, ['hash'], 1)[0], 32, 'hash'),
      handler: async (h) => {
        await fillLeaders();
        const e = eventJSON(h);
        if (e === undefined) throw notFound('unknown event');
        return e;
      },
    }),

    pos_getDag: defineRpcMethod({
      params: (raw) => {
        const [a, b] = args(raw, ['fromRound', 'toRound'], 1);
        const from = uintParam(a, 'fromRound');
        const to = b === undefined ? from : uintParam(b, 'toRound');
        if (to < from) throw invalid('toRound must be >= fromRound');
        if (to - from + 1 > MAX_DAG_ROUNDS) throw invalid(`at most ${MAX_DAG_ROUNDS} rounds`);
        return { from, to };
      },
      handler: async ({ from, to }) => {
        await fillLeaders();
        const out = [];
        let truncated = false;
        for (let r = from; r <= to && !truncated; r++) {
          for (const h of view.eventsOfRound(r)) {
            if (out.length >= MAX_DAG_EVENTS) {
              truncated = true;
              break;
            }
            const e = eventJSON(h);
            if (e !== undefined) out.push(e);
          }
        }
        return { fromRound: from, toRound: to, events: out, truncated };
      },
    }),

    pos_getEquivocations: defineRpcMethod({
      params: none,
      handler: () => ({
        events: view.engine.evidence().map((ev) => ({
          creator: toHex(view.index.publicKeys[ev.creator]!),
          validatorId: toHex(view.index.ids[ev.creator]!),
          a: { hash: toHex(ev.a.hash), seq: ev.a.seq },
          b: { hash: toHex(ev.b.hash), seq: ev.b.seq },
        })),
        blockSignatures: view.collector.evidence().map((ev) => ({
          height: ev.height,
          validatorId: toHex(ev.validatorId),
          first: { blockHash: toHex(ev.first.blockHash), signature: toHex(ev.first.signature) },
          second: { blockHash: toHex(ev.second.blockHash), signature: toHex(ev.second.signature) },
        })),
      }),
    }),
  };

  /** Leaders of the recent blocks, for the events' `leader` flag. */
  async function fillLeaders(): Promise<void> {
    const head = view.chain.latest();
    if (head === null) return;
    const top = head.header.height;
    for (let h = Math.max(0, top - 128); h <= top; h++) {
      if (leaders.has(h)) continue;
      const b = await view.chain.header(h);
      leaders.set(h, b === undefined ? '' : toHex(b.header.leader));
    }
    for (const h of leaders.keys()) if (h < top - 128) leaders.delete(h);
  }
}

/**
 * Domain errors to JSON-RPC errors (PROTOCOL.md section 10): a refused
 * transaction is -32003 with `data: {code, reason, txHash}`, a full mempool
 * or an oversized answer -32005, an unknown object -32001, a bad argument
 * that slipped past the params check -32602. Anything else: `undefined`
 * (answered -32603 and logged).
 */
export function mapNodeError(e: unknown): RpcError | undefined {
  if (e instanceof MempoolError) {
    const data = {
      code: e.code,
      ...(e.reason === undefined ? {} : { reason: e.reason }),
      ...(e.txHash === undefined ? {} : { txHash: toHex(e.txHash) }),
    };
    if (e.code === 'FULL') return new RpcError(RPC_LIMIT_EXCEEDED, e.message, data);
    return new RpcError(RPC_TX_REJECTED, e.message, data);
  }
  if (e instanceof ChainError && (e.code === 'BAD_ARGUMENT' || e.code === 'BAD_HEIGHT')) {
    return new RpcError(RPC_INVALID_PARAMS, `Invalid params: ${e.message}`);
  }
  if (e instanceof LedgerError && e.code === 'BAD_HEIGHT') {
    return new RpcError(RPC_NOT_FOUND, e.message);
  }
  if (e instanceof MerkleError) {
    if (e.code === 'OUT_OF_RANGE') {
      return new RpcError(RPC_LIMIT_EXCEEDED, `more than ${MAX_OUTPUTS} outputs`);
    }
    // A height whose state the trie no longer keeps (docs/PROTOCOL.md 3.5).
    if (e.code === 'PRUNED' || e.code === 'UNKNOWN_ROOT')
      return new RpcError(RPC_NOT_FOUND, e.message);
  }
  return undefined;
}
