/**
 * The store's SQLite database (node:sqlite): the embedded default, one keeper process per file. WAL journal,
 * synchronous writes, a 5 s busy timeout.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import type { SqlDatabase, SqlRow, SqlValue } from "./store-sql.js";

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = "sqlite";
  readonly #db: DatabaseSync;

  constructor(file: string) {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  run(sql: string, params: readonly SqlValue[]): number {
    return Number(this.#db.prepare(sql).run(...params).changes);
  }

  get(sql: string, params: readonly SqlValue[]): SqlRow | undefined {
    return this.#db.prepare(sql).get(...params) as SqlRow | undefined;
  }

  all(sql: string, params: readonly SqlValue[]): SqlRow[] {
    return this.#db.prepare(sql).all(...params) as SqlRow[];
  }

  migrating(migrate: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      migrate();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  tryLease(): boolean {
    return true;
  }

  onLost(): void {
    // a file does not go away under an open handle
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
