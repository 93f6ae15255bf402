/**
 * The keeper's periodic work.
 *
 * Upkeep duties anyone may perform and the keeper takes on (charged to its constitution as UPKEEP): expiring
 * executions past their max time (refunds the client) and settling workloads whose challenge window passed.
 * Due times are stored, so a restart keeps them; each is re-checked on chain before acting.
 *
 * The jobs (node-cron; each never overlaps itself; a failed run is logged and left to the next one):
 *   sweep       (`jobs.sweep`)           resume open executions, then perform the due upkeep duties
 *   providers   (`jobs.providers`)       refresh the provider catalog (reputations, load, frozen status)
 *   governance  (`governance.schedule`)  the voter's run, when governance is enabled
 */
import cron from "node-cron";

import { ACTION_TYPES } from "../../protocol/actions.js";
import { marketplaceAbi, workflowsAbi } from "../../protocol/abi.js";
import type { ProviderCatalog } from "../common/catalog.js";
import type { ChainContext } from "../common/chain.js";
import { RepeatedLog, type Logger } from "../common/log.js";
import type { SafetyMonitor } from "../common/safety.js";
import type { Store } from "../common/store.js";
import { TxRevertedError, type TxSender } from "../common/txs.js";
import type { ExecutionManager } from "./executions.js";
import type { GovernanceVoter } from "./voter.js";

const UPKEEP = ACTION_TYPES.upkeep;
/** Reverts that mean "not yet" for an upkeep duty. */
const NOT_YET = new Set(["WorkflowsNotExpired", "MarketplaceChallengeWindowOpen"]);

export interface UpkeepOptions {
  chain: Pick<ChainContext, "publicClient" | "addresses">;
  store: Store;
  txs: Pick<TxSender, "send">;
  safety: Pick<SafetyMonitor, "check" | "record">;
  logger: Logger;
}

/** The upkeep duties (see the file header): stored when their event is seen, performed by the sweep once due. */
export class Upkeep {
  readonly #o: UpkeepOptions;
  readonly #logger: Logger;

  constructor(options: UpkeepOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ module: "upkeep" });
  }

  /** An ExecutionClaimed event: the execution may be expired once its max time has passed. */
  async executionClaimed(executionId: bigint): Promise<void> {
    const { publicClient, addresses } = this.#o.chain;
    const e = await publicClient.readContract({
      address: addresses.workflows,
      abi: workflowsAbi,
      functionName: "getExecution",
      args: [executionId],
    });
    const wf = await publicClient.readContract({
      address: addresses.workflows,
      abi: workflowsAbi,
      functionName: "getWorkflow",
      args: [e.workflowId],
    });
    this.#o.store.addDuty("expire", executionId, Number(e.startedAt + wf.maxExecutionTime) * 1000 + 1000);
  }

  /** A ResultSubmitted or ResultProven event: the workload may be finalized once its challenge window has passed. */
  async resultSubmitted(workloadId: bigint): Promise<void> {
    const { publicClient, addresses } = this.#o.chain;
    const w = await publicClient.readContract({
      address: addresses.marketplace,
      abi: marketplaceAbi,
      functionName: "getWorkload",
      args: [workloadId],
    });
    this.#o.store.addDuty("finalize", workloadId, Number(w.submittedAt + BigInt(w.challengeWindow)) * 1000 + 1000);
  }

  /** Someone did the duty (or made it moot): forget it. */
  done(kind: string, id: bigint): void {
    this.#o.store.removeDuty(kind, id);
  }

  /** Performs the duties that are due (by the chain's clock: the latest block's timestamp). */
  async run(): Promise<void> {
    const { chain, store, txs, safety } = this.#o;
    const block = await chain.publicClient.getBlock();
    for (const duty of store.dueDuties(Number(block.timestamp) * 1000)) {
      const { address, abi, functionName } =
        duty.kind === "expire"
          ? { address: chain.addresses.workflows, abi: workflowsAbi, functionName: "expireExecution" }
          : { address: chain.addresses.marketplace, abi: marketplaceAbi, functionName: "finalize" };
      try {
        await safety.check({
          actionType: UPKEEP,
          value: 0n,
          gasEstimate: 200_000n,
          label: `${duty.kind}:${duty.id}`,
        });
        await txs.send({ key: `${duty.kind}:${duty.id}`, address, abi, functionName, args: [duty.id] });
        safety.record({ actionType: UPKEEP, value: 0n });
        this.#logger.info({ duty: duty.kind, id: duty.id.toString() }, "upkeep done");
      } catch (error) {
        // Not due yet (a deadline moved after an emergency stop): try again later. Anything else means it is done
        // already or no longer possible (the simulation said so without spending a nonce).
        if (error instanceof TxRevertedError && NOT_YET.has(error.errorName ?? "")) {
          store.addDuty(duty.kind, duty.id, Number(block.timestamp) * 1000 + 60_000);
          continue;
        }
        // Only a definitive answer (the call reverts: done already, or impossible) drops the duty; RPC trouble, a
        // safety refusal or a timeout leaves it for the next sweep.
        if (!(error instanceof TxRevertedError)) {
          this.#logger.warn(
            { duty: duty.kind, id: duty.id.toString(), err: (error as Error).message },
            "upkeep postponed",
          );
          continue;
        }
        this.#logger.info({ duty: duty.kind, id: duty.id.toString(), err: error.message }, "upkeep dropped");
      }
      store.removeDuty(duty.kind, duty.id);
    }
  }
}

export interface JobsOptions {
  schedules: { sweep: string; providers: string; governance?: string | undefined };
  executions: Pick<ExecutionManager, "resumeAll">;
  upkeep: Pick<Upkeep, "run">;
  catalog: Pick<ProviderCatalog, "refresh">;
  /** The governance voter, run on `schedules.governance` (both or neither). */
  voter?: Pick<GovernanceVoter, "run"> | undefined;
  logger: Logger;
}

export interface Jobs {
  /** Stops every job (a run in progress finishes on its own). */
  stop(): Promise<void>;
}

/** Schedules the jobs of the file header. */
export function startJobs(options: JobsOptions): Jobs {
  const { schedules, executions, upkeep, catalog, voter } = options;
  const logger = options.logger.child({ module: "upkeep" });
  // A job failing the same way on every run (the RPC down) is logged once, then summarised.
  const repeated = new RepeatedLog(logger);
  const failed = (job: string) => (error: unknown) => {
    const err = (error as Error).message;
    repeated.log("warn", `${job}:${err}`, { err }, `${job} failed`);
  };
  const jobs = [
    cron.schedule(
      schedules.sweep,
      async () => {
        executions.resumeAll();
        await upkeep.run().catch(failed("upkeep sweep"));
      },
      { noOverlap: true },
    ),
    cron.schedule(
      schedules.providers,
      async () => {
        await catalog.refresh().catch(failed("provider refresh"));
      },
      { noOverlap: true },
    ),
  ];
  if (voter && schedules.governance !== undefined) {
    jobs.push(
      cron.schedule(
        schedules.governance,
        async () => {
          await voter.run().catch(failed("governance run"));
        },
        { noOverlap: true },
      ),
    );
  }
  return {
    async stop() {
      for (const job of jobs) await job.stop();
    },
  };
}
