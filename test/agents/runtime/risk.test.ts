/**
 * The risk manager (agents/risk.ts) inside provider agents on a devnet: a client that rejected a result the agent
 * delivered has a dispute rate read from the chain's events (ResultSubmitted, ResultRejected), and its next workload
 * is declined with the reason, while a clean client's gets a bid; an agent started afterwards knows the same from
 * the marketplace's history alone. Exposure: units outstanding with one client stop at the limit, and the value
 * limit never exceeds the agent's constitution.
 */
import { expect } from "chai";
import { id as hashText, parseEther } from "ethers";
import hre from "hardhat";

import { ROLES, devAccount, startDevnet, type Devnet } from "../../../scripts/lib/devnet.js";
import {
  advance,
  agentConfig,
  fundClient,
  marketAs,
  post,
  startAgent,
  type InProcessAgent,
} from "../../helpers/agent-devnet.js";

const A = ROLES.providers[0];
const B = ROLES.providers[1];
const BAD = ROLES.client;
const CLEAN = devAccount(19);

describe("risk manager: counterparty scores from the chain, exposure limits", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  let a: InProcessAgent;
  const started: InProcessAgent[] = [];

  before(async function () {
    if (A === undefined || B === undefined) throw new Error("no provider accounts");
    devnet = await startDevnet(hre);
    await devnet.fund(A.agent.address, 2000n);
    await devnet.fund(B.agent.address, 2000n);
    await fundClient(devnet, BAD);
    await fundClient(devnet, CLEAN);
    a = await startAgent(
      devnet,
      "risk-a",
      agentConfig(devnet, A, {
        risk: { maxClientDisputeRate: 0.25, maxUnitsPerClient: 16 },
        breakers: { maxDisputes: 5 },
      }),
    );
    started.push(a);
  });

  after(async function () {
    for (const agent of started) await agent.close();
    await devnet.stop();
  });

  it("declines the work of a client that rejected a delivered result, with the reason; bids for a clean one", async function () {
    const { marketplace } = devnet.protocol;
    // A delivers a workload of the client, who rejects the (correct) result: a dispute on chain.
    const first = await post(devnet, [a], { op: "stats", data: [1, 2, 3] });
    await a.line("bid", first.workloadId);
    await advance(devnet, 601);
    const market = await marketAs(devnet, BAD);
    await (await market.autoAward(first.workloadId)).wait();
    await a.line("submitted", first.workloadId);
    await (await market.reject(first.workloadId, hashText("I do not like it"))).wait();
    await a.waitFor((l) => l.event === "disputed", "disputed");
    expect(a.running?.risk?.client(BAD.address)).to.include({ workloads: 1, results: 1, disputes: 1 });

    const next = await post(devnet, [a], { op: "stats", data: [4] });
    const declined = await a.line("risk-declined", next.workloadId);
    expect(String(declined.reason)).to.match(/rejected 1 of 1 results \(dispute rate 0\.50 > 0\.25\)/);
    expect(await marketplace.getBids(next.workloadId)).to.have.length(0);

    const clean = await post(devnet, [a], { op: "stats", data: [5] }, { client: CLEAN });
    await a.line("bid", clean.workloadId);
  });

  it("an agent started later scores from the marketplace's history; its exposure per client stops at its limit", async function () {
    if (B === undefined) throw new Error("no provider account");
    const b = await startAgent(
      devnet,
      "risk-b",
      agentConfig(devnet, B, {
        risk: { maxClientDisputeRate: 0.25, maxUnitsPerClient: 4, maxValuePerClient: "1000000000" },
      }),
    );
    started.push(b);
    expect(b.running?.risk?.client(BAD.address)).to.include({ results: 1, disputes: 1 });

    const bad = await post(devnet, [b], { op: "stats", data: [6] }, { client: BAD });
    await b.line("risk-declined", bad.workloadId);

    const three = await post(devnet, [b], { op: "stats", data: [7] }, { client: CLEAN, units: 3n });
    await b.line("bid", three.workloadId);
    const two = await post(devnet, [b], { op: "stats", data: [8] }, { client: CLEAN, units: 2n });
    const over = await b.line("risk-declined", two.workloadId);
    expect(String(over.reason)).to.match(/5 units outstanding would pass its limit 4/);
    const bids = await devnet.protocol.marketplace.getBids(two.workloadId);
    expect(bids.map((x) => x.providerId)).to.not.include(b.running?.agentId);

    // The value limit is inside the constitution: asked for 10^9 AITBC, it gets the agent's maxDailyVolume.
    const { maxDailyVolume } = await devnet.protocol.constitution.constraintsOf(B.agent.address);
    const assessed = await b.running?.risk?.assess({
      workloadId: 0n,
      round: 0,
      client: CLEAN.address,
      serviceType: hashText("json-stats") as `0x${string}`,
      modelHash: `0x${"00".repeat(32)}`,
      units: 1n,
      maxPricePerUnit: parseEther("1"),
      bidDeadline: 0n,
    });
    expect(assessed).to.deep.include({ ok: true, maxValue: maxDailyVolume });
    expect(maxDailyVolume).to.be.lessThan(parseEther("1000000000"));
  });
});
