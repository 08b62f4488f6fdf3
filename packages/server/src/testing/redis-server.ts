import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A private `redis-server` on a free loopback port: tests that stop or restart Redis never touch the shared one. */
export interface TestRedis extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (`SIGKILL` by default: an outage, not a goodbye) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, empty (no persistence): what a Redis restart looks like. */
  restart(): Promise<void>;
}

/** A private three-master Redis Cluster on loopback ports. */
export interface TestRedisCluster extends AsyncDisposable {
  /** The seed URL: a client discovers the other masters from it. */
  readonly url: string;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/** Starts an empty private Redis; `await using redis = await startTestRedis()`. */
export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'streampod-redis-'));
  const port = await freePort();
  let child = await spawnRedis({ port, dir, args: [] });
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    await kill(child, signal);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await kill(child, 'SIGKILL');
      child = await spawnRedis({ port, dir, args: [] });
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a private Redis Cluster of `masters` masters (no replicas) and waits until it serves every slot. */
export async function startTestRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'streampod-redis-cluster-'));
  const ports: number[] = [];
  // The cluster bus listens on port + 10000, which must be free too.
  while (ports.length < masters) {
    const port = await freePort();
    if (port + 10000 < 65536 && (await isFree(port + 10000)) && !ports.includes(port)) ports.push(port);
  }
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => kill(c, 'SIGKILL')));
  };
  try {
    for (const port of ports) {
      children.push(
        await spawnRedis({
          port,
          dir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    await formCluster(ports);
    for (const port of ports) await untilClusterOk(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    ports,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function spawnRedis(opts: { port: number; dir: string; args: string[] }): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(opts.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      opts.dir,
      '--loglevel',
      'warning',
      ...opts.args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(() => {
    throw new Error(`redis-server on port ${opts.port} exited at start: ${stderr}`);
  });
  exited.catch(() => undefined);
  await Promise.race([untilPong(opts.port), exited]);
  return child;
}

async function untilPong(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What `redis-cli --cluster create` does, without needing redis-cli: slots split evenly, then every node meets the first. */
async function formCluster(ports: readonly number[]): Promise<void> {
  const clients = ports.map((port) => new Redis({ port, host: '127.0.0.1' }));
  try {
    const per = Math.ceil(16384 / ports.length);
    await Promise.all(
      clients.map((client, i) =>
        client.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16383, (i + 1) * per - 1))),
      ),
    );
    await Promise.all(clients.slice(1).map((client) => client.cluster('MEET', '127.0.0.1', ports[0]!)));
  } finally {
    for (const client of clients) client.disconnect();
  }
}

async function untilClusterOk(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    const deadline = Date.now() + 20_000;
    while (!(await client.cluster('INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error(`the Redis Cluster node on ${port} never reported cluster_state:ok`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
