/**
 * The agent market end to end, as real processes (`aitbc agent --config FILE`, one per agent) on a local chain that
 * mines a block every second (scripts/lib/devnet.ts), with no action of the test's after they start:
 * - a client agent posts 20 iris workloads (its seeded flower stream), awards each by price and reputation, checks
 *   each result by recomputing the reference answer, accepts good ones and disputes bad ones with its evidence;
 * - two provider agents bid on them, are awarded, deliver and are paid; one of them is THE TEST'S ADVERSARY: its
 *   config sets `testAdversary: "corrupt-output"`, so it delivers wrong answers on purpose;
 * - a validator agent resolves each dispute by re-executing the work on the client's committed evidence.
 * Asserted on chain: every workload ends settled or refunded; every dispute is the adversary's, ruled against it by
 * the validator (DisputeResolved, providerWins false), which slashed it, and posted to the ERC-8004 validation
 * registry (response 0); the client got each disputed escrow back whole and paid exactly the settled ones (the
 * contract's rules); the honest provider was paid for its work; every agent's actions were charged to its
 * constitution (the client's posts as daily volume, to the wei).
 * Then the validator declines a dispute it cannot check (a data workload it has no backend for), and says why.
 */
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";

import { expect } from "chai";
import { id as hashText, MaxUint256, parseEther } from "ethers";
import hre from "hardhat";

import { valueHashHex, type Json } from "../../protocol/values.js";
import { devAccount, ROLES, startDevnet, type Daemon, type Devnet, type LogLine } from "../../scripts/lib/devnet.js";

const WORKLOADS = 20;
const MAX_PRICE = parseEther("1.5");
const FUNDED = parseEther("2100");
const STAKE = parseEther("2000");
const HONEST = ROLES.providers[0];
const ADVERSARY = ROLES.providers[1];
const CLIENT = { agent: ROLES.client, operator: devAccount(19) };
const VALIDATOR = { agent: ROLES.keeper, operator: ROLES.keeperOperator };

describe("agent market end to end: client, providers, validator (real processes)", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  const agents: Record<"client" | "honest" | "adversary" | "validator", Daemon> = {} as never;
  const ids: Record<string, bigint> = {};

  before(async function () {
    if (HONEST === undefined || ADVERSARY === undefined) throw new Error("no provider accounts");
    devnet = await startDevnet(hre);
    // Seconds-level blocks instead of one per transaction: the chain's clock moves by itself at the wall clock's pace
    // (automined blocks each add a second, which runs it ahead of the agents' bid deadlines under load).
    await devnet.connection.provider.request({ method: "evm_setAutomine", params: [false] });
    await devnet.connection.provider.request({ method: "evm_setIntervalMining", params: [1000] });
    for (const who of [HONEST.agent, ADVERSARY.agent, CLIENT.agent, VALIDATOR.agent])
      await devnet.fund(who.address, 2100n);
    // The admin admits the validator agent as a dispute resolver (IServiceMarketplace.resolveDispute).
    const { marketplace } = devnet.protocol;
    const deployer = await devnet.connection.ethers.getSigner(ROLES.deployer.address);
    await (
      await marketplace.connect(deployer).grantRole(await marketplace.VALIDATOR_ROLE(), VALIDATOR.agent.address)
    ).wait();
  });

  after(async function () {
    await devnet.stop();
  });

  const base = (who: { agent: { privateKey: string }; operator: { address: string } }, name: string) => ({
    rpc: { urls: [devnet.url] },
    addressesFile: devnet.addressesFile,
    agent: {
      privateKey: who.agent.privateKey,
      operator: who.operator.address,
      stake: "2000",
      expectedDailyVolume: "10000",
    },
    store: { path: `${devnet.dir}/${name}.db` },
    follower: { pollIntervalMs: 200 },
    tickMs: 300,
  });
  const provider = (who: typeof HONEST, price: string, adversary: boolean) => {
    if (who === undefined) throw new Error("no provider account");
    return {
      ...base(who, adversary ? "adversary" : "honest"),
      services: [
        {
          name: "iris-inference",
          backend: "iris",
          price: "1",
          capacity: 8,
          costPerUnit: "0.1",
          ...(adversary ? { testAdversary: "corrupt-output" } : {}),
        },
        { name: "json-stats", backend: "data", price: "1", capacity: 8 },
      ],
      strategy: { kind: "fixed-price", price },
    };
  };
  const spawn = async (key: keyof typeof agents, config: unknown) => {
    agents[key] = devnet.spawn(`agent-${key}`, "agent", config);
    ids[key] = BigInt(String((await agents[key].ready()).agentId));
  };
  const events = async (name: string) =>
    devnet.protocol.marketplace.queryFilter(devnet.protocol.marketplace.filters[name as "DisputeResolved"]());

  it("20 workloads: bid, awarded, delivered and paid; the adversary's results disputed and ruled against it", async function () {
    const { marketplace, token, constitution, registry } = devnet.protocol;
    const started = Date.now();
    await Promise.all([
      spawn("honest", provider(HONEST, "0.8", false)),
      // Cheaper, so that it wins the first workloads before the client learns not to award it.
      spawn("adversary", provider(ADVERSARY, "0.5", true)),
      spawn("validator", {
        ...base(VALIDATOR, "validator"),
        role: "validator",
        validator: { services: [{ name: "iris-inference", backend: "iris" }], evidenceTimeoutMs: 5_000 },
      }),
    ]);
    const adversaryStake = await registry.stakeOf(ids.adversary ?? 0n);
    const balance = async (a: { address: string }) => token.balanceOf(a.address);
    await spawn("client", {
      ...base(CLIENT, "client"),
      role: "client",
      client: {
        service: "iris-inference",
        backend: "iris",
        workloads: WORKLOADS,
        concurrency: 5,
        postIntervalMs: 0,
        seed: 3,
        units: 1,
        maxPricePerUnit: "1.5",
        biddingSeconds: 60,
        executionSeconds: 120,
        awardAtBids: 2,
        awardAfterSeconds: 3,
      },
    });
    const client = agents.client;
    const done = await client.waitFor((l: LogLine) => l.event === "client-done", 240_000, "client-done");
    const seconds = (Date.now() - started) / 1000;

    // Every workload finished: settled (accepted) or refunded (disputed and ruled for the client).
    const count = await marketplace.workloadCount();
    expect(count).to.equal(BigInt(WORKLOADS));
    const statuses = await Promise.all(
      Array.from({ length: WORKLOADS }, async (_v, i) => (await marketplace.getWorkload(BigInt(i + 1))).status),
    );
    expect(
      statuses.every((s) => s === 5n || s === 6n),
      `statuses ${statuses.join(",")}`,
    ).to.equal(true);
    expect(Number(done.settled) + Number(done.refunded)).to.equal(WORKLOADS);
    expect(Number(done.cancelled)).to.equal(0);

    // Disputes: the adversary's and only its, each ruled by the validator agent against it, and slashed.
    const rejected = await events("ResultRejected");
    const resolved = await events("DisputeResolved");
    expect(rejected.length, "the adversary was disputed").to.be.greaterThan(0);
    expect(resolved).to.have.length(rejected.length);
    const failed = await events("AssignmentFailed");
    for (const r of resolved) {
      const [workloadId, resolver, providerWins] = r.args as unknown as [bigint, string, boolean];
      expect(resolver).to.equal(VALIDATOR.agent.address);
      expect(providerWins).to.equal(false);
      const w = await marketplace.getWorkload(workloadId);
      expect(w.providerId).to.equal(ids.adversary);
      expect(w.status).to.equal(6n); // Refunded
      const slash = failed.find((f) => (f.args as unknown as [bigint])[0] === workloadId);
      expect((slash?.args as unknown as [bigint, bigint, bigint] | undefined)?.[2] ?? 0n).to.be.greaterThan(0n);
    }
    expect(await registry.stakeOf(ids.adversary ?? 0n)).to.be.lessThan(adversaryStake);
    // The adversary's results were wrong indeed: each disputed resultHash differs from the reference answer's,
    // which the validator's log shows it recomputed.
    const ruled = agents.validator.lines.filter((l) => l.event === "ruled");
    expect(ruled).to.have.length(resolved.length);
    // Each ruling is posted to the ERC-8004 validation registry (AgentValidation), which took it because the
    // marketplace's state backs it: response 0 (the rejection upheld) about the adversary, by this validator.
    const { validation } = devnet.protocol;
    const summary = () => validation.getSummary(ids.adversary ?? 0n, [VALIDATOR.agent.address], "aitbc.dispute");
    for (let end = Date.now() + 60_000; (await summary())[0] < BigInt(resolved.length);) {
      if (Date.now() > end) throw new Error("timed out waiting for the validator's validation responses");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await summary()).to.deep.equal([BigInt(resolved.length), 0n]);
    expect(await validation.getValidatorRequests(VALIDATOR.agent.address)).to.have.length(resolved.length);

    // Money, by the contract's rules: a disputed workload's escrow back whole, a settled one paid at the bid price.
    const settled = await events("WorkloadSettled");
    expect(settled).to.have.length(WORKLOADS - resolved.length);
    let clientPaid = 0n;
    let honestPaid = 0n;
    for (const s of settled) {
      const [, providerId, paidToProvider, fee] = s.args as unknown as [bigint, bigint, bigint, bigint];
      clientPaid += paidToProvider + fee;
      if (providerId === ids.honest) honestPaid += paidToProvider;
    }
    const refunds = await events("WorkloadRefunded");
    expect(refunds).to.have.length(resolved.length);
    for (const r of refunds) expect((r.args as unknown as [bigint, bigint])[1]).to.equal(MAX_PRICE);
    // Each agent was funded 2,100 AITBC and staked 2,000 of it at start.
    expect(await balance(CLIENT.agent)).to.equal(FUNDED - STAKE - clientPaid);
    expect(honestPaid).to.be.greaterThan(0n);
    expect(await balance(HONEST?.agent ?? CLIENT.agent)).to.equal(FUNDED - STAKE + honestPaid);

    // Every action charged to its agent's constitution on chain: the client's posts as volume (to the wei), and
    // gas for every agent that acted.
    const usage = async (a: { address: string }) => constitution.usageOf(a.address);
    expect((await usage(CLIENT.agent)).volume).to.equal(BigInt(WORKLOADS) * MAX_PRICE);
    for (const who of [CLIENT.agent, HONEST?.agent, ADVERSARY?.agent, VALIDATOR.agent])
      expect((await usage(who ?? CLIENT.agent)).gas, `gas of ${who?.address}`).to.be.greaterThan(0n);
    console.log(
      `      ${WORKLOADS} workloads in ${seconds.toFixed(1)} s: ${settled.length} settled, ${resolved.length} disputed and refunded`,
    );
  });

  /**
   * A plain account (not an agent: no endpoint, no evidence) posts a workload for `service`; the honest provider
   * bids and delivers; the account disputes the result. Returns the validator's `declined` line.
   */
  async function disputeAsPlainAccount(service: string, input: Json): Promise<{ workloadId: bigint; line: LogLine }> {
    const { marketplace } = devnet.protocol;
    const poster = ROLES.treasury;
    await devnet.fund(poster.address, 10n);
    const signer = await devnet.connection.ethers.getSigner(poster.address);
    await (await devnet.protocol.token.connect(signer).approve(await marketplace.getAddress(), MaxUint256)).wait();
    const blind = BigInt(`0x${randomBytes(31).toString("hex")}`);
    const now = BigInt((await devnet.connection.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const request = {
      serviceType: hashText(service),
      modelHash: "0x" + "0".repeat(64),
      units: 1n,
      maxPricePerUnit: parseEther("1"),
      bidDeadline: now + 60n,
      executionDeadline: now + 180n,
      verification: 0,
      reopenOnTimeout: false,
      inputHash: valueHashHex(input, blind),
    };
    const market = marketplace.connect(signer);
    const workloadId = await market.postWorkload.staticCall(request);
    await (await market.postWorkload(request)).wait();
    const honest = agents.honest;
    const about = (event: string) => (l: LogLine) => l.event === event && String(l.workloadId) === String(workloadId);
    await honest.waitFor(about("bid"), 30_000, "bid");
    const url = String((await honest.ready()).url);
    const res = await fetch(`${url}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        workloadId: String(workloadId),
        input,
        blind: `0x${blind.toString(16).padStart(62, "0")}`,
      }),
    });
    expect(res.status).to.equal(200);
    const bids = await marketplace.getBids(workloadId);
    const index = bids.findIndex((b) => b.providerId === ids.honest);
    await (await market.award(workloadId, index, ids.honest ?? 0n)).wait();
    await honest.waitFor(about("submitted"), 30_000, "submit");
    await (await market.reject(workloadId, hashText("evidence nobody serves"))).wait();
    const line = await agents.validator.waitFor(about("declined"), 30_000, "declined");
    expect((await marketplace.getWorkload(workloadId)).status).to.equal(4n); // still Disputed: nobody ruled
    return { workloadId, line };
  }

  it("the validator declines a dispute it cannot check (no backend for the service) and records why", async function () {
    const { workloadId, line } = await disputeAsPlainAccount("json-stats", { op: "stats", data: [1, 2, 3] });
    expect(line.reason).to.equal("cannot-check");
    // The reason is recorded in its memory too, with the dispute's chain log as its source.
    const db = new DatabaseSync(`${devnet.dir}/validator.db`, { readOnly: true });
    try {
      const row = db
        .prepare("SELECT figures, source FROM experiences WHERE kind = 'declined' AND workload_id = ?")
        .get(String(workloadId));
      expect(JSON.parse(String(row?.figures))).to.deep.equal({ reason: "cannot-check" });
      expect(String(row?.source)).to.match(/^chain:0x/);
    } finally {
      db.close();
    }
  });

  it("the validator declines a dispute whose client serves no evidence, though it could re-execute the work", async function () {
    const { line } = await disputeAsPlainAccount("iris-inference", {
      kind: "iris-features",
      features: [50, 34, 15, 2],
    });
    expect(line.reason).to.equal("no-evidence");
  });
});
