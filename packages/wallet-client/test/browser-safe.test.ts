import { join } from 'node:path';
import { browserSafeSuite } from '@pos/test-utils/browser-safe';

browserSafeSuite(join(import.meta.dirname, '..'));
