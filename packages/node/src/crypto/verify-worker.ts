/**
 * Worker thread of `createVerifyPool` (verify-pool.ts): verifies packed chunks
 * with `verifyEd25519Sync`, the same rule as every other verifier
 * (docs/PROTOCOL.md 2), and transfers back one byte per item.
 */
import { parentPort } from 'node:worker_threads';
import { verifyEd25519Sync } from './crypto.js';
import type { VerifyRequest, VerifyResponse } from './types.js';

const port = parentPort;
if (port === null) throw new Error('verify-worker.js runs only as a worker thread');

function verifyChunk(m: VerifyRequest): Uint8Array<ArrayBuffer> {
  const results = new Uint8Array(m.n);
  let start = 0;
  for (let i = 0; i < m.n; i++) {
    const end = m.ends[i]!;
    const ok = verifyEd25519Sync(
      m.keys.subarray(32 * i, 32 * i + 32),
      m.msgs.subarray(start, end),
      m.sigs.subarray(64 * i, 64 * i + 64),
    );
    results[i] = ok ? 1 : 0;
    start = end;
  }
  return results;
}

port.on('message', (m: VerifyRequest) => {
  let results: Uint8Array<ArrayBuffer>;
  try {
    results = verifyChunk(m);
  } catch {
    // A malformed request (the pool never sends one): answer with no 1s, which
    // the pool reads as every item false. The worker stays up.
    results = new Uint8Array(0);
  }
  const reply: VerifyResponse = { id: typeof m?.id === 'number' ? m.id : -1, results };
  port.postMessage(reply, [results.buffer]);
});
