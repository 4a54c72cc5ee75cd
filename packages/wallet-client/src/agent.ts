/**
 * The agent as the wallet sees it: the typed client of `@pos/api`, whose
 * every answer is a claim (docs/PROTOCOL.md 11: the wallet trusts the agent
 * for nothing) and whose every failure becomes a {@link WalletError}:
 * `AGENT_UNREACHABLE` (no answer), `AGENT_ERROR` (a JSON-RPC error, the
 * `ApiError` kept as `cause` so that callers branch on its code),
 * `BAD_ANSWER` (not a JSON-RPC response).
 *
 * @module
 */
import { type ApiClient, ApiError } from '@pos/api';
import { isCoded } from '@pos/protocol';
import { WalletError, type WalletErrorCode } from './errors.js';

/** Throws a {@link WalletError}. */
export const fail = (code: WalletErrorCode, msg: string): never => {
  throw new WalletError(code, msg);
};

/** A JSON object of an answer, not yet verified. */
export type Json = Record<string, unknown>;

/** `v` as an object, or `BAD_ANSWER` (`what must be an object`). */
export const obj = (v: unknown, what: string): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Json)
    : fail('BAD_ANSWER', `${what} must be an object`);

/** Asks the agent: `call` on the typed client, whose answer is returned unverified. */
export type Ask = (method: string, call: (api: ApiClient) => Promise<unknown>) => Promise<unknown>;

/** The {@link Ask} of `api`. */
export function createAsk(api: ApiClient): Ask {
  return async (method, call) => {
    try {
      return await call(api);
    } catch (e) {
      throw walletErrorOf(method, e);
    }
  };
}

function walletErrorOf(method: string, e: unknown): WalletError {
  if (!(e instanceof ApiError)) {
    return new WalletError('AGENT_UNREACHABLE', `${method}: ${(e as Error)?.message}`, {
      cause: e,
    });
  }
  switch (e.code) {
    case 'UNREACHABLE':
    case 'TIMEOUT':
    case 'CLOSED':
      return new WalletError('AGENT_UNREACHABLE', `${method}: ${e.message}`, { cause: e });
    case 'BAD_RESPONSE':
      return new WalletError('BAD_ANSWER', e.message, { cause: e });
    default:
      return new WalletError('AGENT_ERROR', `${method}: ${e.message} (${String(e.rpcCode)})`, {
        cause: e,
      });
  }
}

/** Whether `e` is the agent's JSON-RPC error of code `code` (e.g. `NOT_FOUND`, -32001). */
export function isAgentError(e: unknown, code: ApiError['code']): boolean {
  return e instanceof WalletError && isCoded(e.cause, ApiError, [code]);
}
