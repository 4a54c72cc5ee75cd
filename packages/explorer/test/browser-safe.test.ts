// The explorer's src/ runs in browsers: only browser-safe packages, the UI
// library and the chart library, and no Node global (assets.ts, the one
// module Node loads, uses import.meta.url only).
import { join } from 'node:path';
import { BROWSER_SAFE_DEPS, browserSafeSuite } from '@pos/test-utils/browser-safe';

browserSafeSuite(join(import.meta.dirname, '..'), [
  ...BROWSER_SAFE_DEPS,
  '@pos/wallet-client',
  'preact',
  'uplot',
]);
