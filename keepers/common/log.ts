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
