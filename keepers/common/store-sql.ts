/**
 * The SQL database under the keeper's store (store.ts), one interface with two implementations chosen by the
 * location (store.ts openSqlDatabase): a file path (or ":memory:") opens SQLite (store-sqlite.ts, the embedded
 * default), a `postgres://` or `postgresql://` URL opens PostgreSQL (store-postgres.ts, for keeper replicas sharing
 * one database).
 *
 * Every call is synchronous, as node:sqlite's are: the store's callers (the follower, the sender, the executions)
 * rely on a write being durable when the call returns, before they act on chain. Statements use `?` placeholders;
 * the PostgreSQL implementation numbers them.
 */
export type SqlValue = string | number | null;
export type SqlRow = Record<string, SqlValue>;

export interface SqlDatabase {
  readonly dialect: "sqlite" | "postgres";
  readonly isOpen: boolean;
  /** Runs statements without parameters (the schema), several separated by semicolons. */
  exec(sql: string): void;
  /** Runs one statement; returns how many rows it changed. */
  run(sql: string, params: readonly SqlValue[]): number;
  get(sql: string, params: readonly SqlValue[]): SqlRow | undefined;
  all(sql: string, params: readonly SqlValue[]): SqlRow[];
  /**
   * Runs `migrate` once per database while no other process migrates the same database (PostgreSQL: an advisory lock
   * held for the transaction; SQLite: an immediate transaction).
   */
  migrating(migrate: () => void): void;
  /**
   * Tries to take the lease `name` for this process: true if it holds it now. The lease is held until `close()` or
   * until the process dies (PostgreSQL: a session advisory lock, released by the server when the connection closes;
   * SQLite: always true, as one process owns an embedded database).
   */
  tryLease(name: string): boolean;
  /** `listener` is called once if the database is lost while open (PostgreSQL: the connection, and leases with it). */
  onLost(listener: (reason: string) => void): void;
  close(): void;
}

/** The location is a PostgreSQL URL (else a SQLite file path or ":memory:"). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The location as it may be logged: a URL's password is masked. */
export function databaseLabel(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}
