/**
 * Reputation is earned in proportion to real, paid, unrelated work: a settlement earns one point per
 * FEE_PER_REPUTATION_POINT of protocol fee (the one cost colluding parties cannot pay back to themselves), at most
 * REPUTATION_REWARD per workload, and nothing when the client is related to the provider (its agent address, its
 * operator, or an agent sharing or run by either).
 */
import { expect } from "chai";
import { network } from "hardhat";

import { AITBC, DAY } from "../helpers/agents.js";
import {
  buildEconomics,
  type Economics,
  SERVICE_A,
  SERVICE_B,
  settled,
  workloadRequest,
} from "../helpers/economics.js";
import { FEE_PER_REPUTATION_POINT, REPUTATION_REWARD } from "../helpers/market.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const AGENT_ID = 1n;
const INITIAL = 500n;

async function marketFixture(): Promise<Economics> {
  return buildEconomics(connection);
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

describe("ServiceMarketplace: reputation farming", function () {
  it("attack: fifty 1-wei workloads from a fresh client farm no reputation and no voting power", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    const powerBefore = await f.agentVotes.getVotes(f.agent.address);
    // Over a few days: each settlement is charged to the provider's daily gas budget.
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 9) await time.increase(DAY);
      const request = workloadRequest(await now(), { units: 1n, maxPricePerUnit: 1n });
      await settled(f, f.client, f.agent, SERVICE_A, request, 1n);
    }
    expect(await f.registry.reputationOf(AGENT_ID)).to.equal(INITIAL);
    expect(await f.agentVotes.getVotes(f.agent.address)).to.equal(powerBefore);
  });

  it("attack: the provider's operator as client earns it no reputation, however large the fee", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await settled(f, f.operator, f.agent, SERVICE_A, workloadRequest(await now()), 10n * AITBC);
    expect(await f.registry.reputationOf(AGENT_ID)).to.equal(INITIAL);
  });

  it("attack: an agent sharing the provider's operator as client earns it no reputation", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await f.token.connect(f.agent2).approve(f.market, 10_000n * AITBC);
    await f.token.connect(f.operator).transfer(f.agent2.address, 100n * AITBC);
    await settled(f, f.agent2, f.agent, SERVICE_A, workloadRequest(await now()), 5n * AITBC);
    expect(await f.registry.reputationOf(AGENT_ID)).to.equal(INITIAL);
  });

  it("unrelated paid work earns a point per FEE_PER_REPUTATION_POINT of fee", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    // 10 units at 0.5 AITBC: payment 5 AITBC, fee 1% = 0.05 AITBC: 5 points.
    const request = workloadRequest(await now(), { maxPricePerUnit: AITBC });
    const workloadId = await settled(f, f.client, f.agent2, SERVICE_B, request, AITBC / 2n);
    expect(await f.registry.reputationOf(2n)).to.equal(INITIAL + (5n * AITBC) / 100n / FEE_PER_REPUTATION_POINT);
    expect(workloadId).to.equal(1n);
  });

  it("caps the gain of one settlement at REPUTATION_REWARD, whatever its fee", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    // 10 units at 10 AITBC: fee 1 AITBC, worth 100 points, capped at 10.
    await settled(f, f.client, f.agent2, SERVICE_B, workloadRequest(await now()), 10n * AITBC);
    expect(await f.registry.reputationOf(2n)).to.equal(INITIAL + REPUTATION_REWARD);
  });
});
