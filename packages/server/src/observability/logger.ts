import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The server's structured JSON logger (one line per event, on stdout). */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { service: 'streampod' } });
}
