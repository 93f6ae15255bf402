/**
 * The client role: an agent with a goal of its own (e.g. classify a stream of iris flowers) that buys the work on
 * the marketplace. Each pass of its work loop, for each of its workloads, by the chain's status:
 * - not posted yet (at most `concurrency` open, one every `postIntervalMs`): the next input of its seeded stream is
 *   posted with escrow, committed by inputHash = valueHash(input, blind) (the blind derived from the agent's key
 *   and the sequence number, so a restart posts the same stream under the same idempotency keys);
 * - Open: awarded once `awardAtBids` bids stand, or `awardAfterSeconds` after posting on the bids there are, or at
 *   the bid deadline, to the best bid by the scoring rule
 *   (the lowest price × (2000 − reputation) / 1000, the marketplace's own autoAward rule), leaving out providers
 *   this client disputed before (from its memory: results it checked as wrong); cancelled when no bid is eligible;
 * - Awarded: the input goes to the provider's registered endpoint (which checks it against the chain);
 * - Submitted: the client recomputes the reference answer off chain with the repo's model code (roles/work.ts)
 *   and compares its hash under the blind with the provider's resultHash: equal, it accepts (settles at once);
 *   different, it rejects, with reasonHash = the hash of its evidence (input, blind, the provider's output, the
 *   reference answer), which it serves at GET /v1/disputes/evidence?id= for the validators.
 * Every action goes through the safety layer first and is charged to the agent's constitution on chain
 * (POST_WORKLOAD: post with the escrow as volume, award, accept, reject). Outcomes read from the chain (settled,
 * refunded after a dispute) and its own checks (a disputed result) go to memory. When the goal is done it logs
 * `client-done` with the counts.
 */
import { createServer } from "node:http";

import type { FollowedLog } from "../../keepers/common/follower.js";
import { closeServer, errorMessage, HttpError, listen, router, sendJson } from "../../keepers/common/http.js";
import { TxRevertedError, type TxSender } from "../../keepers/common/txs.js";
import { valueHashHex, type Json } from "../../protocol/values.js";
import { registryAbi } from "../../protocol/abi.js";
import type { ClientConfig } from "../config.js";
import type { SafetyLayer } from "../guard.js";
import { WORKLOAD_STATUS, type Marketplace, type Workload } from "../marketplace.js";
import type { Evidence } from "../memory.js";
import { resultMessage } from "../server.js";
import {
  followMarketplace,
  marketplaceFor,
  registerAgent,
  safetyLayerFor,
  type RoleContext,
  type RunningAgent,
} from "./context.js";
import {
  agentEndpoint,
  blindHex,
  evidenceHash,
  referenceBackend,
  referenceResult,
  streamInput,
  type DisputeEvidence,
} from "./work.js";

/** ActionTypes.sol: a client's actions (post, award, accept, reject) are POST_WORKLOAD. */
const POST_WORKLOAD = 4;
/** Gas charged to the daily budget before each action (measured: snapshots/gas.json). */
const GAS = { post: 300_000n, award: 200_000n, accept: 250_000n, reject: 100_000n, cancel: 150_000n } as const;
const FINISHED = new Set<number>([WORKLOAD_STATUS.Settled, WORKLOAD_STATUS.Refunded, WORKLOAD_STATUS.Cancelled]);

export async function startClient(ctx: RoleContext): Promise<RunningAgent> {
  const { config, logger, chain, account, closers } = ctx;
  const goal = config.client;
  if (goal === undefined) throw new Error('role "client": no client section');
  const reference = referenceBackend(goal.service, goal.backend, ctx.shared, ctx.env);
  const { sender, market } = marketplaceFor(ctx);

  // The evidence API first: the endpoint registered on chain is the one listening.
  const work = new ClientWork(ctx, goal, market, sender, reference);
  const server = createServer(
    router(
      {
        "GET /v1/disputes/evidence": (req, res) => {
          const id = new URL(req.url ?? "/", "http://agent").searchParams.get("id") ?? "";
          if (!/^\d{1,78}$/.test(id))
            throw new HttpError(400, "bad-request", "id: must be a decimal workload id", { field: "id" });
          const evidence = work.evidence(BigInt(id));
          if (evidence === undefined)
            throw new HttpError(404, "no-dispute", `workload ${id}: no dispute of this client`);
          sendJson(res, 200, evidence);
        },
        "GET /healthz": (_req, res) => {
          sendJson(res, 200, { ok: true, agent: account.address, role: "client", ...work.counts() });
        },
      },
      (error) => {
        logger.error({ err: errorMessage(error) }, "request failed");
      },
    ),
  );
  const url = await listen(server, config.server.host, config.server.port);
  closers.push(() => closeServer(server));

  // The registry has no client type: a client registers as a service provider without offers.
  const agentId = await registerAgent(ctx, "service-provider", url);
  await sender.start();
  await market.approveEscrow(chain.addresses.token);
  work.guard = safetyLayerFor(ctx, [POST_WORKLOAD]);
  await work.recover();
  await followMarketplace(ctx, sender, work);
  logger.info(
    { event: "agent-ready", role: "client", url, address: account.address, agentId, goal: goal.workloads },
    "agent ready",
  );
  return { role: "client", url, address: account.address, agentId, close: ctx.closeAll };
}

interface Posted {
  seq: number;
  workloadId: bigint;
  /** `${round}` of the round whose input was handed over. */
  inputSent?: number;
  /** Rounds already checked. */
  checked?: number;
}

class ClientWork {
  guard: SafetyLayer | undefined;
  readonly #posted = new Map<bigint, Posted>();
  readonly #done = new Map<bigint, number>();
  #lastPost = 0;
  #ticking: Promise<void> | undefined;
  #finished = false;
  readonly #logger;

  constructor(
    private readonly ctx: RoleContext,
    private readonly goal: ClientConfig,
    private readonly market: Marketplace,
    private readonly sender: TxSender,
    private readonly reference: ReturnType<typeof referenceBackend>,
  ) {
    this.#logger = ctx.root.child({ module: "client" });
  }

  counts(): Record<string, number> {
    const by = (status: number) => [...this.#done.values()].filter((s) => s === status).length;
    return {
      posted: this.#posted.size,
      settled: by(WORKLOAD_STATUS.Settled),
      refunded: by(WORKLOAD_STATUS.Refunded),
      cancelled: by(WORKLOAD_STATUS.Cancelled),
    };
  }

  /** Finds the workloads posted before a restart (their post transactions are in the store). */
  async recover(): Promise<void> {
    for (let seq = 0; seq < this.goal.workloads; seq++) {
      if (this.ctx.store.tx(`post:${seq}`) === undefined) continue;
      const { workloadId } = await this.market.post(String(seq), await this.#request(seq));
      this.#posted.set(workloadId, { seq, workloadId });
    }
  }

  /** The evidence of a workload this client disputed, as committed to by its rejection. */
  evidence(workloadId: bigint): DisputeEvidence | undefined {
    const disputed = this.ctx.memory.experiences({ kind: "disputed", workloadId, limit: 1 })[0];
    if (disputed === undefined) return undefined;
    return (disputed.figures as { evidence: DisputeEvidence }).evidence;
  }

  onLogs(logs: readonly FollowedLog[]): void {
    for (const log of logs) {
      const args = log.args as Record<string, unknown>;
      const workloadId = args.workloadId as bigint | undefined;
      if (workloadId === undefined || !this.#posted.has(workloadId)) continue;
      const evidence: Evidence = {
        chain: { transactionHash: log.transactionHash, logIndex: log.logIndex, blockNumber: log.blockNumber },
      };
      if (log.eventName === "WorkloadSettled")
        this.#remember(
          workloadId,
          "settled",
          "paid the provider",
          -(args.paidToProvider as bigint) - (args.fee as bigint),
          { provider: String(args.providerId) },
          evidence,
        );
      if (log.eventName === "WorkloadRefunded")
        this.#remember(workloadId, "refunded", "escrow refunded", 0n, { refund: String(args.refund) }, evidence);
      if (log.eventName === "DisputeResolved")
        this.#logger.info(
          { event: "dispute-resolved", workloadId, providerWins: args.providerWins, resolver: args.resolver },
          `workload ${workloadId}: dispute resolved ${args.providerWins === true ? "for the provider" : "for this client"}`,
        );
    }
  }

  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    await this.#postNext();
    // Workloads are independent: their steps run side by side (the sender orders the nonces).
    const open = [...this.#posted.values()].filter((p) => !this.#done.has(p.workloadId));
    await Promise.all(
      open.map(async (posted) => {
        try {
          await this.#step(posted);
        } catch (error) {
          if (!(error instanceof TxRevertedError)) throw error;
          this.#logger.warn(
            { event: "client-reverted", workloadId: posted.workloadId, error: error.errorName },
            error.message,
          );
          // A transaction mined reverted (the chain moved between simulation and inclusion): forget it, so the
          // next pass decides again from the chain's state.
          for (const key of this.#keys(posted.workloadId))
            if (this.ctx.store.tx(key)?.state === "reverted") this.sender.retire(key);
        }
      }),
    );
    if (!this.#finished && this.#done.size === this.goal.workloads) {
      this.#finished = true;
      this.#logger.info({ event: "client-done", ...this.counts() }, "goal done: every workload is finished");
    }
  }

  async #request(seq: number) {
    const { input, blind } = await this.#input(seq);
    const now = await this.market.now();
    return {
      serviceType: this.reference.serviceType,
      modelHash: this.reference.model,
      units: BigInt(this.goal.units),
      maxPricePerUnit: this.goal.maxPricePerUnit,
      bidDeadline: now + BigInt(this.goal.biddingSeconds),
      executionDeadline: now + BigInt(this.goal.biddingSeconds + this.goal.executionSeconds),
      verification: 0,
      reopenOnTimeout: false,
      inputHash: valueHashHex(input, blind),
    };
  }

  /** Input `seq` of the stream and its blind: a signature of the agent's key (deterministic, secret to others). */
  async #input(seq: number): Promise<{ input: Json; blind: bigint }> {
    const { account, chain } = this.ctx;
    const signature = await account.signMessage({
      message: `AITBC client blind: chain ${chain.chain.id}, marketplace ${this.market.address.toLowerCase()}, input ${seq}`,
    });
    const blind = BigInt(`0x${signature.slice(2, 64)}`) || 1n;
    return { input: streamInput(this.goal.backend, this.goal.seed, seq), blind };
  }

  /** Posts the next inputs of the stream: as many as `concurrency` allows, or one per `postIntervalMs` if set. */
  async #postNext(): Promise<void> {
    const open = this.#posted.size - this.#done.size;
    let slots = Math.min(this.goal.workloads - this.#posted.size, this.goal.concurrency - open);
    if (slots <= 0) return;
    if (this.goal.postIntervalMs > 0) {
      if (Date.now() - this.#lastPost < this.goal.postIntervalMs) return;
      slots = 1;
    }
    const taken = new Set([...this.#posted.values()].map((p) => p.seq));
    const next: number[] = [];
    for (let seq = 0; next.length < slots && seq < this.goal.workloads; seq++) if (!taken.has(seq)) next.push(seq);
    this.#lastPost = Date.now();
    await Promise.all(next.map((seq) => this.#post(seq)));
  }

  async #post(seq: number): Promise<void> {
    const request = await this.#request(seq);
    const escrow = request.units * request.maxPricePerUnit;
    const action = { actionType: POST_WORKLOAD, value: escrow, gasEstimate: GAS.post, label: `post:${seq}` };
    if (!(await this.#allowed(action))) return;
    const { input, blind } = await this.#input(seq);
    const { workloadId, outcome } = await this.market.post(String(seq), request);
    if (outcome.fresh) this.guard?.record(action);
    this.ctx.memory.putInput(workloadId, input, blind);
    this.#posted.set(workloadId, { seq, workloadId });
    this.#logger.info(
      { event: "posted", workloadId, seq, escrow, tx: outcome.hash },
      `workload ${workloadId} posted (input ${seq})`,
    );
  }

  async #allowed(action: { actionType: number; value: bigint; gasEstimate: bigint; label: string }): Promise<boolean> {
    if (this.guard === undefined) return false;
    const verdict = await this.guard.check(action, { bidding: false });
    if (!verdict.allowed)
      this.#logger.warn({ event: "action-refused", label: action.label, reason: verdict.reason }, verdict.message);
    return verdict.allowed;
  }

  async #step(posted: Posted): Promise<void> {
    const w = await this.market.workload(posted.workloadId);
    if (FINISHED.has(w.status)) {
      this.#done.set(posted.workloadId, w.status);
      return;
    }
    if (w.status === WORKLOAD_STATUS.Open) await this.#award(posted, w);
    else if (w.status === WORKLOAD_STATUS.Awarded) await this.#handOver(posted, w);
    else if (w.status === WORKLOAD_STATUS.Submitted) await this.#check(posted, w);
  }

  #keys(workloadId: bigint): string[] {
    return ["award", "accept", "reject"]
      .flatMap((action) => [0, 1, 2, 3].map((round) => `${action}:${workloadId}:${round}`))
      .concat(`cancel:${workloadId}`);
  }

  /** Providers this client disputed: it checked their results as wrong (its own evidence). */
  #disputedProviders(): Set<bigint> {
    if (!this.goal.avoidDisputed) return new Set();
    return new Set(
      this.ctx.memory
        .experiences({ kind: "disputed", limit: 1_000 })
        .map((e) => BigInt(String((e.figures as { provider?: string }).provider ?? 0))),
    );
  }

  async #award(posted: Posted, w: Workload): Promise<void> {
    const bids = await this.market.bids(posted.workloadId);
    const now = await this.market.now();
    const closed = now > w.bidDeadline;
    const waited =
      now >= w.bidDeadline - w.biddingPeriod + BigInt(this.goal.awardAfterSeconds ?? this.goal.biddingSeconds);
    if (bids.length < this.goal.awardAtBids && !closed && !(waited && bids.length > 0)) return;
    const avoid = this.#disputedProviders();
    let best: { index: number; providerId: bigint; score: bigint; price: bigint; reputation: number } | undefined;
    for (const [index, bid] of bids.entries()) {
      const providerId = bid.providerId;
      if (avoid.has(providerId)) continue;
      const summary = await this.ctx.client.readContract({
        address: this.ctx.chain.addresses.registry,
        abi: registryAbi,
        functionName: "summaryOf",
        args: [providerId],
      });
      if (!summary.active) continue;
      const score = bid.pricePerUnit * (2_000n - BigInt(summary.reputation));
      if (best === undefined || score < best.score)
        best = { index, providerId, score, price: bid.pricePerUnit, reputation: summary.reputation };
    }
    if (best === undefined) {
      if (!closed) return;
      const action = {
        actionType: POST_WORKLOAD,
        value: 0n,
        gasEstimate: GAS.cancel,
        label: `cancel:${posted.workloadId}`,
      };
      if (!(await this.#allowed(action))) return;
      const outcome = await this.market.cancel(posted.workloadId);
      if (outcome.fresh) this.guard?.record(action);
      this.#logger.warn(
        { event: "cancelled", workloadId: posted.workloadId, bids: bids.length },
        `workload ${posted.workloadId}: no eligible bid, cancelled`,
      );
      return;
    }
    const action = {
      actionType: POST_WORKLOAD,
      value: 0n,
      gasEstimate: GAS.award,
      label: `award:${posted.workloadId}`,
    };
    if (!(await this.#allowed(action))) return;
    const outcome = await this.market.award(posted.workloadId, w.round, best.index, best.providerId);
    if (outcome.fresh) this.guard?.record(action);
    this.#logger.info(
      {
        event: "awarded",
        workloadId: posted.workloadId,
        providerId: best.providerId,
        price: best.price,
        reputation: best.reputation,
        bids: bids.length,
        avoided: avoid.size,
      },
      `workload ${posted.workloadId} awarded to agent ${best.providerId} (price ${best.price}, reputation ${best.reputation}, of ${bids.length} bids)`,
    );
  }

  async #handOver(posted: Posted, w: Workload): Promise<void> {
    if (posted.inputSent === w.round) return;
    const work = this.ctx.memory.work(posted.workloadId);
    if (work === undefined) throw new Error(`workload ${posted.workloadId}: its input is not in the store`);
    const endpoint = await agentEndpoint(this.ctx.chain, w.providerId);
    const res = await fetch(`${endpoint}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workloadId: String(posted.workloadId), input: work.input, blind: blindHex(work.blind) }),
      signal: AbortSignal.timeout(10_000),
    }).catch((error: unknown) => new Error(errorMessage(error)));
    if (res instanceof Error || !res.ok) {
      const why = res instanceof Error ? res.message : `HTTP ${res.status}`;
      this.#logger.warn(
        { event: "input-not-delivered", workloadId: posted.workloadId, why },
        `input not delivered (${why}); retried`,
      );
      return;
    }
    posted.inputSent = w.round;
    this.#logger.info(
      { event: "input-sent", workloadId: posted.workloadId, providerId: w.providerId },
      "input handed to the provider",
    );
  }

  /** The provider's output (from its endpoint, checked against its commitment), or null. */
  async #providerOutput(workloadId: bigint, w: Workload, blind: bigint): Promise<Json> {
    const { account, chain } = this.ctx;
    const signature = await account.signMessage({
      message: resultMessage(chain.chain.id, this.market.address, workloadId),
    });
    try {
      const endpoint = await agentEndpoint(chain, w.providerId);
      const res = await fetch(`${endpoint}/v1/workloads/result?id=${workloadId}`, {
        headers: { "x-aitbc-signature": signature },
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) return null;
      const { output } = (await res.json()) as { output: Json };
      return valueHashHex(output, blind).toLowerCase() === w.resultHash.toLowerCase() ? output : null;
    } catch {
      return null;
    }
  }

  async #check(posted: Posted, w: Workload): Promise<void> {
    if (posted.checked === w.round) return;
    const work = this.ctx.memory.work(posted.workloadId);
    if (work === undefined) throw new Error(`workload ${posted.workloadId}: its input is not in the store`);
    const expected = await referenceResult(this.reference.backend, work.input, work.blind);
    const output = await this.#providerOutput(posted.workloadId, w, work.blind);
    if (output !== null) this.ctx.memory.putOutput(posted.workloadId, output);
    const provider = String(w.providerId);
    if (expected.resultHash.toLowerCase() === w.resultHash.toLowerCase()) {
      const action = {
        actionType: POST_WORKLOAD,
        value: 0n,
        gasEstimate: GAS.accept,
        label: `accept:${posted.workloadId}`,
      };
      if (!(await this.#allowed(action))) return;
      const outcome = await this.market.accept(posted.workloadId, w.round);
      if (outcome.fresh) this.guard?.record(action);
      posted.checked = w.round;
      this.#logger.info(
        { event: "accepted", workloadId: posted.workloadId, providerId: provider, fetched: output !== null },
        `workload ${posted.workloadId}: the result matches the reference answer, accepted`,
      );
      return;
    }
    const evidence: DisputeEvidence = {
      workloadId: posted.workloadId.toString(),
      round: w.round,
      input: work.input,
      blind: blindHex(work.blind),
      providerOutput: output,
      expectedOutput: expected.output,
      submittedResultHash: w.resultHash,
    };
    const reasonHash = evidenceHash(evidence);
    const action = {
      actionType: POST_WORKLOAD,
      value: 0n,
      gasEstimate: GAS.reject,
      label: `reject:${posted.workloadId}`,
    };
    if (!(await this.#allowed(action))) return;
    // Remembered before the rejection is sent: the evidence must be served as soon as the dispute is on chain.
    this.#remember(
      posted.workloadId,
      "disputed",
      "the result differs from the reference answer: rejected",
      0n,
      { provider, reasonHash, evidence },
      { self: `recomputed the reference answer of workload ${posted.workloadId} round ${w.round}` },
    );
    const outcome = await this.market.reject(posted.workloadId, w.round, reasonHash);
    if (outcome.fresh) this.guard?.record(action);
    posted.checked = w.round;
    this.#logger.warn(
      { event: "disputed", workloadId: posted.workloadId, providerId: provider, reasonHash, tx: outcome.hash },
      `workload ${posted.workloadId}: the result differs from the reference answer, disputed`,
    );
  }

  #remember(
    workloadId: bigint,
    kind: "settled" | "refunded" | "disputed",
    outcome: string,
    profit: bigint,
    figures: Record<string, Json>,
    evidence: Evidence,
  ): void {
    const posted = this.#posted.get(workloadId);
    this.ctx.memory.remember(
      {
        kind,
        workloadId,
        service: this.goal.service,
        context: { seq: posted?.seq ?? null },
        action: { role: "client" },
        outcome,
        figures,
        profit,
      },
      evidence,
    );
  }
}
