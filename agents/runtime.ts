/**
 * The agent runtime's controller: it only orchestrates. Marketplace events (from the shared follower) come in;
 * the strategy decides; the safety layer checks; the marketplace interface acts; outcomes the chain reports go to
 * memory and back to the strategy.
 *
 * - WorkloadPosted: a workload one of the agent's services matches (service type, model, basic verification, not
 *   its own, bidding open) goes to the strategy with the market state (the workload, the other providers' offers
 *   for the model, the fee) and the agent's own (reputation, free units: the offer's capacity less its load and
 *   the units of bids still open). A bid is stored before it is sent (a restart re-sends the same decision under
 *   the same idempotency key, never a second one) and sent only if the safety layer allows it.
 * - WorkloadAwarded: to this agent, the work is queued; to another, or WorkloadCancelled, the bid lost. A workload
 *   reopened by another provider's timeout (AssignmentFailed, reopened) is considered again for its new round.
 * - The work loop (`tick`): an awarded workload whose input the client delivered (server.ts, checked against the
 *   chain's inputHash) runs on its service's backend (keepers/provider/backends: iris, data); the result's hash
 *   under the client's blind is signed (WorkResult) and submitted; once its challenge window has passed without a
 *   rejection the agent finalizes (claims its pay) unless the client accepted first.
 * - WorkloadSettled, AssignmentFailed (a slash), ResultRejected (a dispute), DisputeExpired: experiences in memory,
 *   with what they earned in AITBC (payment less the work's cost, or the slash) and the gas they took (ether, in
 *   the figures), and the strategy learns from them.
 * Handlers are idempotent (the follower delivers at least once): memory stores an experience once per log.
 */
import { keccak256, toHex, zeroHash, type Hex } from "viem";

import type { ProviderCatalog } from "../keepers/common/catalog.js";
import { errorMessage } from "../keepers/common/http.js";
import type { FollowedLog } from "../keepers/common/follower.js";
import type { Logger } from "../keepers/common/log.js";
import type { Store } from "../keepers/common/store.js";
import { TxRevertedError } from "../keepers/common/txs.js";
import type { Backend } from "../keepers/provider/backends/index.js";
import { canonicalJson, valueHashHex, type Json } from "../protocol/values.js";
import { openLossExposure } from "./breakers.js";
import type { SafetyLayer } from "./guard.js";
import type { Marketplace } from "./marketplace.js";
import { WORKLOAD_STATUS } from "./marketplace.js";
import type { AgentMemory, BidRow, Evidence, ExperienceKind } from "./memory.js";
import type { RiskManager } from "./risk.js";
import type { CompetitorOffer, MarketState, AgentStrategy } from "./strategy.js";

/** ActionTypes.sol. */
export const ACTION = { BID: 5, SUBMIT_RESULT: 6, UPKEEP: 10 } as const;
/** Gas the safety monitor charges each action to the daily budget before it is sent (measured: snapshots/gas.json). */
const GAS = { bid: 250_000n, submit: 200_000n, finalize: 250_000n } as const;

export interface AgentService {
  name: string;
  serviceId: Hex;
  model: Hex;
  listedPrice: bigint;
  costPerUnit: bigint;
  backend: Backend;
  /** TESTS ONLY (config `testAdversary`): deliver a deliberately wrong result. */
  testAdversary?: "corrupt-output";
}

export interface RuntimeOptions {
  agentId: bigint;
  address: Hex;
  services: readonly AgentService[];
  strategy: AgentStrategy;
  memory: AgentMemory;
  store: Store;
  guard: SafetyLayer;
  market: Marketplace;
  catalog: ProviderCatalog;
  logger: Logger;
  /** How long a backend may run one workload (ms). */
  runTimeoutMs?: number;
  /** The risk manager (risk.ts): declines work from risky clients or past the exposure limits. */
  risk?: RiskManager;
}

type Args = Record<string, unknown>;

export class AgentRuntime {
  readonly #o: RuntimeOptions;
  readonly #logger: Logger;
  readonly #waitingInput = new Set<bigint>();
  #ticking: Promise<void> | undefined;

  constructor(options: RuntimeOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ module: "runtime" });
    const saved = options.memory.strategyState(options.strategy.name);
    if (saved !== undefined && options.strategy.restore !== undefined) {
      options.strategy.restore(saved);
      this.#logger.info(
        { event: "strategy-resumed", strategy: options.strategy.name, state: saved },
        "strategy resumed",
      );
    }
  }

  // ---------------------------------------------------------------- events

  async onLogs(logs: readonly FollowedLog[]): Promise<void> {
    for (const log of logs) {
      const args = log.args as Args;
      const workloadId = args.workloadId as bigint | undefined;
      if (workloadId === undefined) continue;
      const evidence: Evidence = {
        chain: { transactionHash: log.transactionHash, logIndex: log.logIndex, blockNumber: log.blockNumber },
      };
      const mine = args.providerId === this.#o.agentId;
      switch (log.eventName) {
        case "WorkloadPosted":
          await this.#consider(workloadId);
          break;
        case "WorkloadAwarded":
          this.#awarded(workloadId, mine, args, evidence);
          break;
        case "WorkloadCancelled":
          this.#lost(workloadId, "cancelled", { refund: String(args.refund) }, evidence);
          break;
        case "ResultSubmitted":
          if (mine) await this.#submitted(workloadId);
          break;
        case "WorkloadSettled":
          if (mine) await this.#settled(workloadId, args, evidence);
          break;
        case "ResultRejected":
          this.#disputed(workloadId, evidence);
          break;
        case "AssignmentFailed":
          // Another provider's timeout may reopen the workload for a new round of bids.
          if (!mine && args.reopened === true) await this.#consider(workloadId);
          if (mine)
            await this.#closeWon(
              workloadId,
              "slashed",
              -(args.slashed as bigint),
              { slashed: String(args.slashed) },
              evidence,
            );
          break;
        case "DisputeExpired":
          await this.#closeWon(workloadId, "refunded", 0n, { refund: String(args.refund) }, evidence, true);
          break;
        default:
          break;
      }
    }
  }

  /** Decides on a posted workload and bids when the strategy and the safety layer agree. */
  async #consider(workloadId: bigint): Promise<void> {
    const { market, memory, strategy, guard } = this.#o;
    const w = await market.workload(workloadId);
    const earlier = memory.bid(workloadId);
    if (earlier !== undefined && earlier.round >= w.round) {
      if (earlier.state === "sent") await this.#sendBid(earlier, false);
      return;
    }
    const service = this.#o.services.find(
      (s) =>
        (w.serviceType === zeroHash || w.serviceType === keccak256(toHex(s.name))) &&
        (w.modelHash === zeroHash || w.modelHash.toLowerCase() === s.model.toLowerCase()),
    );
    if (service === undefined) return;
    const skip = (reason: string) => {
      this.#logger.info({ event: "skip", workloadId, reason }, `workload ${workloadId}: not bidding (${reason})`);
    };
    if (w.status !== WORKLOAD_STATUS.Open) {
      skip(`status ${w.status}, not open`);
      return;
    }
    if (w.client.toLowerCase() === this.#o.address.toLowerCase()) {
      skip("its own workload");
      return;
    }
    if (w.verification !== 0) {
      skip("only basic verification is served by this agent");
      return;
    }
    if ((await market.now()) > w.bidDeadline) {
      skip("bidding closed");
      return;
    }
    const workload = {
      workloadId,
      round: w.round,
      client: w.client,
      serviceType: w.serviceType,
      modelHash: w.modelHash,
      units: w.units,
      maxPricePerUnit: w.maxPricePerUnit,
      bidDeadline: w.bidDeadline,
    };
    const risk = await this.#o.risk?.assess(workload);
    if (risk?.ok === false) {
      this.#logger.warn({ event: "risk-declined", workloadId, client: w.client, reason: risk.reason }, risk.reason);
      return;
    }
    const offer = await market.offer(service.serviceId);
    const free = offer.maxCapacity - offer.currentLoad - memory.committedUnits(service.name);
    const state: MarketState = {
      workload,
      service: {
        serviceId: service.serviceId,
        name: service.name,
        listedPrice: service.listedPrice,
        costPerUnit: service.costPerUnit,
      },
      competitors: this.#competitors(service),
      feeBps: await market.feeBps(),
    };
    const reputation = this.#o.catalog.offers().find((o) => o.agentId === this.#o.agentId)?.reputation ?? 0;
    const action = await strategy.decide(state, {
      agentId: this.#o.agentId,
      reputation,
      freeUnits: free < 0n ? 0n : free,
      capacity: offer.maxCapacity,
      load: offer.currentLoad,
    });
    if (action.kind === "skip") {
      skip(action.reason);
      return;
    }
    if (action.pricePerUnit > w.maxPricePerUnit || action.pricePerUnit === 0n) {
      skip(`the strategy's price ${action.pricePerUnit} is outside (0, ${w.maxPricePerUnit}]`);
      return;
    }
    const context: Json = {
      client: w.client,
      units: String(w.units),
      maxPricePerUnit: String(w.maxPricePerUnit),
      competitors: state.competitors.map((c) => ({ agentId: String(c.agentId), price: String(c.pricePerUnit) })),
      feeBps: state.feeBps,
      freeUnits: String(free),
    };
    const row: BidRow = {
      workloadId,
      round: w.round,
      service: service.name,
      serviceId: service.serviceId,
      units: w.units,
      pricePerUnit: action.pricePerUnit,
      reason: action.reason,
      decision: action.decision ?? null,
      context,
      state: "sent",
      executionDeadline: 0n,
    };
    const atRisk = openLossExposure(
      [...memory.bidsIn("sent", "won", "submitted"), row],
      (name) => this.#o.services.find((s) => s.name === name)?.costPerUnit ?? 0n,
      state.feeBps,
    );
    const verdict = await guard.check(
      { actionType: ACTION.BID, value: 0n, gasEstimate: GAS.bid, label: `bid:${workloadId}` },
      { bidding: true, atRisk },
    );
    if (!verdict.allowed) {
      this.#logger.warn({ event: "bid-refused", workloadId, reason: verdict.reason }, verdict.message);
      return;
    }
    memory.addBid(row);
    await this.#sendBid(row, true);
  }

  async #sendBid(row: BidRow, fresh: boolean): Promise<void> {
    const proposal = keccak256(toHex(canonicalJson({ price: String(row.pricePerUnit), reason: row.reason })));
    try {
      const outcome = await this.#o.market.bid(row.workloadId, row.round, row.serviceId, row.pricePerUnit, proposal);
      if (outcome.fresh) this.#o.guard.record({ actionType: ACTION.BID, value: 0n, gasEstimate: GAS.bid, label: "" });
      this.#logger.info(
        {
          event: "bid",
          workloadId: row.workloadId,
          price: row.pricePerUnit,
          reason: row.reason,
          tx: outcome.hash,
          resent: !fresh,
        },
        `bid ${row.pricePerUnit} per unit on workload ${row.workloadId}: ${row.reason}`,
      );
    } catch (error) {
      if (!(error instanceof TxRevertedError)) throw error;
      // The chain refused the bid (bidding closed, capacity, ...): it never stood, so it neither won nor lost.
      this.#o.memory.setBidState(row.workloadId, row.round, "closed");
      this.#logger.warn({ event: "bid-reverted", workloadId: row.workloadId, error: error.errorName }, error.message);
    }
  }

  #awarded(workloadId: bigint, mine: boolean, args: Args, evidence: Evidence): void {
    const bid = this.#o.memory.bid(workloadId);
    if (bid === undefined || bid.state !== "sent") return;
    if (mine) {
      this.#o.memory.setBidState(workloadId, bid.round, "won", args.executionDeadline as bigint);
      this.#logger.info({ event: "awarded", workloadId, price: args.pricePerUnit }, `workload ${workloadId} awarded`);
      return;
    }
    this.#lost(workloadId, "awarded to another", { winningPrice: String(args.pricePerUnit) }, evidence);
  }

  #lost(workloadId: bigint, outcome: string, figures: Record<string, Json>, evidence: Evidence): void {
    const bid = this.#o.memory.bid(workloadId);
    if (bid === undefined || bid.state !== "sent") return;
    this.#o.memory.setBidState(workloadId, bid.round, "lost");
    this.#experience(bid, "lost", outcome, 0n, figures, evidence, false);
  }

  async #submitted(workloadId: bigint): Promise<void> {
    const bid = this.#o.memory.bid(workloadId);
    if (bid !== undefined) this.#o.memory.setBidState(workloadId, bid.round, "submitted");
    const w = await this.#o.market.workload(workloadId);
    // Finalizing is possible once the window has passed (strictly after it).
    this.#o.store.addDuty("finalize", workloadId, Number(w.submittedAt) + w.challengeWindow + 1);
  }

  async #settled(workloadId: bigint, args: Args, evidence: Evidence): Promise<void> {
    const paid = args.paidToProvider as bigint;
    this.#o.store.removeDuty("finalize", workloadId);
    await this.#closeWon(workloadId, "settled", paid, { paid: String(paid), fee: String(args.fee) }, evidence);
  }

  #disputed(workloadId: bigint, evidence: Evidence): void {
    const bid = this.#o.memory.bid(workloadId);
    if (bid?.state !== "submitted") return;
    this.#o.store.removeDuty("finalize", workloadId);
    this.#experience(bid, "disputed", "the client rejected the result", 0n, {}, evidence, false);
    this.#logger.warn({ event: "disputed", workloadId }, `workload ${workloadId}: the client rejected the result`);
  }

  /** A won workload ended: `received` is what the chain paid (negative: slashed); the work's cost comes off it. */
  async #closeWon(
    workloadId: bigint,
    kind: ExperienceKind,
    received: bigint,
    figures: Record<string, Json>,
    evidence: Evidence,
    onlyDisputed = false,
  ): Promise<void> {
    const bid = this.#o.memory.bid(workloadId);
    if (bid === undefined || bid.state === "lost" || bid.state === "closed" || bid.state === "sent") return;
    if (onlyDisputed && bid.state !== "submitted") return;
    const service = this.#o.services.find((s) => s.name === bid.service);
    const cost = (service?.costPerUnit ?? 0n) * bid.units;
    const hashes = [`bid:${workloadId}:${bid.round}`, `submit:${workloadId}:${bid.round}`, `finalize:${workloadId}`]
      .map((key) => this.#o.store.tx(key)?.hash)
      .filter((h): h is Hex => h !== undefined);
    // Gas is paid in ether, profit is counted in AITBC: gas goes into the figures, not into the profit (an operator
    // folds its average gas into costPerUnit).
    const gas = await this.#o.market.gasPaid(hashes);
    const profit = received - cost;
    this.#o.memory.setBidState(workloadId, bid.round, "closed");
    this.#experience(bid, kind, kind, profit, { ...figures, cost: String(cost), gasWei: String(gas) }, evidence, true);
  }

  /** Stores the experience and, the first time, lets the strategy learn from it (one transaction). */
  #experience(
    bid: BidRow,
    kind: ExperienceKind,
    outcome: string,
    profit: bigint,
    figures: Record<string, Json>,
    evidence: Evidence,
    won: boolean,
  ): void {
    const { memory, strategy } = this.#o;
    const learns = kind !== "disputed"; // a dispute is not an end: its resolution or expiry is learned
    const stored = memory.remember(
      {
        kind,
        workloadId: bid.workloadId,
        service: bid.service,
        context: bid.context,
        action: { bid: String(bid.pricePerUnit), reason: bid.reason, decision: bid.decision },
        outcome,
        figures: { ...figures, profit: String(profit) },
        profit,
      },
      evidence,
      () => {
        if (!learns || strategy.learn === undefined) return undefined;
        strategy.learn({
          workloadId: bid.workloadId,
          serviceName: bid.service,
          units: bid.units,
          pricePerUnit: bid.pricePerUnit,
          won,
          profit,
          decision: bid.decision,
        });
        const state = strategy.state?.();
        return state === undefined ? undefined : { strategy: strategy.name, state };
      },
    );
    if (stored)
      this.#logger.info(
        { event: "experience", kind, workloadId: bid.workloadId, price: bid.pricePerUnit, profit, learned: learns },
        `workload ${bid.workloadId}: ${outcome} (profit ${profit})`,
      );
  }

  #competitors(service: AgentService): CompetitorOffer[] {
    return this.#o.catalog
      .offers()
      .filter((o) => o.agentId !== this.#o.agentId && o.model.toLowerCase() === service.model.toLowerCase())
      .map((o) => ({ agentId: o.agentId, pricePerUnit: o.price, reputation: o.reputation }));
  }

  // ---------------------------------------------------------------- work loop

  /** Delivers awarded work and finalizes due results; one pass at a time. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    for (const bid of this.#o.memory.bidsIn("won")) {
      try {
        await this.#deliver(bid);
      } catch (error) {
        if (!(error instanceof TxRevertedError)) throw error;
        this.#logger.error(
          { event: "submit-reverted", workloadId: bid.workloadId, error: error.errorName },
          error.message,
        );
      }
    }
    const now = Number(await this.#o.market.now());
    for (const duty of this.#o.store.dueDuties(now)) {
      if (duty.kind !== "finalize") continue;
      await this.#finalize(duty.id);
    }
  }

  async #deliver(bid: BidRow): Promise<void> {
    const { memory, market, guard } = this.#o;
    const work = memory.work(bid.workloadId);
    if (work === undefined) {
      if (!this.#waitingInput.has(bid.workloadId))
        this.#logger.info(
          { event: "waiting-input", workloadId: bid.workloadId },
          "awarded; waiting for the client's input",
        );
      this.#waitingInput.add(bid.workloadId);
      return;
    }
    this.#waitingInput.delete(bid.workloadId);
    if ((await market.now()) > bid.executionDeadline) {
      this.#logger.error({ event: "deadline-missed", workloadId: bid.workloadId }, "the execution deadline passed");
      memory.setBidState(bid.workloadId, bid.round, "submitted"); // the chain decides now (claimTimeout)
      return;
    }
    let output = work.output;
    if (output === undefined) {
      const service = this.#o.services.find((s) => s.name === bid.service);
      if (service === undefined)
        throw new Error(`workload ${bid.workloadId}: service ${bid.service} is not configured`);
      const signal = AbortSignal.timeout(this.#o.runTimeoutMs ?? 60_000);
      try {
        ({ output } = await service.backend.run(work.input, { signal, proof: false, blind: work.blind }));
        if (service.testAdversary === "corrupt-output") {
          output = corruptForTest(output);
          this.#logger.warn(
            { event: "test-adversary", workloadId: bid.workloadId },
            "TEST ADVERSARY: output corrupted",
          );
        }
      } catch (error) {
        // A bad input is the client's: the agent cannot deliver and says why; the chain will decide (timeout).
        this.#logger.error(
          { event: "run-failed", workloadId: bid.workloadId, error: errorMessage(error) },
          "run failed",
        );
        memory.setBidState(bid.workloadId, bid.round, "submitted");
        return;
      }
      memory.putOutput(bid.workloadId, output);
    }
    const resultHash = valueHashHex(output, work.blind);
    const verdict = await guard.check(
      { actionType: ACTION.SUBMIT_RESULT, value: 0n, gasEstimate: GAS.submit, label: `submit:${bid.workloadId}` },
      { bidding: false },
    );
    if (!verdict.allowed) {
      this.#logger.warn(
        { event: "submit-refused", workloadId: bid.workloadId, reason: verdict.reason },
        verdict.message,
      );
      return;
    }
    const outcome = await market.submit(bid.workloadId, bid.round, resultHash);
    if (outcome.fresh)
      guard.record({ actionType: ACTION.SUBMIT_RESULT, value: 0n, gasEstimate: GAS.submit, label: "" });
    memory.setBidState(bid.workloadId, bid.round, "submitted");
    this.#logger.info(
      { event: "submitted", workloadId: bid.workloadId, resultHash },
      `result of ${bid.workloadId} submitted`,
    );
  }

  async #finalize(workloadId: bigint): Promise<void> {
    const { market, guard, store } = this.#o;
    const w = await market.workload(workloadId);
    if (w.status !== WORKLOAD_STATUS.Submitted) {
      store.removeDuty("finalize", workloadId);
      return;
    }
    const verdict = await guard.check(
      { actionType: ACTION.UPKEEP, value: 0n, gasEstimate: GAS.finalize, label: `finalize:${workloadId}` },
      { bidding: false },
    );
    if (!verdict.allowed) {
      this.#logger.warn({ event: "finalize-refused", workloadId, reason: verdict.reason }, verdict.message);
      return;
    }
    try {
      const outcome = await market.finalize(workloadId);
      if (outcome.fresh) guard.record({ actionType: ACTION.UPKEEP, value: 0n, gasEstimate: GAS.finalize, label: "" });
      this.#logger.info({ event: "finalized", workloadId }, `workload ${workloadId} finalized: pay claimed`);
    } catch (error) {
      if (!(error instanceof TxRevertedError)) throw error;
      this.#logger.warn({ event: "finalize-reverted", workloadId, error: error.errorName }, error.message);
    }
    store.removeDuty("finalize", workloadId);
  }
}

/** The e2e test's adversary (`testAdversary: "corrupt-output"`): a wrong answer that still looks like an answer. */
function corruptForTest(output: Json): Json {
  if (typeof output === "object" && output !== null && !Array.isArray(output) && output.kind === "iris-prediction") {
    // Scores rotated by one class, so the prediction (their argmax) moves with them and the value stays well formed.
    const scores = Array.isArray(output.scores) ? output.scores : [];
    const rotated = scores.map((_s, i) => scores[(i + scores.length - 1) % scores.length] ?? null);
    return { ...output, predictedClass: (Number(output.predictedClass) + 1) % 3, scores: rotated };
  }
  return { tampered: output };
}
