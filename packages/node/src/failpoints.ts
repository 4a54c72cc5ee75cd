/**
 * Crash failpoints (issue 7; the precedent is CometBFT's `FAIL_TEST_INDEX`
 * and TiKV's fail points): named places in the write path where a test can
 * make the process die by SIGKILL, exactly there, to check that a restart
 * recovers (docs/PROTOCOL.md 9.2 and 9.3).
 *
 * `POS_FAILPOINT` names the failpoints to arm, comma-separated; each is
 * `name` (die at its first hit) or `name:N` (die at its Nth hit, N >= 1).
 * The variable is read once, at the first hit of any failpoint. `posd start`
 * checks it first ({@link checkFailpointEnv}) and refuses an unknown name or
 * a malformed entry (`name:0`, `name:x`), so that a test cannot believe it
 * armed something it did not. Unarmed, `failpoint()` is one comparison.
 *
 * Before dying the process writes `posd: failpoint NAME hit N: SIGKILL` to
 * stderr (synchronously), so the log says which failpoint killed it.
 *
 * The failpoints, in the order a block and an event are written:
 *
 * | name                      | where                                                                                 |
 * | ------------------------- | ------------------------------------------------------------------------------------- |
 * | `chain.commit.afterLog`   | chain.ts: the block's history-log batch is written, the trie commit is not            |
 * | `chain.commit.afterTrie`  | chain.ts: log written, trie committed in memory; the block record (`b`, `r`, `t`, `l`) is not |
 * | `chain.commit.afterRecord`| chain.ts: the block record (the commit point) is written; the node has not signed it  |
 * | `chain.flush.before`      | chain.ts: a trie flush is due (blocks since the last one are in memory only)          |
 * | `chain.flush.after`       | chain.ts: the trie flush is written                                                   |
 * | `node.cert.beforeStore`   | runtime.ts: a certificate is complete in memory, not yet stored                       |
 * | `node.ownEvent.signed`    | runtime.ts: an own event is signed, not yet stored (`addOwn`)                         |
 * | `node.ownEvent.stored`    | runtime.ts: an own event is on disk (synced), not yet inserted nor visible to peers   |
 * | `eventStore.write`        | db/event-store/write-queue.ts: a batch of event records is about to be written        |
 */
import { writeSync } from 'node:fs';

/** Every failpoint name placed in the node (module comment). */
export const FAILPOINTS = [
  'chain.commit.afterLog',
  'chain.commit.afterTrie',
  'chain.commit.afterRecord',
  'chain.flush.before',
  'chain.flush.after',
  'node.cert.beforeStore',
  'node.ownEvent.signed',
  'node.ownEvent.stored',
  'eventStore.write',
] as const;

/** A failpoint name (module comment). */
export type FailpointName = (typeof FAILPOINTS)[number];

/** Armed failpoints: name → the hit that kills (null until the env is read). */
let armed: Map<string, number> | null = null;
const hits = new Map<string, number>();

/**
 * Parses a `POS_FAILPOINT` value: `name[:N],…` → name → N (default 1).
 * Throws on a malformed entry.
 */
export function parseFailpoints(spec: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of (spec ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^([A-Za-z0-9_.-]+)(?::([0-9]{1,9}))?$/.exec(entry);
    const n = m?.[2] === undefined ? 1 : Number(m[2]);
    if (m === null || n < 1) {
      throw new Error(`POS_FAILPOINT: "${entry}" is not name or name:N (N >= 1)`);
    }
    out.set(m[1]!, n);
  }
  return out;
}

/**
 * Checks a `POS_FAILPOINT` value: every entry well formed and a name of
 * {@link FAILPOINTS}. Throws an `Error` naming the bad entry.
 */
export function checkFailpointEnv(spec: string | undefined): void {
  const known = new Set<string>(FAILPOINTS);
  for (const name of parseFailpoints(spec).keys()) {
    if (!known.has(name)) {
      throw new Error(
        `POS_FAILPOINT: unknown failpoint "${name}" (known: ${FAILPOINTS.join(', ')})`,
      );
    }
  }
}

/**
 * A crash point: SIGKILLs this process when `POS_FAILPOINT` arms `name` and
 * this is the armed hit; otherwise does nothing.
 */
export function failpoint(name: FailpointName): void {
  if (armed === null) armed = parseFailpoints(process.env.POS_FAILPOINT);
  if (armed.size === 0) return;
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n !== at) return;
  writeSync(2, `posd: failpoint ${name} hit ${n}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
