/**
 * The store's PostgreSQL database (the `pg` package), for keeper replicas that share one database.
 *
 * The store is synchronous (store-sql.ts), `pg` is not: one worker thread owns the connection and runs each
 * statement; the calling thread waits for its answer on a shared flag (Atomics.wait), as it would wait on a SQLite
 * write. One connection for the process: every statement, every transaction and every lease (a session advisory
 * lock) go through it, so a lost connection loses the leases and lets no later write through (each call then
 * throws, and `onLost` listeners hear of it at once). The server drops a dead client's session, and its leases, when
 * the connection closes (at once on a crash of the process; TCP keepalives, set per session, find a vanished host
 * within about 25 s).
 */
import { createRequire } from "node:module";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";

import type { SqlDatabase, SqlRow, SqlValue } from "./store-sql.js";

/** How long one statement may take before the database is deemed lost (a lock wait included). */
const STATEMENT_WAIT_MS = 60_000;

interface Reply {
  rows?: SqlRow[];
  changes?: number;
  error?: string;
}

/**
 * The worker (plain JavaScript, evaluated: it needs no TypeScript loader): connects, answers each request on `port`
 * and raises the flag; a connection error is reported to the parent thread as `{ lost }`.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const pg = require(workerData.pg);
pg.types.setTypeParser(20, (text) => Number(text)); // BIGINT (ms times, counts) as numbers, as SQLite gives them
const flag = new Int32Array(workerData.signal);
const port = workerData.port;
const client = new pg.Client({
  connectionString: workerData.url,
  keepAlive: true,
  application_name: "aitbc-keeper",
  options: "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
});
let broken;
const lose = (reason) => {
  if (broken !== undefined) return;
  broken = reason;
  parentPort.postMessage({ lost: reason });
};
client.on("error", (error) => lose("the connection failed: " + error.message));
client.on("end", () => lose("the connection ended"));
const connected = client.connect().then(
  () => undefined,
  (error) => lose("cannot connect: " + error.message),
);
let queue = Promise.resolve();
port.on("message", (request) => {
  queue = queue.then(async () => {
    await connected;
    let reply;
    if (request.close) {
      broken ??= "closed";
      await client.end().catch(() => undefined);
      reply = {};
    } else if (broken !== undefined) {
      reply = { error: broken };
    } else {
      try {
        const result = request.params === undefined
          ? await client.query(request.sql)
          : await client.query({ text: request.sql, values: request.params });
        const last = Array.isArray(result) ? result[result.length - 1] : result;
        reply = { rows: last ? last.rows : [], changes: last && last.rowCount !== null ? last.rowCount : 0 };
      } catch (error) {
        reply = { error: error.message + (error.code ? " (SQLSTATE " + error.code + ")" : "") };
      }
    }
    port.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
`;

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = "postgres";
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  readonly #numbered = new Map<string, string>();
  readonly #listeners: ((reason: string) => void)[] = [];
  #lost: string | undefined;
  #open = true;

  constructor(url: string) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(WORKER, {
      eval: true,
      workerData: { url, pg: createRequire(import.meta.url).resolve("pg"), signal: this.#flag.buffer, port: port2 },
      transferList: [port2],
    });
    // The worker must not keep a stopping process alive; while open, the process has other work holding it.
    this.#worker.unref();
    this.#worker.on("message", (message: { lost?: string }) => {
      if (message.lost !== undefined) this.#markLost(message.lost);
    });
    this.#worker.on("error", (error) => {
      this.#markLost(`the database worker failed: ${error.message}`);
    });
    // Fails here, not at the first write, when the server cannot be reached.
    this.get("SELECT 1 AS ok", []);
  }

  get isOpen(): boolean {
    return this.#open;
  }

  exec(sql: string): void {
    this.#call({ sql });
  }

  run(sql: string, params: readonly SqlValue[]): number {
    return this.#call({ sql: this.#number(sql), params }).changes ?? 0;
  }

  get(sql: string, params: readonly SqlValue[]): SqlRow | undefined {
    return this.#call({ sql: this.#number(sql), params }).rows?.[0];
  }

  all(sql: string, params: readonly SqlValue[]): SqlRow[] {
    return this.#call({ sql: this.#number(sql), params }).rows ?? [];
  }

  migrating(migrate: () => void): void {
    this.exec("BEGIN");
    try {
      // Two replicas starting together: the second waits here, then finds the schema migrated.
      this.exec("SELECT pg_advisory_xact_lock(hashtext('aitbc-store-schema'))");
      migrate();
      this.exec("COMMIT");
    } catch (error) {
      if (this.#lost === undefined) this.exec("ROLLBACK");
      throw error;
    }
  }

  tryLease(name: string): boolean {
    const row = this.get("SELECT CASE WHEN pg_try_advisory_lock(hashtext(?)) THEN 1 ELSE 0 END AS held", [
      `aitbc-lease:${name}`,
    ]);
    return row?.held === 1;
  }

  onLost(listener: (reason: string) => void): void {
    this.#listeners.push(listener);
    if (this.#lost !== undefined) listener(this.#lost);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#lost === undefined) {
      try {
        this.#call({ close: true });
      } catch {
        // closing: the connection is going anyway
      }
    }
    void this.#worker.terminate();
  }

  #call(request: { sql?: string; params?: readonly SqlValue[]; close?: boolean }): Reply {
    if (!this.#open && request.close !== true) throw new Error("postgres: the database is closed");
    if (this.#lost !== undefined) throw new Error(`postgres: the database is lost (${this.#lost})`);
    Atomics.store(this.#flag, 0, 0);
    this.#port.postMessage(request);
    if (Atomics.wait(this.#flag, 0, 0, STATEMENT_WAIT_MS) === "timed-out") {
      this.#markLost(`no answer within ${STATEMENT_WAIT_MS} ms`);
      throw new Error(`postgres: no answer within ${STATEMENT_WAIT_MS} ms to ${request.sql ?? "close"}`);
    }
    const received = receiveMessageOnPort(this.#port);
    if (!received) throw new Error("postgres: the worker raised its flag without an answer");
    const reply = received.message as Reply;
    if (reply.error !== undefined) throw new Error(`postgres: ${reply.error}`);
    return reply;
  }

  /** `?` placeholders as PostgreSQL's `$1`, `$2`, ... (the store's SQL has no `?` inside literals). */
  #number(sql: string): string {
    let numbered = this.#numbered.get(sql);
    if (numbered === undefined) {
      let n = 0;
      numbered = sql.replace(/\?/g, () => `$${++n}`);
      this.#numbered.set(sql, numbered);
    }
    return numbered;
  }

  #markLost(reason: string): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    for (const listener of this.#listeners) listener(reason);
  }
}
