/**
 * An analysis agent (the seed's agents that take part in governance, as an example): it reads the marketplace's
 * figures from the chain over a window of blocks and, when they call for it, proposes a change of the protocol fee
 * through the AITBCGovernor, with the figures and its reasoning in the proposal's description. The governor's
 * voters (the keeper's policy voter, other agents, humans) then decide; the timelock and the guardians' veto apply
 * as to any proposal.
 *
 * The rule (`recommendFee`), over the window's workloads:
 * - demand going unserved (cancelled without an award, more than `maxUnservedShare` of those decided) while the fee
 *   is above `minFeeBps`: lower the fee by `stepBps` (the fee is what providers give up on each job);
 * - nearly all served (at most `lowUnservedShare`) with competition (at least `minBidsPerWorkload` bids on average)
 *   while the fee is below `maxFeeBps`: raise it by `stepBps`;
 * - otherwise, or with fewer than `minWorkloads` decided: no proposal.
 * One open proposal at a time: the agent keeps its last proposal's id (store flag `analyst-proposal`, written before
 * sending) and proposes nothing while that one is pending, active, succeeded or queued; it sends under the key
 * `propose:<id>` (one transaction per proposal id, ever) after checking the id is not proposed yet.
 * The action is checked by the safety monitor (type GOVERN) and charged to the constitution like any other.
 */
import { encodeFunctionData, keccak256, toHex, type Hex, type PublicClient } from "viem";

import { ACTION_TYPES } from "../protocol/actions.js";
import { governorAbi, marketplaceAbi } from "../protocol/abi.js";
import type { Logger } from "../keepers/common/log.js";
import type { Store } from "../keepers/common/store.js";
import { PROPOSAL_STATES } from "../protocol/enums.js";
import type { TxOutcome, TxSender } from "../keepers/common/txs.js";
import type { SafetyLayer } from "./guard.js";

export interface MarketFigures {
  fromBlock: bigint;
  toBlock: bigint;
  posted: number;
  awarded: number;
  /** Cancelled without an award. */
  unserved: number;
  bids: number;
  settled: number;
  /** Paid to providers plus fees, wei. */
  volume: bigint;
  fees: bigint;
  feeBps: number;
  challengeWindow: bigint;
  timeoutSlashBps: bigint;
}

export interface FeeRule {
  minWorkloads: number;
  maxUnservedShare: number;
  lowUnservedShare: number;
  minBidsPerWorkload: number;
  stepBps: number;
  minFeeBps: number;
  maxFeeBps: number;
}

export interface Recommendation {
  feeBps: number;
  reason: string;
}

/** What the window's marketplace events say (eth_getLogs) and the parameters in force. */
export async function marketFigures(
  client: PublicClient,
  marketplace: Hex,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<MarketFigures> {
  const logs = await client.getContractEvents({ address: marketplace, abi: marketplaceAbi, fromBlock, toBlock });
  const f: MarketFigures = {
    fromBlock,
    toBlock,
    posted: 0,
    awarded: 0,
    unserved: 0,
    bids: 0,
    settled: 0,
    volume: 0n,
    fees: 0n,
    feeBps: 0,
    challengeWindow: 0n,
    timeoutSlashBps: 0n,
  };
  const awarded = new Set<bigint>();
  for (const log of logs) {
    const args = log.args as Record<string, unknown>;
    const workloadId = args.workloadId as bigint | undefined;
    switch (log.eventName) {
      case "WorkloadPosted":
        f.posted += 1;
        break;
      case "BidPlaced":
        f.bids += 1;
        break;
      case "WorkloadAwarded":
        if (workloadId !== undefined && !awarded.has(workloadId)) {
          awarded.add(workloadId);
          f.awarded += 1;
        }
        break;
      case "WorkloadCancelled":
        f.unserved += 1;
        break;
      case "WorkloadSettled":
        f.settled += 1;
        f.volume += (args.paidToProvider as bigint) + (args.fee as bigint);
        f.fees += args.fee as bigint;
        break;
      default:
        break;
    }
  }
  const read = <F extends "protocolFeeBps" | "challengeWindow" | "timeoutSlashBps">(functionName: F) =>
    client.readContract({ address: marketplace, abi: marketplaceAbi, functionName });
  f.feeBps = Number(await read("protocolFeeBps"));
  f.challengeWindow = await read("challengeWindow");
  f.timeoutSlashBps = await read("timeoutSlashBps");
  return f;
}

/** The fee the figures call for, with the reasoning; undefined: leave it. */
export function recommendFee(f: MarketFigures, rule: FeeRule): Recommendation | undefined {
  const decided = f.awarded + f.unserved;
  if (decided < rule.minWorkloads) return undefined;
  const unserved = f.unserved / decided;
  const bidsPer = f.posted === 0 ? 0 : f.bids / f.posted;
  const figures =
    `blocks ${f.fromBlock}-${f.toBlock}: ${f.posted} workloads posted, ${f.awarded} awarded, ${f.unserved} cancelled ` +
    `without an award (${pct(unserved)} unserved), ${bidsPer.toFixed(2)} bids per workload, ${f.settled} settled ` +
    `(volume ${f.volume} wei, fees ${f.fees} wei); fee ${f.feeBps} bps`;
  if (unserved > rule.maxUnservedShare && f.feeBps > rule.minFeeBps) {
    const feeBps = Math.max(rule.minFeeBps, f.feeBps - rule.stepBps);
    return {
      feeBps,
      reason: `${figures}. Unserved demand above ${pct(rule.maxUnservedShare)}: lower the fee to ${feeBps} bps so that more providers bid.`,
    };
  }
  if (unserved <= rule.lowUnservedShare && bidsPer >= rule.minBidsPerWorkload && f.feeBps < rule.maxFeeBps) {
    const feeBps = Math.min(rule.maxFeeBps, f.feeBps + rule.stepBps);
    return {
      feeBps,
      reason: `${figures}. Demand served with ${bidsPer.toFixed(2)} bids per workload: the fee can rise to ${feeBps} bps.`,
    };
  }
  return undefined;
}

/** The store flag holding the id of the analyst's last proposal. */
export const ANALYST_PROPOSAL_FLAG = "analyst-proposal";
const OPEN_STATES = new Set(["pending", "active", "succeeded", "queued"]);

export type AnalystOutcome =
  | { kind: "none"; figures: MarketFigures }
  | { kind: "open"; proposalId: bigint; state: string }
  | { kind: "exists" | "refused" | "proposed"; proposalId: bigint; recommendation: Recommendation; tx?: TxOutcome };

export class MarketAnalyst {
  readonly #logger: Logger;

  constructor(
    private readonly o: {
      client: PublicClient;
      marketplace: Hex;
      governor: Hex;
      sender: Pick<TxSender, "send">;
      store: Pick<Store, "flag" | "setFlag">;
      guard: Pick<SafetyLayer, "check" | "record">;
      rule: FeeRule;
      /** Blocks of history each analysis reads (up to the head). */
      windowBlocks: bigint;
      logger: Logger;
    },
  ) {
    this.#logger = o.logger.child({ module: "analyst" });
  }

  async #openProposal(): Promise<{ proposalId: bigint; state: string } | undefined> {
    const saved = this.o.store.flag(ANALYST_PROPOSAL_FLAG);
    if (saved === undefined) return undefined;
    const proposalId = BigInt(saved);
    const snapshot = await this.o.client.readContract({
      address: this.o.governor,
      abi: governorAbi,
      functionName: "proposalSnapshot",
      args: [proposalId],
    });
    if (snapshot === 0n) return undefined; // written, never sent
    const code = await this.o.client.readContract({
      address: this.o.governor,
      abi: governorAbi,
      functionName: "state",
      args: [proposalId],
    });
    const state = PROPOSAL_STATES[code] ?? `state ${code}`;
    return OPEN_STATES.has(state) ? { proposalId, state } : undefined;
  }

  /** Reads the figures, and proposes the fee they call for, unless its last proposal is still open. */
  async run(): Promise<AnalystOutcome> {
    const open = await this.#openProposal();
    if (open !== undefined) return { kind: "open", ...open };
    const head = await this.o.client.getBlockNumber({ cacheTime: 0 });
    const from = head > this.o.windowBlocks ? head - this.o.windowBlocks : 0n;
    const figures = await marketFigures(this.o.client, this.o.marketplace, from, head);
    const recommendation = recommendFee(figures, this.o.rule);
    if (recommendation === undefined) {
      this.#logger.info({ event: "analysis", posted: figures.posted, feeBps: figures.feeBps }, "no change called for");
      return { kind: "none", figures };
    }
    const targets = [this.o.marketplace] as const;
    const calldata = encodeFunctionData({
      abi: marketplaceAbi,
      functionName: "setParameters",
      args: [BigInt(recommendation.feeBps), figures.challengeWindow, figures.timeoutSlashBps],
    });
    const description = `Set the marketplace fee to ${recommendation.feeBps} bps (from ${figures.feeBps})\n\n${recommendation.reason}`;
    const proposalId = await this.o.client.readContract({
      address: this.o.governor,
      abi: governorAbi,
      functionName: "hashProposal",
      args: [[...targets], [0n], [calldata], keccak256(toHex(description))],
    });
    const snapshot = await this.o.client.readContract({
      address: this.o.governor,
      abi: governorAbi,
      functionName: "proposalSnapshot",
      args: [proposalId],
    });
    if (snapshot !== 0n) return { kind: "exists", proposalId, recommendation };
    const action = {
      actionType: ACTION_TYPES.govern,
      value: 0n,
      gasEstimate: 600_000n,
      label: `propose:${proposalId}`,
    };
    const verdict = await this.o.guard.check(action, { bidding: false });
    if (!verdict.allowed) {
      this.#logger.warn({ event: "propose-refused", reason: verdict.reason }, verdict.message);
      return { kind: "refused", proposalId, recommendation };
    }
    this.o.store.setFlag(ANALYST_PROPOSAL_FLAG, proposalId.toString());
    const tx = await this.o.sender.send({
      key: `propose:${proposalId}`,
      address: this.o.governor,
      abi: governorAbi,
      functionName: "propose",
      args: [[...targets], [0n], [calldata], description],
    });
    if (tx.fresh) this.o.guard.record(action);
    this.#logger.info(
      { event: "proposed", proposalId: proposalId.toString(), feeBps: recommendation.feeBps, tx: tx.hash },
      `proposed: ${description.split("\n")[0] ?? ""}`,
    );
    return { kind: "proposed", proposalId, recommendation, tx };
  }
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
