/**
 * The market maker (agents/strategies/market-maker.ts, agents/quoter.ts) as an agent on a devnet: its standing
 * offer on chain moves to its quote (a spread over the mid that widens with load and inventory and narrows when it
 * goes idle), its bids follow the same quotes, a workload whose ceiling is under its quote but over its floor still
 * gets a bid, its spread and fill rate are reported by its API, and it delists its offer while its circuit breaker
 * is open. Also the quote rule on its own, without a chain.
 */
import { expect } from "chai";
import { id as hashText, parseEther } from "ethers";
import hre from "hardhat";

import { serviceIdOf } from "../../../keepers/common/registration.js";
import { MarketMakerStrategy } from "../../../agents/strategies/market-maker.js";
import { ROLES, startDevnet, type Devnet } from "../../../scripts/lib/devnet.js";
import {
  advance,
  agentConfig,
  fundClient,
  marketAs,
  post,
  SERVICE,
  startAgent,
  type InProcessAgent,
} from "../../helpers/agent-devnet.js";

const MAKER = ROLES.providers[4];
const AITBC = 10n ** 18n;

describe("market maker", function () {
  describe("its quote", function () {
    const mm = new MarketMakerStrategy({ minSpreadBps: 500, maxSpreadBps: 5_000, inventoryWeight: 0.5 });
    const base = { listedPrice: AITBC, costPerUnit: AITBC / 5n, competitorPrices: [], capacity: 8n, pending: 0n };

    it("widens with load and inventory, from the minimum spread when idle to the maximum when full", function () {
      const idle = mm.quote({ ...base, load: 0n });
      const half = mm.quote({ ...base, load: 4n });
      const full = mm.quote({ ...base, load: 8n });
      const pending = mm.quote({ ...base, load: 0n, pending: 8n });
      expect([idle.spreadBps, half.spreadBps, full.spreadBps, pending.spreadBps]).to.deep.equal([
        500, 2750, 5000, 2750,
      ]);
      expect(idle.pricePerUnit).to.equal((AITBC * 10_500n) / 10_000n);
      expect(full.pricePerUnit).to.equal((AITBC * 15_000n) / 10_000n);
    });

    it("quotes over the other providers' median, never under its cost plus the minimum spread", function () {
      const q = mm.quote({ ...base, load: 0n, competitorPrices: [AITBC / 10n, AITBC / 10n, 3n * AITBC] });
      expect(q.mid).to.equal(AITBC / 10n);
      expect(q.pricePerUnit).to.equal(q.floor);
      expect(q.floor).to.equal(((AITBC / 5n) * 10_500n) / 10_000n + 1n);
    });

    it("refuses bad parameters by name", function () {
      expect(() => new MarketMakerStrategy({ minSpreadBps: 600, maxSpreadBps: 500, inventoryWeight: 0 })).to.throw(
        /strategy\.maxSpreadBps/,
      );
      expect(() => new MarketMakerStrategy({ minSpreadBps: 0, maxSpreadBps: 0, inventoryWeight: 2 })).to.throw(
        /strategy\.inventoryWeight/,
      );
    });
  });

  describe("as an agent on a devnet", function () {
    this.timeout(600_000);
    let devnet: Devnet;
    let agent: InProcessAgent;
    let serviceId: `0x${string}`;

    before(async function () {
      if (MAKER === undefined) throw new Error("no provider account");
      devnet = await startDevnet(hre);
      await devnet.fund(MAKER.agent.address, 2000n);
      await fundClient(devnet, ROLES.client);
      serviceId = serviceIdOf(MAKER.agent.address, SERVICE);
      agent = await startAgent(
        devnet,
        "maker",
        agentConfig(devnet, MAKER, {
          services: [{ name: SERVICE, backend: "data", price: "1", capacity: 4, costPerUnit: "0.2" }],
          strategy: {
            kind: "market-maker",
            minSpreadBps: 500,
            maxSpreadBps: 5_000,
            inventoryWeight: 0.5,
            requoteBps: 100,
            quoteIntervalMs: 300,
          },
          breakers: { maxDisputes: 0 },
        }),
      );
    });

    after(async function () {
      await agent.close();
      await devnet.stop();
    });

    const listedPrice = async () => (await devnet.protocol.marketplace.getServiceStatus(serviceId)).pricePerUnit;
    /** The next offer change after line `after` whose price passes `test`. */
    const offerChange = (event: string, test: (price: bigint) => boolean, after: number) =>
      agent.waitFor((l) => l.event === event && test(BigInt(String(l.price))), event, 60_000, after);

    it("keeps its offer at its quote: wider with load and inventory, narrower when idle; bids follow", async function () {
      // Idle: mid 1 AITBC (no other provider) + 500 bps.
      await offerChange("offer-update", (p) => p === parseEther("1.05"), 0);
      expect(await listedPrice()).to.equal(parseEther("1.05"));

      const first = await post(devnet, [agent], { op: "stats", data: [1, 2] });
      const bid1 = await agent.line("bid", first.workloadId);
      expect(BigInt(String(bid1.price))).to.equal(parseEther("1.05"));
      // The bid is inventory (2 of 4 units, weight 0.5): the offer goes up.
      let mark = agent.lines.length;
      await offerChange("offer-update", (p) => p > parseEther("1.05"), mark);

      await advance(devnet, 601);
      const market = await marketAs(devnet, ROLES.client);
      await (await market.autoAward(first.workloadId)).wait();
      await agent.line("submitted", first.workloadId);
      // Awarded: 2 units of load; the second bid is quoted wider than the first.
      const second = await post(devnet, [agent], { op: "stats", data: [3] }, { units: 1n });
      const bid2 = await agent.line("bid", second.workloadId);
      expect(BigInt(String(bid2.price))).to.be.greaterThan(BigInt(String(bid1.price)));
      const peak = await listedPrice();
      expect(peak).to.be.greaterThan(parseEther("1.05"));

      // The first is accepted: its load goes, and the offer narrows again.
      mark = agent.lines.length;
      await (await market.accept(first.workloadId)).wait();
      await agent.line("experience", first.workloadId);
      await offerChange("offer-update", (p) => p < peak, mark);
      expect(await listedPrice()).to.be.lessThan(peak);
    });

    it("bids the ceiling when the ceiling is under its quote and over its floor; skips under its floor", async function () {
      const capped = await post(devnet, [agent], { op: "stats", data: [4] }, { units: 1n, maxPrice: "1.01" });
      const bid = await agent.line("bid", capped.workloadId);
      expect(BigInt(String(bid.price))).to.equal(parseEther("1.01"));
      expect(String(bid.reason)).to.match(/above the ceiling; bidding the ceiling/);
      const under = await post(devnet, [agent], { op: "stats", data: [5] }, { units: 1n, maxPrice: "0.2" });
      const skip = await agent.line("skip", under.workloadId);
      expect(String(skip.reason)).to.match(/below the floor/);
    });

    it("reports its spread and fill rate", async function () {
      const res = await fetch(`${agent.url}/v1/agent/report`);
      const report = (await res.json()) as {
        marketMaking: { service: string; quotes: number; filled: number; fillRate: number; meanSpreadBps: number }[];
      };
      const [row] = report.marketMaking;
      expect(row?.service).to.equal(SERVICE);
      expect(row?.quotes).to.equal(3);
      expect(row?.filled).to.equal(1);
      expect(row?.fillRate).to.equal(1);
      expect(row?.meanSpreadBps).to.be.greaterThan(500);
    });

    it("delists its offer while its circuit breaker is open (a dispute, limit 0)", async function () {
      const { marketplace } = devnet.protocol;
      const job = await post(devnet, [agent], { op: "stats", data: [6] }, { units: 1n });
      await agent.line("bid", job.workloadId);
      await advance(devnet, 601);
      const market = await marketAs(devnet, ROLES.client);
      // The earlier open bids lapse; this one is awarded (the lowest).
      await (await market.autoAward(job.workloadId)).wait();
      await agent.line("submitted", job.workloadId);
      const mark = agent.lines.length;
      await (await market.reject(job.workloadId, hashText("rejected"))).wait();
      const delisted = await agent.waitFor((l) => l.event === "offer-delist", "offer-delist", 60_000, mark);
      expect(String(delisted.reason)).to.match(/breaker disputes open/);
      const [, listed] = await marketplace.serviceOwner(serviceId);
      expect(listed).to.equal(false);
    });
  });
});
