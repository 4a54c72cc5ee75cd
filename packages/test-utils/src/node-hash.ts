// SHA-256 as the node injects it (node:crypto one-shot), for tests and
// benches: a plain Uint8Array view, since uvu's deep equality compares
// constructors and a Buffer is not equal to a Uint8Array.
import { hash } from 'node:crypto';

/** SHA-256 through node:crypto, as a plain Uint8Array. */
export const sha256 = (d: Uint8Array): Uint8Array => {
  const b = hash('sha256', d, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** Lowercase hex without a prefix, for readable assertion messages. */
export const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
