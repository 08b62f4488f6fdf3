import { startCounterServer } from './server.js';

const { server, address } = await startCounterServer({ port: Number(process.env['PORT'] ?? 3100) });
server.log.info(`live counter listening on ${address}`);
process.once('SIGINT', () => void server.close());
process.once('SIGTERM', () => void server.close());
