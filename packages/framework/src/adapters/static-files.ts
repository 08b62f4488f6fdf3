import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves a built single-page app from `root`: files as they are, and `index.html` for
 * paths without a file extension (client-side routes). Returns false when nothing matched.
 */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    return false;
  }
  const file = normalize(join(root, pathname));
  // `..` segments must not escape the root.
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return false;
  const candidates = extname(pathname) === '' ? [join(file, 'index.html'), join(root, 'index.html')] : [file];
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => null);
    if (info === null || !info.isFile()) continue;
    const immutable = candidate.includes(`${sep}assets${sep}`);
    res.writeHead(200, {
      'content-type': TYPES[extname(candidate)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    // pipeline, not pipe: a file that vanishes after stat (a redeploy) must not crash the process.
    else pipeline(createReadStream(candidate), res, () => undefined);
    return true;
  }
  return false;
}
