/**
 * The browser wallet's storage: encrypted keystores (scrypt, AES-256-GCM,
 * `@pos/wallet-client`'s format: the secret never sits in storage in the
 * clear) and, per address, the journal of transfers it signed, written
 * before each is submitted (as the CLI's `KEYFILE.history.jsonl`).
 *
 * @module
 */
import { type KeystoreJSON, keystoreFromText } from '@pos/wallet-client';
import type { KeyValueStorage } from './trust-store.js';

/** A sent transfer as the journal keeps it. */
export interface JournalEntry {
  readonly txHash: string;
  readonly to: string;
  readonly amount: string;
  readonly fee: string;
  /** The signed bytes, `0x` hex: the same bytes can be resubmitted. */
  readonly tx: string;
  /** The outputs it spends (so that history knows what was received, then spent). */
  readonly spent: readonly {
    readonly txHash: string;
    readonly index: number;
    readonly amount: string;
  }[];
  readonly atMs: number;
}

const KEYS = 'pos-explorer.keystores.v1';
const journalKey = (address: string) => `pos-explorer.journal.v1.${address}`;

function readList<T>(storage: KeyValueStorage, key: string): T[] {
  try {
    const v = JSON.parse(storage.getItem(key) ?? '[]');
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

/** Keystores and journals kept in `storage`. */
export function createWalletStore(storage: KeyValueStorage) {
  return {
    /** The keystores, oldest first (each still to be decrypted with its password). */
    keystores(): KeystoreJSON[] {
      return readList<KeystoreJSON>(storage, KEYS).filter(
        (k) => typeof k === 'object' && k !== null && typeof k.publicKey === 'string',
      );
    },
    /** Adds a keystore (its text or object); replaces one of the same address. */
    add(keystore: KeystoreJSON | string): KeystoreJSON {
      const k = (
        typeof keystore === 'string' ? keystoreFromText(keystore) : keystore
      ) as KeystoreJSON;
      if (typeof k !== 'object' || k === null || typeof k.publicKey !== 'string') {
        throw new TypeError('not a keystore');
      }
      const list = readList<KeystoreJSON>(storage, KEYS).filter((x) => x.publicKey !== k.publicKey);
      storage.setItem(KEYS, JSON.stringify([...list, k]));
      return k;
    },
    remove(address: string): void {
      const list = readList<KeystoreJSON>(storage, KEYS).filter((x) => x.publicKey !== address);
      storage.setItem(KEYS, JSON.stringify(list));
    },
    journal(address: string): JournalEntry[] {
      return readList<JournalEntry>(storage, journalKey(address));
    },
    /** Appends to the journal of `address` (before the transfer is submitted). */
    record(address: string, e: JournalEntry): void {
      const list = readList<JournalEntry>(storage, journalKey(address));
      if (list.some((x) => x.txHash === e.txHash)) return;
      storage.setItem(journalKey(address), JSON.stringify([...list, e]));
    },
  };
}

/** The store's type. */
export type WalletStore = ReturnType<typeof createWalletStore>;
