/**
 * The agent's memory: durable experiences (the context a decision was taken in, the action, its outcome and the
 * figures), its open bids and work, all in the agent's SQLite store (the same file as keepers/common/store.ts's
 * tables, through a connection of its own; WAL lets both write).
 *
 * What may be remembered is decided by the types: an experience is written only with `Evidence`, either a chain
 * log (transaction hash and log index: what the chain said happened, e.g. WorkloadSettled with the amount paid) or
 * a check the agent ran itself (`self`, naming it). A counterparty's word has no way in: no route of the agent's
 * server writes experiences, and the input a client posts is kept only once it hashes to the inputHash the client
 * committed to on chain. An experience is stored once per piece of evidence (a re-delivered log changes nothing).
 *
 * Bounded: past `maxExperiences` the oldest are deleted as new ones come in. Queryable: by kind, service, workload
 * and time, and summed over a window for the circuit breakers.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";

import type { Hex } from "viem";

import type { Json } from "../protocol/values.js";

/** The last two are a validator's: a dispute it ruled on, one it declined to rule on (with the reason). */
export type ExperienceKind = "settled" | "lost" | "disputed" | "slashed" | "refunded" | "ruled" | "declined";

/** Why the agent may believe an outcome. */
export type Evidence = { chain: { transactionHash: Hex; logIndex: number; blockNumber: bigint } } | { self: string };

export interface Experience {
  id: number;
  at: number;
  kind: ExperienceKind;
  workloadId: bigint;
  service: string;
  context: Json;
  action: Json;
  outcome: string;
  figures: Json;
  /** wei, signed: what the outcome earned (negative: a loss). */
  profit: bigint;
  /** Where the outcome was read: `chain:<tx>:<logIndex>` or `self:<check>`. */
  source: string;
}

export type BidState = "sent" | "won" | "lost" | "submitted" | "closed";

export interface BidRow {
  workloadId: bigint;
  round: number;
  service: string;
  serviceId: Hex;
  units: bigint;
  pricePerUnit: bigint;
  reason: string;
  decision: Json;
  context: Json;
  state: BidState;
  /** Chain time (unix s) after which the result is no longer taken (set at award). */
  executionDeadline: bigint;
}

export interface WindowSummary {
  losses: bigint;
  disputes: number;
  slashes: number;
}

export class AgentMemory {
  readonly #db: DatabaseSync;
  readonly maxExperiences: number;

  constructor(file: string, options: { maxExperiences?: number } = {}) {
    this.maxExperiences = options.maxExperiences ?? 10_000;
    if (!Number.isInteger(this.maxExperiences) || this.maxExperiences < 1)
      throw new RangeError(`memory.maxExperiences: must be a positive integer (got ${this.maxExperiences})`);
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    this.#db.exec(SCHEMA);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  // ---------------------------------------------------------------- experiences

  /**
   * Stores an experience once per piece of evidence; false when that evidence was stored before (then `learn` is
   * not called). `learn` runs for a new experience inside the same SQLite transaction, and the strategy state it
   * returns is stored with it: an outcome is learned from exactly once, even across a crash.
   */
  remember(
    experience: Omit<Experience, "id" | "at" | "source"> & { at?: number },
    evidence: Evidence,
    learn?: () => { strategy: string; state: Json } | undefined,
  ): boolean {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const stored = this.#insert(experience, evidence);
      if (stored) {
        const learned = learn?.();
        if (learned !== undefined) this.#saveState(learned.strategy, learned.state);
      }
      this.#db.exec("COMMIT");
      return stored;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** What a strategy learned, as it last stored it. */
  strategyState(strategy: string): Json | undefined {
    const row = this.#db.prepare("SELECT state FROM strategy_state WHERE strategy = ?").get(strategy);
    return row === undefined ? undefined : (JSON.parse(row.state as string) as Json);
  }

  #saveState(strategy: string, state: Json): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO strategy_state (strategy, state, updated_at) VALUES (?, ?, ?)")
      .run(strategy, JSON.stringify(state), Date.now());
  }

  #insert(experience: Omit<Experience, "id" | "at" | "source"> & { at?: number }, evidence: Evidence): boolean {
    const source =
      "chain" in evidence
        ? `chain:${evidence.chain.transactionHash}:${evidence.chain.logIndex}`
        : `self:${evidence.self}`;
    if ("self" in evidence && evidence.self.trim() === "") throw new Error("memory: self evidence must name its check");
    const result = this.#db
      .prepare(
        `INSERT OR IGNORE INTO experiences (at, kind, workload_id, service, context, action, outcome, figures, profit, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        experience.at ?? Date.now(),
        experience.kind,
        experience.workloadId.toString(),
        experience.service,
        JSON.stringify(experience.context),
        JSON.stringify(experience.action),
        experience.outcome,
        JSON.stringify(experience.figures),
        experience.profit.toString(),
        source,
      );
    if (result.changes === 0) return false;
    this.#db
      .prepare("DELETE FROM experiences WHERE id <= (SELECT MAX(id) FROM experiences) - ?")
      .run(this.maxExperiences);
    return true;
  }

  /** Experiences, newest first, filtered. */
  experiences(
    query: { kind?: ExperienceKind; service?: string; workloadId?: bigint; since?: number; limit?: number } = {},
  ): Experience[] {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.kind !== undefined) where.push("kind = ?") && params.push(query.kind);
    if (query.service !== undefined) where.push("service = ?") && params.push(query.service);
    if (query.workloadId !== undefined) where.push("workload_id = ?") && params.push(query.workloadId.toString());
    if (query.since !== undefined) where.push("at >= ?") && params.push(query.since);
    const sql = `SELECT * FROM experiences ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    params.push(query.limit ?? 100);
    return this.#db
      .prepare(sql)
      .all(...params)
      .map(toExperience);
  }

  count(): number {
    return Number(this.#db.prepare("SELECT COUNT(*) AS n FROM experiences").get()?.n ?? 0);
  }

  /** Losses (the negative profits, as a positive sum), disputes and slashes since `since` (ms). */
  summary(since: number): WindowSummary {
    let losses = 0n;
    let disputes = 0;
    let slashes = 0;
    for (const row of this.#db.prepare("SELECT kind, profit FROM experiences WHERE at >= ?").all(since)) {
      const profit = BigInt(row.profit as string);
      if (profit < 0n) losses -= profit;
      if (row.kind === "disputed") disputes += 1;
      if (row.kind === "slashed") slashes += 1;
    }
    return { losses, disputes, slashes };
  }

  // ---------------------------------------------------------------- bids and work

  addBid(row: Omit<BidRow, "state" | "executionDeadline">): void {
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO bids (workload_id, round, service, service_id, units, price, reason, decision, context, state, execution_deadline)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', '0')`,
      )
      .run(
        row.workloadId.toString(),
        row.round,
        row.service,
        row.serviceId,
        row.units.toString(),
        row.pricePerUnit.toString(),
        row.reason,
        JSON.stringify(row.decision),
        JSON.stringify(row.context),
      );
  }

  /** The latest round's bid on a workload. */
  bid(workloadId: bigint): BidRow | undefined {
    const row = this.#db
      .prepare("SELECT * FROM bids WHERE workload_id = ? ORDER BY round DESC LIMIT 1")
      .get(workloadId.toString());
    return row === undefined ? undefined : toBid(row);
  }

  bidsIn(...states: BidState[]): BidRow[] {
    return this.#db
      .prepare(`SELECT * FROM bids WHERE state IN (${states.map(() => "?").join(", ")}) ORDER BY workload_id`)
      .all(...states)
      .map(toBid);
  }

  setBidState(workloadId: bigint, round: number, state: BidState, executionDeadline?: bigint): void {
    this.#db
      .prepare(
        "UPDATE bids SET state = ?, execution_deadline = COALESCE(?, execution_deadline) WHERE workload_id = ? AND round = ?",
      )
      .run(state, executionDeadline?.toString() ?? null, workloadId.toString(), round);
  }

  /** Units bid and not yet decided or delivered, per service: what the free capacity must leave room for. */
  committedUnits(service: string): bigint {
    let units = 0n;
    for (const row of this.#db
      .prepare("SELECT units FROM bids WHERE service = ? AND state IN ('sent', 'won')")
      .all(service))
      units += BigInt(row.units as string);
    return units;
  }

  /** A client's input, checked against the chain's inputHash by the caller, with its blind. */
  putInput(workloadId: bigint, input: Json, blind: bigint): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO work (workload_id, input, blind, output) VALUES (?, ?, ?, NULL)")
      .run(workloadId.toString(), JSON.stringify(input), blind.toString());
  }

  work(workloadId: bigint): { input: Json; blind: bigint; output: Json | undefined } | undefined {
    const row = this.#db.prepare("SELECT * FROM work WHERE workload_id = ?").get(workloadId.toString());
    if (row === undefined) return undefined;
    return {
      input: JSON.parse(row.input as string) as Json,
      blind: BigInt(row.blind as string),
      output: row.output === null ? undefined : (JSON.parse(row.output as string) as Json),
    };
  }

  putOutput(workloadId: bigint, output: Json): void {
    this.#db
      .prepare("UPDATE work SET output = ? WHERE workload_id = ?")
      .run(JSON.stringify(output), workloadId.toString());
  }

  // ---------------------------------------------------------------- subcontracts (the arbitrageur)

  /**
   * The arbitrageur's plan for subcontracting `workloadId`'s `round`: the blind its nested workload's input is
   * committed under, and the quote it is priced by. Stored (synchronously, durably) before the nested workload is
   * posted, so a restart posts, hands over and checks under the same blind: a fresh one would not match the
   * inputHash already on chain, and the work would end in a slash.
   */
  putSubcontract(workloadId: bigint, round: number, plan: { blind: bigint; quote: Json }): void {
    this.#db
      .prepare("INSERT OR IGNORE INTO subcontracts (workload_id, round, blind, quote) VALUES (?, ?, ?, ?)")
      .run(workloadId.toString(), round, plan.blind.toString(), JSON.stringify(plan.quote));
  }

  subcontract(workloadId: bigint, round: number): { blind: bigint; quote: Json } | undefined {
    const row = this.#db
      .prepare("SELECT blind, quote FROM subcontracts WHERE workload_id = ? AND round = ?")
      .get(workloadId.toString(), round);
    if (row === undefined) return undefined;
    return { blind: BigInt(row.blind as string), quote: JSON.parse(row.quote as string) as Json };
  }
}

function toExperience(r: Record<string, SQLInputValue>): Experience {
  return {
    id: Number(r.id),
    at: Number(r.at),
    kind: r.kind as ExperienceKind,
    workloadId: BigInt(r.workload_id as string),
    service: r.service as string,
    context: JSON.parse(r.context as string) as Json,
    action: JSON.parse(r.action as string) as Json,
    outcome: r.outcome as string,
    figures: JSON.parse(r.figures as string) as Json,
    profit: BigInt(r.profit as string),
    source: r.source as string,
  };
}

function toBid(r: Record<string, SQLInputValue>): BidRow {
  return {
    workloadId: BigInt(r.workload_id as string),
    round: Number(r.round),
    service: r.service as string,
    serviceId: r.service_id as Hex,
    units: BigInt(r.units as string),
    pricePerUnit: BigInt(r.price as string),
    reason: r.reason as string,
    decision: JSON.parse(r.decision as string) as Json,
    context: JSON.parse(r.context as string) as Json,
    state: r.state as BidState,
    executionDeadline: BigInt(r.execution_deadline as string),
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS experiences (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, workload_id TEXT NOT NULL,
  service TEXT NOT NULL, context TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, figures TEXT NOT NULL,
  profit TEXT NOT NULL, source TEXT NOT NULL UNIQUE);
CREATE INDEX IF NOT EXISTS experiences_at ON experiences (at);
CREATE TABLE IF NOT EXISTS bids (
  workload_id TEXT NOT NULL, round INTEGER NOT NULL, service TEXT NOT NULL, service_id TEXT NOT NULL,
  units TEXT NOT NULL, price TEXT NOT NULL, reason TEXT NOT NULL, decision TEXT NOT NULL, context TEXT NOT NULL,
  state TEXT NOT NULL, execution_deadline TEXT NOT NULL, PRIMARY KEY (workload_id, round));
CREATE TABLE IF NOT EXISTS strategy_state (strategy TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS work (
  workload_id TEXT PRIMARY KEY, input TEXT NOT NULL, blind TEXT NOT NULL, output TEXT);
CREATE TABLE IF NOT EXISTS subcontracts (
  workload_id TEXT NOT NULL, round INTEGER NOT NULL, blind TEXT NOT NULL, quote TEXT NOT NULL,
  PRIMARY KEY (workload_id, round));
`;
