/**
 * The provider agent end to end, as a real process (`aitbc agent --config FILE`) on a local chain
 * (scripts/lib/devnet.ts): a client (this test) posts workloads on the ServiceMarketplace and hands the agent their
 * inputs; the agent bids by its learning strategy, is awarded, runs the work on the data backend, submits the signed
 * result and is paid (the client accepts one; the agent claims the other itself after the challenge window). Every
 * agent action is charged to its constitution on chain. Then kill -9 and a restart: its memory and learned prices
 * are there, a bid sent before the crash is delivered after it, and the next bid is priced from what it learned.
 * Last, a slash (work it could not deliver: the client never sent the input) opens its circuit breaker: it bids no
 * more.
 */
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import path from "node:path";

import { expect } from "chai";
import { id as hashText, MaxUint256, parseEther, ZeroHash } from "ethers";
import hre from "hardhat";
import { privateKeyToAccount } from "viem/accounts";

import { resultMessage } from "../../agents/server.js";
import { runDataOp } from "../../keepers/provider/backends/data.js";
import { valueHashHex, type Json } from "../../protocol/values.js";
import { ROLES, startDevnet, type Daemon, type Devnet, type LogLine } from "../../scripts/lib/devnet.js";

const AGENT = ROLES.providers[3] ?? ROLES.providers[0];
const SERVICE = "json-stats";
const DAY = 86_400;

describe("provider agent end to end (real process)", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  let agent: Daemon;
  let url: string;
  let dbPath: string;

  before(async function () {
    if (AGENT === undefined) throw new Error("no provider account");
    devnet = await startDevnet(hre);
    dbPath = path.join(devnet.dir, "agent.db");
    await devnet.fund(AGENT.agent.address, 2000n);
    await devnet.fund(ROLES.client.address, 1000n);
    const client = await devnet.connection.ethers.getSigner(ROLES.client.address);
    await (
      await devnet.protocol.token.connect(client).approve(await devnet.protocol.marketplace.getAddress(), MaxUint256)
    ).wait();
    agent = await startAgent();
  });

  after(async function () {
    await devnet.stop();
  });

  function config(): unknown {
    if (AGENT === undefined) throw new Error("no provider account");
    return {
      rpc: { urls: [devnet.url] },
      addressesFile: devnet.addressesFile,
      agent: {
        privateKey: AGENT.agent.privateKey,
        operator: AGENT.operator.address,
        stake: "2000",
        expectedDailyVolume: "10000",
      },
      store: { path: dbPath },
      services: [{ name: SERVICE, backend: "data", price: "1", capacity: 8, costPerUnit: "0.2" }],
      strategy: { kind: "thompson-price", arms: ["0.4", "0.6", "0.8", "1.0", "1.2"], seed: 7 },
      follower: { pollIntervalMs: 200 },
      tickMs: 300,
    };
  }

  async function startAgent(): Promise<Daemon> {
    const daemon = devnet.spawn(`agent-${devnet.daemons.length}`, "agent", config());
    url = String((await daemon.ready()).url);
    return daemon;
  }

  const chainNow = async () => BigInt((await devnet.connection.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
  const advance = async (seconds: number) => {
    await devnet.connection.provider.request({ method: "evm_increaseTime", params: [seconds] });
    await devnet.connection.provider.request({ method: "evm_mine", params: [] });
  };
  const usedGas = async () => (await devnet.protocol.constitution.usageOf(AGENT?.agent.address ?? "")).gas;
  const asClient = async () =>
    devnet.protocol.marketplace.connect(await devnet.connection.ethers.getSigner(ROLES.client.address));

  /** The client posts a workload for `input` and hands the input to the agent; returns its id and blind. */
  async function post(input: Json, units = 2n) {
    const blind = BigInt(`0x${randomBytes(31).toString("hex")}`);
    const blindHex = `0x${blind.toString(16).padStart(62, "0")}`;
    const now = await chainNow();
    const request = {
      serviceType: hashText(SERVICE),
      modelHash: ZeroHash,
      units,
      maxPricePerUnit: parseEther("1.5"),
      bidDeadline: now + 600n,
      executionDeadline: now + 600n + 3600n,
      verification: 0,
      reopenOnTimeout: false,
      inputHash: valueHashHex(input, blind),
    };
    const market = await asClient();
    const workloadId = await market.postWorkload.staticCall(request);
    await (await market.postWorkload(request)).wait();
    const res = await fetch(`${url}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workloadId: String(workloadId), input, blind: blindHex }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    return { workloadId, blind, input };
  }

  const line = (daemon: Daemon, event: string, workloadId: bigint, what = event) =>
    daemon.waitFor(
      (l: LogLine) => l.event === event && String(l.workloadId) === String(workloadId),
      60_000,
      `${what} ${workloadId}`,
    );

  function learned(): Json {
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const row = db.prepare("SELECT state FROM strategy_state WHERE strategy = 'thompson-price'").get();
      return row === undefined ? null : (JSON.parse(row.state as string) as Json);
    } finally {
      db.close();
    }
  }

  function experiences(): { kind: string; profit: string; source: string }[] {
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      return db.prepare("SELECT kind, profit, source FROM experiences ORDER BY id").all() as never;
    } finally {
      db.close();
    }
  }

  it("bids, is awarded, delivers and is paid; each action charged to its constitution", async function () {
    const { marketplace, token } = devnet.protocol;
    const agentId = BigInt(String((await agent.ready()).agentId));
    const before = await token.balanceOf(AGENT?.agent.address ?? "");
    const jobs = [];
    for (const data of [
      [1, 2, 3],
      [10, 20, 5.5],
    ]) {
      const gas0 = await usedGas();
      const job = await post({ op: "stats", data });
      const bid = await line(agent, "bid", job.workloadId);
      expect(await usedGas(), "the bid is charged").to.be.greaterThan(gas0);
      expect(String(bid.reason)).to.match(/^arm \d/);
      jobs.push({ ...job, price: BigInt(String(bid.price)) });
    }
    await advance(601);
    const market = await asClient();
    for (const job of jobs) {
      const gas0 = await usedGas();
      await (await market.autoAward(job.workloadId)).wait();
      await line(agent, "submitted", job.workloadId);
      expect(await usedGas(), "the submission is charged").to.be.greaterThan(gas0);
      const w = await marketplace.getWorkload(job.workloadId);
      expect(w.providerId).to.equal(agentId);
      // The client checks the result against its own computation of the deterministic work.
      const expected = runDataOp(job.input);
      expect(w.resultHash).to.equal(valueHashHex(expected, job.blind));
      const signature = await privateKeyToAccount(ROLES.client.privateKey).signMessage({
        message: resultMessage(31337, (await marketplace.getAddress()) as `0x${string}`, job.workloadId),
      });
      const res = await fetch(`${url}/v1/workloads/result?id=${job.workloadId}`, {
        headers: { "x-aitbc-signature": signature },
      });
      expect(((await res.json()) as { output: Json }).output).to.deep.equal(expected);
      const stranger = await privateKeyToAccount(ROLES.treasury.privateKey).signMessage({
        message: resultMessage(31337, (await marketplace.getAddress()) as `0x${string}`, job.workloadId),
      });
      expect(
        (await fetch(`${url}/v1/workloads/result?id=${job.workloadId}`, { headers: { "x-aitbc-signature": stranger } }))
          .status,
      ).to.equal(403);
    }
    const [accepted, claimed] = jobs as [(typeof jobs)[number], (typeof jobs)[number]];
    await (await market.accept(accepted.workloadId)).wait();
    await line(agent, "experience", accepted.workloadId, "settled experience");
    // The other the agent claims itself once the challenge window has passed.
    await advance(DAY + 5);
    const gas0 = await usedGas();
    await line(agent, "finalized", claimed.workloadId);
    expect(await usedGas(), "the finalization is charged").to.be.greaterThan(gas0);
    await line(agent, "experience", claimed.workloadId, "settled experience");
    const fee = (p: bigint) => (2n * p) / 100n;
    const paid = 2n * accepted.price - fee(accepted.price) + 2n * claimed.price - fee(claimed.price);
    expect((await token.balanceOf(AGENT?.agent.address ?? "")) - before).to.equal(paid);
    const stored = experiences();
    expect(stored.map((e) => e.kind)).to.deep.equal(["settled", "settled"]);
    expect(stored.every((e) => e.source.startsWith("chain:0x"))).to.equal(true);
    // Profit = what the chain paid less the cost of the work (0.2 AITBC a unit); gas (ether) is in the figures.
    expect(stored.map((e) => BigInt(e.profit))).to.deep.equal(
      [accepted, claimed].map((j) => 2n * j.price - fee(j.price) - parseEther("0.4")),
    );
  });

  it("refuses an input that is not the one the client committed to on chain", async function () {
    const job = await post({ op: "stats", data: [4, 5] }, 1n);
    const res = await fetch(`${url}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        workloadId: String(job.workloadId),
        input: { op: "stats", data: [666] },
        blind: `0x${job.blind.toString(16).padStart(62, "0")}`,
      }),
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).to.equal("input");
    await line(agent, "bid", job.workloadId);
    // Left to lapse: cancelled after the award window, a lost bid for the strategy.
  });

  it("survives kill -9: memory and learned prices resume, a bid from before the crash is delivered", async function () {
    const job = await post({ op: "stats", data: [7, 8, 9] });
    await line(agent, "bid", job.workloadId);
    const saved = learned();
    const count = experiences().length;
    expect(saved).to.not.equal(null);
    await agent.kill9();

    agent = await startAgent();
    const resumed = await agent.waitFor((l) => l.event === "strategy-resumed", 10_000, "strategy-resumed");
    expect(resumed.state).to.deep.equal(saved);
    expect(experiences()).to.have.length(count);

    await advance(601);
    await (await (await asClient()).autoAward(job.workloadId)).wait();
    await line(agent, "submitted", job.workloadId);
    await (await (await asClient()).accept(job.workloadId)).wait();
    await line(agent, "experience", job.workloadId, "settled experience");
    // What it learned before the crash is in what it learns after.
    const after = learned() as { services: Record<string, { wins: number }[]> };
    const before = saved as { services: Record<string, { wins: number }[]> };
    const wins = (s: typeof after) => (s.services[SERVICE] ?? []).reduce((n, a) => n + a.wins, 0);
    expect(wins(after)).to.be.greaterThan(wins(before));
    // And the next bid is priced from it: its reason shows the counts carried over.
    const next = await post({ op: "stats", data: [1] }, 1n);
    const bid = await line(agent, "bid", next.workloadId);
    expect(String(bid.reason)).to.not.match(/\(0 won, 0 lost\)/);
  });

  it("asks the constitution before bidding: a bid its operator no longer allows is not sent", async function () {
    const { constitution, marketplace } = devnet.protocol;
    const operator = await devnet.connection.ethers.getSigner(AGENT?.operator.address ?? "");
    const address = AGENT?.agent.address ?? "";
    const current = await constitution.constraintsOf(address);
    const set = async (allowedActions: bigint) =>
      (
        await constitution.connect(operator).setConstraints(address, {
          maxStake: current.maxStake,
          maxDailyVolume: current.maxDailyVolume,
          maxGasPerDay: current.maxGasPerDay,
          allowedActions,
          humanApprovalActions: current.humanApprovalActions,
        })
      ).wait();
    await set(current.allowedActions & ~(1n << 5n)); // ActionTypes.BID
    const job = await post({ op: "stats", data: [3] }, 1n);
    const refused = await line(agent, "bid-refused", job.workloadId);
    expect(refused.reason).to.equal("not-allowed");
    expect(await marketplace.getBids(job.workloadId)).to.have.length(0);
    await set(current.allowedActions);
  });

  it("stops bidding once slashed: the circuit breaker (limit 0 slashes) holds it", async function () {
    const { marketplace } = devnet.protocol;
    const agentId = BigInt(String((await agent.ready()).agentId));
    // Posted without handing the agent its input: awarded, the agent cannot deliver, and is slashed at the deadline.
    const now = await chainNow();
    const request = {
      serviceType: hashText(SERVICE),
      modelHash: ZeroHash,
      units: 1n,
      maxPricePerUnit: parseEther("1.5"),
      bidDeadline: now + 600n,
      executionDeadline: now + 1200n,
      verification: 0,
      reopenOnTimeout: false,
      inputHash: hashText("an input the agent never sees"),
    };
    const market = await asClient();
    const workloadId = await market.postWorkload.staticCall(request);
    await (await market.postWorkload(request)).wait();
    await line(agent, "bid", workloadId);
    await advance(601);
    await (await market.autoAward(workloadId)).wait();
    await line(agent, "waiting-input", workloadId);
    await advance(3600);
    await (await market.claimTimeout(workloadId)).wait();
    expect((await marketplace.getWorkload(workloadId)).providerId).to.equal(agentId);
    const slashed = await line(agent, "experience", workloadId, "slashed experience");
    expect(slashed.kind).to.equal("slashed");
    expect(BigInt(String(slashed.profit))).to.be.lessThan(0n);

    const next = await post({ op: "stats", data: [2] }, 1n);
    const refused = await line(agent, "bid-refused", next.workloadId);
    expect(refused.reason).to.equal("breaker-slashes");
    expect(await marketplace.getBids(next.workloadId)).to.have.length(0);
  });
});
