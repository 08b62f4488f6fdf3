import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './paths';

/** The built `apps/chat-server` (as `pnpm start` runs it) on a free port, with its own embedded database. */
export class ChatServer implements AsyncDisposable {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dataDir: string;
  readonly #exited: Promise<unknown>;

  private constructor(opts: { child: ChildProcess; url: string; dataDir: string }) {
    this.#child = opts.child;
    this.url = opts.url;
    this.#dataDir = opts.dataDir;
    this.#exited = once(opts.child, 'close');
  }

  /** Starts it with `env` over the test defaults and resolves once it listens. */
  static async start(env: Record<string, string> = {}): Promise<ChatServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'streampod-web-e2e-'));
    const child = spawn(process.execPath, [join(repoRoot, 'apps/chat-server/dist/main.js')], {
      cwd: repoRoot,
      // Both browsers (and the proxy's) sign in from 127.0.0.1: above what one address may do by default.
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_FORMAT: 'json',
        RATE_LIMIT_SIGN_IN: '1000/1m',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith('{')) return;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg?.startsWith('chat server listening') === true && entry.url !== undefined) resolve(entry.url);
      });
      child.once('exit', (code) => reject(new Error(`chat server exited with ${code}: ${stderr.join('\n')}`)));
    });
    return new ChatServer({ child, url, dataDir });
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      await this.#exited;
    }
    await rm(this.#dataDir, { recursive: true, force: true });
  }
}
