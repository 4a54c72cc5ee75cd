import { join } from 'node:path';
import { browserSafeSuite } from '../../../scripts/testing/browser-safe.js';

browserSafeSuite(join(import.meta.dirname, '..'));
