/**
 * The contracts between the typed client and its transports.
 *
 * @module
 */
import type { ApiError } from './errors.js';

/** One call of a batch. */
export interface RpcCall {
  readonly method: string;
  readonly params: readonly unknown[];
}

/**
 * Carries JSON-RPC calls to a node. `request` resolves with the call's
 * result or rejects with an {@link ApiError}; `batch` sends several calls
 * in one request and gives each its result or its {@link ApiError}, in the
 * calls' order.
 */
export interface Transport {
  request(method: string, params: readonly unknown[]): Promise<unknown>;
  batch(calls: readonly RpcCall[]): Promise<unknown[]>;
}

/** A batch entry that failed: {@link Transport.batch} puts the error in the call's place. */
export type BatchEntry<R> = R | ApiError;
