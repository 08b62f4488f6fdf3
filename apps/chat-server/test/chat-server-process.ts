import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `apps/chat-server` running from source in a child process, as `pnpm start` runs it. */
export class ChatServerProcess implements AsyncDisposable {
  readonly exited: Promise<number | null>;

  private readonly child: ChildProcess;
  readonly url: string;
  /** Every JSON log line so far, still growing while the process runs. */
  readonly logs: Record<string, unknown>[];

  private constructor(opts: { child: ChildProcess; url: string; logs: Record<string, unknown>[] }) {
    ({ child: this.child, url: this.url, logs: this.logs } = opts);
    const child = this.child;
    this.exited = once(child, 'close').then(([code]) => code as number | null);
  }

  /** Starts the server with `env` (PORT defaults to 0) and resolves once it listens. */
  static async start(env: Record<string, string>): Promise<ChatServerProcess> {
    const child = spawn(process.execPath, ['--conditions=@streampod/source', '--import', 'tsx', 'src/main.ts'], {
      cwd: appDir,
      // Every test user signs up from 127.0.0.1: above what one address may do by default.
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_SIGN_IN: '1000/1m', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    const url = await new Promise<string>((resolveUrl, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (String(entry['msg']).startsWith('chat server listening')) resolveUrl(entry['url'] as string);
      });
      child.once('exit', (code) => reject(new Error(`chat server exited with ${code}: ${stderr.join('\n')}`)));
    });
    return new ChatServerProcess({ child, url, logs });
  }

  /** Runs the server expecting it to fail at start; resolves with its exit code and stderr. */
  static async failing(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, ['--conditions=@streampod/source', '--import', 'tsx', 'src/main.ts'], {
      cwd: appDir,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr };
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** `ws://host:port/trpc` */
  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/trpc`;
  }

  /** The process id, for `kill -9`. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.stop('SIGKILL');
  }
}

/**
 * pnpm as the test runner was started with, else the one on PATH, else the one the README's
 * commands fetch (`npx -y pnpm@10`, which does not pass signals on to pnpm).
 */
export function pnpmCommand(args: string[]): [string, string[]] {
  const execPath = process.env['npm_execpath'];
  if (execPath !== undefined && /pnpm/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return spawnSync('pnpm', ['--version']).status === 0 ? ['pnpm', args] : ['npx', ['-y', 'pnpm@10', ...args]];
}
