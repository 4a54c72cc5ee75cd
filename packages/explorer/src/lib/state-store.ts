/**
 * The browser's half of "a wallet that remembers what it verified"
 * (docs/PROTOCOL.md 11.2): the latest verified validator table of each
 * pinned chain, sealed by `@pos/wallet-client`'s `sealTrustState` under a
 * key of this origin's storage, so that a reload resumes at that epoch
 * instead of walking every table from the genesis.
 *
 * A state that does not open (changed in storage, another key, another
 * chain) is dropped, said (`refused`), and the page starts from the
 * genesis again. The key sits in the same origin's storage as the state:
 * the seal catches a state edited or damaged by anything that does not also
 * rewrite the key, not a script of this origin.
 *
 * @module
 */
import { fromHex, toHex } from '@pos/protocol';
import { openTrustState, sealTrustState, WalletError, type WalletTrust } from '@pos/wallet-client';
import type { Anchor, KeyValueStorage } from './trust-store.js';

/** Storage key of the sealing key (32 random bytes, hex). */
export const STATE_KEY_KEY = 'pos-explorer.state-key.v1';
/** Storage key prefix of a chain's sealed state (`…:<chainId>`). */
export const STATE_PREFIX = 'pos-explorer.trust-state.v1:';

/** Where a page resumes from. */
export interface Resumed {
  readonly trust: WalletTrust;
  /** Why a stored state was dropped (null: none was, or none was stored). */
  readonly refused: string | null;
}

/** The sealed states in `storage`; `random` fills a new key (the page's `crypto`). */
export function createStateStore(
  storage: KeyValueStorage,
  random: (b: Uint8Array<ArrayBuffer>) => Uint8Array = (b) => globalThis.crypto.getRandomValues(b),
) {
  function key(): Uint8Array {
    const text = storage.getItem(STATE_KEY_KEY);
    if (text !== null) {
      try {
        return fromHex(text, 32);
      } catch {
        // not a key: replaced below, and every state sealed under it is dropped on opening
      }
    }
    const k = random(new Uint8Array(32));
    storage.setItem(STATE_KEY_KEY, toHex(k));
    return k;
  }

  return {
    /** The state saved for `anchor`'s chain, opened and checked; else the anchor's own trust. */
    resume(anchor: Anchor): Resumed {
      const item = STATE_PREFIX + anchor.chainId;
      const text = storage.getItem(item);
      if (text === null) return { trust: anchor.trust, refused: null };
      try {
        return { trust: openTrustState(text, key(), anchor.trust), refused: null };
      } catch (e) {
        if (!(e instanceof WalletError)) throw e;
        storage.removeItem(item);
        return { trust: anchor.trust, refused: `${e.code}: ${e.message}` };
      }
    },
    /** Saves the highest-epoch state of `states` for `anchor`'s chain if it is past the saved one. */
    save(anchor: Anchor, states: readonly WalletTrust[]): void {
      const saved = this.resume(anchor).trust.epoch ?? 0;
      let best: WalletTrust | undefined;
      for (const s of states) if ((s.epoch ?? 0) > (best?.epoch ?? saved)) best = s;
      if (best !== undefined)
        storage.setItem(STATE_PREFIX + anchor.chainId, sealTrustState(best, key()));
    },
  };
}

/** What {@link createStateStore} returns. */
export type StateStore = ReturnType<typeof createStateStore>;
