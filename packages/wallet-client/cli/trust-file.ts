/**
 * Where `pos-wallet` remembers what it verified (docs/PROTOCOL.md 11.2): the
 * latest verified validator table of each chain, sealed (`sealTrustState`)
 * under a key kept beside it, so that a run resumes at that epoch instead of
 * walking every table from the genesis (one request each).
 *
 *   $POS_WALLET_HOME (default ~/.pos-wallet, mode 0700)
 *     state.key                 32 random bytes (hex), mode 0600, made on first use
 *     trust-<chainId prefix>.json   the sealed state, mode 0600, replaced atomically
 *
 * A state that does not open (edited, truncated, another key, another
 * chain) stops the command with its code and the way out: delete the file,
 * or `--fresh`, which starts from the genesis and writes a new state.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@pos/protocol';
import { openTrustState, sealTrustState, WalletError, type WalletTrust } from '@pos/wallet-client';

/** The trust a run starts from, and how it is saved at the end. */
export interface TrustFile {
  /** The saved state, opened and checked; or the genesis anchor (none saved, or `--fresh`). */
  readonly trust: WalletTrust;
  /** The file (whether or not it exists yet). */
  readonly path: string;
  /** Writes the highest-epoch state of `states` if it is past the one this run started from. */
  save(states: readonly WalletTrust[]): void;
}

/** The wallet's own directory (`POS_WALLET_HOME`, default `~/.pos-wallet`). */
export function walletHome(): string {
  const env = process.env.POS_WALLET_HOME;
  return env !== undefined && env !== '' ? env : join(homedir(), '.pos-wallet');
}

function sealingKey(dir: string): Uint8Array {
  const file = join(dir, 'state.key');
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${toHex(randomBytes(32))}\n`, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  try {
    return fromHex(readFileSync(file, 'utf8').trim(), 32);
  } catch (e) {
    throw new WalletError(
      'BAD_TRUST_STATE',
      `${file} is not a sealing key: ${(e as Error).message}`,
    );
  }
}

/** Opens the saved trust of `genesisTrust`'s chain (unless `fresh`). */
export function openTrustFile(genesisTrust: WalletTrust, fresh: boolean): TrustFile {
  const dir = walletHome();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = sealingKey(dir);
  const path = join(dir, `trust-${toHex(genesisTrust.chainId).slice(2, 18)}.json`);
  let trust = genesisTrust;
  if (!fresh && existsSync(path)) {
    try {
      trust = openTrustState(readFileSync(path, 'utf8'), key, genesisTrust);
    } catch (e) {
      if (!(e instanceof WalletError)) throw e;
      throw new WalletError(
        e.code,
        `${e.message} (${path}): delete it, or pass --fresh, to start again from the genesis`,
      );
    }
  }
  const startEpoch = trust.epoch ?? 0;
  return {
    trust,
    path,
    save(states) {
      let best: WalletTrust | undefined;
      for (const s of states) if ((s.epoch ?? 0) > (best?.epoch ?? startEpoch)) best = s;
      if (best === undefined && !(fresh && existsSync(path))) return;
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, sealTrustState(best ?? trust, key), { mode: 0o600 });
      renameSync(tmp, path);
    },
  };
}
