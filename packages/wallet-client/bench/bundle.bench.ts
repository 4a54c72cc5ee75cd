/**
 * Size of the wallet client in a browser: the package entry bundled by
 * esbuild for the browser platform (which fails on any `node:` import),
 * ESM, minified; beside it, the same bundle gzipped (what a server sends)
 * and the two crypto libraries alone, as the floor.
 *
 *   pnpm --filter @pos/wallet-client bench:bundle
 */

import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));

async function size(contents: string, label: string): Promise<string[]> {
  const r = await build({
    stdin: { contents, resolveDir: here, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const bytes = r.outputFiles[0]!.contents;
  return [
    label,
    (bytes.length / 1024).toFixed(1),
    (gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1),
  ];
}

const rows = [
  await size("export * from '../src/index.ts';", '@pos/wallet-client (whole entry)'),
  await size(
    "export { createWalletClient, encryptKeystore, decryptKeystore, signTx } from '../src/index.ts';",
    'client + keystore + signing only (tree-shaken)',
  ),
  await size(
    "export { ed25519 } from '@noble/curves/ed25519.js'; export { sha256 } from '@noble/hashes/sha2.js'; export { scrypt } from '@noble/hashes/scrypt.js';",
    'floor: @noble/curves ed25519 + @noble/hashes sha256, scrypt',
  ),
];
process.stdout.write(
  '| bundle (esbuild, browser, ESM, minified) | KiB | gzip -9 KiB |\n|---|---|---|\n',
);
for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
