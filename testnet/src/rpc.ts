/**
 * One JSON-RPC call to a testnet node (`POST <origin>/rpc`), through the
 * typed client's transport (`@pos/api`): the raw answer, `{result}` or
 * `{error}`. The testnet's own tools (`check`, the stake demo, the soak) and
 * tests use it; they trust their network, unlike the wallet client. A call
 * that gets no answer rejects (an `ApiError`).
 */
import { type ApiClient, ApiError, createApiClient, createHttpTransport } from '@pos/api';

export interface RpcAnswer {
  result?: unknown;
  error?: { code?: number; message: string; data?: unknown };
}

/** The typed client of the node at `origin` (e.g. `http://127.0.0.1:8680`). */
export function nodeApi(origin: string): ApiClient {
  return createApiClient(createHttpTransport({ url: origin }));
}

/** Calls `method` on the node at `origin` (e.g. `http://127.0.0.1:8680`). */
export async function rpcCall(
  origin: string,
  method: string,
  params: unknown[] = [],
): Promise<RpcAnswer> {
  try {
    return { result: await createHttpTransport({ url: origin }).request(method, params) };
  } catch (e) {
    if (!(e instanceof ApiError) || e.rpcCode === undefined) throw e;
    return {
      error: {
        code: e.rpcCode,
        message: e.message,
        ...(e.data === undefined ? {} : { data: e.data }),
      },
    };
  }
}
