/**
 * The keeper's Prometheus metrics (prom-client). Every metric is named `aitbc_keeper_*` and lives in a registry
 * owned by one KeeperMetrics (not prom-client's global one), so that several keepers, or a keeper and a
 * provider node, can share a process (and tests can create as many as they like) without name clashes. The
 * registry also carries prom-client's default process metrics (`process_resident_memory_bytes`, ...).
 *
 * keepers/dashboards/keeper.json is the Grafana dashboard for exactly these metrics; a test checks that every
 * metric it queries exists here.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from "prom-client";

import { SUPPORT_CODES, type Support } from "../../protocol/enums.js";

export const METRIC_PREFIX = "aitbc_keeper_";

export const STEP_OUTCOMES = ["done", "failed", "retried", "rejected"] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];
export const STEP_PHASES = ["provider", "keeper"] as const;
export type StepPhase = (typeof STEP_PHASES)[number];
export const TX_OUTCOMES = ["mined", "reverted", "dropped"] as const;
export type TxOutcome = (typeof TX_OUTCOMES)[number];
export const EXECUTION_OUTCOMES = ["completed", "failed"] as const;
export type ExecutionOutcome = (typeof EXECUTION_OUTCOMES)[number];
/** GovernorCountingSimple's vote types, as the governance voter casts them. */

/** Step latency buckets (seconds): from a 5 ms local step to a 2 minute inference call. */
export const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Proof generation buckets (seconds): Groth16 proofs of our circuits take from a fraction of a second to minutes. */
export const PROOF_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface KeeperMetricsOptions {
  /** Collect prom-client's default process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Labels added to every series (e.g. { keeper: "0xabc.." }). */
  labels?: Record<string, string>;
}

export class KeeperMetrics {
  readonly registry = new Registry();

  readonly #steps: Counter<"outcome">;
  readonly #stepDuration: Histogram<"phase">;
  readonly #proofDuration: Histogram<"circuit">;
  readonly #chainLag: Gauge;
  readonly #rpcErrors: Counter;
  readonly #pendingTxs: Gauge;
  readonly #txs: Counter<"outcome">;
  readonly #executions: Counter<"outcome">;
  readonly #executionsRunning: Gauge;
  readonly #safeMode: Gauge;
  readonly #alerts: Counter<"rule">;
  readonly #slashReports: Counter;
  readonly #providerFailures: Counter<"reason">;
  readonly #votes: Counter<"support">;

  constructor(options: KeeperMetricsOptions = {}) {
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const name = (suffix: string) => METRIC_PREFIX + suffix;

    this.#steps = new Counter({
      name: name("steps_total"),
      help: "Workflow steps by outcome: done, failed (retries exhausted), retried (an attempt failed), rejected (invalid result)",
      labelNames: ["outcome"],
      registers,
    });
    this.#stepDuration = new Histogram({
      name: name("step_duration_seconds"),
      help: "Time of successful steps: spent by the provider (provider) and by the keeper around the provider call (keeper)",
      labelNames: ["phase"],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.#proofDuration = new Histogram({
      name: name("proof_duration_seconds"),
      help: "Time to generate one Groth16 proof, by circuit",
      labelNames: ["circuit"],
      buckets: PROOF_BUCKETS,
      registers,
    });
    this.#chainLag = new Gauge({
      name: name("chain_lag_blocks"),
      help: "Blocks between the chain head and the event follower's checkpoint",
      registers,
    });
    this.#rpcErrors = new Counter({ name: name("rpc_errors_total"), help: "Failed JSON-RPC requests", registers });
    this.#pendingTxs = new Gauge({
      name: name("pending_transactions"),
      help: "Transactions signed or sent and not yet mined",
      registers,
    });
    this.#txs = new Counter({
      name: name("transactions_total"),
      help: "Transactions by final outcome: mined, reverted, dropped",
      labelNames: ["outcome"],
      registers,
    });
    this.#executions = new Counter({
      name: name("executions_total"),
      help: "Workflow executions finished, by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.#executionsRunning = new Gauge({
      name: name("executions_running"),
      help: "Workflow executions the keeper is driving now",
      registers,
    });
    this.#safeMode = new Gauge({
      name: name("safe_mode"),
      help: "1 while the safety monitor holds the keeper in safe mode (it takes no action as an agent), else 0",
      registers,
    });
    this.#alerts = new Counter({
      name: name("alerts_total"),
      help: "Safety alerts raised, by rule",
      labelNames: ["rule"],
      registers,
    });
    this.#slashReports = new Counter({
      name: name("slash_reports_total"),
      help: "Misbehaving-provider reports filed (slashing evidence)",
      registers,
    });
    this.#providerFailures = new Counter({
      name: name("provider_failures_total"),
      help: "Failed provider calls, by reason (timeout, http, bad-signature, invalid-output, ...)",
      labelNames: ["reason"],
      registers,
    });
    this.#votes = new Counter({
      name: name("votes_total"),
      help: "Governance votes cast by the keeper's voter, by support: for, against, abstain",
      labelNames: ["support"],
      registers,
    });
    this.#zeroKnownSeries();
  }

  /**
   * Creates the series of every known label value at 0, so that dashboards and `rate()` see a series from the
   * first scrape instead of "no data" until the first event of each kind.
   */
  #zeroKnownSeries(): void {
    for (const outcome of STEP_OUTCOMES) this.#steps.inc({ outcome }, 0);
    for (const outcome of TX_OUTCOMES) this.#txs.inc({ outcome }, 0);
    for (const outcome of EXECUTION_OUTCOMES) this.#executions.inc({ outcome }, 0);
    for (const support of Object.keys(SUPPORT_CODES)) this.#votes.inc({ support }, 0);
    for (const phase of STEP_PHASES) this.#stepDuration.zero({ phase });
    this.#safeMode.set(0);
    this.#chainLag.set(0);
    this.#pendingTxs.set(0);
    this.#executionsRunning.set(0);
  }

  /** Counts one step outcome. */
  step(outcome: StepOutcome): void {
    this.#steps.inc({ outcome });
  }

  /** Observes a step's duration in one phase (seconds). */
  stepDuration(phase: StepPhase, seconds: number): void {
    this.#stepDuration.observe({ phase }, seconds);
  }

  /** Observes one proof's generation time (seconds). */
  proofDuration(circuit: string, seconds: number): void {
    this.#proofDuration.observe({ circuit }, seconds);
  }

  /** Starts timing a proof; call the returned function when it is done. */
  startProofTimer(circuit: string): () => number {
    return this.#proofDuration.startTimer({ circuit });
  }

  chainLag(blocks: number | bigint): void {
    this.#chainLag.set(Number(blocks));
  }

  rpcError(): void {
    this.#rpcErrors.inc();
  }

  pendingTransactions(count: number): void {
    this.#pendingTxs.set(count);
  }

  transaction(outcome: TxOutcome): void {
    this.#txs.inc({ outcome });
  }

  execution(outcome: ExecutionOutcome): void {
    this.#executions.inc({ outcome });
  }

  executionsRunning(count: number): void {
    this.#executionsRunning.set(count);
  }

  safeMode(on: boolean): void {
    this.#safeMode.set(on ? 1 : 0);
  }

  alert(rule: string): void {
    this.#alerts.inc({ rule });
  }

  slashReport(): void {
    this.#slashReports.inc();
  }

  providerFailure(reason: string): void {
    this.#providerFailures.inc({ reason });
  }

  /** Counts one governance vote cast. */
  vote(support: Support): void {
    this.#votes.inc({ support });
  }

  /** The Prometheus text exposition of every metric in the registry (serve it at /metrics). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type header that goes with {metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Every series name the registry exposes: a counter's name, a histogram's `_bucket`, `_sum` and `_count`
   * series (what a PromQL query can select).
   */
  seriesNames(): Set<string> {
    const names = new Set<string>();
    for (const metric of this.registry.getMetricsAsArray()) {
      if (metric instanceof Histogram || metric instanceof Summary) {
        for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
      }
      names.add(metric.name);
    }
    return names;
  }
}
