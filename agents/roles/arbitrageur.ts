/**
 * The arbitrageur: an agent that wins work at its own price and has a cheaper provider do it. It is a provider
 * agent (the runtime bids by its strategy, is awarded, submits the signed result and is paid) whose service's
 * backend, instead of running the work, subcontracts it:
 *
 * 1. the awarded workload this input belongs to is found in the agent's memory (its won bid whose input and blind
 *    these are), for its units, service type, model and execution deadline;
 * 2. a signed quote for those units is asked of the subcontractor over A2A (agents/a2a/), and refused unless the
 *    spread pays: what the agent earns (its price × units, less the protocol fee) must exceed the quote's total;
 * 3. a nested workload (the subcontractor's service type, the same model, the same input under a fresh blind, the
 *    quoted price as its ceiling, an execution deadline a minute before the original's) is posted on the
 *    marketplace (the safety layer first: POST_WORKLOAD), the subcontractor's bid at or under the quote awarded once
 *    bidding closes, the input handed to its API (checked there against the chain);
 * 4. its result is fetched (signed as the nested workload's client), checked against the result hash the
 *    subcontractor signed on chain and against the service's output shape, and accepted (the subcontractor is paid);
 * 5. the output goes back to the runtime, which submits it for the original workload under its client's blind.
 *
 * A crash anywhere in this is survived: the nested workload's blind and the quote are stored in the agent's store
 * (memory.putSubcontract) before the nested workload is posted, and every transaction goes out under an
 * idempotency key, so the restarted agent carries on with the same nested workload under the same blind (a fresh
 * blind would not match the inputHash on chain: the subcontractor would refuse the input, and the original
 * workload would end in a slash). `test/e2e/arbitrageur-restart.test.ts` kills it with SIGKILL mid-subcontract.
 *
 * What the verification level shows: at basic verification the result's correctness rests on the subcontractor's
 * signed, staked submission (it can be disputed and slashed) and the client's own challenge window, as for any
 * provider; the arbitrageur passes on exactly what was signed. Profit = the original payment − the nested
 * workload's payment − gas (ether, in the log's figures): each subcontract logs `subcontracted` with them.
 */
import { randomBytes } from "node:crypto";

import { bytesToBigInt, keccak256, stringToBytes, type Hex, type LocalAccount } from "viem";

import { blindToHex } from "../../circuits/lib/field.js";
import { errorMessage } from "../../keepers/common/http.js";
import type { Logger } from "../../keepers/common/log.js";
import type { Backend, RunContext } from "../../keepers/provider/backends/types.js";
import { canonicalJson, irisPredictionOf, isIrisFeatures, valueHashHex, type Json } from "../../protocol/values.js";
import type { A2APeers } from "../a2a/client.js";
import type { SafetyLayer } from "../guard.js";
import { WORKLOAD_STATUS, type Marketplace } from "../marketplace.js";
import type { AgentMemory } from "../memory.js";
import { resultMessage } from "../server.js";

/** ActionTypes.POST_WORKLOAD. */
export const POST_WORKLOAD = 4;
const POST_GAS = 400_000n;
/** Seconds between the nested workload's execution deadline and the original's. */
const DELIVERY_MARGIN_SECONDS = 60n;
/** The least execution time the nested workload gets after its bidding. */
const MIN_EXECUTION_SECONDS = 30n;

export interface Subcontractor {
  /** The subcontractor's base URL (its A2A card and API). */
  url: string;
  /** Its AgentRegistry id. */
  agentId: bigint;
  /** Its offer's name (the service quoted). */
  service: string;
}

export interface ArbitrageOptions {
  subcontractor: Subcontractor;
  peers: A2APeers;
  market: Marketplace;
  memory: AgentMemory;
  guard: SafetyLayer;
  account: LocalAccount;
  chainId: number;
  token: Hex;
  logger: Logger;
  /** Seconds of bidding on the nested workload. */
  biddingSeconds?: number;
  pollMs?: number;
}

/** What the arbitrageur keeps of a quote (in its store, as JSON). */
interface StoredQuote {
  pricePerUnit: bigint;
  total: bigint;
  signed: Json;
}

function toStored(q: StoredQuote): Json {
  return { pricePerUnit: q.pricePerUnit.toString(), total: q.total.toString(), signed: q.signed };
}

function fromStored(json: Json): StoredQuote {
  const q = json as { pricePerUnit: string; total: string; signed: Json };
  return { pricePerUnit: BigInt(q.pricePerUnit), total: BigInt(q.total), signed: q.signed };
}

export class SubcontractingBackend implements Backend {
  readonly name: string;
  readonly kind: Backend["kind"];
  readonly stepType: Backend["stepType"];
  readonly model: Hex;
  readonly price: bigint;
  readonly capacity: number;
  readonly provable = false;
  readonly #logger: Logger;
  #approved = false;

  constructor(
    inner: Backend,
    private readonly o: ArbitrageOptions,
  ) {
    ({ name: this.name, kind: this.kind, stepType: this.stepType, model: this.model } = inner);
    ({ price: this.price, capacity: this.capacity } = inner);
    this.#logger = o.logger.child({ module: "arbitrageur" });
  }

  async run(input: Json, ctx: RunContext): Promise<{ output: Json }> {
    const { market, memory, subcontractor } = this.o;
    // 1. The awarded workload: the won bid whose work has this input and blind.
    const text = canonicalJson(input);
    const bid = memory
      .bidsIn("won")
      .find(
        (b) =>
          memory.work(b.workloadId)?.blind === ctx.blind &&
          canonicalJson(memory.work(b.workloadId)?.input ?? null) === text,
      );
    if (bid === undefined) throw new Error("arbitrageur: no awarded workload has this input");
    const original = await market.workload(bid.workloadId);

    // 2. A signed quote, and the spread; or, after a restart, the plan stored before the nested workload was posted.
    const feeBps = BigInt(await market.feeBps());
    const earned = (bid.pricePerUnit * bid.units * (10_000n - feeBps)) / 10_000n;
    const now = await market.now();
    const stored = memory.subcontract(bid.workloadId, bid.round);
    let quote: StoredQuote;
    let blind: bigint;
    if (stored !== undefined) {
      ({ blind } = stored);
      quote = fromStored(stored.quote);
      this.#logger.info(
        { event: "subcontract-resumed", workloadId: bid.workloadId },
        `workload ${bid.workloadId}: resuming its subcontract under the stored blind`,
      );
    } else {
      const fresh = await this.o.peers.quote(
        subcontractor.url,
        subcontractor.agentId,
        subcontractor.service,
        Number(bid.units),
      );
      if (fresh.modelHash.toLowerCase() !== original.modelHash.toLowerCase())
        throw new Error(`arbitrageur: the subcontractor's model ${fresh.modelHash} is not the workload's`);
      if (earned <= fresh.total)
        throw new Error(`arbitrageur: no spread: earns ${earned}, the subcontractor quotes ${fresh.total}`);
      if (fresh.validUntil <= now) throw new Error("arbitrageur: the quote expired");
      quote = { pricePerUnit: fresh.pricePerUnit, total: fresh.total, signed: fresh.signed };
      blind = bytesToBigInt(randomBytes(31)); // 31 bytes: below the field's modulus
      // Stored (durably) before the post: a restart posts, hands over and checks under this same blind.
      memory.putSubcontract(bid.workloadId, bid.round, { blind, quote: toStored(quote) });
    }

    // 3. The nested workload (the same one after a restart: the post's idempotency key).
    const verdict = await this.o.guard.check(
      { actionType: POST_WORKLOAD, value: quote.total, gasEstimate: POST_GAS, label: `subcontract:${bid.workloadId}` },
      { bidding: false },
    );
    if (!verdict.allowed) throw new Error(`arbitrageur: the safety layer refused: ${verdict.message}`);
    if (!this.#approved) {
      await market.approveEscrow(this.o.token);
      this.#approved = true;
    }
    // From the later of the chain's last block and the clock: the post's own block may come seconds after the last.
    const clock = BigInt(Math.floor(Date.now() / 1000));
    const bidDeadline = (clock > now ? clock : now) + BigInt(this.o.biddingSeconds ?? 4);
    // The subcontractor's deadline comes before ours, leaving the time to check and submit its result.
    const executionDeadline = original.executionDeadline - DELIVERY_MARGIN_SECONDS;
    // (After a restart the nested workload is most likely posted already, with the deadlines it was posted with.)
    if (stored === undefined && executionDeadline <= bidDeadline + MIN_EXECUTION_SECONDS)
      throw new Error(`arbitrageur: workload ${bid.workloadId}'s deadline leaves too little time to subcontract`);
    const { workloadId, outcome } = await market.post(`subcontract:${bid.workloadId}:${bid.round}`, {
      serviceType: keccak256(stringToBytes(subcontractor.service)),
      modelHash: original.modelHash,
      units: bid.units,
      maxPricePerUnit: quote.pricePerUnit,
      bidDeadline,
      executionDeadline,
      verification: 0,
      reopenOnTimeout: false,
      inputHash: valueHashHex(input, blind),
    });
    if (outcome.fresh)
      this.o.guard.record({ actionType: POST_WORKLOAD, value: quote.total, gasEstimate: POST_GAS, label: "" });
    this.#logger.info(
      { event: "subcontract-posted", workloadId: bid.workloadId, nested: workloadId, quote: quote.total },
      `workload ${bid.workloadId} subcontracted as ${workloadId} to agent ${subcontractor.agentId}`,
    );

    // Award the subcontractor's bid once bidding closes (by the nested workload's own deadline on chain: after a
    // restart the post above is the one made before it); awarded before a crash, it is not awarded again.
    let nested = await market.workload(workloadId);
    if (nested.status === WORKLOAD_STATUS.Open) {
      const closesAt = nested.bidDeadline;
      const bidIndex = await this.#waitFor(ctx.signal, async () => {
        const bids = await market.bids(workloadId);
        const i = bids.findIndex((b) => b.providerId === subcontractor.agentId && b.pricePerUnit <= quote.pricePerUnit);
        return i >= 0 && BigInt(Math.floor(Date.now() / 1000)) > closesAt ? i : undefined;
      });
      nested = await market.workload(workloadId);
      await market.award(workloadId, nested.round, bidIndex, subcontractor.agentId);
    }
    const put = await fetch(`${subcontractor.url}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workloadId: workloadId.toString(), input, blind: blindToHex(blind) }),
      signal: ctx.signal,
    });
    if (!put.ok) throw new Error(`arbitrageur: the subcontractor refused the input: ${await put.text()}`);

    // 4. Its result, checked against what it signed on chain, then accepted.
    const submitted = await this.#waitFor(ctx.signal, async () => {
      const w = await market.workload(workloadId);
      return w.status === WORKLOAD_STATUS.Submitted || w.status === WORKLOAD_STATUS.Settled ? w : undefined;
    });
    const signature = await this.o.account.signMessage({
      message: resultMessage(this.o.chainId, market.address, workloadId),
    });
    const got = await fetch(`${subcontractor.url}/v1/workloads/result?id=${workloadId}`, {
      headers: { "x-aitbc-signature": signature },
      signal: ctx.signal,
    });
    if (!got.ok) throw new Error(`arbitrageur: no result from the subcontractor: ${await got.text()}`);
    const { output } = (await got.json()) as { output: Json };
    if (valueHashHex(output, blind).toLowerCase() !== submitted.resultHash.toLowerCase())
      throw new Error("arbitrageur: the result served is not the one signed on chain");
    if (isIrisFeatures(input)) irisPredictionOf(output); // the shape of an iris prediction, or it throws
    if (submitted.status === WORKLOAD_STATUS.Submitted) await market.accept(workloadId, submitted.round);
    this.#logger.info(
      {
        event: "subcontracted",
        workloadId: bid.workloadId,
        nested: workloadId,
        earned,
        paid: quote.total,
        spread: earned - quote.total,
        quote: quote.signed,
      },
      `workload ${bid.workloadId}: subcontracted result accepted; spread ${earned - quote.total} before gas`,
    );
    return { output };
  }

  async #waitFor<T>(signal: AbortSignal, probe: () => Promise<T | undefined>): Promise<T> {
    for (;;) {
      signal.throwIfAborted();
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        this.#logger.warn({ err: errorMessage(error) }, "arbitrageur: probe failed; retrying");
      }
      await new Promise((resolve) => setTimeout(resolve, this.o.pollMs ?? 500));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
