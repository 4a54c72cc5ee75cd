// The explorer's bundle (Vite): one HTML page, its script and style, every
// asset local (no CDN), under the base /explorer/ that the node serves it
// at. Each asset also gets a .gz beside it so that the node can send it
// compressed without compressing on every request.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const outDir = 'dist/app';

/** Writes `file.gz` (gzip -9) beside each text asset of the build. */
function precompress(): Plugin {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
    );
  return {
    name: 'pos-precompress',
    apply: 'build',
    closeBundle() {
      for (const f of walk(outDir)) {
        if (!/\.(js|css|html|svg|json)$/.test(f)) continue;
        writeFileSync(`${f}.gz`, gzipSync(readFileSync(f), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  base: '/explorer/',
  plugins: [precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // A strict Content-Security-Policy allows no inline script: no inlined
    // module-preload polyfill (every browser we target has modulepreload).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
