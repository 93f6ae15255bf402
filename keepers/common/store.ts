/**
 * The keeper's state in a SQL database (store-sql.ts: SQLite by default, PostgreSQL for replicas): follower checkpoints and the block hashes it acted on, client
 * inputs (content-addressed by their hash, with every client that signed them), the clients' grants to read
 * their results and their revocations of them (kept: a revoked grant posted again stays void), executions and their steps (every provider answer, with the
 * output, is stored before anything is submitted: a restart never loses a step), the transactions sent (the
 * signed raw transaction is stored before it is broadcast: a restart re-sends the same nonce, never a second
 * transaction), slashing reports, alerts and the agent's action log for the safety monitor.
 *
 * Writes are synchronous and each statement is atomic; `transaction()` groups several. The SQL is written once for
 * both databases (upserts with ON CONFLICT, no SQLite-only functions); only the schema's column types differ. The
 * store creates and migrates its schema on open (MIGRATIONS, the version kept in `schema_version`).
 */
import type { Hex } from "viem";
import type { Json } from "../../protocol/values.js";
import { PostgresDatabase } from "./store-postgres.js";
import { isPostgresUrl, type SqlDatabase, type SqlRow, type SqlValue } from "./store-sql.js";
import { SqliteDatabase } from "./store-sqlite.js";

type SQLInputValue = SqlValue;

export type ExecutionState = "waiting-inputs" | "claimed" | "running" | "recording" | "completing" | "done" | "failed";

export interface ExecutionRow {
  executionId: bigint;
  workflowId: bigint;
  /** 0 basic, 1 full, 2 zk (IWorkflows.VerificationLevel). */
  level: number;
  inputsHash: Hex;
  state: ExecutionState;
  /** Why it failed (state "failed"), or the last error while it goes on. */
  reason: string | null;
  /** ms since the epoch. */
  createdAt: number;
  updatedAt: number;
}

export type StepState = "done" | "failed";

export interface StepRow {
  executionId: bigint;
  step: number;
  state: StepState;
  attempts: number;
  provider: Hex | null;
  /** The provider's full answer (protocol/steps.ts StepResponse) when done; the error text when failed. */
  result: Json;
  /** Provider time (ms) and keeper-side time (ms) of the successful attempt. */
  providerMillis: number;
  totalMillis: number;
  updatedAt: number;
}

export type TxState = "signed" | "sent" | "mined" | "reverted" | "dropped";

export interface TxRow {
  /** Idempotency key: what the transaction does (e.g. "claim:7", "record:7:0-31"). One live transaction per key. */
  key: string;
  hash: Hex;
  nonce: number;
  raw: Hex;
  state: TxState;
  blockNumber: bigint | null;
  gasUsed: bigint | null;
  createdAt: number;
  updatedAt: number;
}

export interface ReportRow {
  id: number;
  provider: Hex;
  executionId: bigint;
  step: number;
  reason: string;
  evidence: Json;
  createdAt: number;
}

/**
 * A client's grant: `reader` may read execution `executionId`'s results until `expiry` (unix seconds), unless a
 * revocation by the same signer covers its `issuedAt` (unix ms).
 */
export interface GrantRow {
  executionId: bigint;
  reader: Hex;
  /** Who signed the grant (it counts only while that is the execution's client on chain). */
  signer: Hex;
  expiry: number;
  issuedAt: number;
  signature: Hex;
}

/** A client's revocation: `signer`'s grants to `reader` for execution `executionId` issued until `issuedAt` are void. */
export interface RevocationRow {
  executionId: bigint;
  reader: Hex;
  signer: Hex;
  issuedAt: number;
  signature: Hex;
}

export interface AlertRow {
  id: number;
  rule: string;
  message: string;
  details: Json;
  createdAt: number;
}

export interface ActionRow {
  actionType: number;
  value: bigint;
  at: number;
}

export class Store {
  readonly #db: SqlDatabase;

  /** Opens (creating and migrating) the store at `location`: a SQLite file, ":memory:", or a postgres:// URL. */
  constructor(location: string) {
    this.#db = openSqlDatabase(location);
    try {
      migrate(this.#db);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** "sqlite" or "postgres". */
  get dialect(): SqlDatabase["dialect"] {
    return this.#db.dialect;
  }

  close(): void {
    this.#db.close();
  }

  /** Runs `fn` in one transaction (rolled back if it throws). */
  transaction<T>(fn: () => T): T {
    this.#db.exec(this.#db.dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isOpen) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  // ---------------------------------------------------------------- leases (keeper replicas)

  /**
   * Tries to take the lease `name` (e.g. "keeper": the right to act for the keeper agent): true if this process
   * holds it now. Held until `close()` or the process dies, when another replica can take it (store-sql.ts).
   */
  tryLease(name: string): boolean {
    return this.#db.tryLease(name);
  }

  /** `listener` hears once that the database (and any lease held through it) was lost. */
  onLost(listener: (reason: string) => void): void {
    this.#db.onLost(listener);
  }

  // ---------------------------------------------------------------- follower checkpoints and block hashes

  checkpoint(name: string): bigint | undefined {
    const row = this.#get("SELECT block FROM checkpoints WHERE name = ?", name);
    return row ? BigInt(row.block as string) : undefined;
  }

  setCheckpoint(name: string, block: bigint): void {
    this.#run(
      "INSERT INTO checkpoints (name, block) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block",
      name,
      block.toString(),
    );
  }

  /** Remembers the hash of a block the follower processed (to detect that a reorg orphaned it). */
  saveBlockHash(block: bigint, hash: Hex): void {
    this.#run(
      "INSERT INTO blocks (number, hash) VALUES (?, ?) ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
      Number(block),
      hash,
    );
  }

  blockHash(block: bigint): Hex | undefined {
    return this.#get("SELECT hash FROM blocks WHERE number = ?", Number(block))?.hash as Hex | undefined;
  }

  /** Processed blocks at or above `block`, highest first. */
  blocksFrom(block: bigint): { number: bigint; hash: Hex }[] {
    return this.#all("SELECT number, hash FROM blocks WHERE number >= ? ORDER BY number DESC", Number(block)).map(
      (r) => ({ number: BigInt(r.number as number), hash: r.hash as Hex }),
    );
  }

  forgetBlocksFrom(block: bigint): void {
    this.#run("DELETE FROM blocks WHERE number >= ?", Number(block));
  }

  pruneBlocksBelow(block: bigint): void {
    this.#run("DELETE FROM blocks WHERE number < ?", Number(block));
  }

  // ---------------------------------------------------------------- client inputs

  /** Stores inputs by their hash, signed by `signer` (one body per hash, any number of signers). */
  putInputs(hash: Hex, inputs: Json, signer: Hex): void {
    this.transaction(() => {
      this.#run(
        "INSERT INTO inputs (hash, body) VALUES (?, ?) ON CONFLICT DO NOTHING",
        hash.toLowerCase(),
        JSON.stringify(inputs),
      );
      this.#run(
        "INSERT INTO input_signers (hash, signer, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        hash.toLowerCase(),
        signer.toLowerCase(),
        Date.now(),
      );
    });
  }

  /** The inputs with this hash if `client` signed them (else undefined, whoever else did). */
  inputsFrom(hash: Hex, client: Hex): Json | undefined {
    const row = this.#get(
      `SELECT body FROM inputs JOIN input_signers USING (hash) WHERE hash = ? AND signer = ?`,
      hash.toLowerCase(),
      client.toLowerCase(),
    );
    return row ? (JSON.parse(row.body as string) as Json) : undefined;
  }

  /** Who signed the inputs with this hash, first first (lower case). */
  inputSigners(hash: Hex): Hex[] {
    return this.#all(
      "SELECT signer FROM input_signers WHERE hash = ? ORDER BY created_at, signer",
      hash.toLowerCase(),
    ).map((r) => r.signer as Hex);
  }

  // ---------------------------------------------------------------- grants to read results

  /**
   * Stores a grant (false, nothing stored, when a revocation by its signer already covers it); the same grant
   * (execution, reader, signer, issuedAt) again keeps the later expiry.
   */
  addGrant(grant: GrantRow): boolean {
    return this.transaction(() => {
      const through = this.revokedThrough(grant.executionId, grant.reader, grant.signer);
      if (through !== undefined && grant.issuedAt <= through) return false;
      this.#run(
        `INSERT INTO read_grants (execution_id, reader, signer, issued_at, expiry, signature, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(execution_id, reader, signer, issued_at) DO UPDATE SET
           signature = CASE WHEN excluded.expiry > read_grants.expiry THEN excluded.signature ELSE read_grants.signature END,
           expiry = CASE WHEN excluded.expiry > read_grants.expiry THEN excluded.expiry ELSE read_grants.expiry END`,
        grant.executionId.toString(),
        grant.reader.toLowerCase(),
        grant.signer.toLowerCase(),
        grant.issuedAt,
        grant.expiry,
        grant.signature,
        Date.now(),
      );
      return true;
    });
  }

  /**
   * The grants naming `reader` for this execution that hold after `at` (unix seconds): unexpired, and issued after
   * every revocation by their signer.
   */
  grants(executionId: bigint, reader: Hex, at: number): GrantRow[] {
    return this.#all(
      `SELECT g.* FROM read_grants g
       LEFT JOIN read_revocations r
         ON r.execution_id = g.execution_id AND r.reader = g.reader AND r.signer = g.signer
       WHERE g.execution_id = ? AND g.reader = ? AND g.expiry > ? AND (r.through IS NULL OR g.issued_at > r.through)
       ORDER BY g.expiry DESC, g.issued_at DESC`,
      executionId.toString(),
      reader.toLowerCase(),
      at,
    ).map((r) => ({
      executionId: BigInt(r.execution_id as string),
      reader: r.reader as Hex,
      signer: r.signer as Hex,
      expiry: r.expiry as number,
      issuedAt: r.issued_at as number,
      signature: r.signature as Hex,
    }));
  }

  /**
   * Stores a revocation (the latest `issuedAt` per execution, reader and signer is kept, with its signature) and
   * deletes the grants it voids. Returns the `issuedAt` it now revokes through.
   */
  addRevocation(revocation: RevocationRow): number {
    const id = revocation.executionId.toString();
    const reader = revocation.reader.toLowerCase();
    const signer = revocation.signer.toLowerCase();
    return this.transaction(() => {
      this.#run(
        `INSERT INTO read_revocations (execution_id, reader, signer, through, signature, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(execution_id, reader, signer) DO UPDATE SET
           signature = CASE WHEN excluded.through > read_revocations.through THEN excluded.signature
             ELSE read_revocations.signature END,
           through = CASE WHEN excluded.through > read_revocations.through THEN excluded.through
             ELSE read_revocations.through END`,
        id,
        reader,
        signer,
        revocation.issuedAt,
        revocation.signature,
        Date.now(),
      );
      const through = this.revokedThrough(revocation.executionId, reader as Hex, signer as Hex) ?? 0;
      this.#run(
        "DELETE FROM read_grants WHERE execution_id = ? AND reader = ? AND signer = ? AND issued_at <= ?",
        id,
        reader,
        signer,
        through,
      );
      return through;
    });
  }

  /** The `issuedAt` through which `signer` revoked `reader`'s grants for the execution, if it did. */
  revokedThrough(executionId: bigint, reader: Hex, signer: Hex): number | undefined {
    const row = this.#get(
      "SELECT through FROM read_revocations WHERE execution_id = ? AND reader = ? AND signer = ?",
      executionId.toString(),
      reader.toLowerCase(),
      signer.toLowerCase(),
    );
    return row === undefined ? undefined : (row.through as number);
  }

  // ---------------------------------------------------------------- executions and steps

  /** Inserts an execution if new; returns the stored row either way. */
  addExecution(row: Omit<ExecutionRow, "createdAt" | "updatedAt" | "reason">): ExecutionRow {
    const now = Date.now();
    this.#run(
      `INSERT INTO executions (execution_id, workflow_id, level, inputs_hash, state, reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING`,
      row.executionId.toString(),
      row.workflowId.toString(),
      row.level,
      row.inputsHash,
      row.state,
      now,
      now,
    );
    const stored = this.execution(row.executionId);
    if (!stored) throw new Error(`execution ${row.executionId}: not stored`);
    return stored;
  }

  execution(executionId: bigint): ExecutionRow | undefined {
    const row = this.#get("SELECT * FROM executions WHERE execution_id = ?", executionId.toString());
    return row ? toExecution(row) : undefined;
  }

  /** Executions not done nor failed, oldest first. */
  openExecutions(): ExecutionRow[] {
    return this.#all(
      "SELECT * FROM executions WHERE state NOT IN ('done', 'failed') ORDER BY created_at, execution_id",
    ).map(toExecution);
  }

  executionsIn(state: ExecutionState): ExecutionRow[] {
    return this.#all("SELECT * FROM executions WHERE state = ? ORDER BY created_at", state).map(toExecution);
  }

  setExecutionState(executionId: bigint, state: ExecutionState, reason: string | null = null): void {
    this.#run(
      "UPDATE executions SET state = ?, reason = ?, updated_at = ? WHERE execution_id = ?",
      state,
      reason,
      Date.now(),
      executionId.toString(),
    );
  }

  saveStep(row: Omit<StepRow, "updatedAt">): void {
    this.#run(
      `INSERT INTO steps (execution_id, step, state, attempts, provider, result, provider_ms, total_ms, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(execution_id, step) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
         provider = excluded.provider, result = excluded.result, provider_ms = excluded.provider_ms,
         total_ms = excluded.total_ms, updated_at = excluded.updated_at`,
      row.executionId.toString(),
      row.step,
      row.state,
      row.attempts,
      row.provider,
      JSON.stringify(row.result),
      row.providerMillis,
      row.totalMillis,
      Date.now(),
    );
  }

  steps(executionId: bigint): StepRow[] {
    return this.#all("SELECT * FROM steps WHERE execution_id = ? ORDER BY step", executionId.toString()).map((r) => ({
      executionId: BigInt(r.execution_id as string),
      step: r.step as number,
      state: r.state as StepState,
      attempts: r.attempts as number,
      provider: (r.provider as Hex | null) ?? null,
      result: JSON.parse(r.result as string) as Json,
      providerMillis: r.provider_ms as number,
      totalMillis: r.total_ms as number,
      updatedAt: r.updated_at as number,
    }));
  }

  /** Forgets steps (e.g. their provider left before they were recorded, so they must run again). */
  deleteSteps(executionId: bigint, steps: readonly number[]): void {
    for (const step of steps)
      this.#run("DELETE FROM steps WHERE execution_id = ? AND step = ?", executionId.toString(), step);
  }

  /** Forgets an execution, its steps, its grants and revocations: a reorg orphaned the request it came from. */
  dropExecution(executionId: bigint): void {
    this.transaction(() => {
      this.#run("DELETE FROM steps WHERE execution_id = ?", executionId.toString());
      this.#run("DELETE FROM read_grants WHERE execution_id = ?", executionId.toString());
      this.#run("DELETE FROM read_revocations WHERE execution_id = ?", executionId.toString());
      this.#run("DELETE FROM executions WHERE execution_id = ?", executionId.toString());
    });
  }

  // ---------------------------------------------------------------- transactions

  /** Stores a signed transaction before it is broadcast. Throws if `key` already has a live transaction. */
  addTx(row: Omit<TxRow, "createdAt" | "updatedAt" | "blockNumber" | "gasUsed">): void {
    const now = Date.now();
    this.#run(
      `INSERT INTO txs (key, hash, nonce, raw, state, block_number, gas_used, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)`,
      row.key,
      row.hash,
      row.nonce,
      row.raw,
      row.state,
      now,
      now,
    );
  }

  tx(key: string): TxRow | undefined {
    const row = this.#get("SELECT * FROM txs WHERE key = ? ORDER BY created_at DESC LIMIT 1", key);
    return row ? toTx(row) : undefined;
  }

  txsIn(...states: TxState[]): TxRow[] {
    const marks = states.map(() => "?").join(", ");
    return this.#all(`SELECT * FROM txs WHERE state IN (${marks}) ORDER BY nonce`, ...states).map(toTx);
  }

  allTxs(): TxRow[] {
    return this.#all("SELECT * FROM txs ORDER BY created_at, nonce").map(toTx);
  }

  updateTx(hash: Hex, state: TxState, mined?: { blockNumber: bigint; gasUsed: bigint }): void {
    this.#run(
      "UPDATE txs SET state = ?, block_number = ?, gas_used = ?, updated_at = ? WHERE hash = ?",
      state,
      mined ? mined.blockNumber.toString() : null,
      mined ? mined.gasUsed.toString() : null,
      Date.now(),
      hash,
    );
  }

  /** Forgets a transaction that never made it (dropped, or orphaned by a reorg), so its key can be sent again. */
  retireTx(hash: Hex): void {
    this.#run(
      "UPDATE txs SET key = key || '#retired:' || hash, state = 'dropped', updated_at = ? WHERE hash = ?",
      Date.now(),
      hash,
    );
  }

  /**
   * Puts a retired (dropped) transaction back under `key` as "signed": re-signing the same call with the same nonce
   * and fees yields the same bytes, hence the same hash. Returns false if no retired transaction has that hash.
   */
  reviveTx(hash: Hex, key: string): boolean {
    return (
      this.#db.run("UPDATE txs SET key = ?, state = 'signed', updated_at = ? WHERE hash = ? AND state = 'dropped'", [
        key,
        Date.now(),
        hash,
      ]) > 0
    );
  }

  /** The highest nonce of the stored transactions in these states, if any. */
  maxTxNonce(...states: TxState[]): number | undefined {
    const marks = states.map(() => "?").join(", ");
    const row = this.#get(`SELECT MAX(nonce) AS n FROM txs WHERE state IN (${marks})`, ...states);
    return row?.n === null || row?.n === undefined ? undefined : (row.n as number);
  }

  /** Transactions recorded as mined or reverted in block `block` or later (what a reorg from it may orphan), by nonce. */
  txsMinedFrom(block: bigint): TxRow[] {
    return this.#all(
      "SELECT * FROM txs WHERE state IN ('mined', 'reverted') AND CAST(block_number AS BIGINT) >= ? ORDER BY nonce",
      Number(block),
    ).map(toTx);
  }

  // ---------------------------------------------------------------- reports, alerts, actions

  addReport(row: Omit<ReportRow, "id" | "createdAt">): void {
    this.#run(
      "INSERT INTO reports (provider, execution_id, step, reason, evidence, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      row.provider,
      row.executionId.toString(),
      row.step,
      row.reason,
      JSON.stringify(row.evidence),
      Date.now(),
    );
  }

  reports(): ReportRow[] {
    return this.#all("SELECT * FROM reports ORDER BY id").map((r) => ({
      id: r.id as number,
      provider: r.provider as Hex,
      executionId: BigInt(r.execution_id as string),
      step: r.step as number,
      reason: r.reason as string,
      evidence: JSON.parse(r.evidence as string) as Json,
      createdAt: r.created_at as number,
    }));
  }

  addAlert(rule: string, message: string, details: Json): void {
    this.#run(
      "INSERT INTO alerts (rule, message, details, created_at) VALUES (?, ?, ?, ?)",
      rule,
      message,
      JSON.stringify(details),
      Date.now(),
    );
  }

  alerts(): AlertRow[] {
    return this.#all("SELECT * FROM alerts ORDER BY id").map((r) => ({
      id: r.id as number,
      rule: r.rule as string,
      message: r.message as string,
      details: JSON.parse(r.details as string) as Json,
      createdAt: r.created_at as number,
    }));
  }

  recordAction(action: ActionRow): void {
    this.#run(
      "INSERT INTO actions (action_type, value, at) VALUES (?, ?, ?)",
      action.actionType,
      action.value.toString(),
      action.at,
    );
  }

  actionsSince(at: number): ActionRow[] {
    return this.#all("SELECT * FROM actions WHERE at >= ? ORDER BY at", at).map((r) => ({
      actionType: r.action_type as number,
      value: BigInt(r.value as string),
      at: r.at as number,
    }));
  }

  /** How many actions were logged at or after `at` (ms; default: ever), counted in SQL (no rows loaded). */
  actionCount(at = 0): number {
    return Number(this.#get("SELECT COUNT(*) AS n FROM actions WHERE at >= ?", at)?.n ?? 0);
  }

  /** Count and total value of every action of `actionType` ever logged (the anomaly rules' averages). */
  actionStats(actionType: number, valuedOnly = false): { count: number; total: bigint } {
    const where = valuedOnly ? "action_type = ? AND value != '0'" : "action_type = ?";
    const rows = this.#all(`SELECT value FROM actions WHERE ${where}`, actionType);
    return { count: rows.length, total: rows.reduce((sum, r) => sum + BigInt(r.value as string), 0n) };
  }

  /** Upkeep the keeper owes the protocol at `dueAt` (ms): expiring an execution, finalizing a workload. */
  addDuty(kind: string, id: bigint, dueAt: number): void {
    this.#run(
      "INSERT INTO duties (kind, id, due_at) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET due_at = excluded.due_at",
      kind,
      id.toString(),
      dueAt,
    );
  }

  dueDuties(now: number): { kind: string; id: bigint; dueAt: number }[] {
    return this.#all("SELECT * FROM duties WHERE due_at <= ? ORDER BY due_at", now).map((r) => ({
      kind: r.kind as string,
      id: BigInt(r.id as string),
      dueAt: r.due_at as number,
    }));
  }

  removeDuty(kind: string, id: bigint): void {
    this.#run("DELETE FROM duties WHERE kind = ? AND id = ?", kind, id.toString());
  }

  /** A small key-value table for flags that must survive restarts (e.g. safe mode). */
  flag(name: string): string | undefined {
    return this.#get("SELECT value FROM flags WHERE name = ?", name)?.value as string | undefined;
  }

  setFlag(name: string, value: string | undefined): void {
    if (value === undefined) this.#run("DELETE FROM flags WHERE name = ?", name);
    else
      this.#run(
        "INSERT INTO flags (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        name,
        value,
      );
  }

  // ---------------------------------------------------------------- internals

  #run(sql: string, ...params: SQLInputValue[]): void {
    this.#db.run(sql, params);
  }

  #get(sql: string, ...params: SQLInputValue[]): SqlRow | undefined {
    return this.#db.get(sql, params);
  }

  #all(sql: string, ...params: SQLInputValue[]): SqlRow[] {
    return this.#db.all(sql, params);
  }
}

function toExecution(r: SqlRow): ExecutionRow {
  return {
    executionId: BigInt(r.execution_id as string),
    workflowId: BigInt(r.workflow_id as string),
    level: r.level as number,
    inputsHash: r.inputs_hash as Hex,
    state: r.state as ExecutionState,
    reason: (r.reason as string | null) ?? null,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

function toTx(r: SqlRow): TxRow {
  return {
    key: r.key as string,
    hash: r.hash as Hex,
    nonce: r.nonce as number,
    raw: r.raw as Hex,
    state: r.state as TxState,
    blockNumber: r.block_number === null ? null : BigInt(r.block_number as string),
    gasUsed: r.gas_used === null ? null : BigInt(r.gas_used as string),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** Column types per dialect: SQLite's INTEGER holds 64 bits, PostgreSQL's does not (times in ms are BIGINT there). */
const COLUMN_TYPES: Record<SqlDatabase["dialect"], { int: string; serial: string }> = {
  sqlite: { int: "INTEGER", serial: "INTEGER PRIMARY KEY AUTOINCREMENT" },
  postgres: { int: "BIGINT", serial: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" },
};

/** A migration's SQL, written once with the dialect's column types put in. */
type Migration = (t: { int: string; serial: string }) => string;

/**
 * The migrations, in order: version n of the schema is the first n applied. Version 1 is the schema the keeper had
 * before versions were kept, with IF NOT EXISTS throughout, so an older SQLite database migrates to it as is.
 */
const MIGRATIONS: readonly Migration[] = [
  (t) => `
CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, block TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number ${t.int} PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inputs (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS input_signers (
  hash TEXT NOT NULL, signer TEXT NOT NULL, created_at ${t.int} NOT NULL, PRIMARY KEY (hash, signer));
CREATE TABLE IF NOT EXISTS read_grants (
  execution_id TEXT NOT NULL, reader TEXT NOT NULL, signer TEXT NOT NULL, issued_at ${t.int} NOT NULL,
  expiry ${t.int} NOT NULL, signature TEXT NOT NULL, created_at ${t.int} NOT NULL,
  PRIMARY KEY (execution_id, reader, signer, issued_at));
CREATE TABLE IF NOT EXISTS read_revocations (
  execution_id TEXT NOT NULL, reader TEXT NOT NULL, signer TEXT NOT NULL, through ${t.int} NOT NULL,
  signature TEXT NOT NULL, created_at ${t.int} NOT NULL, PRIMARY KEY (execution_id, reader, signer));
CREATE TABLE IF NOT EXISTS executions (
  execution_id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, level ${t.int} NOT NULL, inputs_hash TEXT NOT NULL,
  state TEXT NOT NULL, reason TEXT, created_at ${t.int} NOT NULL, updated_at ${t.int} NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
  execution_id TEXT NOT NULL, step ${t.int} NOT NULL, state TEXT NOT NULL, attempts ${t.int} NOT NULL,
  provider TEXT, result TEXT NOT NULL, provider_ms ${t.int} NOT NULL, total_ms ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL, PRIMARY KEY (execution_id, step));
CREATE TABLE IF NOT EXISTS txs (
  key TEXT NOT NULL UNIQUE, hash TEXT PRIMARY KEY, nonce ${t.int} NOT NULL, raw TEXT NOT NULL, state TEXT NOT NULL,
  block_number TEXT, gas_used TEXT, created_at ${t.int} NOT NULL, updated_at ${t.int} NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
  id ${t.serial}, provider TEXT NOT NULL, execution_id TEXT NOT NULL, step ${t.int} NOT NULL,
  reason TEXT NOT NULL, evidence TEXT NOT NULL, created_at ${t.int} NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id ${t.serial}, rule TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL,
  created_at ${t.int} NOT NULL);
CREATE TABLE IF NOT EXISTS actions (action_type ${t.int} NOT NULL, value TEXT NOT NULL, at ${t.int} NOT NULL);
CREATE INDEX IF NOT EXISTS actions_at ON actions (at);
CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS duties (kind TEXT NOT NULL, id TEXT NOT NULL, due_at ${t.int} NOT NULL, PRIMARY KEY (kind, id));
`,
];

/** Opens the database at `location`: PostgreSQL for a postgres:// URL, else SQLite (a file or ":memory:"). */
function openSqlDatabase(location: string): SqlDatabase {
  return isPostgresUrl(location) ? new PostgresDatabase(location) : new SqliteDatabase(location);
}

/** Creates or migrates the schema (one process at a time: SqlDatabase.migrating). */
function migrate(db: SqlDatabase): void {
  db.migrating(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const version = Number(db.get("SELECT MAX(version) AS v FROM schema_version", [])?.v ?? 0);
    if (version > MIGRATIONS.length)
      throw new Error(
        `the database's schema is at version ${version}, newer than this keeper's ${MIGRATIONS.length}: run a newer keeper`,
      );
    MIGRATIONS.slice(version).forEach((migration, i) => {
      db.exec(migration(COLUMN_TYPES[db.dialect]));
      db.run("INSERT INTO schema_version (version) VALUES (?)", [version + i + 1]);
    });
  });
}
