/**
 * The explorer never writes (issue 20): its pages talk to the node through
 * a transport that refuses every method but the reads, before anything is
 * sent. Only the wallet page, on its owner's action, sends a transaction.
 *
 * @module
 */
import { ApiError, type Transport } from '@pos/api';

/** Methods that change nothing on the node. */
export const READ_METHODS: ReadonlySet<string> = new Set([
  'pos_status',
  'pos_getTransaction',
  'pos_getBlock',
  'pos_getCertificate',
  'pos_getOutputs',
  'pos_getConsistencyProof',
  'pos_getValidators',
  'pos_getEvent',
  'pos_getEventTransactions',
  'pos_getDag',
  'pos_getEquivocations',
]);

function refuse(method: string): never {
  throw new ApiError('METHOD_NOT_FOUND', `the explorer is read-only: ${method} is not sent`);
}

/** `inner`, refusing any method not in {@link READ_METHODS}. */
export function readOnlyTransport(inner: Transport): Transport {
  return {
    request(method, params) {
      if (!READ_METHODS.has(method)) return Promise.reject(refuse(method));
      return inner.request(method, params);
    },
    batch(calls) {
      for (const c of calls)
        if (!READ_METHODS.has(c.method)) return Promise.reject(refuse(c.method));
      return inner.batch(calls);
    },
  };
}
