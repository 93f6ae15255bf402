/**
 * The safety layer against a strategy that turns reckless, on a devnet: a test strategy that bids fairly and then
 * at 1 wei a unit (each job then loses its cost). The loss breaker counts what open work could still lose, so the
 * agent stops bidding before its losses can pass `breakers.maxLoss`, not after; the losses the chain then settles
 * stay within it. And a guardian's freeze stops an agent at once: from the freeze on it sends no transaction.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import hre from "hardhat";

import type { Action, MarketState, OwnState, Strategy } from "../../../agents/strategy.js";
import { ROLES, startDevnet, type Devnet } from "../../../scripts/lib/devnet.js";
import {
  advance,
  agentConfig,
  fundClient,
  marketAs,
  post,
  startAgent,
  type InProcessAgent,
} from "../../helpers/agent-devnet.js";

const RECKLESS = ROLES.providers[2];
const FROZEN = ROLES.providers[3];
const MAX_LOSS = parseEther("1");

/** Fair for `fairBids` bids, then reckless: 1 wei a unit, whatever the cost. */
class TurnsRecklessStrategy implements Strategy {
  readonly name = "turns-reckless";
  decisions = 0;

  constructor(private readonly fairBids: number) {}

  decide(market: MarketState, own: OwnState): Action {
    this.decisions += 1;
    if (own.freeUnits < market.workload.units) return { kind: "skip", reason: "no capacity" };
    if (this.decisions <= this.fairBids)
      return { kind: "bid", pricePerUnit: market.service.listedPrice, reason: "fair price" };
    return { kind: "bid", pricePerUnit: 1n, reason: "reckless: 1 wei a unit" };
  }
}

describe("safety layer: a reckless strategy and a guardian freeze", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  const started: InProcessAgent[] = [];

  before(async function () {
    if (RECKLESS === undefined || FROZEN === undefined) throw new Error("no provider accounts");
    devnet = await startDevnet(hre);
    await devnet.fund(RECKLESS.agent.address, 2000n);
    await devnet.fund(FROZEN.agent.address, 2000n);
    await fundClient(devnet, ROLES.client);
  });

  after(async function () {
    for (const agent of started) await agent.close();
    await devnet.stop();
  });

  it("stops a strategy turned reckless before its losses can pass the limit", async function () {
    if (RECKLESS === undefined) throw new Error("no provider account");
    const strategy = new TurnsRecklessStrategy(1);
    // Cost 0.2 AITBC a unit: a reckless 2-unit job loses 0.4 AITBC; the limit is 1 AITBC.
    const agent = await startAgent(
      devnet,
      "reckless",
      agentConfig(devnet, RECKLESS, { breakers: { maxLoss: "1", maxDisputes: 10 } }),
      strategy,
    );
    started.push(agent);
    const jobs = [];
    for (const data of [[1], [2], [3]]) {
      const job = await post(devnet, [agent], { op: "stats", data });
      const bid = await agent.line("bid", job.workloadId);
      jobs.push({ ...job, price: BigInt(String(bid.price)) });
    }
    expect(jobs.map((j) => j.price)).to.deep.equal([parseEther("1"), 1n, 1n]);
    // A third reckless bid could take the loss to 1.2 AITBC: refused before it is sent, by the loss breaker.
    const refused = await post(devnet, [agent], { op: "stats", data: [4] });
    const line = await agent.line("bid-refused", refused.workloadId);
    expect(line.reason).to.equal("breaker-losses");
    expect(line.msg).to.match(/up to \d+ more on open work: over 1000000000000000000/);
    expect(await devnet.protocol.marketplace.getBids(refused.workloadId)).to.have.length(0);
    expect(strategy.decisions, "the strategy still wanted to bid").to.equal(4);

    // The chain settles the jobs it did take: what it lost is within the limit.
    await advance(devnet, 601);
    const market = await marketAs(devnet, ROLES.client);
    for (const job of jobs) {
      await (await market.autoAward(job.workloadId)).wait();
      await agent.line("submitted", job.workloadId);
      await (await market.accept(job.workloadId)).wait();
      await agent.line("experience", job.workloadId);
    }
    const losses = lossesOf(agent);
    expect(losses).to.be.greaterThan(0n);
    expect(losses).to.be.at.most(MAX_LOSS);
    // And it still bids no more.
    const after = await post(devnet, [agent], { op: "stats", data: [5] });
    expect((await agent.line("bid-refused", after.workloadId)).reason).to.equal("breaker-losses");
  });

  it("a guardian freeze stops the agent at once: no transaction from the freeze on", async function () {
    if (FROZEN === undefined) throw new Error("no provider account");
    const agent = await startAgent(devnet, "frozen", agentConfig(devnet, FROZEN, {}));
    started.push(agent);
    const before = await post(devnet, [agent], { op: "stats", data: [1] });
    await agent.line("bid", before.workloadId);

    const { humanOverride } = devnet.protocol;
    const guardian = await devnet.connection.ethers.getSigner(ROLES.guardian.address);
    await (await humanOverride.connect(guardian).freeze(FROZEN.agent.address, "test: stop this agent")).wait();
    const nonce = await devnet.connection.ethers.provider.getTransactionCount(FROZEN.agent.address);

    const job = await post(devnet, [agent], { op: "stats", data: [2] });
    const refused = await agent.line("bid-refused", job.workloadId);
    expect(refused.reason).to.be.oneOf(["frozen", "safe-mode"]);
    const second = await post(devnet, [agent], { op: "stats", data: [3] });
    await agent.line("bid-refused", second.workloadId);
    expect(await devnet.protocol.marketplace.getBids(job.workloadId)).to.have.length(0);
    expect(await devnet.connection.ethers.provider.getTransactionCount(FROZEN.agent.address)).to.equal(nonce);
  });
});

/** The agent's realised losses: the negative profits of its experiences (from its memory, read from the chain). */
function lossesOf(agent: InProcessAgent): bigint {
  return agent.lines
    .filter((l) => l.event === "experience")
    .map((l) => BigInt(String(l.profit)))
    .reduce((sum, p) => (p < 0n ? sum - p : sum), 0n);
}
