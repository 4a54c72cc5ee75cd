// The explorer's routes on the RPC port (docs/PROTOCOL.md 10, "Explorer"),
// over real loopback HTTP against a built-like folder: the page and its
// assets (gzip when accepted), the genesis, the security headers on every
// answer, GET only, and the hint when no explorer is configured.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createGenesis, genesisToJSON } from '@pos/protocol';
import Fastify from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXPLORER_CSP, registerExplorerRoutes } from '../src/api/explorer.js';

const genesis = createGenesis({
  chainName: 'explorer-test',
  genesisTime: 1,
  params: { minFee: 1n },
  validators: [{ pubkey: new Uint8Array(32).fill(7), name: 'v0', p2p: '127.0.0.1:1' }],
  outputs: [{ amount: 1000n, owner: new Uint8Array(32).fill(7), host: new Uint8Array(32).fill(8) }],
});

const PAGE =
  '<!doctype html><title>explorer</title><script type="module" src="assets/app-1.js"></script>';

function built(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pos-explorer-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), PAGE);
  writeFileSync(join(dir, 'index.html.gz'), gzipSync(PAGE));
  writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'app-1.js.gz'), gzipSync('console.log(1)'));
  return dir;
}

/** GET with a raw client (fetch would decompress): status, headers, body bytes. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      request(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
        .on('error', reject)
        .end();
    },
  );
}

async function serve(dir: string | null) {
  const app = Fastify();
  registerExplorerRoutes(app, { dir, genesis });
  return { app, url: await app.listen({ port: 0, host: '127.0.0.1' }) };
}

test('the page, its assets and the genesis, with the security headers', async () => {
  const dir = built();
  const { app, url } = await serve(dir);
  try {
    const redirect = await get(`${url}/explorer`);
    assert.is(redirect.status, 302);
    assert.is(redirect.headers.location, '/explorer/');
    const page = await get(`${url}/explorer/`);
    assert.is(page.status, 200);
    assert.is(page.body.toString(), PAGE);
    assert.is(page.headers['content-security-policy'], EXPLORER_CSP);
    assert.match(EXPLORER_CSP, /script-src 'self'/);
    assert.not.match(EXPLORER_CSP, /unsafe-inline|unsafe-eval/);
    assert.is(page.headers['x-content-type-options'], 'nosniff');
    assert.is(page.headers['x-frame-options'], 'DENY');
    const gz = await get(`${url}/explorer/`, { 'accept-encoding': 'gzip' });
    assert.is(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.body, gzipSync(PAGE));
    const js = await get(`${url}/explorer/assets/app-1.js`, { 'accept-encoding': 'gzip' });
    assert.is(js.status, 200);
    assert.is(js.headers['content-encoding'], 'gzip');
    assert.match(String(js.headers['cache-control']), /immutable/);
    assert.is(js.headers['content-security-policy'], EXPLORER_CSP);
    const g = await get(`${url}/explorer/genesis.json`);
    assert.equal(JSON.parse(g.body.toString()), genesisToJSON(genesis));
    assert.is(g.headers['content-security-policy'], EXPLORER_CSP);
    // Read-only: no other verb, nothing outside the folder.
    assert.is((await fetch(`${url}/explorer/`, { method: 'POST' })).status, 404);
    assert.is((await fetch(`${url}/explorer/assets/app-1.js`, { method: 'PUT' })).status, 404);
    assert.is((await get(`${url}/explorer/..%2f..%2fetc%2fpasswd`)).status, 404);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without an explorer folder: 404 with how to serve it, the genesis still there', async () => {
  const { app, url } = await serve(null);
  try {
    const r = await get(`${url}/explorer/`);
    assert.is(r.status, 404);
    assert.match(r.body.toString(), /--explorer-dir/);
    assert.is(r.headers['content-security-policy'], EXPLORER_CSP);
    assert.is((await get(`${url}/explorer/genesis.json`)).status, 200);
  } finally {
    await app.close();
  }
});

test.run();
