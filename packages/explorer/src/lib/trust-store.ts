/**
 * The page's trust anchor (docs/PROTOCOL.md 11): a genesis document pinned
 * in the browser's storage. Everything the pages show as verified is
 * checked against it by `@pos/wallet-client`; the node is trusted for
 * nothing beyond having served it once. On a first visit the page pins the
 * genesis of the node that served it (trust on first use, said on screen
 * with its chainId); a person can pin a genesis file of their own instead.
 *
 * @module
 */
import {
  chainIdOf,
  type Genesis,
  type GenesisJSON,
  genesisFromJSON,
  genesisToJSON,
  toHex,
} from '@pos/protocol';
import { trustFromGenesis, type WalletTrust } from '@pos/wallet-client';

/** The part of `localStorage` used. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** A pinned anchor. */
export interface Anchor {
  readonly genesis: Genesis;
  readonly trust: WalletTrust;
  /** `0x` hex of the genesis hash. */
  readonly chainId: string;
  readonly chainName: string;
  /** Where it came from: `node` (first use) or `file`. */
  readonly source: 'node' | 'file';
  readonly pinnedAtMs: number;
}

interface Stored {
  genesis: GenesisJSON;
  source: 'node' | 'file';
  pinnedAtMs: number;
}

/** The storage key of the anchor. */
export const TRUST_KEY = 'pos-explorer.trust.v1';

function anchorOf(s: Stored): Anchor {
  const genesis = genesisFromJSON(s.genesis);
  return {
    genesis,
    trust: trustFromGenesis(genesis),
    chainId: toHex(chainIdOf(genesis)),
    chainName: genesis.chainName,
    source: s.source,
    pinnedAtMs: s.pinnedAtMs,
  };
}

/** The anchor kept in `storage`. */
export function createTrustStore(storage: KeyValueStorage) {
  return {
    /** The pinned anchor, or null (none, or what is stored is no genesis). */
    load(): Anchor | null {
      const text = storage.getItem(TRUST_KEY);
      if (text === null) return null;
      try {
        return anchorOf(JSON.parse(text) as Stored);
      } catch {
        return null;
      }
    },
    /** Pins the genesis of `json` (throws `ProtocolError` if it is none). */
    pin(json: unknown, source: 'node' | 'file', nowMs: number): Anchor {
      const genesis = genesisFromJSON(json);
      const s: Stored = { genesis: genesisToJSON(genesis), source, pinnedAtMs: nowMs };
      const a = anchorOf(s);
      storage.setItem(TRUST_KEY, JSON.stringify(s));
      return a;
    },
    clear(): void {
      storage.removeItem(TRUST_KEY);
    },
  };
}

/** The store's type. */
export type TrustStore = ReturnType<typeof createTrustStore>;
