/**
 * Runs one execution's steps off chain (the orchestrator the verifiable workflow plan asks for, docs/design.md):
 * steps start as soon as their dependencies are done (parallel branches run side by side, at most `concurrency` at
 * once), each step's input is its mapping over the execution's inputs and its dependencies' outputs, each attempt
 * has a time limit (the step's timeout, never past the execution's deadline), failures are retried with
 * exponential backoff, on another provider when there is one, and the cost of every step is reserved against the
 * budget before it is dispatched. The first step that cannot be done stops the run: in-flight steps finish,
 * nothing new starts, and the reason is returned.
 *
 * Retry or give up is decided by the shared rules (common/errors.ts): a definitive error fails the step at once
 * (StepFailure: a problem of the workflow itself, no provider offers the step, the budget or the max time is
 * spent); a retryable one (a failed attempt, AttemptError) is tried again. Which failures use up a retry: a
 * provider fault (unreachable, busy, too slow, an answer that does not check out) moves the step to a provider not
 * tried yet for free; a retry is used when every candidate has been tried or the provider refused the request
 * itself.
 *
 * A provider that cannot be reached or does not answer in time is also marked unavailable for a back-off
 * (health.ts): until it ends, the provider comes after every other candidate, so the next steps go elsewhere; the
 * next attempt on it after the back-off is the probe. A provider killed with SIGKILL stays listed on chain; this is
 * what keeps the keeper from trying it first on every step.
 */
import type { Hex } from "viem";
import { setTimeout as sleep } from "node:timers/promises";

import { blindToHex, fieldToBytes32 } from "../../circuits/lib/field.js";
import { shortMessage } from "../common/chain.js";
import { classify, DefinitiveError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { ZERO_HASH, type OpenedStepResponse, type StepRequest } from "../../protocol/steps.js";
import { valueHash, valueHashHex, type Json } from "../../protocol/values.js";
import type { ProviderCatalog, ProviderOffer } from "../common/catalog.js";
import { AttemptError, type StepDispatcher } from "./dispatcher.js";
import type { ProviderHealth } from "./health.js";
import type { KeeperMetrics } from "./metrics.js";
import { applyMapping, type StepPlan, type WorkflowPlan } from "./workflow.js";

export interface StepResult {
  step: number;
  provider: Hex;
  /** The checked answer, its output opened (the store keeps it sealed: protocol/steps.ts sealedAnswer). */
  answer: OpenedStepResponse;
  attempts: number;
  providerMillis: number;
  totalMillis: number;
}

export interface ExecutionJob {
  executionId: bigint;
  plan: WorkflowPlan;
  inputs: Json;
  /** The execution's secret blind (protocol/values.ts): every value hash is taken under it; each request carries it sealed with the input. */
  blind: bigint;
  inputsHash: Hex;
  budget: bigint;
  /** ms since the epoch past which nothing may run (the execution's max time). */
  deadline: number;
  /** Steps already done (an execution resumed after a restart). */
  done: ReadonlyMap<number, StepResult>;
  /** Called once per finished step, before any dependent starts: persist it. */
  onStepDone(result: StepResult): Promise<void> | void;
  signal?: AbortSignal;
}

export type RunOutcome =
  { ok: true; results: Map<number, StepResult> } | { ok: false; reason: string; results: Map<number, StepResult> };

export interface OrchestratorOptions {
  catalog: Pick<ProviderCatalog, "candidates" | "noteFailure" | "quarantine" | "acquire" | "release">;
  dispatcher: Pick<StepDispatcher, "attempt">;
  logger: Logger;
  metrics?: KeeperMetrics;
  /** An answer that does not check out: evidence for slashing. */
  onInvalid(offer: ProviderOffer, executionId: bigint, step: number, error: AttemptError): void;
  /** Steps of one execution in flight at once. */
  concurrency: number;
  /** A step's time limit when its spec says 0. */
  defaultStepTimeoutMs: number;
  /** How long a provider whose answer did not check out is left out. */
  quarantineMs: number;
  /** The providers held unavailable after a failure to reach them (health.ts). */
  health: ProviderHealth;
}

/** The step cannot be done: the run stops and the execution fails with this reason. */
class StepFailure extends DefinitiveError {
  override name = "StepFailure";
}

export class Orchestrator {
  readonly #logger: Logger;
  readonly #health: ProviderHealth;

  constructor(private readonly options: OrchestratorOptions) {
    this.#logger = options.logger.child({ module: "orchestrator" });
    this.#health = options.health;
  }

  async run(job: ExecutionJob): Promise<RunOutcome> {
    const results = new Map(job.done);
    const budget = new Budget(
      job.budget,
      [...results.values()].reduce((s, r) => s + BigInt(r.answer.record.cost), 0n),
    );
    const running = new Map<number, Promise<void>>();
    let failure: string | undefined;

    const ready = () =>
      job.plan.order.filter(
        (i) => !results.has(i) && !running.has(i) && job.plan.steps[i]?.deps.every((d) => results.has(d)),
      );

    while (results.size < job.plan.steps.length) {
      if (failure === undefined) {
        for (const i of ready()) {
          if (running.size >= this.options.concurrency) break;
          const step = job.plan.steps[i];
          if (step === undefined) continue;
          const task = (async () => {
            try {
              const result = await this.#runStep(job, step, results, budget);
              await job.onStepDone(result);
              results.set(i, result);
            } catch (error) {
              failure ??= error instanceof StepFailure ? error.message : `step ${i}: ${(error as Error).message}`;
            }
          })();
          running.set(
            i,
            task.finally(() => running.delete(i)),
          );
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    if (failure !== undefined) return { ok: false, reason: failure, results };
    if (results.size < job.plan.steps.length) return { ok: false, reason: "steps left that cannot start", results };
    return { ok: true, results };
  }

  async #runStep(
    job: ExecutionJob,
    step: StepPlan,
    results: ReadonlyMap<number, StepResult>,
    budget: Budget,
  ): Promise<StepResult> {
    const started = Date.now();
    const outputs = new Map([...results].map(([i, r]) => [i, r.answer.output]));
    let input: Json;
    try {
      input = applyMapping(step.mapping, job.inputs, outputs, `steps[${step.index}].inputMapping`);
    } catch (error) {
      throw new StepFailure((error as Error).message);
    }
    const proven = job.plan.level !== "basic";
    const sources =
      step.deps.length === 0 ? [job.inputsHash] : step.deps.map((d) => valueHashHex(outputs.get(d) ?? null, job.blind));
    // Problems of the workflow itself (an input that has no hash, a proven step that does not read exactly its
    // source) fail the step here: no provider is blamed for them.
    let inputHash: bigint;
    try {
      inputHash = valueHash(input, job.blind);
    } catch (error) {
      throw new StepFailure(`step ${step.index}: input: ${(error as Error).message}`);
    }
    const proof = step.requiresProof && job.plan.level === "zk";
    if (proof && (sources.length !== 1 || BigInt(sources[0] ?? 0) !== inputHash)) {
      throw new StepFailure(
        `step ${step.index}: a proven inference must read exactly its one source (input mapping changes it)`,
      );
    }
    const tried = new Set<Hex>();
    let retriesLeft = step.maxRetries;
    let retry = 0;
    let attempts = 0;
    let lastError = "no attempt made";
    for (;;) {
      if (job.signal?.aborted) throw new StepFailure(`step ${step.index}: keeper shutting down`);
      const left = job.deadline - Date.now();
      if (left <= 0) throw new StepFailure(`step ${step.index}: the execution's max time has passed (${lastError})`);
      // The catalog's order, with the providers held unavailable last (health.ts).
      const all = this.#health.order(this.options.catalog.candidates(step.stepType, step.model));
      if (all.length === 0)
        throw new StepFailure(`step ${step.index}: no active provider offers ${step.stepType} for model ${step.model}`);
      const fresh = all.filter((o) => !tried.has(o.address));
      // An untried provider first; when none of those is affordable, any affordable one (a retry).
      const offer = fresh.find((o) => budget.canReserve(o.price)) ?? all.find((o) => budget.canReserve(o.price));
      if (offer === undefined) {
        throw new StepFailure(
          `step ${step.index}: budget exhausted (cheapest provider asks ${minPrice(all)}, ${budget.left()} left)`,
        );
      }
      const firstTry = !tried.has(offer.address);
      tried.add(offer.address);
      attempts += 1;
      const request: StepRequest = {
        executionId: job.executionId.toString(),
        step: step.index,
        stepType: step.stepType,
        model: step.model,
        input,
        blind: blindToHex(job.blind),
        // Hashed once above, kept with the step: signing the request and checking the answer reuse it.
        inputHash: proven ? ZERO_HASH : fieldToBytes32(inputHash),
        ...(proven ? { transcript: { sources } } : {}),
        proof,
        // The provider's on-chain price caps what it may charge (the budget reserved it above); a provider that
        // raised it since the catalog was read refuses (422) instead of answering with a cost called invalid.
        maxCost: offer.price.toString(),
        timeoutMs: Math.max(1, Math.min(step.timeoutMs || this.options.defaultStepTimeoutMs, left)),
      };
      budget.reserve(offer.price);
      this.options.catalog.acquire(offer.address);
      const t0 = Date.now();
      try {
        const answer = await this.options.dispatcher
          .attempt(offer, request, request.timeoutMs, job.signal)
          .finally(() => {
            this.options.catalog.release(offer.address);
          });
        budget.settle(offer.price, BigInt(answer.record.cost));
        this.#health.answered(offer.address);
        const providerMillis = Date.now() - t0;
        this.options.metrics?.step("done");
        this.options.metrics?.stepDuration("provider", providerMillis / 1000);
        this.options.metrics?.stepDuration("keeper", (Date.now() - started - providerMillis) / 1000);
        return {
          step: step.index,
          provider: offer.address,
          answer,
          attempts,
          providerMillis,
          totalMillis: Date.now() - started,
        };
      } catch (caught) {
        budget.release(offer.price);
        if (classify(caught) === "definitive") throw caught;
        // Retryable: a failed attempt (the dispatcher throws nothing else); anything retryable counts as unavailable.
        const error = caught instanceof AttemptError ? caught : new AttemptError("unavailable", shortMessage(caught));
        lastError = `${offer.endpoint}: ${error.message}`;
        this.options.catalog.noteFailure(offer.address);
        // A keeper shutting down cancels its attempts: that says nothing about the provider.
        if (job.signal?.aborted !== true) this.#health.failed(offer.address, offer.endpoint, error.kind, error.message);
        this.options.metrics?.providerFailure(error.kind);
        this.options.metrics?.step(error.kind === "invalid" ? "rejected" : "retried");
        this.#logger.warn(
          { executionId: job.executionId.toString(), step: step.index, provider: offer.address, kind: error.kind },
          error.message,
        );
        if (error.kind === "invalid") {
          this.options.onInvalid(offer, job.executionId, step.index, error);
          this.options.catalog.quarantine(offer.address, this.options.quarantineMs, error.message);
        }
        const free = firstTry && error.kind !== "refused" && fresh.length > 1;
        if (!free) {
          if (retriesLeft === 0) {
            this.options.metrics?.step("failed");
            throw new StepFailure(`step ${step.index}: failed after ${retry + 1} tries (${lastError})`);
          }
          retriesLeft -= 1;
          retry += 1;
          const wait = Math.max(error.retryAfterMs, step.backoffMs * 2 ** (retry - 1));
          if (wait > 0)
            await sleep(Math.min(wait, Math.max(0, job.deadline - Date.now())), undefined, {
              signal: job.signal,
            }).catch(() => undefined);
        }
      }
    }
  }
}

/** The execution's budget: spent (answers accepted) plus reserved (attempts in flight) never exceeds it. */
class Budget {
  #reserved = 0n;
  constructor(
    private readonly total: bigint,
    private spent: bigint,
  ) {}
  left(): bigint {
    return this.total - this.spent - this.#reserved;
  }
  canReserve(price: bigint): boolean {
    return price <= this.left();
  }
  reserve(price: bigint): void {
    this.#reserved += price;
  }
  release(price: bigint): void {
    this.#reserved -= price;
  }
  settle(price: bigint, cost: bigint): void {
    this.#reserved -= price;
    this.spent += cost;
  }
}

function minPrice(offers: readonly ProviderOffer[]): bigint {
  return offers.reduce((m, o) => (o.price < m ? o.price : m), offers[0]?.price ?? 0n);
}
