import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = resolve(webRoot, '../..');
/** Screenshots of each step (gitignored). */
export const artifactsDir = join(webRoot, 'e2e/artifacts');
