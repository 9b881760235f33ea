/**
 * A small leveled logger writing one line per entry to stderr. Objects are
 * serialised with JSON.stringify, so Secret values print as "[redacted]";
 * every line is then passed through redactSecrets, so a secret that reached
 * a message as text (in any encoded form) is removed too.
 */
import { redactSecrets } from '../core/secret.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(message: string, details?: unknown): void;
  info(message: string, details?: unknown): void;
  warn(message: string, details?: unknown): void;
  error(message: string, details?: unknown): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>) => (message: string, details?: unknown) => {
    if (ORDER[at] < ORDER[level]) return;
    const suffix = details === undefined ? '' : ` ${formatDetails(details)}`;
    write(redactSecrets(`${new Date().toISOString()} ${at.toUpperCase()} ${message}${suffix}\n`));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

function formatDetails(details: unknown): string {
  if (details instanceof Error) return `${details.name}: ${details.message}`;
  try {
    return JSON.stringify(details);
  } catch {
    return String(details);
  }
}
