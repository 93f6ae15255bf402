/**
 * The daemons' logger: pino JSON lines on stdout, pretty-printed when stdout is a terminal (or LOG_PRETTY=1).
 * LOG_LEVEL sets the level (default info).
 */
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  const pretty = process.env.LOG_PRETTY === "1" || (process.env.LOG_PRETTY !== "0" && process.stdout.isTTY);
  return pino({
    name,
    level,
    ...(pretty
      ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } }
      : {}),
  });
}

/** How often a repeated log line is summarised (default of RepeatedLog's `summaryMs`): every 5 minutes. */
export const REPEAT_SUMMARY_MS = 5 * 60_000;

/**
 * Rate-limits a line that repeats (a stalled execution retried every sweep, the same refusal every few seconds): the
 * caller's key says what makes two lines the same (e.g. the execution and its error). Per key, the first occurrence is logged as it is; the identical ones after it are only counted, and at most once per
 * `summaryMs` a summary line says how many there were (`repeated: n`, `sinceMs`). A key quiet for a whole period is
 * forgotten, so its next occurrence is logged in full again.
 */
export class RepeatedLog {
  readonly #logger: Logger;
  readonly #summaryMs: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, { lastLogAt: number; count: number }>();

  constructor(logger: Logger, options: { summaryMs?: number; now?: () => number } = {}) {
    this.#logger = logger;
    this.#summaryMs = options.summaryMs ?? REPEAT_SUMMARY_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Logs `message` at `level` under `key` (see the class header); returns whether a line was written. */
  log(level: "warn" | "error" | "info", key: string, fields: Record<string, unknown>, message: string): boolean {
    const now = this.#now();
    this.#forget(now);
    const seen = this.#keys.get(key);
    if (seen === undefined) {
      this.#keys.set(key, { lastLogAt: now, count: 0 });
      this.#logger[level](fields, message);
      return true;
    }
    seen.count += 1;
    if (now - seen.lastLogAt < this.#summaryMs) return false;
    this.#logger[level]({ ...fields, repeated: seen.count, sinceMs: now - seen.lastLogAt }, `${message} (repeated)`);
    seen.lastLogAt = now;
    seen.count = 0;
    return true;
  }

  /** Drops keys with nothing logged or counted for a whole period (the map stays as small as what keeps failing). */
  #forget(now: number): void {
    for (const [key, seen] of this.#keys)
      if (now - seen.lastLogAt >= this.#summaryMs && seen.count === 0) this.#keys.delete(key);
  }
}
