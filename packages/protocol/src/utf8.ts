/**
 * Strict UTF-8 for the codecs (genesis strings, registrations): one encoder,
 * one fatal decoder that keeps a leading BOM as a character, so that every
 * string round-trips to the same bytes (docs/PROTOCOL.md 1).
 */

// Both exist in every browser and in Node; declared here because the package
// compiles without DOM or Node typings.
const { TextEncoder: Enc, TextDecoder: Dec } = globalThis as unknown as {
  TextEncoder: new () => { encode(s: string): Uint8Array };
  TextDecoder: new (
    label: string,
    o: { fatal: boolean; ignoreBOM: boolean },
  ) => { decode(b: Uint8Array): string };
};

/** UTF-8 encoder (a lone surrogate becomes U+FFFD: check with {@link utf8Decoder}). */
export const utf8Encoder = new Enc();
/** Fatal UTF-8 decoder: throws on malformed bytes, keeps a leading BOM. */
export const utf8Decoder = new Dec('utf-8', { fatal: true, ignoreBOM: true });
