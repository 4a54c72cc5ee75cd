#!/usr/bin/env node
// `posd`: runs the built CLI (`dist/cli.js`, from `tsc -b`). A committed entry
// file, so that `pnpm install` can link the bin before anything is built.
try {
  await import('../dist/cli.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('/dist/cli.js')) throw e;
  console.error('posd: not built yet; run `pnpm build` (tsc -b) at the repository root first');
  process.exit(1);
}
