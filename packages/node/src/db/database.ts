/**
 * The node's one classic-level database (docs/PROTOCOL.md 9.3), one key
 * prefix byte per store:
 *
 * ```
 * 0x01  the ledger's state trie (@pos/merkle)
 * 0x02  the chain: history log, headers, receipts (chain/chain.ts)
 * 0x03  the event store (db/event-store.ts)
 * 0x04  certificates: u64 height → encodeCertificate (chain/certifier.ts)
 * ```
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLevelStore, type KVStore } from '@pos/merkle';
import { ClassicLevel } from 'classic-level';

/** Key prefix of each store in the database. */
export const DB_PREFIX = Object.freeze({
  trie: Uint8Array.of(1),
  chain: Uint8Array.of(2),
  events: Uint8Array.of(3),
  certificates: Uint8Array.of(4),
});

/** The open database and its prefixed stores. */
export interface NodeDatabase {
  readonly db: ClassicLevel<Uint8Array, Uint8Array>;
  readonly trie: KVStore;
  readonly chain: KVStore;
  readonly certificates: KVStore;
  close(): Promise<void>;
}

/** Opens (creating if needed) `<dataDir>/db`. */
export async function openNodeDatabase(dataDir: string): Promise<NodeDatabase> {
  await mkdir(dataDir, { recursive: true });
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dataDir, 'db'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  return {
    db,
    trie: createLevelStore(db, { prefix: DB_PREFIX.trie }),
    chain: createLevelStore(db, { prefix: DB_PREFIX.chain }),
    certificates: createLevelStore(db, { prefix: DB_PREFIX.certificates }),
    close: () => db.close(),
  };
}
