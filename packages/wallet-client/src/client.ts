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
 * Following validator-set changes is ./verify/validator-sets.ts; each check
 * lives in ./verify/ (header, validator sets and their proofs, balance,
 * receipt, consistency) and sending in ./send.ts. The agent is reached
 * through `@pos/api`'s typed client (./agent.ts maps its errors).
 *
 * Browser-safe: `fetch` is the global one (undici's in Node) unless given.
 *
 * @module
 */
import { createApiClient, createHttpTransport, type Transport } from '@pos/api';
import { sha256Noble, toHex } from '@pos/merkle';
import { type EpochParams, epochOfRound } from '@pos/protocol';
import { createAsk, fail } from './agent.js';
import { send } from './send.js';
import { checkTrust } from './trust.js';
import {
  DEFAULT_MAX_STATE_AGE_MS,
  type FetchLike,
  type WalletClient,
  type WalletClientOpts,
} from './types.js';
import { verifiedBalance } from './verify/balance.js';
import { verifyConsistency } from './verify/consistency.js';
import { createHeaderVerifier } from './verify/header.js';
import { verifiedHistory } from './verify/history.js';
import { resolvedAddress, verifiedName } from './verify/names.js';
import { verifiedOutpoint } from './verify/outpoint.js';
import { verifiedReceipt } from './verify/receipt.js';
import { copyTable, createTableBook } from './verify/validator-sets.js';

/** The transport to the agent: the one given, or HTTP to `opts.url`. */
function transportOf(opts: WalletClientOpts): Transport {
  if (opts.transport !== undefined) return opts.transport;
  const doFetch = opts.fetch ?? (globalThis as unknown as { fetch?: FetchLike }).fetch;
  if (typeof doFetch !== 'function') fail('BAD_ARGUMENT', 'no fetch available');
  if (typeof opts.url !== 'string') fail('BAD_ARGUMENT', 'url or transport is required');
  return createHttpTransport({ url: opts.url!, fetch: doFetch! });
}

/** Creates a client of the agent at `opts.url` that trusts `opts.trust` only. */
export function createWalletClient(opts: WalletClientOpts): WalletClient {
  const hash = opts.hash ?? sha256Noble;
  const transport = transportOf(opts);
  const trust = opts.trust;
  const anchorEpoch = checkTrust(trust);
  const maxEpochWalk = opts.maxEpochWalk ?? 10_000;
  if (!Number.isSafeInteger(maxEpochWalk) || maxEpochWalk < 1) {
    fail('BAD_ARGUMENT', 'maxEpochWalk must be an integer >= 1');
  }
  const maxStateAgeMs = opts.maxStateAgeMs ?? DEFAULT_MAX_STATE_AGE_MS;
  if (typeof maxStateAgeMs !== 'number' || !(maxStateAgeMs >= 0))
    fail('BAD_ARGUMENT', 'maxStateAgeMs must be a number >= 0');
  const nowMs = opts.nowMs ?? Date.now;
  const params: EpochParams = { lag: trust.lag, epoch: trust.epochLength };
  const chainId = trust.chainId.slice();
  const ask = createAsk(createApiClient(transport));
  const book = createTableBook({ ask, hash, params, chainId, trust, anchorEpoch, maxEpochWalk });
  const headers = createHeaderVerifier({
    ...{ ask, hash, params, chainId, book },
    ...{ maxStateAgeMs, nowMs },
  });
  const deps = { ask, hash, headers, chainId };

  const client: WalletClient = {
    certifiedHeader: () => headers.latest(),
    receipt: (txHash, at) => verifiedReceipt(deps, txHash, at),
    balance: (owner) => verifiedBalance(deps, owner),
    trustState: () => {
      // The table that certified the newest header verified: the next run
      // verifies the same or later headers from it (a later table would not
      // verify a header of this epoch).
      const e = headers.highestEpoch;
      const t = book.latest(e < 0 ? anchorEpoch : e);
      return {
        chainId: chainId.slice(),
        lag: trust.lag,
        epochLength: trust.epochLength,
        epoch: t.epoch,
        validators: t.validators.map((v) => {
          const label = t.labels.get(toHex(v.validatorId));
          return {
            publicKey: v.publicKey.slice(),
            stake: v.stake,
            ...(label === undefined ? {} : { name: label.name, endpoint: label.endpoint }),
          };
        }),
      };
    },
    outpoint: (op, at) => verifiedOutpoint(deps, op, at),
    verifyConsistency: (a, b) => verifyConsistency(deps, a, b),
    async consistentWith(other) {
      const [mine, theirs] = await Promise.all([headers.latest(), other.certifiedHeader()]);
      await client.verifyConsistency(mine, theirs);
      return { mine, theirs };
    },
    async validators(epoch) {
      let k: number;
      if (epoch === undefined) {
        // The table that signs the block after the latest certified one;
        // verifying that header proved it already.
        const head = await headers.latest();
        k = epochOfRound(head.height + 1, params);
      } else {
        if (!Number.isSafeInteger(epoch) || epoch < 0) {
          fail('BAD_ARGUMENT', 'epoch must be an integer >= 0');
        }
        k = epoch;
      }
      return copyTable(await book.table(k));
    },
    history: (key, h, at) => verifiedHistory(deps, key, h, at),
    resolveName: (name, at) => verifiedName(deps, name, at),
    resolveAddress: (address) =>
      resolvedAddress(
        {
          ...deps,
          table: async (head) => copyTable(await book.table(epochOfRound(head.height + 1, params))),
        },
        address,
      ),
    send: (o) =>
      send(
        {
          ...deps,
          balance: (owner) => client.balance(owner),
          receipt: (txHash) => client.receipt(txHash),
        },
        o,
      ),
  };
  return client;
}
