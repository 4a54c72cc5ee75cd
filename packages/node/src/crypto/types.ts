/**
 * Contracts of the node's Ed25519 verifiers (docs/PROTOCOL.md 2): the item
 * every batch form takes, the worker pool, and the messages between the
 * pool and its worker threads.
 */

/** One signature to check: the signer's key, the signed bytes, the signature. */
export interface Ed25519VerifyItem {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** A set of worker threads that verify under the project rule. */
export interface VerifyPool {
  /** Worker threads the pool was created with. */
  readonly threads: number;
  /** Workers started and not yet exited (0 after {@link VerifyPool.close}). */
  readonly liveWorkers: number;
  /**
   * One signature. Calls made in the same tick are sent together, so a loop
   * of `verify` calls costs about what one `verifyBatch` does; the buffers
   * are read at the end of the tick, so keep them unchanged until then. Resolves
   * `false` for malformed input; rejects only if the pool is closed or a
   * worker died with the item in flight (a local fault, not a verdict).
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * Many signatures, one verdict each, in order; the buffers are copied
   * before it returns. Same failure rules as `verify`, and a TypeError for a
   * non-array.
   */
  verifyBatch(items: readonly Ed25519VerifyItem[]): Promise<boolean[]>;
  /** Terminates the workers; pending and later calls reject. Resolves when all have exited. */
  close(): Promise<void>;
}

/** Options of `createVerifyPool`. */
export interface VerifyPoolOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  threads?: number;
}

/** A chunk as the worker receives it: every buffer is transferred, not copied. */
export interface VerifyRequest {
  id: number;
  n: number;
  /** n × 32 bytes of keys. */
  keys: Uint8Array<ArrayBuffer>;
  /** n × 64 bytes of signatures. */
  sigs: Uint8Array<ArrayBuffer>;
  /** The messages, back to back. */
  msgs: Uint8Array<ArrayBuffer>;
  /** End offset of message i in `msgs`. */
  ends: Uint32Array<ArrayBuffer>;
}

/** The worker's answer: `results[i]` is 1 for a valid signature. */
export interface VerifyResponse {
  id: number;
  results: Uint8Array<ArrayBuffer>;
}
