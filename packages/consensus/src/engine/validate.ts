/**
 * The checks an event must pass before it changes anything
 * (docs/PROTOCOL.md 5.1): its shape, its signature (the injected `verify`),
 * its parents. Each failure is a `ConsensusError` whose code says whose fault
 * it is.
 */
import { ConsensusError } from '../errors.js';
import type { ConsensusEventInput } from '../types.js';
import type { EngineState, Ev } from './types.js';

const isSafeNat = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

const badEvent = (m: string) => new ConsensusError('BAD_EVENT', m);

/** The structural rules of an event on its own (`BAD_EVENT`, docs/PROTOCOL.md 5.1). */
export function checkShape<E extends ConsensusEventInput>(st: EngineState<E>, ev: E): void {
  const n = st.n;
  if (!(ev.hash instanceof Uint8Array) || ev.hash.length !== 32) throw badEvent('hash: 32 bytes');
  if (!Number.isSafeInteger(ev.creator) || ev.creator < 0 || ev.creator >= n) {
    throw badEvent(`creator ${ev.creator} is not a known validator index`);
  }
  if (!isSafeNat(ev.seq)) throw badEvent('seq: safe integer >= 0');
  if (!isSafeNat(ev.timestamp)) throw badEvent('timestamp: safe integer >= 0');
  if (!(ev.signature instanceof Uint8Array) || ev.signature.length === 0) {
    throw badEvent('signature: bytes');
  }
  for (const p of [ev.selfParent, ev.otherParent]) {
    if (p !== null && (!(p instanceof Uint8Array) || p.length !== 32)) {
      throw badEvent('parent: 32 bytes or null');
    }
  }
  if (ev.otherParentCreator !== undefined || ev.otherParentSeq !== undefined) {
    const c = ev.otherParentCreator;
    if (ev.otherParent === null || !Number.isSafeInteger(c) || c! < 0 || c! >= n) {
      throw badEvent('otherParentCreator: a validator index, with an otherParent');
    }
    if (!isSafeNat(ev.otherParentSeq)) throw badEvent('otherParentSeq: safe integer >= 0');
  }
  if ((ev.seq === 0) !== (ev.selfParent === null)) {
    throw badEvent('selfParent must be null iff seq = 0');
  }
  const txs = ev.transactions ?? [];
  if (!Array.isArray(txs) || txs.length > st.maxTx) {
    throw badEvent(`transactions: at most ${st.maxTx}`);
  }
  for (const tx of txs) if (!(tx instanceof Uint8Array)) throw badEvent('transactions: bytes');
}

/**
 * Whether the other-parent's descriptor puts it at or below its creator's
 * forgotten horizon (docs/PROTOCOL.md 5.7, other-parent descriptors).
 */
export function opForgotten<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ev: ConsensusEventInput,
): boolean {
  const c = ev.otherParentCreator;
  const s = ev.otherParentSeq;
  if (c === undefined || s === undefined || ev.otherParent === null) return false;
  return c >= 0 && c < st.n && c !== ev.creator && s <= st.forgottenSeq[c]!;
}

/** The injected signature check: throwing or `false` is `BAD_SIGNATURE`. */
export function checkSignature<E extends ConsensusEventInput>(st: EngineState<E>, ev: E): void {
  const opts = st.opts;
  if (!opts.verify) return;
  let ok = false;
  try {
    ok = opts.verify(ev);
  } catch {
    ok = false;
  }
  if (!ok) throw new ConsensusError('BAD_SIGNATURE', 'the verifier refused the event');
}

/**
 * The parent rules (docs/PROTOCOL.md 5.1): a self-parent by the same creator
 * at seq - 1 with a lower timestamp, an other-parent by another creator that
 * matches its descriptor.
 */
export function checkParents<E extends ConsensusEventInput>(
  ev: E,
  sp: Ev<E> | null,
  op: Ev<E> | null,
): void {
  const cx = ev.creator;
  if (sp) {
    if (sp.creator !== cx || sp.seq !== ev.seq - 1) {
      throw new ConsensusError('BAD_PARENT', 'selfParent is not the creator’s previous event');
    }
    if (ev.timestamp <= sp.timestamp) {
      throw new ConsensusError('BAD_EVENT', 'timestamp must exceed the selfParent’s');
    }
  }
  if (op && op.creator === cx) {
    throw new ConsensusError('BAD_PARENT', 'otherParent must be another creator’s event');
  }
  if (
    op &&
    ev.otherParentCreator !== undefined &&
    (op.creator !== ev.otherParentCreator || op.seq !== ev.otherParentSeq)
  ) {
    throw new ConsensusError('BAD_PARENT', 'the otherParent descriptor does not match it');
  }
}
