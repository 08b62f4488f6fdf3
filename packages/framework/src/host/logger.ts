import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** @default 'info' */
  level?: LevelWithSilent;
  /** The `service` field of every line. @default 'streampod' */
  service?: string;
  /**
   * Readable lines (pino-pretty, when installed) instead of JSON, for a person at a
   * terminal; JSON stays the default for everything that reads logs. `'auto'` is pretty
   * when stdout is a terminal.
   * @default false
   */
  pretty?: boolean | 'auto';
}

/** A structured logger: JSON lines on stdout, or pretty ones for a terminal. */
export function createLogger(options: LoggerOptions | LevelWithSilent = {}): Logger {
  const opts = typeof options === 'string' ? { level: options } : options;
  const base = { service: opts.service ?? 'streampod' };
  const level = opts.level ?? 'info';
  const pretty = opts.pretty === 'auto' ? process.stdout.isTTY : opts.pretty === true;
  if (pretty && prettyAvailable()) {
    return pino({
      level,
      base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' },
      },
    });
  }
  return pino({ level, base });
}

/** pino-pretty is an optional peer: without it, logs stay JSON rather than fail. */
function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
