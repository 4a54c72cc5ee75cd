/**
 * One JSON-RPC call to a testnet node (`POST <origin>/rpc`): the raw answer,
 * `{result}` or `{error}`. The testnet's own tools (the load generator and
 * `check`) use it; they trust their network, unlike the wallet client.
 */
export interface RpcAnswer {
  result?: unknown;
  error?: { code?: number; message: string };
}

/** Calls `method` on the node at `origin` (e.g. `http://127.0.0.1:8680`). */
export async function rpcCall(
  origin: string,
  method: string,
  params: unknown[] = [],
): Promise<RpcAnswer> {
  const res = await fetch(`${origin}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as RpcAnswer;
}
