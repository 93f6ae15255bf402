/**
 * The keeper's event router: which contracts the follower follows, and which part each of their events goes to.
 *
 *   ExecutionRequested                                 executions: claim and run it (if it names this keeper)
 *   ExecutionClaimed                                   upkeep: an expire duty at the execution's max time
 *   ExecutionCompleted, ExecutionFailed                upkeep: that expire duty is done
 *   ResultSubmitted, ResultProven                      upkeep: a finalize duty once the challenge window closes
 *   WorkloadSettled, ResultRejected, WorkloadRefunded  upkeep: that finalize duty is done
 *   ProposalCreated                                    voter: logs the proposal and the vote it will cast
 *   PROVIDER_EVENTS (offers, agents, slashes, freezes)  catalog: refreshed once per batch
 *
 * A reorg: the sender drops the transactions it orphaned (never replays them), the executions are re-derived from
 * the new chain, and the voter walks every proposal again.
 */
import type { Hex } from "viem";

import { governorAbi, humanOverrideAbi, marketplaceAbi, registryAbi, workflowsAbi } from "../../protocol/abi.js";
import type { Addresses } from "../../protocol/addresses.js";
import type { ProviderCatalog } from "../common/catalog.js";
import type { EventFollower, FollowedContract, FollowedLog } from "../common/follower.js";
import type { Logger } from "../common/log.js";
import type { TxSender } from "../common/txs.js";
import type { ExecutionManager } from "./executions.js";
import type { KeeperMetrics } from "./metrics.js";
import type { Upkeep } from "./upkeep.js";
import type { GovernanceVoter } from "./voter.js";

/** Events that change which providers the keeper may use, or on what terms: the catalog is refreshed. */
export const PROVIDER_EVENTS = new Set([
  "ServiceListed",
  "ServiceUpdated",
  "ServiceDelisted",
  "AgentRegistered",
  "ProfileUpdated",
  "Slashed",
  "ReputationUpdated",
  "UnstakeRequested",
  "AgentFrozen",
  "AgentUnfrozen",
]);

/** The contracts whose events the keeper follows (the governor's only with a voter). */
export function followedContracts(addresses: Addresses, governance: boolean): FollowedContract[] {
  return [
    { address: addresses.workflows, abi: workflowsAbi },
    { address: addresses.marketplace, abi: marketplaceAbi },
    { address: addresses.registry, abi: registryAbi },
    { address: addresses.humanOverride, abi: humanOverrideAbi },
    ...(governance ? [{ address: addresses.governor, abi: governorAbi }] : []),
  ];
}

export interface EventParts {
  executions: Pick<ExecutionManager, "onRequested" | "onReorg">;
  upkeep: Pick<Upkeep, "executionClaimed" | "resultSubmitted" | "done">;
  voter: Pick<GovernanceVoter, "onProposalCreated" | "onReorg"> | undefined;
  catalog: Pick<ProviderCatalog, "refresh">;
  txs: Pick<TxSender, "reconcile" | "pendingCount">;
  metrics: Pick<KeeperMetrics, "chainLag" | "pendingTransactions">;
  logger: Logger;
}

/** Sets the follower's handlers: each batch's events to their parts (in chain order), and the reorg handler. */
export function routeEvents(follower: Pick<EventFollower, "onLogs" | "onReorg" | "lag">, parts: EventParts): void {
  const logger = parts.logger.child({ module: "events" });
  follower.onLogs(async (logs) => {
    for (const log of logs) await route(log, parts);
    if (logs.some((l) => PROVIDER_EVENTS.has(l.eventName))) await parts.catalog.refresh();
    parts.metrics.chainLag(follower.lag());
    parts.metrics.pendingTransactions(parts.txs.pendingCount());
  });
  follower.onReorg(async (forkBlock) => {
    logger.warn({ forkBlock: forkBlock.toString() }, "reorg: re-checking what was acted on");
    await parts.txs.reconcile(forkBlock, { rebroadcast: false });
    await parts.executions.onReorg();
    parts.voter?.onReorg();
  });
}

async function route(log: FollowedLog, parts: EventParts): Promise<void> {
  const args = log.args as Record<string, unknown>;
  switch (log.eventName) {
    case "ExecutionRequested":
      await parts.executions.onRequested({
        executionId: args.executionId as bigint,
        workflowId: args.workflowId as bigint,
        inputsHash: args.inputsHash as Hex,
        keeper: args.keeper as Hex,
      });
      break;
    case "ExecutionClaimed":
      await parts.upkeep.executionClaimed(args.executionId as bigint);
      break;
    case "ExecutionCompleted":
    case "ExecutionFailed":
      parts.upkeep.done("expire", args.executionId as bigint);
      break;
    case "ResultSubmitted":
    case "ResultProven":
      await parts.upkeep.resultSubmitted(args.workloadId as bigint);
      break;
    case "ProposalCreated":
      parts.voter?.onProposalCreated({
        proposalId: args.proposalId as bigint,
        proposer: args.proposer as Hex,
        targets: args.targets as Hex[],
        values: args.values as bigint[],
        calldatas: args.calldatas as Hex[],
        voteStart: args.voteStart as bigint,
        voteEnd: args.voteEnd as bigint,
        description: args.description as string,
      });
      break;
    case "WorkloadSettled":
    case "ResultRejected":
    case "WorkloadRefunded":
      parts.upkeep.done("finalize", args.workloadId as bigint);
      break;
    default:
      break;
  }
}
