import { join } from 'node:path';
import { browserSafeSuite } from '@pos/test-utils/browser-safe';

// The lowest layer: nothing but @noble/hashes.
browserSafeSuite(join(import.meta.dirname, '..'), ['@noble/hashes']);
