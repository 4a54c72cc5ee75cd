/**
 * Validation of a section-4 fixture (docs/PROTOCOL.md 5.8): strict keys,
 * names, parents, seqs, timestamps and stakes, each error a one-line
 * {@link ReplayError} naming the offending value's path.
 */
import { describe, isRecord, onlyKeys, safeInt, stakeOf, wellFormed } from './json.js';
import { REPLAY_DEFAULT_COIN, ReplayError, type ReplayEvent, type ReplayInput } from './types.js';

const INPUT_KEYS = ['stakes', 'coinRoundFrequency', 'events'] as const;
const EVENT_KEYS = [
  'name',
  'creator',
  'seq',
  'selfParent',
  'otherParent',
  'timestamp',
  'transactions',
] as const;

/**
 * Validates a section-4 fixture (already parsed from JSON) and applies its
 * defaults. Strict: unknown keys are errors (a misspelt `coinRoundFrequency`
 * would otherwise silently replay with the default). Checks what the format
 * itself promises: unique non-empty names, parents named earlier (the order is
 * topological), a self-parent by the same creator with seq one lower (seq 0
 * iff no self-parent), timestamps above the self-parent's, creators in range.
 * The number of creators is `stakes.length` when stakes are given, else the
 * largest creator index plus one (all stakes 1). Throws {@link ReplayError}.
 */
export function parseReplayInput(json: unknown): ReplayInput {
  return parseAt(json, 'input', '');
}

/**
 * {@link parseReplayInput} for a value found at `prefix` (empty at the top,
 * where errors about the whole value name `rootName`).
 */
export function parseAt(json: unknown, rootName: string, prefix: string): ReplayInput {
  const at = (p: string) => (prefix ? `${prefix}.${p}` : p);
  if (!isRecord(json)) {
    throw new ReplayError(prefix || rootName, `expected an object, got ${describe(json)}`);
  }
  onlyKeys(json, INPUT_KEYS, prefix || rootName);

  let stakes: bigint[] | undefined;
  if (json.stakes !== undefined) {
    if (!Array.isArray(json.stakes)) {
      throw new ReplayError(at('stakes'), `expected an array, got ${describe(json.stakes)}`);
    }
    stakes = json.stakes.map((s, i) => stakeOf(s, at(`stakes[${i}]`)));
  }

  let coin = REPLAY_DEFAULT_COIN;
  if (json.coinRoundFrequency !== undefined) {
    coin = safeInt(json.coinRoundFrequency, at('coinRoundFrequency'), 1);
  }

  if (!Array.isArray(json.events)) {
    throw new ReplayError(at('events'), `expected an array, got ${describe(json.events)}`);
  }
  const byName = new Map<string, ReplayEvent>();
  const events: ReplayEvent[] = [];
  for (let i = 0; i < json.events.length; i++) {
    const ev = parseEvent(json.events[i], at(`events[${i}]`), byName, stakes);
    byName.set(ev.name, ev);
    events.push(ev);
  }

  if (!stakes) {
    let n = 0;
    for (const e of events) n = Math.max(n, e.creator + 1);
    stakes = new Array<bigint>(n).fill(1n);
  }
  return { stakes, coinRoundFrequency: coin, events };
}

/** One event at path `p`; `byName` holds the events before it, `stakes` the creators if given. */
function parseEvent(
  raw: unknown,
  p: string,
  byName: ReadonlyMap<string, ReplayEvent>,
  stakes: readonly bigint[] | undefined,
): ReplayEvent {
  if (!isRecord(raw)) throw new ReplayError(p, `expected an object, got ${describe(raw)}`);
  onlyKeys(raw, EVENT_KEYS, p);
  const name = parseName(raw.name, `${p}.name`, byName);
  const creator = safeInt(raw.creator, `${p}.creator`, 0);
  if (stakes && creator >= stakes.length) {
    throw new ReplayError(
      `${p}.creator`,
      `creator ${creator} out of range: stakes has ${stakes.length} entries`,
    );
  }
  const seq = safeInt(raw.seq, `${p}.seq`, 0);
  if (!Object.hasOwn(raw, 'selfParent')) throw new ReplayError(`${p}.selfParent`, 'missing');
  if (!Object.hasOwn(raw, 'otherParent')) throw new ReplayError(`${p}.otherParent`, 'missing');
  const sp = parseParent(raw.selfParent, `${p}.selfParent`, byName);
  const op = parseParent(raw.otherParent, `${p}.otherParent`, byName);
  checkSeq(p, creator, seq, sp);
  const timestamp = parseTimestamp(raw.timestamp, `${p}.timestamp`, seq, sp);
  return {
    name,
    creator,
    seq,
    selfParent: sp?.name ?? null,
    otherParent: op?.name ?? null,
    timestamp,
    transactions: parseTransactions(raw.transactions, `${p}.transactions`),
  };
}

/** A non-empty, well-formed name not used by an earlier event. */
function parseName(v: unknown, path: string, byName: ReadonlyMap<string, ReplayEvent>): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new ReplayError(path, `expected a non-empty string, got ${describe(v)}`);
  }
  if (!wellFormed(v)) throw new ReplayError(path, 'not well-formed Unicode');
  if (byName.has(v)) throw new ReplayError(path, `duplicate event name ${JSON.stringify(v)}`);
  return v;
}

/** A parent: null, or the name of an earlier event (docs/PROTOCOL.md 5.8: in a topological order). */
function parseParent(
  v: unknown,
  path: string,
  byName: ReadonlyMap<string, ReplayEvent>,
): ReplayEvent | null {
  if (v === null) return null;
  if (typeof v !== 'string') {
    throw new ReplayError(path, `expected an event name or null, got ${describe(v)}`);
  }
  const e = byName.get(v);
  if (!e) throw new ReplayError(path, `unknown event ${JSON.stringify(v)}`);
  return e;
}

/** Docs/PROTOCOL.md 5.1: seq is 0 iff there is no self-parent, else selfParent.seq + 1 by the same creator. */
function checkSeq(p: string, creator: number, seq: number, sp: ReplayEvent | null): void {
  if (sp === null && seq !== 0) {
    throw new ReplayError(`${p}.seq`, `must be 0 for an event without self-parent, got ${seq}`);
  }
  if (sp === null) return;
  if (sp.creator !== creator) {
    throw new ReplayError(
      `${p}.selfParent`,
      `${JSON.stringify(sp.name)} is by creator ${sp.creator}, not ${creator}`,
    );
  }
  if (seq !== sp.seq + 1) {
    throw new ReplayError(`${p}.seq`, `must be selfParent's seq + 1 = ${sp.seq + 1}, got ${seq}`);
  }
}

/** The timestamp as given, or the seq (docs/PROTOCOL.md 5.8); above the self-parent's either way. */
function parseTimestamp(v: unknown, path: string, seq: number, sp: ReplayEvent | null): number {
  let timestamp = seq;
  if (v !== undefined) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new ReplayError(path, `expected a safe integer, got ${describe(v)}`);
    }
    timestamp = v;
  }
  if (sp !== null && timestamp <= sp.timestamp) {
    throw new ReplayError(path, `${timestamp} is not above the self-parent's ${sp.timestamp}`);
  }
  return timestamp;
}

/** The transactions: absent (none) or an array of well-formed strings. */
function parseTransactions(v: unknown, path: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    throw new ReplayError(path, `expected an array of strings, got ${describe(v)}`);
  }
  return v.map((t, k) => {
    if (typeof t !== 'string') {
      throw new ReplayError(`${path}[${k}]`, `expected a string, got ${describe(t)}`);
    }
    if (!wellFormed(t)) throw new ReplayError(`${path}[${k}]`, 'not well-formed Unicode');
    return t;
  });
}
