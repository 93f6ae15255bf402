/**
 * The model policy (agents/strategies/model-policy.ts) against the repo's OpenAI-compatible test server
 * (test/helpers/upstream.ts, the one the provider's `openai` backend tests use): what the model is asked, a proposal
 * within the limits taken, proposals outside them refused with the reason recorded, and garbage (not JSON, wrong
 * fields, an HTTP error, a malformed body, no answer in time) turned into a skip that says so. Never a bid the rules
 * did not check.
 */
import { expect } from "chai";
import { parseEther } from "viem";

import { ModelPolicyStrategy, SYSTEM_PROMPT } from "../../../agents/strategies/model-policy.js";
import type { MarketState, OwnState } from "../../../agents/strategy.js";
import { Upstream } from "../../helpers/upstream.js";

const MARKET: MarketState = {
  workload: {
    workloadId: 7n,
    round: 0,
    client: "0x000000000000000000000000000000000000c11e",
    serviceType: `0x${"11".repeat(32)}`,
    modelHash: `0x${"22".repeat(32)}`,
    units: 3n,
    maxPricePerUnit: parseEther("2"),
    bidDeadline: 1_000n,
  },
  service: {
    serviceId: `0x${"33".repeat(32)}`,
    name: "iris-inference",
    listedPrice: parseEther("1.2"),
    costPerUnit: parseEther("0.5"),
  },
  competitors: [{ agentId: 2n, pricePerUnit: parseEther("1.4"), reputation: 500 }],
  feeBps: 100,
};
const OWN: OwnState = { agentId: 1n, reputation: 500, freeUnits: 4n };

describe("model policy (an OpenAI-compatible model, checked by the rule layer)", function () {
  let upstream: Upstream;
  const policy = (limits: { minMarginBps?: number; maxPricePerUnit?: bigint } = {}, timeoutMs = 5_000) =>
    new ModelPolicyStrategy({
      url: upstream.url,
      model: "pricing-model",
      timeoutMs,
      limits: { minMarginBps: limits.minMarginBps ?? 1_000, maxPricePerUnit: limits.maxPricePerUnit },
    });

  before(async function () {
    upstream = await new Upstream().start();
  });
  after(async function () {
    await upstream.close();
  });
  beforeEach(function () {
    upstream.behavior = {};
    upstream.received.length = 0;
  });

  it("asks the model at temperature 0 with the market in AITBC, and bids a proposal within the limits", async function () {
    upstream.behavior.content = '{"action":"bid","pricePerUnit":"1.35","reason":"just under the cheapest rival"}';
    const action = await policy().decide(MARKET, OWN);
    expect(action).to.deep.include({
      kind: "bid",
      pricePerUnit: parseEther("1.35"),
      reason: "model: just under the cheapest rival",
    });
    const request = upstream.received[0];
    expect(request?.path).to.equal("/v1/chat/completions");
    expect(request?.body.model).to.equal("pricing-model");
    expect(request?.body.temperature).to.equal(0);
    const [system, user] = request?.body.messages as { role: string; content: string }[];
    expect(system?.content).to.equal(SYSTEM_PROMPT);
    expect(JSON.parse(user?.content ?? "")).to.deep.include({
      workload: { id: "7", units: "3", maxPricePerUnit: "2" },
      competitors: [{ price: "1.4", reputation: 500 }],
      freeUnits: "4",
    });
  });

  it("takes an answer in a ```json fence, and a skip with its reason", async function () {
    upstream.behavior.content = 'Here:\n```json\n{"action":"bid","pricePerUnit":1.5,"reason":"fair"}\n```';
    expect(await policy().decide(MARKET, OWN)).to.deep.include({ kind: "bid", pricePerUnit: parseEther("1.5") });
    upstream.behavior.content = '{"action":"skip","reason":"too small to bother"}';
    expect(await policy().decide(MARKET, OWN)).to.deep.equal({ kind: "skip", reason: "model: too small to bother" });
  });

  const OUTSIDE: [string, string, { minMarginBps?: number; maxPricePerUnit?: bigint }, OwnState, RegExp][] = [
    ["over the workload's ceiling", "2.5", {}, OWN, /^model-refused: price 2\.5 is over the workload's ceiling 2$/],
    [
      "over limits.maxPricePerUnit",
      "1.9",
      { maxPricePerUnit: parseEther("1.8") },
      OWN,
      /^model-refused: price 1\.9 is over limits\.maxPricePerUnit 1\.8$/,
    ],
    [
      "under cost plus the margin",
      "0.52",
      {},
      OWN,
      /^model-refused: price 0\.52 is under cost plus 1000 bps \(0\.55\)$/,
    ],
    ["at 0", "0", {}, OWN, /^model-refused: a price of 0$/],
    ["for more units than are free", "1.3", {}, { ...OWN, freeUnits: 2n }, /^model-refused: 3 units asked, 2 free$/],
  ];
  for (const [what, price, limits, own, reason] of OUTSIDE) {
    it(`refuses a bid ${what}, with the reason recorded`, async function () {
      upstream.behavior.content = `{"action":"bid","pricePerUnit":"${price}","reason":"trust me"}`;
      const strategy = policy(limits);
      const action = await strategy.decide(MARKET, own);
      expect(action.kind).to.equal("skip");
      expect(action.reason).to.match(reason);
      const [refusal] = strategy.refusals();
      expect(refusal?.workloadId).to.equal(7n);
      expect(refusal?.reason).to.equal(action.reason);
      expect(refusal?.proposal).to.equal(upstream.behavior.content);
    });
  }

  const GARBAGE: [string, Upstream["behavior"], RegExp][] = [
    ["prose", { content: "I would bid about 1.5 AITBC." }, /^model-garbage: not JSON/],
    ["a JSON array", { content: "[1.5]" }, /^model-garbage: not a JSON object$/],
    [
      "an unknown action",
      { content: '{"action":"buy","reason":"x"}' },
      /^model-garbage: action: must be "bid" or "skip"/,
    ],
    ["no reason", { content: '{"action":"bid","pricePerUnit":"1.5"}' }, /^model-garbage: reason: missing$/],
    [
      "a negative price",
      { content: '{"action":"bid","pricePerUnit":"-1","reason":"x"}' },
      /^model-garbage: pricePerUnit: must be a decimal amount/,
    ],
    [
      "a price in exponent form",
      { content: '{"action":"bid","pricePerUnit":1e-7,"reason":"x"}' },
      /^model-garbage: pricePerUnit: must be a decimal amount/,
    ],
    ["an HTTP 503", { status: 503 }, /^model-garbage: no answer: .*503/],
    ["a body that is not JSON", { malformed: true }, /^model-garbage: no answer: /],
    ["no answer in time", { delayMs: 1_500 }, /^model-garbage: no answer: .*within 300 ms/],
  ];
  for (const [what, behavior, reason] of GARBAGE) {
    it(`skips on garbage (${what}), saying so`, async function () {
      upstream.behavior = behavior;
      const strategy = policy({}, 300);
      const action = await strategy.decide(MARKET, OWN);
      expect(action.kind).to.equal("skip");
      expect(action.reason).to.match(reason);
      expect(strategy.refusals().map((r) => r.reason)).to.deep.equal([action.reason]);
    });
  }

  it("keeps the last 100 refusals", async function () {
    upstream.behavior.content = "nope";
    const strategy = policy();
    for (let i = 0; i < 102; i++) await strategy.decide(MARKET, OWN);
    expect(strategy.refusals()).to.have.length(100);
  });

  it("refuses a negative margin, naming the field", function () {
    expect(() => policy({ minMarginBps: -1 })).to.throw(RangeError, /strategy\.limits\.minMarginBps/);
  });
});
