/**
 * The life of an execution the keeper runs, driven from the chain's state every time (so a restart, a crash at
 * any line, or a reorg only ever resumes it):
 *
 *   requested --claim--> running --steps on providers--> recorded --complete--> completed
 *                                                    \--failExecution(reason)--> failed
 *
 * - Claim: only executions naming this keeper (or none), and only once the client's inputs are here (POSTed to
 *   the keeper's API, content-addressed by their hash) signed by the execution's client on chain: inputs with the
 *   same hash posted by anyone else count as missing (logged `inputs-not-from-client`).
 * - Steps run through the Orchestrator; each accepted answer is stored before anything else happens.
 * - Basic level: stored steps are recorded in batches while the run goes on (a batch is whatever finished while
 *   the previous batch's transaction was mined). Full / Zk: once every step is done, the transcript is proven
 *   chunk by chunk (warm prover) and each chunk recorded with its proof and the providers' inference proofs.
 * - Every transaction goes through the TxSender under a key naming the action, after the safety monitor.
 * What is recorded on chain (`doneMask`) always wins over what the store says.
 */
import { keccak256, toHex, type PublicClient, type Hex, type TypedDataDomain } from "viem";

import { fieldToBytes32 } from "../../circuits/lib/field.js";
import type { Prover } from "../../circuits/lib/prover.js";
import { buildTranscript, chunkCount } from "../../circuits/lib/workflow.js";
import { WORKFLOW_CHUNK } from "../../circuits/circuits.js";
import type { Addresses } from "../../protocol/addresses.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import { proofStruct, proveChunk } from "../../protocol/proofs.js";
import { workflowsAbi } from "../../protocol/abi.js";
import { RepeatedLog, type Logger } from "../common/log.js";
import { openSealedInputs } from "../../protocol/keeper-api.js";
import { sealedSchema, type EncryptionKeys } from "../../protocol/sealed.js";
import {
  openStepResponse,
  sealedAnswer,
  solidityProofOf,
  stepResponseSchema,
  type ParsedStepResponse,
} from "../../protocol/steps.js";
import { valueHash, type Json } from "../../protocol/values.js";
import type { KeeperMetrics } from "./metrics.js";
import type { Orchestrator, StepResult } from "./orchestrator.js";
import type { SafetyMonitor } from "../common/safety.js";
import type { ExecutionRow, Store } from "../common/store.js";
import { TxRevertedError, type TxSender } from "../common/txs.js";
import { fetchWorkflowSpec, planWorkflow, specHashOf, SpecUnavailableError, type WorkflowPlan } from "./workflow.js";

/** IWorkflows.ExecutionStatus. */
const STATUS = { None: 0, Pending: 1, Running: 2, Completed: 3, Failed: 4 } as const;
const RUN_WORKFLOW = ACTION_TYPES["run-workflow"];
/** Rough gas per action, for the safety monitor's daily gas check (the chain measures the real figure). */
const GAS = { claim: 150_000n, recordBase: 80_000n, recordStep: 60_000n, provenChunk: 1_500_000n, complete: 150_000n };

export interface ExecutionManagerOptions {
  client: PublicClient;
  addresses: Pick<Addresses, "workflows">;
  keeper: Hex;
  agentId: bigint;
  store: Store;
  txs: TxSender;
  safety: SafetyMonitor;
  orchestrator: Orchestrator;
  prover: Prover;
  logger: Logger;
  metrics: KeeperMetrics;
  /** Where to look for WorkflowDefined events. */
  fromBlock: bigint;
  /** Most step records per recordSteps transaction. */
  recordBatch: number;
  /** Claim executions that name no keeper (open to any agent). */
  claimOpen: boolean;
  /** The fee it asks per completed execution (wei; keeperFeeFor bounds it). */
  keeperFee?: bigint;
  /** The keeper's encryption keys: the stored inputs and answers are sealed to them. */
  keys: EncryptionKeys;
  /** The Workflows EIP-712 domain (the sealing contexts' chain and deployment). */
  domain: TypedDataDomain;
}

/** A stored step: its answer as stored, the output sealed to the keeper (what recording needs). */
type StoredStep = Omit<StepResult, "answer"> & { answer: ParsedStepResponse };

/**
 * The keeper's fee for completing `execution`: what it asks, at most what the client accepted (maxKeeperFee) and
 * what the recorded steps left of the budget (Workflows.completeExecution refuses more).
 */
export function keeperFeeFor(
  asked: bigint,
  execution: { maxKeeperFee: bigint; budget: bigint; spent: bigint },
): bigint {
  const left = execution.budget - execution.spent;
  const cap = execution.maxKeeperFee < left ? execution.maxKeeperFee : left;
  return asked < cap ? asked : cap;
}

export class ExecutionManager {
  readonly #plans = new Map<bigint, Promise<WorkflowPlan>>();
  readonly #driving = new Map<bigint, Promise<void>>();
  readonly #again = new Set<bigint>();
  readonly #abort = new AbortController();
  readonly #logger: Logger;
  readonly #repeated: RepeatedLog;

  constructor(private readonly o: ExecutionManagerOptions) {
    this.#logger = o.logger.child({ module: "executions" });
    this.#repeated = new RepeatedLog(this.#logger);
  }

  /** An ExecutionRequested event (at-least-once). */
  async onRequested(ev: { executionId: bigint; workflowId: bigint; inputsHash: Hex; keeper: Hex }): Promise<void> {
    const named = ev.keeper.toLowerCase();
    if (named !== this.o.keeper.toLowerCase() && !(this.o.claimOpen && /^0x0{40}$/.test(named))) return;
    const known = this.o.store.execution(ev.executionId);
    if (known && (known.inputsHash !== ev.inputsHash || known.workflowId !== ev.workflowId)) {
      // The id now names another request (a reorg replaced the one we knew): start over.
      this.#logger.warn(
        { executionId: ev.executionId.toString() },
        "execution id reused after a reorg; forgetting the old one",
      );
      this.o.store.dropExecution(ev.executionId);
    }
    let plan: WorkflowPlan;
    try {
      plan = await this.plan(ev.workflowId);
    } catch (error) {
      // A workflow this keeper cannot read (spec not in the defining calldata, defined before startBlock, ...) is
      // not its job; an RPC failure is thrown again so the follower retries the batch.
      if (!(error instanceof SpecUnavailableError)) throw error;
      this.#logger.warn(
        { executionId: ev.executionId.toString(), err: error.message },
        "cannot run this execution; leaving it",
      );
      return;
    }
    this.o.store.addExecution({
      executionId: ev.executionId,
      workflowId: ev.workflowId,
      level: ["basic", "full", "zk"].indexOf(plan.level),
      inputsHash: ev.inputsHash,
      state: "claimed",
    });
    this.drive(ev.executionId);
  }

  /** New inputs arrived: executions waiting for them can start. */
  onInputs(hash: Hex): void {
    for (const e of this.o.store.executionsIn("waiting-inputs"))
      if (e.inputsHash.toLowerCase() === hash.toLowerCase()) this.drive(e.executionId);
  }

  /** Resumes every open execution (start-up, the sweep job, after a reorg). */
  resumeAll(): void {
    for (const e of this.o.store.openExecutions()) this.drive(e.executionId);
  }

  /** After a reorg from `forkBlock`: drop executions whose request is gone or changed, re-drive the rest. */
  async onReorg(): Promise<void> {
    for (const e of this.o.store
      .openExecutions()
      .concat(this.o.store.executionsIn("done"), this.o.store.executionsIn("failed"))) {
      const chain = await this.#chainExecution(e.executionId);
      if (chain.status === STATUS.None || chain.inputsHash !== e.inputsHash || chain.workflowId !== e.workflowId) {
        this.#logger.warn(
          { executionId: e.executionId.toString() },
          "reorg orphaned this execution's request; forgetting it",
        );
        this.o.store.dropExecution(e.executionId);
      } else if (e.state === "done" || e.state === "failed") {
        const finished = chain.status === STATUS.Completed || chain.status === STATUS.Failed;
        if (!finished) this.o.store.setExecutionState(e.executionId, "running", "reorg undid its completion");
      }
    }
    this.resumeAll();
  }

  /** Running executions (for the metrics and shutdown). */
  active(): number {
    return this.#driving.size;
  }

  /** Stops starting work; in-flight provider calls are cancelled; waits for drivers to settle. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled(this.#driving.values());
  }

  /** Single flight per execution: a drive requested while one runs runs again right after. */
  drive(executionId: bigint): void {
    if (this.#abort.signal.aborted) return;
    if (this.#driving.has(executionId)) {
      this.#again.add(executionId);
      return;
    }
    const run = this.#drive(executionId)
      .catch((error: unknown) => {
        const message = describe(error);
        // Retried every sweep: the same error of the same execution is logged once, then summarised.
        this.#repeated.log(
          "error",
          `${executionId}:${message}`,
          { executionId: executionId.toString(), err: message },
          "execution stalled; will retry",
        );
        if (this.o.store.execution(executionId))
          this.o.store.setExecutionState(executionId, this.o.store.execution(executionId)?.state ?? "running", message);
      })
      .finally(() => {
        this.#driving.delete(executionId);
        this.o.metrics.executionsRunning(this.#driving.size);
        if (this.#again.delete(executionId)) this.drive(executionId);
      });
    this.#driving.set(executionId, run);
    this.o.metrics.executionsRunning(this.#driving.size);
  }

  async plan(workflowId: bigint): Promise<WorkflowPlan> {
    let plan = this.#plans.get(workflowId);
    if (!plan) {
      plan = fetchWorkflowSpec(this.o.client, this.o.addresses.workflows, workflowId, this.o.fromBlock).then((spec) => {
        try {
          return planWorkflow(workflowId, spec, specHashOf(spec));
        } catch (error) {
          throw new SpecUnavailableError(`workflow ${workflowId}: ${(error as Error).message}`);
        }
      });
      plan.catch(() => this.#plans.delete(workflowId));
      this.#plans.set(workflowId, plan);
    }
    return plan;
  }

  /**
   * The inputs with this hash that `client` signed, and the execution's blind, opened from the store (kept as the
   * client sealed them to this keeper, `{ inputs, blind }`; api.ts checked they open and hash to inputsHash).
   * Undefined when missing, or stored before blinds existed (sealed without one).
   */
  async #storedInputs(inputsHash: Hex, client: Hex): Promise<{ inputs: Json; blind: bigint } | undefined> {
    const stored = this.o.store.inputsFrom(inputsHash, client);
    if (stored === undefined) return undefined;
    try {
      return await openSealedInputs(this.o.keys, this.o.domain, inputsHash, sealedSchema.parse(stored));
    } catch (error) {
      this.#logger.warn({ inputsHash, err: describe(error) }, "stored inputs do not open to { inputs, blind }");
      return undefined;
    }
  }

  // ---------------------------------------------------------------- the state machine

  async #drive(executionId: bigint): Promise<void> {
    const row = this.o.store.execution(executionId);
    if (!row || row.state === "done" || row.state === "failed") return;
    let chain = await this.#chainExecution(executionId);
    if (chain.status === STATUS.None) return; // not mined on this chain (yet): the follower re-delivers
    if (chain.status === STATUS.Pending) {
      // Inputs stored before blinds existed have none: they count as missing (the client posts them again).
      if ((await this.#storedInputs(row.inputsHash, chain.client)) === undefined) {
        this.#waitForInputs(row, chain.client);
        return;
      }
      await this.#act(`claim:${executionId}`, RUN_WORKFLOW, 0n, GAS.claim, "claimExecution", [executionId]);
      chain = await this.#chainExecution(executionId);
    }
    if (chain.status === STATUS.Completed || chain.status === STATUS.Failed) {
      this.#finish(
        row,
        chain.status === STATUS.Completed ? "done" : "failed",
        chain.status === STATUS.Failed ? (row.reason ?? "failed on chain") : null,
      );
      return;
    }
    // The claimer is keeperId (`keeper` is whom the client named, zero for an open request).
    if (chain.status !== STATUS.Running || chain.keeperId !== this.o.agentId) {
      this.o.store.setExecutionState(executionId, "failed", "claimed by another keeper");
      return;
    }
    this.o.store.setExecutionState(executionId, "running");
    const plan = await this.plan(row.workflowId);
    const stored = await this.#storedInputs(row.inputsHash, chain.client);
    if (stored === undefined)
      throw new Error(`inputs ${row.inputsHash} from client ${chain.client} missing from the store`);
    const { inputs, blind } = stored;

    const results = await this.#storedResults(executionId);
    const outcome = await this.o.orchestrator.run({
      executionId,
      plan,
      inputs,
      blind,
      inputsHash: row.inputsHash,
      budget: chain.budget,
      deadline: Number(chain.startedAt) * 1000 + plan.maxExecutionTimeMs,
      done: results,
      signal: this.#abort.signal,
      onStepDone: (result) => {
        const current = this.o.store.execution(executionId);
        if (current?.inputsHash !== row.inputsHash) throw new Error("the execution was dropped (reorg) while it ran");
        this.#saveStep(executionId, result);
        // Full batches go out while the run goes on (one transaction per recordBatch steps, not one per step when
        // steps finish slower than blocks); the rest, and a failed batch, with the final flush (or the next drive).
        if (plan.level === "basic" && this.#fullBatch(executionId)) {
          this.#flush(executionId, plan).catch((error: unknown) => {
            this.#logger.warn(
              { executionId: executionId.toString(), err: describe(error) },
              "recording a batch failed; will retry",
            );
          });
        }
      },
    });
    if (this.#abort.signal.aborted) return;
    if (!outcome.ok) {
      this.#logger.warn({ executionId: executionId.toString(), reason: outcome.reason }, "execution failed");
      if (plan.level === "basic") await this.#flush(executionId, plan); // pay for the work that was done
      await this.#act(`fail:${executionId}`, RUN_WORKFLOW, 0n, GAS.complete, "failExecution", [
        executionId,
        keccak256(toHex(outcome.reason)),
      ]);
      this.#finish(row, "failed", outcome.reason);
      return;
    }
    this.o.store.setExecutionState(executionId, "recording");
    const resultHash =
      plan.level === "basic"
        ? await this.#recordBasic(executionId, plan, outcome.results)
        : await this.#recordProven(executionId, plan, row, blind, outcome.results);
    this.o.store.setExecutionState(executionId, "completing");
    const fee = keeperFeeFor(this.o.keeperFee ?? 0n, await this.#chainExecution(executionId));
    await this.#act(`complete:${executionId}`, RUN_WORKFLOW, 0n, GAS.complete, "completeExecution", [
      executionId,
      resultHash,
      fee,
    ]);
    this.#finish(row, "done", null);
  }

  /** No inputs signed by the execution's client: wait for them; inputs signed only by others are logged, once. */
  #waitForInputs(row: ExecutionRow, client: Hex): void {
    const signers = this.o.store.inputSigners(row.inputsHash);
    const reason =
      signers.length === 0
        ? "the client's inputs have not been posted to this keeper"
        : `inputs ${row.inputsHash} were posted by ${signers.join(", ")}, not by the execution's client ${client}: not used`;
    if (row.state === "waiting-inputs" && row.reason === reason) return;
    this.o.store.setExecutionState(row.executionId, "waiting-inputs", reason);
    if (signers.length > 0)
      this.#logger.warn(
        { event: "inputs-not-from-client", executionId: row.executionId.toString(), client, signers },
        "inputs with this hash were not signed by the execution's client; waiting for the client's",
      );
  }

  #finish(row: ExecutionRow, state: "done" | "failed", reason: string | null): void {
    this.#unbatched.delete(row.executionId);
    this.o.store.setExecutionState(row.executionId, state, reason);
    this.o.metrics.execution(state === "done" ? "completed" : "failed");
    this.#logger.info(
      { executionId: row.executionId.toString(), state, reason },
      `execution ${state === "done" ? "completed" : "failed"}`,
    );
  }

  // ---------------------------------------------------------------- basic level: records in batches

  readonly #flushing = new Map<bigint, Promise<void>>();
  /** Steps done since this run's last full batch, per execution (a restart starts again at 0: the final flush). */
  readonly #unbatched = new Map<bigint, number>();

  /** Counts a finished step; true when it completes a batch of recordBatch steps. */
  #fullBatch(executionId: bigint): boolean {
    const n = (this.#unbatched.get(executionId) ?? 0) + 1;
    const full = n >= this.o.recordBatch;
    this.#unbatched.set(executionId, full ? 0 : n);
    return full;
  }

  /** Records every stored, unrecorded step (single flight per execution; batches grow while a tx is mined). */
  #flush(executionId: bigint, plan: WorkflowPlan): Promise<void> {
    const current = this.#flushing.get(executionId);
    if (current) return current.then(() => this.#flush(executionId, plan));
    const run = this.#flushOnce(executionId, plan).finally(() => this.#flushing.delete(executionId));
    this.#flushing.set(executionId, run);
    return run;
  }

  async #flushOnce(executionId: bigint, plan: WorkflowPlan): Promise<void> {
    for (;;) {
      const recorded = (await this.#chainExecution(executionId)).doneMask;
      const pending = plan.order
        .map((i) => this.#storedStep(executionId, i))
        .filter((r): r is StoredStep => r !== undefined && (recorded & (1n << BigInt(r.step))) === 0n);
      if (pending.length === 0) return;
      const batch = pending.slice(0, this.o.recordBatch);
      const records = batch.map((r) => recordOf(r));
      const value = batch.reduce((s, r) => s + BigInt(r.answer.record.cost), 0n);
      const gas = GAS.recordBase + GAS.recordStep * BigInt(batch.length);
      try {
        await this.#act(
          `record:${executionId}:${batch.map((r) => r.step).join(",")}`,
          RUN_WORKFLOW,
          value,
          gas,
          "recordSteps",
          [executionId, records],
        );
      } catch (error) {
        // The chain refused one step's record (its provider left, or its signature does not pass the contract's
        // checks): run that step again (and what read it), instead of sending the same batch forever.
        if (error instanceof TxRevertedError && error.errorName === "WorkflowsProviderNotActive") {
          this.#rerunSteps(
            executionId,
            plan,
            recorded,
            (r) => r.provider.toLowerCase() === String(error.args?.[1]).toLowerCase(),
          );
        } else if (error instanceof TxRevertedError && error.errorName === "WorkflowsInvalidStepSignature") {
          this.#rerunSteps(executionId, plan, recorded, (r) => BigInt(r.step) === BigInt(String(error.args?.[1])));
        }
        throw error;
      }
    }
  }

  async #recordBasic(executionId: bigint, plan: WorkflowPlan, results: ReadonlyMap<number, StepResult>): Promise<Hex> {
    await this.#flush(executionId, plan);
    const last = results.get(plan.steps.length - 1);
    if (!last) throw new Error("the last step has no result");
    return last.answer.record.outputHash;
  }

  /** Unrecorded steps the chain refused: run them (and what read them) again. */
  #rerunSteps(executionId: bigint, plan: WorkflowPlan, recorded: bigint, refused: (r: StoredStep) => boolean): void {
    const drop = new Set<number>();
    for (const i of plan.order) {
      const r = this.#storedStep(executionId, i);
      if (!r || (recorded & (1n << BigInt(i))) !== 0n) continue;
      if (refused(r) || plan.steps[i]?.deps.some((d) => drop.has(d))) drop.add(i);
    }
    this.#logger.warn(
      { executionId: executionId.toString(), steps: [...drop] },
      "the chain refused these records: re-running them",
    );
    this.o.store.deleteSteps(executionId, [...drop]);
  }

  // ---------------------------------------------------------------- full / zk: proven chunks

  async #recordProven(
    executionId: bigint,
    plan: WorkflowPlan,
    row: ExecutionRow,
    blind: bigint,
    results: ReadonlyMap<number, StepResult>,
  ): Promise<Hex> {
    const ordered = plan.steps.map((s) => {
      const r = results.get(s.index);
      if (!r) throw new Error(`step ${s.index} has no result`);
      return r;
    });
    const transcript = buildTranscript(
      BigInt(row.inputsHash),
      plan.steps.map((s, i) => ({ deps: s.deps, outputHash: valueHash(ordered[i]?.answer.output ?? null, blind) })),
    );
    transcript.leaves.forEach((leaf, i) => {
      if (fieldToBytes32(leaf) !== ordered[i]?.answer.record.outputHash)
        throw new Error(`step ${i}: the recorded leaf is not the transcript's`);
    });
    for (let chunk = 0; chunk < chunkCount(plan.steps.length); chunk++) {
      const start = chunk * WORKFLOW_CHUNK;
      const slice = ordered.slice(start, start + WORKFLOW_CHUNK);
      const recorded = (await this.#chainExecution(executionId)).doneMask;
      if (slice.every((r) => (recorded & (1n << BigInt(r.step))) !== 0n)) continue;
      const { transcript: proof, millis } = await proveChunk(this.o.prover, transcript, chunk);
      this.o.metrics.proofDuration("workflow", millis / 1000);
      this.#logger.info(
        { event: "chunk-proven", executionId: executionId.toString(), chunk, millis },
        `workflow chunk ${chunk} proven in ${millis} ms`,
      );
      const inferences = slice
        .filter((r) => plan.steps[r.step]?.requiresProof === true && plan.level === "zk")
        .map((r) => inferenceProofOf(r.answer));
      const value = slice.reduce((s, r) => s + BigInt(r.answer.record.cost), 0n);
      await this.#act(
        `record:${executionId}:chunk${chunk}`,
        RUN_WORKFLOW,
        value,
        GAS.provenChunk,
        "recordProvenSteps",
        [executionId, slice.map(recordOf), proof, inferences],
      );
    }
    return fieldToBytes32(transcript.resultHash);
  }

  // ---------------------------------------------------------------- helpers

  /** The safety monitor, then the transaction (idempotent by key), then the action log. */
  async #act(
    key: string,
    actionType: number,
    value: bigint,
    gasEstimate: bigint,
    functionName: string,
    args: readonly unknown[],
  ): Promise<void> {
    if (this.o.store.tx(key)?.state !== "mined")
      await this.o.safety.check({ actionType, value, gasEstimate, label: key });
    let outcome;
    try {
      outcome = await this.o.txs.send({
        key,
        address: this.o.addresses.workflows,
        abi: workflowsAbi,
        functionName,
        args,
      });
    } catch (error) {
      // A mined transaction that reverted keeps its key: free it, so the next drive decides again from the chain
      // (simulation refuses without spending a nonce if the action is still not possible).
      if (error instanceof TxRevertedError && error.hash !== undefined) this.o.txs.retire(key);
      throw error;
    }
    if (outcome.fresh) this.o.safety.record({ actionType, value });
  }

  async #chainExecution(executionId: bigint) {
    return this.o.client.readContract({
      address: this.o.addresses.workflows,
      abi: workflowsAbi,
      functionName: "getExecution",
      args: [executionId],
    });
  }

  #saveStep(executionId: bigint, r: StepResult): void {
    this.o.store.saveStep({
      executionId,
      step: r.step,
      state: "done",
      attempts: r.attempts,
      provider: r.provider,
      result: sealedAnswer(r.answer),
      providerMillis: r.providerMillis,
      totalMillis: r.totalMillis,
    });
  }

  /** The stored steps as stored (outputs sealed): what recording needs. */
  #storedSteps(executionId: bigint): Map<number, StoredStep> {
    const out = new Map<number, StoredStep>();
    for (const s of this.o.store.steps(executionId)) {
      if (s.state !== "done" || s.provider === null) continue;
      out.set(s.step, {
        step: s.step,
        provider: s.provider,
        answer: stepResponseSchema.parse(s.result),
        attempts: s.attempts,
        providerMillis: s.providerMillis,
        totalMillis: s.totalMillis,
      });
    }
    return out;
  }

  /** The stored steps with their outputs opened (a resumed run feeds them to later steps). */
  async #storedResults(executionId: bigint): Promise<Map<number, StepResult>> {
    const out = new Map<number, StepResult>();
    for (const [step, s] of this.#storedSteps(executionId))
      out.set(step, { ...s, answer: await openStepResponse(this.o.keys, this.o.domain, s.answer) });
    return out;
  }

  #storedStep(executionId: bigint, step: number): StoredStep | undefined {
    return this.#storedSteps(executionId).get(step);
  }
}

/** IWorkflows.StepRecord from a checked answer. */
function recordOf(r: StoredStep) {
  return {
    step: r.step,
    provider: r.provider,
    inputHash: r.answer.record.inputHash,
    outputHash: r.answer.record.outputHash,
    cost: BigInt(r.answer.record.cost),
    signature: r.answer.signature as Hex,
  };
}

/** IWorkflows.InferenceProof from a provider's answer. */
function inferenceProofOf(answer: ParsedStepResponse) {
  const p = answer.proof;
  if (!p) throw new Error(`step ${answer.step}: the inference proof is missing`);
  return {
    inputHash: BigInt(p.inputHash),
    outputHash: BigInt(p.outputHash),
    proof: proofStruct(solidityProofOf(p.proof)),
  };
}

function describe(error: unknown): string {
  if (error instanceof TxRevertedError) return error.message;
  const e = error as { shortMessage?: string; message?: string };
  return e.shortMessage ?? e.message?.split("\n")[0] ?? String(error);
}
