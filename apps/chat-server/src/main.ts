/**
 * The chat server: configuration from the environment (see the wire contract), embedded
 * database by default, graceful stop on SIGINT/SIGTERM.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig, startChatServer } from '@streampod/server';
import { stopWithLauncher } from './launcher-guard.js';

let config;
try {
  config = readConfig({
    // The built web app, when there is one, sits beside this app in the repository.
    WEB_DIR: resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist'),
    ...process.env,
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const app = await startChatServer(config);
let stopping = false;
const stop = (reason: string) => {
  if (stopping) return;
  stopping = true;
  app.server.log.info({ reason }, 'stopping');
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      app.server.log.error({ err: error }, 'stopping failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
stopWithLauncher((pid) => stop(`launcher ${pid} exited`));
