/**
 * The operator's tasks beyond the basic flows (test/scripts/tasks.test.ts): lists, updates, roles by name, chain
 * time, payments that approve nothing when the call would fail, and how a failure prints on the command line.
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import hre from "hardhat";

import { DEPLOYMENTS_DIR } from "../../protocol/addresses.js";
import { AITBC } from "../../scripts/lib/deploy.js";
import { deployForTasks, payByReceipt, run, tasksDir } from "../helpers/tasks.js";

const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;
const dir = tasksDir("operator");

async function operatorFixture() {
  return deployForTasks(connection, dir);
}

type Fixture = Awaited<ReturnType<typeof operatorFixture>>;
async function register(f: Fixture, who: Fixture["agent"]) {
  await run(["agent", "register"], {
    from: f.index(who),
    operator: f.operator.address,
    agentVersion: "1.0.0",
    capabilities: "inference",
    expectedDailyVolume: "10000",
  });
}

/** `units` AITBC to `who` through a receipt the attestor signs. */
const pay = payByReceipt;

async function provider(f: Fixture, who: Fixture["agent"], serviceId: string) {
  await register(f, who);
  await pay(f, who, "2100");
  await run(["agent", "stake"], { from: f.index(who), amount: "2100" });
  await run(["market", "list-service"], {
    from: f.index(who),
    serviceId,
    name: "iris-mlp-inference",
    price: "0.1",
    capacity: "1000",
    model: "iris-mlp-v1",
    minAccuracy: "9000",
  });
}

describe("operator tasks", function () {
  let f: Fixture;
  beforeEach(async function () {
    f = await networkHelpers.loadFixture(operatorFixture);
    process.env.AITBC_ADDRESSES = f.file;
  });
  after(function () {
    delete process.env.AITBC_ADDRESSES;
  });

  describe("payments approve nothing for a call that fails, and exactly the amount otherwise", function () {
    it("agent stake: refused stakes leave no allowance; a stake spends exactly what it approved", async function () {
      await register(f, f.agent);
      await pay(f, f.agent, "3000");
      const registry = await f.registry.getAddress();
      await expect(run(["agent", "stake"], { from: f.index(f.agent), amount: "4000" })).to.be.rejectedWith(
        `ERC20InsufficientBalance(sender=${f.agent.address}, balance=3000.0 AITBC, needed=4000.0 AITBC)`,
      );
      expect(await f.token.allowance(f.agent.address, registry)).to.equal(0n);
      await run(["override", "freeze"], { from: f.index(f.guardian), agent: f.agent.address, reason: "check" });
      await expect(run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" })).to.be.rejectedWith(
        "AgentRegistryNotActive(agentId=1, status=frozen)",
      );
      expect(await f.token.allowance(f.agent.address, registry)).to.equal(0n);
      await run(["override", "unfreeze"], { from: f.index(f.guardian), agent: f.agent.address });
      // an allowance left over from elsewhere is set to exactly the amount, then spent
      await f.token.connect(f.agent).approve(registry, 10_000n * AITBC);
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      expect(await f.registry.stakeOf(1n)).to.equal(2000n * AITBC);
      expect(await f.token.allowance(f.agent.address, registry)).to.equal(0n);
    });

    it("market post uses a permit (no allowance before or after); workflow request and subscribe approve exactly", async function () {
      await pay(f, f.client, "100");
      const market = await f.marketplace.getAddress();
      await run(["market", "post"], {
        from: f.index(f.client),
        serviceType: "iris-mlp-inference",
        units: "100",
        maxPrice: "0.2",
      });
      expect(await f.token.allowance(f.client.address, market)).to.equal(0n);
      expect(await f.token.balanceOf(market)).to.equal(20n * AITBC);
      await expect(
        run(["market", "post"], { from: f.index(f.client), serviceType: "x", units: "1000", maxPrice: "1" }),
      ).to.be.rejectedWith(/ERC20InsufficientBalance\(.*needed=1000\.0 AITBC\)/);

      const spec = path.join(dir, "wf.json");
      writeFileSync(
        spec,
        JSON.stringify({ name: "wf", maxExecutionTime: "1h", maxBudget: "5", steps: [{ id: "a", type: "inference" }] }),
      );
      await run(["workflow", "define"], { from: f.index(f.outsider), file: spec });
      await run(["workflow", "list"], {
        from: f.index(f.outsider),
        workflow: "1",
        title: "wf",
        price: "1",
        subscription: "2",
      });
      const workflows = await f.workflows.getAddress();
      await expect(
        run(["workflow", "request"], {
          from: f.index(f.client),
          workflow: "1",
          inputs: "x",
          budget: "6",
          listing: "1",
        }),
      ).to.be.rejectedWith("WorkflowsInvalidBudget(budget=6.0 AITBC, maxBudget=5.0 AITBC)");
      expect(await f.token.allowance(f.client.address, workflows)).to.equal(0n);
      // A keeper fee above the budget is refused before anything is approved; a bad amount is named.
      await expect(
        run(["workflow", "request"], {
          from: f.index(f.client),
          workflow: "1",
          inputs: "x",
          budget: "3",
          listing: "1",
          keeperFee: "4",
        }),
      ).to.be.rejectedWith("WorkflowsInvalidKeeperFee(maxKeeperFee=4.0 AITBC, budget=3.0 AITBC)");
      expect(await f.token.allowance(f.client.address, workflows)).to.equal(0n);
      await expect(
        run(["workflow", "request"], {
          from: f.index(f.client),
          workflow: "1",
          inputs: "x",
          budget: "3",
          listing: "1",
          keeperFee: "lots",
        }),
      ).to.be.rejectedWith(/^--keeper-fee: "lots" is not a number of AITBC/);
      const executionId = (await run(["workflow", "request"], {
        from: f.index(f.client),
        workflow: "1",
        inputs: "x",
        budget: "3",
        listing: "1",
        keeperFee: "0.5",
      })) as bigint;
      expect(await f.token.allowance(f.client.address, workflows)).to.equal(0n);
      expect((await f.workflows.getExecution(executionId)).maxKeeperFee).to.equal(AITBC / 2n);
      await run(["workflow", "subscribe"], { from: f.index(f.client), listing: "1" });
      expect(await f.token.allowance(f.client.address, workflows)).to.equal(0n);
      await expect(
        run(["workflow", "subscribe"], { from: f.index(f.client), listing: "1", maxPrice: "1" }),
      ).to.be.rejectedWith("WorkflowsListingFeeAboveMax(listingId=1, fee=2.0 AITBC, maxListingFee=1.0 AITBC)");
      expect(await f.token.allowance(f.client.address, workflows)).to.equal(0n);
    });
  });

  it("market services / update-service / delist-service", async function () {
    await provider(f, f.agent, "iris-a");
    await provider(f, f.agent2, "iris-b");
    const list = (await run(["market", "services"], {})) as string;
    expect(list.split("\n")[0]).to.equal("2 service offers");
    expect(list).to.contain(
      '  iris-a: "iris-mlp-inference" by agent #1, 0.1 AITBC/unit, load 0 / 1000 units, model 0x',
    );
    await run(["market", "update-service"], { from: f.index(f.agent), serviceId: "iris-a", price: "0.25" });
    expect((await f.marketplace.getServiceStatus(ethers.encodeBytes32String("iris-a"))).pricePerUnit).to.equal(
      AITBC / 4n,
    );
    expect((await f.marketplace.getServiceStatus(ethers.encodeBytes32String("iris-a"))).maxCapacity).to.equal(1000n);
    await expect(
      run(["market", "update-service"], { from: f.index(f.agent2), serviceId: "iris-a", price: "1" }),
    ).to.be.rejectedWith("MarketplaceNotServiceOwner(serviceId=iris-a, agentId=2)");
    await expect(
      run(["market", "update-service"], { from: f.index(f.agent), serviceId: "iris-a", capacity: "-5" }),
    ).to.be.rejectedWith('--capacity: "-5" is not a whole number');
    await expect(
      run(["market", "update-service"], { from: f.index(f.agent), serviceId: "iris-a", price: "-1" }),
    ).to.be.rejectedWith('--price: "-1" is not a number of AITBC');
    await expect(run(["market", "update-service"], { from: f.index(f.agent), serviceId: "" })).to.be.rejectedWith(
      "--service-id: is required",
    );
    await run(["market", "delist-service"], { from: f.index(f.agent), serviceId: "iris-a" });
    await expect(run(["market", "delist-service"], { from: f.index(f.agent), serviceId: "iris-a" })).to.be.rejectedWith(
      "MarketplaceServiceNotListed(serviceId=iris-a)",
    );
    expect(((await run(["market", "services"], { provider: "1" })) as string).split("\n")).to.deep.equal([
      "0 service offers of agent #1",
    ]);
    expect(await run(["market", "services"], { provider: f.agent.address, all: true })).to.equal(
      "1 service offer of agent #1\n  iris-a: delisted, provider agent #1",
    );
    await expect(run(["market", "services"], { provider: "x" })).to.be.rejectedWith(
      '--provider: "x" is neither an agent id nor an address',
    );
  });

  it("workflow executions / cancel / expire / rate / update-listing", async function () {
    const spec = path.join(dir, "wf2.json");
    writeFileSync(
      spec,
      JSON.stringify({ name: "wf", maxExecutionTime: "1h", maxBudget: "5", steps: [{ id: "a", type: "inference" }] }),
    );
    await run(["workflow", "define"], { from: f.index(f.outsider), file: spec });
    await run(["workflow", "list"], { from: f.index(f.outsider), workflow: "1", title: "wf", price: "1" });
    await pay(f, f.client, "20");
    await run(["workflow", "request"], {
      from: f.index(f.client),
      workflow: "1",
      inputs: "x",
      budget: "2",
      listing: "1",
    });
    await run(["workflow", "request"], {
      from: f.index(f.client),
      workflow: "1",
      inputs: "y",
      budget: "3",
      listing: "1",
    });
    const mine = (
      (await run(["workflow", "executions"], { account: f.index(f.client), as: "client" })) as string
    ).split("\n");
    expect(mine[0]).to.equal(`2 of 2 executions (${f.client.address} as client)`);
    expect(mine[1]).to.match(
      /^ {2}#2 pending: workflow #1, client 0x[0-9a-fA-F]{40}, no keeper yet, 0\.0 AITBC of 3\.0 AITBC spent, requested \d{4}-/,
    );
    expect(await run(["workflow", "executions"], { account: f.index(f.client), as: "keeper" })).to.equal(
      `0 of 2 executions (${f.client.address} as keeper)`,
    );
    await expect(run(["workflow", "cancel"], { from: f.index(f.outsider), execution: "1" })).to.be.rejectedWith(
      `WorkflowsNotClient(executionId=1, caller=${f.outsider.address})`,
    );
    const before = await f.token.balanceOf(f.client.address);
    await run(["workflow", "cancel"], { from: f.index(f.client), execution: "1" });
    expect((await f.token.balanceOf(f.client.address)) - before).to.equal(3n * AITBC); // budget 2 + unused fee 1
    expect(await run(["workflow", "executions"], { status: "failed" })).to.match(
      /^1 of 2 executions \(failed\)\n {2}#1 failed:/,
    );
    await expect(run(["workflow", "cancel"], { from: f.index(f.client), execution: "1" })).to.be.rejectedWith(
      "WorkflowsWrongStatus(executionId=1, status=failed)",
    );
    await expect(run(["workflow", "expire"], { from: "", execution: "2" })).to.be.rejectedWith(
      "WorkflowsWrongStatus(executionId=2, status=pending)",
    );
    await expect(
      run(["workflow", "rate"], { from: f.index(f.client), execution: "2", rating: "6" }),
    ).to.be.rejectedWith("--rating: must be at most 5");
    await expect(
      run(["workflow", "rate"], { from: f.index(f.client), execution: "2", rating: "4" }),
    ).to.be.rejectedWith(/WorkflowsWrongStatus\(executionId=2, status=pending\)/);
    await expect(run(["workflow", "executions"], { as: "owner" })).to.be.rejectedWith(
      '--as: "owner" is not one of client, keeper, any',
    );

    await run(["workflow", "update-listing"], { from: f.index(f.outsider), listing: "1", price: "2", active: "no" });
    const l = await f.workflows.getListing(1n);
    expect([l.executionPrice, l.active, l.title]).to.deep.equal([2n * AITBC, false, "wf"]);
    await expect(
      run(["workflow", "update-listing"], { from: f.index(f.outsider), listing: "1", access: "secret" }),
    ).to.be.rejectedWith('--access: "secret" is not one of public, restricted');
    await expect(
      run(["workflow", "update-listing"], { from: f.index(f.client), listing: "1", price: "0" }),
    ).to.be.rejectedWith(`WorkflowsNotWorkflowOwner(workflowId=1, caller=${f.client.address})`);
    await expect(run(["workflow", "subscribe"], { from: f.index(f.client), listing: "1" })).to.be.rejectedWith(
      "--listing: listing #1 offers no subscription",
    );
  });

  it("market expire-dispute refunds an unresolved dispute once it times out (with chain advance)", async function () {
    await provider(f, f.agent, "iris-a");
    await pay(f, f.client, "100");
    await run(["market", "post"], {
      from: f.index(f.client),
      serviceType: "iris-mlp-inference",
      units: "100",
      maxPrice: "0.2",
    });
    await run(["market", "bid"], { from: f.index(f.agent), workload: "1", serviceId: "iris-a", price: "0.1" });
    await run(["market", "award"], { from: f.index(f.client), workload: "1", bid: "0" });
    await run(["market", "submit"], { from: f.index(f.agent), workload: "1", result: "wrong" });
    await expect(run(["market", "expire-dispute"], { from: "", workload: "1" })).to.be.rejectedWith(
      "MarketplaceWrongStatus(workloadId=1, status=submitted)",
    );
    await run(["market", "dispute"], { from: f.index(f.client), workload: "1", reason: "wrong" });
    const w = await f.marketplace.getWorkload(1n);
    const endsAt = w.submittedAt + w.challengeWindow + 7n * 86_400n;
    await expect(run(["market", "expire-dispute"], { from: "", workload: "1" })).to.be.rejectedWith(
      `MarketplaceDisputeOpen(workloadId=1, endsAt=${new Date(Number(endsAt) * 1000).toISOString()})`,
    );
    await expect(run(["market", "expire-dispute"], { from: "", workload: "one" })).to.be.rejectedWith(
      '--workload: "one" is not a whole number',
    );
    await run(["chain", "advance"], { to: new Date(Number(endsAt + 1n) * 1000).toISOString() });
    const before = await f.token.balanceOf(f.client.address);
    await run(["market", "expire-dispute"], { from: f.index(f.outsider), workload: "1" });
    expect((await f.token.balanceOf(f.client.address)) - before).to.equal(20n * AITBC);
  });

  it("workflow access opens a restricted listing to one user, and --revoke closes it", async function () {
    const spec = path.join(dir, "wf3.json");
    writeFileSync(
      spec,
      JSON.stringify({ name: "wf", maxExecutionTime: "1h", maxBudget: "5", steps: [{ id: "a", type: "inference" }] }),
    );
    await run(["workflow", "define"], { from: f.index(f.outsider), file: spec });
    await run(["workflow", "list"], { from: f.index(f.outsider), workflow: "1", title: "wf", restricted: true });
    await pay(f, f.client, "20");
    const request = () =>
      run(["workflow", "request"], { from: f.index(f.client), workflow: "1", inputs: "x", budget: "1", listing: "1" });
    await expect(request()).to.be.rejectedWith(`WorkflowsAccessDenied(listingId=1, caller=${f.client.address})`);
    await expect(
      run(["workflow", "access"], { from: f.index(f.client), listing: "1", user: f.client.address }),
    ).to.be.rejectedWith(`WorkflowsNotWorkflowOwner(workflowId=1, caller=${f.client.address})`);
    await expect(
      run(["workflow", "access"], { from: f.index(f.outsider), listing: "1", user: "me" }),
    ).to.be.rejectedWith('--user: "me" is not an address');
    await run(["workflow", "access"], { from: f.index(f.outsider), listing: "1", user: f.index(f.client) });
    await request();
    await run(["workflow", "access"], {
      from: f.index(f.outsider),
      listing: "1",
      user: f.client.address,
      revoke: true,
    });
    await expect(request()).to.be.rejectedWith("WorkflowsAccessDenied(listingId=1");
  });

  it("agent update-profile keeps empty flags; agent register needs a distinct --operator", async function () {
    await register(f, f.agent);
    await run(["agent", "update-profile"], { from: f.index(f.agent), capabilities: "inference,training" });
    const a = await f.registry.getAgent(1n);
    expect(a.version).to.equal("1.0.0");
    expect(a.capabilities.map((c) => ethers.decodeBytes32String(c))).to.deep.equal(["inference", "training"]);
    await expect(run(["agent", "update-profile"], { from: f.index(f.outsider), endpoint: "x" })).to.be.rejectedWith(
      `--from: ${f.outsider.address} is not a registered agent`,
    );
    await expect(
      run(["agent", "update-profile"], { from: f.index(f.agent), capabilities: "a".repeat(32) }),
    ).to.be.rejectedWith("--capabilities:");
    await expect(run(["agent", "register"], { from: f.index(f.agent2), agentVersion: "1" })).to.be.rejectedWith(
      "--operator: is required",
    );
    await expect(
      run(["agent", "register"], { from: f.index(f.agent2), operator: f.agent2.address, agentVersion: "1" }),
    ).to.be.rejectedWith("--operator: must be a human's address, not the agent's own (--from)");
  });

  it("role grant / revoke by name make agent slash usable after a default deploy", async function () {
    await register(f, f.agent);
    await pay(f, f.agent, "2100");
    await run(["agent", "stake"], { from: f.index(f.agent), amount: "2100" });
    const slash = () => run(["agent", "slash"], { from: f.index(f.guardian), agentId: "1", amount: "10", reason: "r" });
    await expect(slash()).to.be.rejectedWith(
      `AccessControlUnauthorizedAccount(account=${f.guardian.address}, neededRole=SLASHER_ROLE)`,
    );
    await expect(
      run(["role", "grant"], { from: f.index(f.outsider), contract: "registry", role: "slasher", account: "1" }),
    ).to.be.rejectedWith(`--from: ${f.outsider.address} does not hold DEFAULT_ADMIN_ROLE on registry`);
    await expect(
      run(["role", "grant"], { from: "0", contract: "registry", role: "minter", account: "1" }),
    ).to.be.rejectedWith('--role: registry has no role "minter" (its roles: admin, slasher, reputation, obligation)');
    await expect(
      run(["role", "grant"], { from: "0", contract: "vault", role: "slasher", account: "1" }),
    ).to.be.rejectedWith('--contract: "vault" is not one of');
    await expect(
      run(["role", "grant"], { from: "0", contract: "registry", role: "slasher", account: "0x12" }),
    ).to.be.rejectedWith('--account: "0x12" is not an address');
    await run(["role", "grant"], {
      from: "0",
      contract: "registry",
      role: "SLASHER_ROLE",
      account: f.guardian.address,
    });
    await slash();
    expect(await f.registry.stakeOf(1n)).to.equal(2090n * AITBC);
    await run(["role", "revoke"], { from: "0", contract: "registry", role: "slasher", account: f.index(f.guardian) });
    await expect(slash()).to.be.rejectedWith(/neededRole=SLASHER_ROLE/);
  });

  it("override list shows the stop, frozen agents, overrides in force and the history", async function () {
    const g = f.index(f.guardian);
    await run(["override", "grant"], { from: g, agent: f.agent.address, action: "transfer", duration: "2h" });
    await run(["override", "deny"], { from: g, agent: f.agent2.address, action: "bid", duration: "1d" });
    await run(["override", "revoke"], { from: g, agent: f.agent2.address, action: "bid" });
    await run(["override", "freeze"], { from: g, agent: f.agent.address, reason: "anomaly" });
    await run(["override", "stop"], { from: g, reason: "drill" });
    const lines = ((await run(["override", "list"], {})) as string).split("\n");
    expect(lines.slice(0, 4)).to.deep.equal([
      "emergency stop: ON",
      `frozen agents: ${f.agent.address}`,
      "overrides in force: 1",
      lines[3],
    ]);
    expect(lines[3]).to.match(new RegExp(`^ {2}transfer granted to ${f.agent.address} until \\d{4}-`));
    expect(lines[4]).to.equal("history: 5 events");
    expect(lines[7]).to.contain(`revoked the override of bid for ${f.agent2.address}`);
    expect(lines[9]).to.match(/ stopped the protocol \("drill"\)$/);
  });

  it("names the chains that have a deployment when the connected one has none", async function () {
    const other = path.join(DEPLOYMENTS_DIR, "chain-424242");
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, "deployed_addresses.json"), "{}");
    delete process.env.AITBC_ADDRESSES;
    try {
      await expect(run(["agent", "list"], {})).to.be.rejectedWith(
        /^no AITBC deployment found for chain 31337 .* Deployments are recorded for chain [\d, ]*424242[\d, ]*: is --network the one you meant\?$/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("gov proposals lists by state and refuses an unknown state", async function () {
    expect(await run(["gov", "proposals"], {})).to.equal("0 of 0 proposals");
    await expect(run(["gov", "proposals"], { state: "won" })).to.be.rejectedWith(
      '--state: "won" is not one of pending, active, canceled, defeated, succeeded, queued, expired, executed',
    );
  });

  it("chain advance moves a local chain's time --by a duration or --to a date", async function () {
    const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    await run(["chain", "advance"], { by: "1d" });
    expect(BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0)).to.equal(now + 86_400n);
    const to = new Date(Number(now + 10n * 86_400n) * 1000).toISOString();
    await run(["chain", "advance"], { to });
    expect(BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0)).to.equal(now + 10n * 86_400n);
    await expect(run(["chain", "advance"], { to: "2001-01-01" })).to.be.rejectedWith(
      /--to: 2001-01-01T00:00:00.000Z is not after the chain's time/,
    );
    await expect(run(["chain", "advance"], { to: "someday" })).to.be.rejectedWith('--to: "someday" is not a date');
    await expect(run(["chain", "advance"], { by: "-1d" })).to.be.rejectedWith('--by: "-1d" is not a duration');
    await expect(run(["chain", "advance"], {})).to.be.rejectedWith("--by: give --by <duration> or --to <date>");
    await expect(run(["chain", "advance"], { by: "1d", to })).to.be.rejectedWith("--by: give --by <duration> or --to");
  });
});

describe("upkeep and identity tasks", function () {
  let f: Fixture;
  beforeEach(async function () {
    f = await networkHelpers.loadFixture(operatorFixture);
    process.env.AITBC_ADDRESSES = f.file;
  });
  after(function () {
    delete process.env.AITBC_ADDRESSES;
  });

  it("agent sync: the constitution's bonded volume follows a new bond rate only once synced; bad ids named", async function () {
    await register(f, f.agent);
    await pay(f, f.agent, "2100");
    await run(["agent", "stake"], { from: f.index(f.agent), amount: "2100" });
    const bonded = await f.constitution.bondedVolumeOf(f.agent.address);
    await (await f.registry.connect(f.deployer).setBondBps(2_000n)).wait(); // the same stake now backs half
    expect(await f.constitution.bondedVolumeOf(f.agent.address)).to.equal(bonded);
    await run(["agent", "sync"], { from: f.index(f.outsider), agents: "1" });
    expect(await f.constitution.bondedVolumeOf(f.agent.address)).to.equal(await f.registry.bondedVolume(1n));
    expect(await f.constitution.bondedVolumeOf(f.agent.address)).to.be.lessThan(bonded);
    await expect(run(["agent", "sync"], { from: "", agents: "1,9" })).to.be.rejectedWith("--agents: no agent has id 9");
    await expect(run(["agent", "sync"], { from: "", agents: "1,1" })).to.be.rejectedWith(
      "--agents: an agent is listed twice",
    );
    await expect(run(["agent", "sync"], { from: "", agents: "x" })).to.be.rejectedWith(
      '--agents: "x" is not a whole number',
    );
  });

  it("chain sweep-excess: a plain transfer to the registry goes to the treasury, once", async function () {
    await pay(f, f.outsider, "10");
    await (await f.token.connect(f.outsider).transfer(await f.registry.getAddress(), 4n * AITBC)).wait();
    const before = await f.token.balanceOf(f.treasury.address);
    expect(await run(["chain", "sweep-excess"], { from: "", contract: "registry" })).to.equal(4n * AITBC);
    expect((await f.token.balanceOf(f.treasury.address)) - before).to.equal(4n * AITBC);
    await expect(run(["chain", "sweep-excess"], { from: "", contract: "registry" })).to.be.rejectedWith(
      "AgentRegistryZeroAmount",
    );
    await expect(run(["chain", "sweep-excess"], { from: "", contract: "workflows" })).to.be.rejectedWith(
      "WorkflowsNothingToSweep",
    );
    await expect(run(["chain", "sweep-excess"], { from: "", contract: "token" })).to.be.rejectedWith("--contract:");
  });

  it("workflow move-credits: refuses a key that is not retired, and a retired key without credits", async function () {
    await register(f, f.agent);
    await expect(run(["workflow", "move-credits"], { from: "", key: f.agent.address })).to.be.rejectedWith(
      `WorkflowsKeyNotRetired(key=${f.agent.address})`,
    );
    await run(["agent", "rotate-key"], { from: f.index(f.operator), agentId: "1", newKey: f.agent2.address });
    await expect(run(["workflow", "move-credits"], { from: "", key: f.agent.address })).to.be.rejectedWith(
      "WorkflowsNothingToClaim",
    );
    await expect(run(["workflow", "move-credits"], { from: "", key: "0x12" })).to.be.rejectedWith("--key:");
  });

  it("agent announce and set-metadata: the ERC-8004 identity of an agent, by the agent or its operator", async function () {
    await register(f, f.agent);
    await expect(run(["agent", "announce"], { from: f.index(f.outsider) })).to.be.rejectedWith(
      `--from: ${f.outsider.address} is not a registered agent`,
    );
    await run(["agent", "announce"], { from: f.index(f.agent) });
    expect(await f.identity.isRegistered(1n)).to.equal(true);
    await expect(run(["agent", "announce"], { from: f.index(f.agent) })).to.be.rejectedWith(
      "--from: agent #1 announced itself already",
    );
    await run(["agent", "set-metadata"], {
      from: f.index(f.operator),
      agent: "1",
      key: "a2a",
      value: "http://127.0.0.1:1",
    });
    expect(ethers.toUtf8String(await f.identity.getMetadata(1n, "a2a"))).to.equal("http://127.0.0.1:1");
    await run(["agent", "set-metadata"], { from: f.index(f.agent), agent: "1", key: "raw", value: "0xbeef" });
    expect(await f.identity.getMetadata(1n, "raw")).to.equal("0xbeef");
    await expect(
      run(["agent", "set-metadata"], { from: f.index(f.outsider), agent: "1", key: "a2a", value: "x" }),
    ).to.be.rejectedWith(`AgentIdentityNotAuthorized(agentId=1, caller=${f.outsider.address})`);
    await expect(
      run(["agent", "set-metadata"], { from: f.index(f.agent), agent: "1", key: "agentWallet", value: "0x01" }),
    ).to.be.rejectedWith("AgentIdentityReservedKey");
    await expect(
      run(["agent", "set-metadata"], { from: f.index(f.agent), agent: "1", key: "", value: "x" }),
    ).to.be.rejectedWith("--key:");
  });
});

describe("tasks on the command line", function () {
  const exec = promisify(execFile);
  // Hardhat shows stack traces by default when it believes it runs in CI (hardhat-utils isCi): these variables go.
  const ciVariables = [
    "GITHUB_ACTIONS",
    "NOW",
    "DEPLOYMENT_ID",
    "CODEBUILD_BUILD_NUMBER",
    "CI",
    "CONTINUOUS_INTEGRATION",
  ];
  const dropped = new Set(["AITBC_ADDRESSES", "BUILD_NUMBER", "RUN_ID", ...ciVariables]);
  const hardhat = (...args: string[]) =>
    exec(process.execPath, [path.join("node_modules", "hardhat", "dist", "src", "cli.js"), ...args], {
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped.has(k))),
    });

  it("a failure prints its message alone (no plugin banner) and exits with code 1", async function () {
    this.timeout(60_000);
    const failed = await hardhat("agent", "show", "--agent", "1").then(
      () => expect.fail("the task succeeded"),
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.not.contain("community plugin");
    expect(failed.stderr).to.not.contain("    at ");
    expect(failed.stderr).to.match(/^(\x1b\[31m)?no AITBC deployment found for chain 31337/);

    const traced = await hardhat("--show-stack-traces", "agent", "show", "--agent", "1").then(
      () => expect.fail("the task succeeded"),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(traced.code).to.equal(1);
    expect(traced.stderr).to.contain("no AITBC deployment found for chain 31337");
    expect(traced.stderr).to.contain("    at ");
  });

  it("help shows no empty default for a flag without one", async function () {
    this.timeout(60_000);
    const { stdout } = await hardhat("token", "transfer", "--help");
    expect(stdout).to.contain("--amount");
    expect(stdout).to.not.contain("(default: )");
  });
});
