/**
 * The analysis agent (agents/analyst.ts): its fee rule on figures, then as part of an agent on a devnet: demand
 * that goes unserved (workloads cancelled without a bid) makes it propose a lower fee through the AITBCGovernor,
 * with the figures in the description, once; the proposal carries the marketplace's setParameters call.
 */
import { expect } from "chai";
import { id as hashText, parseEther, ZeroHash } from "ethers";
import hre from "hardhat";
import { decodeFunctionData, type Hex } from "viem";

import { recommendFee, type FeeRule, type MarketFigures } from "../../../agents/analyst.js";
import { marketplaceAbi } from "../../../protocol/abi.js";
import { ROLES, startDevnet, type Devnet } from "../../../scripts/lib/devnet.js";
import {
  agentConfig,
  chainNow,
  fundClient,
  marketAs,
  startAgent,
  type InProcessAgent,
} from "../../helpers/agent-devnet.js";

const ANALYST = ROLES.providers[5];
const RULE: FeeRule = {
  minWorkloads: 3,
  maxUnservedShare: 0.3,
  lowUnservedShare: 0.05,
  minBidsPerWorkload: 3,
  stepBps: 25,
  minFeeBps: 0,
  maxFeeBps: 300,
};

function figures(overrides: Partial<MarketFigures>): MarketFigures {
  return {
    fromBlock: 0n,
    toBlock: 100n,
    posted: 10,
    awarded: 10,
    unserved: 0,
    bids: 20,
    settled: 10,
    volume: 0n,
    fees: 0n,
    feeBps: 100,
    challengeWindow: 86_400n,
    timeoutSlashBps: 1_000n,
    ...overrides,
  };
}

describe("analysis agent: fee proposals from market figures", function () {
  describe("the rule", function () {
    it("lowers the fee when demand goes unserved, raises it when served with competition, else leaves it", function () {
      expect(recommendFee(figures({ awarded: 5, unserved: 5 }), RULE)?.feeBps).to.equal(75);
      expect(recommendFee(figures({ bids: 40 }), RULE)?.feeBps).to.equal(125);
      expect(recommendFee(figures({}), RULE), "2 bids per workload: no call").to.equal(undefined);
      expect(recommendFee(figures({ awarded: 1, unserved: 1 }), RULE), "too few workloads").to.equal(undefined);
      expect(recommendFee(figures({ awarded: 5, unserved: 5, feeBps: 0 }), RULE), "at the floor").to.equal(undefined);
      expect(recommendFee(figures({ bids: 40, feeBps: 290 }), RULE)?.feeBps, "capped").to.equal(300);
    });
  });

  describe("inside an agent on a devnet", function () {
    this.timeout(600_000);
    let devnet: Devnet;
    let agent: InProcessAgent;

    before(async function () {
      if (ANALYST === undefined) throw new Error("no provider account");
      devnet = await startDevnet(hre);
      await devnet.fund(ANALYST.agent.address, 2000n);
      await fundClient(devnet, ROLES.client);
      agent = await startAgent(
        devnet,
        "analyst",
        agentConfig(devnet, ANALYST, { analyst: { intervalSeconds: 86_400, ...RULE } }),
      );
    });

    after(async function () {
      await agent.close();
      await devnet.stop();
    });

    it("proposes a lower fee through the governor when workloads go unserved, once", async function () {
      const analyst = agent.running?.analyst;
      if (analyst === undefined) throw new Error("no analyst");
      expect((await analyst.run()).kind, "no figures yet").to.equal("none");
      // Three workloads for a service nobody offers: no bid, the client cancels each.
      const market = await marketAs(devnet, ROLES.client);
      for (let i = 0; i < 3; i++) {
        const now = await chainNow(devnet);
        const request = {
          serviceType: hashText("a service nobody offers"),
          modelHash: ZeroHash,
          units: 1n,
          maxPricePerUnit: parseEther("1"),
          bidDeadline: now + 600n,
          executionDeadline: now + 4200n,
          verification: 0,
          reopenOnTimeout: false,
          inputHash: hashText(`input ${i}`),
        };
        const workloadId = await market.postWorkload.staticCall(request);
        await (await market.postWorkload(request)).wait();
        await (await market.cancelWorkload(workloadId)).wait();
      }

      const outcome = await analyst.run();
      if (outcome.kind !== "proposed")
        throw new Error(
          `expected a proposal, got ${JSON.stringify(outcome, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`,
        );
      expect(outcome.recommendation.feeBps).to.equal(75);
      expect(outcome.recommendation.reason).to.match(/3 workloads posted, 0 awarded, 3 cancelled without an award/);
      const { governor, marketplace } = devnet.protocol;
      expect(await governor.proposalProposer(outcome.proposalId)).to.equal(agent.running?.address);
      const [targets, , calldatas] = await governor.proposalDetails(outcome.proposalId);
      expect(targets).to.deep.equal([await marketplace.getAddress()]);
      const call = decodeFunctionData({ abi: marketplaceAbi, data: calldatas[0] as Hex });
      expect(call.functionName).to.equal("setParameters");
      expect(call.args).to.deep.equal([75n, await marketplace.challengeWindow(), await marketplace.timeoutSlashBps()]);
      await agent.waitFor((l) => l.event === "proposed", "proposed line");

      // While its proposal is open it proposes nothing more.
      const nonce = await devnet.connection.ethers.provider.getTransactionCount(agent.running?.address ?? "");
      const again = await analyst.run();
      expect(again).to.deep.include({ kind: "open", proposalId: outcome.proposalId, state: "pending" });
      expect(await devnet.connection.ethers.provider.getTransactionCount(agent.running?.address ?? "")).to.equal(nonce);
    });
  });
});
