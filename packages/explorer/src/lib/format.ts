/**
 * How values are shown. Everything returns plain text: the UI puts text in
 * text nodes only (never HTML), so an on-chain string such as a memo or a
 * validator name is shown as its characters, whatever they are (issue 20).
 *
 * @module
 */

/** `0x1234abcd…cdef` for a long hex string. */
export function shortHex(hex: string, head = 10, tail = 6): string {
  if (hex.length <= head + tail + 1) return hex;
  return `${hex.slice(0, head)}…${tail > 0 ? hex.slice(-tail) : ''}`;
}

/** `a / b` as a percentage with one decimal (`70.4%`); `-` when `b` is 0. */
export function pct(a: bigint, b: bigint): string {
  if (b === 0n) return '-';
  const tenths = (a * 1000n) / b;
  return `${tenths / 10n}.${tenths % 10n}%`;
}

/** A duration in ms as `850 ms`, `4.2 s` or `3 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** A timestamp (ms) as ISO time of day with ms, UTC. */
export function clock(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : '-';
}

/** A number with thin grouping: `1 015 000 000`. */
export function grouped(n: bigint | number | string): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** What a byte string (a memo, a name) shows as. */
export interface BytesText {
  /** The text: the UTF-8 characters with control characters spelled `\u{…}`, else the hex. */
  readonly text: string;
  readonly kind: 'empty' | 'utf8' | 'hex';
}

/**
 * A byte string as text: valid UTF-8 is shown as its characters, control
 * characters (and the bidi overrides that reorder what a reader sees)
 * spelled out as `\u{…}`; anything else as hex.
 */
export function bytesText(bytes: Uint8Array): BytesText {
  if (bytes.length === 0) return { text: '', kind: 'empty' };
  let s: string;
  try {
    s = strictUtf8.decode(bytes);
  } catch {
    return {
      text: `0x${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`,
      kind: 'hex',
    };
  }
  return { text: visible(s), kind: 'utf8' };
}

// C0 and C1 controls, DEL, and the bidi embedding, override and isolate marks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `s` with control and bidi characters spelled `\u{…}`. */
export function visible(s: string): string {
  return s.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
