import { join } from 'node:path';
import { browserSafeSuite } from '../../../scripts/testing/browser-safe.js';

// The lowest layer: nothing but @noble/hashes.
browserSafeSuite(join(import.meta.dirname, '..'), ['@noble/hashes']);
