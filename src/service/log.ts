/**
 * The service's logger: pino, one JSON object per line on stdout (what log shippers read), or
 * readable coloured lines (pino-pretty, in-process) when stdout is a terminal. Call sites write
 * `log.info({ fields }, 'message')`; request handlers use `req.log`, which carries the request id.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config/schema.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Where lines go; default stdout (pretty when it is a TTY). Tests pass a stream they read. */
  destination?: DestinationStream;
}

export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const destination =
    options.destination ??
    (process.stdout.isTTY ? pretty({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' }) : pino.destination(1));
  return pino(
    {
      level,
      base: undefined, // no pid/hostname: the orchestrator knows them, every line would repeat them
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
