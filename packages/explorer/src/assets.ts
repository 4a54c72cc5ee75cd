/**
 * Where the built explorer lives on disk (`dist/app`: `index.html` and its
 * assets), for whoever serves it: `posd --explorer-dir` (the testnet passes
 * this path; the node does not import the explorer, docs/ARCHITECTURE.md).
 * Uses only `import.meta.url`: no `node:` import in this package.
 *
 * @module
 */

/** The absolute path of the built explorer (`packages/explorer/dist/app`). */
export function explorerAssetsDir(): string {
  return decodeURIComponent(new URL('../app', import.meta.url).pathname);
}
