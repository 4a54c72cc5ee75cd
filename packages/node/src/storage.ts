/**
 * The node's storage and what sits right on it (docs/PROTOCOL.md 9): the
 * database, the event store, the chain (ledger, history, headers), the
 * signature cache the ledger verifies through, and the mempool.
 */
import { join } from 'node:path';
import { type Chain, openChain } from './chain/chain.js';
import { createTxDecoder, type TxDecoder } from './chain/tx-decoder.js';
import type { NodeContext } from './context.js';
import type { Ed25519VerifyItem } from './crypto/crypto.js';
import { verifyEd25519Batch, verifyEd25519Sync } from './crypto/crypto.js';
import { coalescePrefetch, createSignatureCache, type SignatureCache } from './crypto/sig-cache.js';
import { signatureItems } from './crypto/tx-signatures.js';
import { DB_PREFIX, type NodeDatabase, openNodeDatabase } from './db/database.js';
import { createDiskUsage, type DiskUsage } from './db/disk-usage.js';
import { type LevelEventStore, openLevelEventStore } from './db/event-store.js';
import { createMempool, type Mempool } from './mempool.js';

/** The opened storage. */
export interface NodeStorage {
  readonly database: NodeDatabase;
  readonly store: LevelEventStore;
  readonly chain: Chain;
  readonly sigCache: SignatureCache;
  readonly mempool: Mempool;
  /** The node's transaction decoder: one decode per bytes object. */
  readonly decode: TxDecoder;
  /** Checks peers' transaction signatures early (one worker batch per event-loop turn). */
  prefetchIngested(items: readonly Ed25519VerifyItem[]): Promise<void>;
  /** The database's size on disk, measured in the background. */
  readonly disk: DiskUsage;
}

/** Opens the database, the event store and the chain; closes what it opened if one fails. */
export async function openStorage(ctx: NodeContext): Promise<NodeStorage> {
  const { metrics, hash } = ctx;
  const database = await openNodeDatabase(ctx.config.dataDir);
  const decode = createTxDecoder(hash);
  // Transaction signatures: checked once (at submission, or in one worker
  // batch per block), not again by every block and query that reads them.
  const sigCache = createSignatureCache({
    verify: verifyEd25519Sync,
    verifyBatch: verifyEd25519Batch,
  });
  let store: LevelEventStore;
  let chain: Chain;
  try {
    store = await openLevelEventStore({ db: database.db, prefix: DB_PREFIX.events, hash });
    chain = await openChain({
      genesis: ctx.genesis,
      hash,
      ledger: {
        store: database.trie,
        verify: (pk, m, sig) => sigCache.verify(pk, m, sig),
        decode,
      },
      store: database.chain,
      flushEveryBlocks: ctx.rt.stateFlushBlocks,
      maxUnflushedNodes: ctx.rt.maxUnflushedTrieNodes,
    });
  } catch (e) {
    await database.close().catch(() => {});
    throw e;
  }
  if (chain.reexecuteTo !== null) {
    ctx.log.info(
      { stateHeight: chain.ledger.height, lastHeight: chain.reexecuteTo },
      'the state was last written below the last block: the replay re-executes the blocks since',
    );
  }
  const countChecked = (stage: 'submit' | 'ingest') => (n: number) => {
    if (n > 0) metrics.txSignaturesCheckedTotal.inc({ stage }, n);
  };
  // Submissions of one event-loop turn share one worker-pool batch.
  const prefetchSubmitted = coalescePrefetch(sigCache, countChecked('submit'));
  const mempool = createMempool({
    // The signatures go to the worker pool first; the check then hits the cache.
    checkTx: async (tx) => {
      await prefetchSubmitted(signatureItems([tx], decode));
      return chain.ledger.checkTx(tx);
    },
    isOrdered: (txHash) => chain.hasReceipt(txHash),
  });
  return {
    database,
    store,
    chain,
    sigCache,
    mempool,
    decode,
    prefetchIngested: coalescePrefetch(sigCache, countChecked('ingest')),
    disk: createDiskUsage(join(ctx.config.dataDir, 'db'), (b) => metrics.diskBytes.set(b)),
  };
}
