/**
 * A policy served by an OpenAI-compatible model (vLLM, Ollama, llama.cpp server, ...), kept inside rules: the model
 * proposes, the rule layer disposes. For each workload the model is shown the market (in AITBC) and asked for one
 * JSON action, `{"action": "bid", "pricePerUnit": "1.4", "reason": "..."}` or `{"action": "skip", "reason": "..."}`.
 *
 * The rule layer checks every proposal before the runtime sees it, and turns anything it cannot accept into a skip
 * whose reason says why (`model-refused: ...`, `model-garbage: ...`), kept in a bounded log (`refusals()`) next to
 * the runtime's skip log line:
 * - garbage: the upstream failed or timed out, the answer is not a JSON object, or a field is missing or malformed;
 * - outside the limits: a bid over the workload's ceiling, over `limits.maxPricePerUnit`, under cost plus
 *   `limits.minMarginBps`, or for more units than the agent has free.
 * Accepted proposals carry the model's reason, and the proposal in `decision`. The safety layer and the chain's
 * constitution still check every bid after this, as for any strategy. The model is called through the provider
 * node's `openai` backend (keepers/provider/backends/openai.ts), at temperature 0.
 */
import { formatUnits, parseUnits } from "viem";

import { createOpenAiBackend } from "../../keepers/provider/backends/openai.js";
import type { Backend } from "../../keepers/provider/backends/types.js";
import type { Json } from "../../protocol/values.js";
import type { Action, AsyncStrategy, MarketState, OwnState } from "../strategy.js";

export interface ModelPolicyOptions {
  /** The OpenAI-compatible server's base URL (`/v1/chat/completions` is appended). */
  url: string;
  model: string;
  /** The environment variable holding the API key, if the server wants one. */
  apiKeyEnv?: string | undefined;
  timeoutMs: number;
  limits: {
    /** The least margin over cost a bid must keep, basis points (0: at least cost). */
    minMarginBps: number;
    /** The most a bid may ask per unit (wei); none: the workload's ceiling only. */
    maxPricePerUnit?: bigint | undefined;
  };
}

export interface Refusal {
  at: number;
  workloadId: bigint;
  reason: string;
  /** The model's answer as received (truncated), or the failure. */
  proposal: string;
}

const MAX_REFUSALS = 100;

export const SYSTEM_PROMPT =
  "You price compute work for a provider agent on a marketplace. You get the workload and the market as JSON, " +
  "amounts in AITBC per unit. Answer with one JSON object and nothing else: " +
  '{"action":"bid","pricePerUnit":"<decimal AITBC>","reason":"<why>"} or {"action":"skip","reason":"<why>"}.';

export class ModelPolicyStrategy implements AsyncStrategy {
  readonly name = "model-policy";
  readonly #backend: Backend;
  readonly #refusals: Refusal[] = [];

  constructor(
    private readonly o: ModelPolicyOptions,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    if (!Number.isInteger(o.limits.minMarginBps) || o.limits.minMarginBps < 0)
      throw new RangeError(
        `strategy.limits.minMarginBps: must be a non-negative integer (got ${o.limits.minMarginBps})`,
      );
    this.#backend = createOpenAiBackend(
      { name: "model-policy", stepType: "inference", price: 0n, capacity: 1 },
      { url: o.url, model: o.model, kind: "chat", apiKeyEnv: o.apiKeyEnv, timeoutMs: o.timeoutMs },
      env,
    );
  }

  async decide(market: MarketState, own: OwnState): Promise<Action> {
    const { workload } = market;
    let text: string;
    try {
      const { output } = await this.#backend.run(
        {
          messages: [
            { role: "system", content: SYSTEM_PROMPT },
            { role: "user", content: JSON.stringify(promptOf(market, own)) },
          ],
          temperature: 0,
        },
        { signal: new AbortController().signal, proof: false, blind: 0n }, // the backend's timeoutMs bounds it,
      );
      text = (output as { text: string }).text;
    } catch (error) {
      return this.#refuse(workload.workloadId, "model-garbage", `no answer: ${(error as Error).message}`, "");
    }
    const proposal = parseProposal(text);
    if (typeof proposal === "string") return this.#refuse(workload.workloadId, "model-garbage", proposal, text);
    if (proposal.kind === "skip") return { kind: "skip", reason: `model: ${proposal.reason}` };
    const broken = this.#check(proposal.pricePerUnit, market, own);
    if (broken !== undefined) return this.#refuse(workload.workloadId, "model-refused", broken, text);
    return {
      kind: "bid",
      pricePerUnit: proposal.pricePerUnit,
      reason: `model: ${proposal.reason}`,
      decision: { policy: "model", model: this.o.model, proposal: text.slice(0, 500) },
    };
  }

  /** The rule layer: why a bid at `price` is not allowed, or undefined. */
  #check(price: bigint, market: MarketState, own: OwnState): string | undefined {
    const { workload, service } = market;
    const { minMarginBps, maxPricePerUnit } = this.o.limits;
    const floor = (service.costPerUnit * BigInt(10_000 + minMarginBps) + 9_999n) / 10_000n;
    if (price === 0n) return "a price of 0";
    if (price > workload.maxPricePerUnit)
      return `price ${aitbc(price)} is over the workload's ceiling ${aitbc(workload.maxPricePerUnit)}`;
    if (maxPricePerUnit !== undefined && price > maxPricePerUnit)
      return `price ${aitbc(price)} is over limits.maxPricePerUnit ${aitbc(maxPricePerUnit)}`;
    if (price < floor) return `price ${aitbc(price)} is under cost plus ${minMarginBps} bps (${aitbc(floor)})`;
    if (own.freeUnits < workload.units) return `${workload.units} units asked, ${own.freeUnits} free`;
    return undefined;
  }

  #refuse(workloadId: bigint, kind: "model-refused" | "model-garbage", why: string, proposal: string): Action {
    const reason = `${kind}: ${why}`;
    this.#refusals.push({ at: Date.now(), workloadId, reason, proposal: proposal.slice(0, 500) });
    if (this.#refusals.length > MAX_REFUSALS) this.#refusals.shift();
    return { kind: "skip", reason };
  }

  /** The latest refusals (at most 100), oldest first. */
  refusals(): readonly Refusal[] {
    return this.#refusals;
  }
}

/** What the model is shown: the workload, its own service and the competitors, in AITBC. */
export function promptOf(market: MarketState, own: OwnState): Json {
  return {
    workload: {
      id: String(market.workload.workloadId),
      units: String(market.workload.units),
      maxPricePerUnit: aitbc(market.workload.maxPricePerUnit),
    },
    service: {
      name: market.service.name,
      listedPrice: aitbc(market.service.listedPrice),
      costPerUnit: aitbc(market.service.costPerUnit),
    },
    competitors: market.competitors.map((c) => ({ price: aitbc(c.pricePerUnit), reputation: c.reputation })),
    feeBps: market.feeBps,
    freeUnits: String(own.freeUnits),
    reputation: own.reputation,
  };
}

type Proposal = { kind: "bid"; pricePerUnit: bigint; reason: string } | { kind: "skip"; reason: string };

/** The model's answer as a proposal, or what is wrong with it. A JSON object may sit inside a ```json fence. */
export function parseProposal(text: string): Proposal | string {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = (fenced?.[1] ?? text).trim();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return `not JSON: ${JSON.stringify(text.slice(0, 80))}`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const { action, pricePerUnit, reason } = value as Record<string, unknown>;
  if (typeof reason !== "string" || reason.length === 0) return "reason: missing";
  const why = reason.slice(0, 200);
  if (action === "skip") return { kind: "skip", reason: why };
  if (action !== "bid") return `action: must be "bid" or "skip" (got ${JSON.stringify(action)})`;
  const price = typeof pricePerUnit === "number" ? String(pricePerUnit) : pricePerUnit;
  if (typeof price !== "string" || !/^\d+(\.\d{1,18})?$/.test(price))
    return `pricePerUnit: must be a decimal amount of AITBC (got ${JSON.stringify(pricePerUnit)})`;
  return { kind: "bid", pricePerUnit: parseUnits(price, 18), reason: why };
}

function aitbc(wei: bigint): string {
  return formatUnits(wei, 18);
}
