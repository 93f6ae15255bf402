import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import {
  parseActionSet,
  parseAddress,
  parseDuration,
  parseHash,
  parseLabels,
  parseTokenAmount,
} from "../../scripts/lib/args.js";
import { FUTURE_IDS } from "../../protocol/addresses.js";
import { loadIrisModel, irisProofInput, quantizeFeatures } from "../../circuits/lib/iris.js";
import { readProofFile, writeProofFile } from "../../scripts/lib/proof-file.js";
import { readPrivateReceipt, readSignedReceipt } from "../../scripts/lib/receipt-file.js";
import { AITBC } from "../../scripts/lib/deploy.js";
import { deployForTasks, payByReceipt, run, tasksDir } from "../helpers/tasks.js";
import { TEST_BLIND } from "../helpers/proofs.js";

const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;
const dir = tasksDir("tasks");

async function tasksFixture() {
  return deployForTasks(connection, dir);
}

type Fixture = Awaited<ReturnType<typeof tasksFixture>>;

/** Registers `who` as a service-provider agent (operator: f.operator, 10,000 AITBC a day) through the task. */
async function register(f: Fixture, who: Fixture["agent"]) {
  await run(["agent", "register"], {
    from: f.index(who),
    operator: f.operator.address,
    type: "service-provider",
    metadataUri: "ipfs://a",
    endpoint: "http://127.0.0.1:9000",
    agentVersion: "1.0.0",
    capabilities: "inference",
    expectedDailyVolume: "10000",
  });
}

/** `units` AITBC to `who` through a receipt the attestor signs. */
const pay = payByReceipt;

/** Registers `agent` through the task and funds it with `units` AITBC through a signed receipt. */
async function registerAndFund(f: Fixture, units: string) {
  await register(f, f.agent);
  await pay(f, f.agent, units);
}

/**
 * A reward rate at the protocol fee's scale: a marketplace receipt rewards only the units its fee backs
 * (units × rate <= fee), and the 1 % fee on 100 units at 0.1 AITBC (0.1 AITBC) backs all 100 at 0.001 AITBC a unit.
 */
const RATE_AT_FEE_SCALE = 10n ** 15n;

describe("Hardhat tasks", function () {
  let f: Fixture;
  beforeEach(async function () {
    f = await networkHelpers.loadFixture(tasksFixture);
    process.env.AITBC_ADDRESSES = f.file;
  });
  after(function () {
    delete process.env.AITBC_ADDRESSES;
  });

  describe("agent", function () {
    it("register, fund by receipt, stake, show", async function () {
      await registerAndFund(f, "2500");
      expect(await f.token.balanceOf(f.agent.address)).to.equal(2500n * AITBC);
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      expect(await f.registry.stakeOf(1n)).to.equal(2000n * AITBC);
      expect(await f.registry.isActive(1n)).to.equal(true);
      expect(await f.registry.getCapabilities(1n)).to.deep.equal([ethers.encodeBytes32String("inference")]);
      const text = (await run(["agent", "show"], { agent: f.agent.address })) as string;
      expect(text).to.contain("agent #1");
      expect(text).to.contain("stake           2000.0 AITBC (required 2000.0 AITBC)");
      expect(text).to.contain("capabilities    inference");
      expect(text).to.contain("stake backs 10000.0 AITBC a day: 10000.0 AITBC a day in force");
      expect(await run(["agent", "show"], { agent: "1" })).to.equal(text);
    });

    it("declare-volume raises the bond and caps the constitution's daily volume", async function () {
      await registerAndFund(f, "5000");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      await expect(run(["agent", "declare-volume"], { from: f.index(f.agent), volume: "20000" })).to.be.rejectedWith(
        "AgentRegistryStakeBelowRequired(agentId=1, remaining=2000.0 AITBC, required=3000.0 AITBC)",
      );
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "1000" });
      await run(["agent", "declare-volume"], { from: f.index(f.agent), volume: "20000" });
      expect(await f.registry.requiredStake(1n)).to.equal(3000n * AITBC);
      await run(["agent", "declare-volume"], { from: f.index(f.agent), volume: "50" });
      expect((await f.constitution.constraintsOf(f.agent.address)).maxDailyVolume).to.equal(50n * AITBC);
      await expect(run(["agent", "declare-volume"], { from: f.index(f.agent), volume: "lots" })).to.be.rejectedWith(
        '--volume: "lots" is not a number of AITBC',
      );
    });

    it("unstake all, then withdraw to the operator after the delay", async function () {
      await registerAndFund(f, "2500");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      await run(["agent", "unstake"], { from: f.index(f.operator), agentId: "1", amount: "all" });
      expect(await f.registry.statusOf(1n)).to.equal(3n); // Exiting
      await expect(run(["agent", "withdraw"], { from: f.index(f.operator), agentId: "1" })).to.be.rejectedWith(
        /AgentRegistryStillUnbonding\(agentId=1/,
      );
      await networkHelpers.time.increase(3600);
      const before = await f.token.balanceOf(f.operator.address);
      await run(["agent", "withdraw"], { from: f.index(f.agent), agentId: "1" });
      expect((await f.token.balanceOf(f.operator.address)) - before).to.equal(2000n * AITBC);
    });

    it("rotate-key: the operator moves the agent to a new key; the old key can do nothing, the new one acts", async function () {
      await registerAndFund(f, "2500");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      const rotate = (from: { address: string }, args: Record<string, string>) =>
        run(["agent", "rotate-key"], { from: f.index(from), agentId: "1", newKey: f.agent2.address, ...args });
      // Bad input, each named, before any transaction.
      await expect(rotate(f.operator, { newKey: "nope" })).to.be.rejectedWith('--new-key: "nope" is not an address');
      await expect(rotate(f.operator, { newKey: "" })).to.be.rejectedWith("--new-key: is required");
      await expect(rotate(f.operator, { agentId: "0" })).to.be.rejectedWith("--agent-id: must be at least 1");
      await expect(rotate(f.operator, { agentId: "9" })).to.be.rejectedWith("AgentRegistryUnknownAgent(agentId=9)");
      await expect(rotate(f.agent, {})).to.be.rejectedWith(
        `from: ${f.agent.address} is not agent #1's operator (${f.operator.address}); only the operator rotates its key`,
      );
      await expect(rotate(f.operator, { newKey: f.operator.address })).to.be.rejectedWith(
        `AgentRegistryOperatorIsAgent(agent=${f.operator.address})`,
      );
      await expect(rotate(f.operator, { newKey: f.agent.address })).to.be.rejectedWith(
        `AgentRegistryAlreadyRegistered(agent=${f.agent.address}, agentId=1)`,
      );
      expect(await f.registry.agentIdOf(f.agent.address)).to.equal(1n);

      const text = (await rotate(f.operator, {})) as string;
      expect(text).to.contain(
        `agent #1: key ${f.agent.address} -> ${f.agent2.address} (operator ${f.operator.address})`,
      );
      expect(text).to.contain("stake           2000.0 AITBC (pending 0.0 AITBC), reputation 500");
      expect(text).to.match(/votes {11}[\d.]+ votes held by the new key/);
      expect(text).to.contain("credits         none at the old key");
      expect(text).to.contain("its wallet's 500.0 AITBC cannot move");
      expect(await f.registry.agentIdOf(f.agent2.address)).to.equal(1n);
      expect(await f.registry.retiredAgentIdOf(f.agent.address)).to.equal(1n);

      // The old key is dead: as an agent, and even its wallet.
      await expect(run(["agent", "stake"], { from: f.index(f.agent), amount: "10" })).to.be.rejectedWith(
        /not a registered agent|AgentRegistryNotRegistered/,
      );
      await expect(
        run(["token", "transfer"], { from: f.index(f.agent), to: f.client.address, amount: "1" }),
      ).to.be.rejectedWith(`AgentConstitutionKeyRetired(key=${f.agent.address})`);
      await expect(run(["agent", "unstake"], { from: f.index(f.agent), agentId: "1", amount: "1" })).to.be.rejectedWith(
        `AgentRegistryNotAgentOrOperator(agentId=1, caller=${f.agent.address})`,
      );
      await expect(rotate(f.operator, { newKey: f.agent.address })).to.be.rejectedWith(
        `AgentRegistryKeyRetired(key=${f.agent.address}, agentId=1)`,
      );
      // The new key does what the agent did.
      await pay(f, f.agent2, "100");
      await run(["agent", "stake"], { from: f.index(f.agent2), amount: "100" });
      expect(await f.registry.stakeOf(1n)).to.equal(2100n * AITBC);
      expect(await run(["agent", "show"], { agent: f.agent2.address })).to.contain("agent #1");
    });

    it("audit log: every action by key in a block range, with figures in AITBC, dates and names; bad input named", async function () {
      await registerAndFund(f, "2500");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      await run(["agent", "rotate-key"], { from: f.index(f.operator), agentId: "1", newKey: f.agent2.address });
      await pay(f, f.agent2, "10");
      await run(["agent", "stake"], { from: f.index(f.agent2), amount: "10" });
      const audit = async (args: Record<string, string>) =>
        (await run(["audit", "log"], { agent: "", key: "", fromBlock: "", toBlock: "", ...args })) as {
          block: number;
          key: string;
          role: string;
          event: string;
          text: string;
          time: string;
        }[];

      const all = await audit({});
      const events = all.map((e) => e.event);
      for (const name of ["AgentRegistered", "Staked", "AgentKeyRotated", "AgentRotated", "ReceiptMinted"])
        expect(events, name).to.include(name);
      const staked = all.filter((e) => e.event === "Staked");
      expect(staked.map((e) => e.key)).to.deep.equal([f.agent.address, f.agent2.address]);
      expect(staked[0]?.role).to.equal("retired key of agent #1");
      expect(staked[1]?.role).to.equal("agent #1");
      expect(staked[0]?.text).to.equal("AgentRegistry.Staked(agentId=1, amount=2000.0 AITBC, totalStake=2000.0 AITBC)");
      expect(staked[0]?.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
      const rotated = all.find((e) => e.event === "AgentKeyRotated");
      expect(rotated?.key).to.equal(f.operator.address);
      expect(rotated?.text).to.equal(
        `AgentRegistry.AgentKeyRotated(agentId=1, oldKey=${f.agent.address}, newKey=${f.agent2.address}, operator=${f.operator.address})`,
      );

      // By key: what the operator signed; by agent (id or any key, old or new): both keys' actions and its events.
      const byOperator = await audit({ key: f.operator.address });
      expect(byOperator.every((e) => e.key === f.operator.address)).to.equal(true);
      expect(byOperator.map((e) => e.event)).to.include("AgentKeyRotated");
      const byAgent = await audit({ agent: "1" });
      expect(byAgent.filter((e) => e.event === "Staked")).to.have.length(2);
      expect(await audit({ agent: f.agent.address })).to.deep.equal(byAgent);
      // Events naming the agent's keys are in too (a receipt the client minted to it), and contracts go by name.
      expect(byAgent.some((e) => e.key === f.client.address && e.event === "ReceiptMinted")).to.equal(true);
      expect(byAgent.find((e) => e.event === "Approval")?.text).to.equal(
        `AIToken.Approval(owner=${f.agent.address}, spender=AgentRegistry, value=2000.0 AITBC)`,
      );

      // Paged by block range.
      const rotationBlock = rotated?.block ?? 0;
      const before = await audit({ toBlock: String(rotationBlock - 1) });
      expect(before.map((e) => e.event)).to.not.include("AgentKeyRotated");
      expect(before.every((e) => e.block < rotationBlock)).to.equal(true);
      const from = await audit({ fromBlock: String(rotationBlock), toBlock: String(rotationBlock) });
      expect(from.every((e) => e.block === rotationBlock)).to.equal(true);
      expect(from.map((e) => e.event)).to.include("AgentKeyRotated");

      // Bad input.
      const latest = await ethers.provider.getBlockNumber();
      await expect(audit({ fromBlock: "x" })).to.be.rejectedWith('--from-block: "x" is not a whole number');
      await expect(audit({ fromBlock: String(latest), toBlock: "1" })).to.be.rejectedWith(
        "--from-block: must be at most 1",
      );
      await expect(audit({ toBlock: String(latest + 5) })).to.be.rejectedWith(`--to-block: must be at most ${latest}`);
      await expect(audit({ key: "0x12" })).to.be.rejectedWith('--key: "0x12" is not an address');
      await expect(audit({ agent: f.client.address })).to.be.rejectedWith(
        `--agent: ${f.client.address} is no agent's key (now or before a rotation)`,
      );
      await expect(audit({ agent: "7" })).to.be.rejectedWith("AgentRegistryUnknownAgent(agentId=7)");
      await networkHelpers.mine(100_001);
      await expect(audit({ fromBlock: "0" })).to.be.rejectedWith(
        /--from-block: blocks 0\.\.\d+ are more than 100000 blocks: read them in several runs with --to-block/,
      );
      const recent = await audit({});
      expect(recent, "the default window (10,000 blocks) holds none of the old actions").to.have.length(0);
    });

    it("slash by a slasher; a non-slasher is refused with the decoded error", async function () {
      await registerAndFund(f, "2500");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      await expect(
        run(["agent", "slash"], { from: f.index(f.outsider), agentId: "1", amount: "10", reason: "x" }),
      ).to.be.rejectedWith(/AccessControlUnauthorizedAccount/);
      await f.registry.grantRole(await f.registry.SLASHER_ROLE(), f.guardian.address);
      await run(["agent", "slash"], { from: f.index(f.guardian), agentId: "1", amount: "100", reason: "late" });
      expect(await f.token.balanceOf(f.treasury.address)).to.equal(100n * AITBC);
      await expect(
        run(["agent", "slash"], { from: f.index(f.guardian), agentId: "1", amount: "1000", reason: "too much" }),
      ).to.be.rejectedWith(/AgentRegistrySlashTooLarge\(agentId=1, amount=1000\.0 AITBC, maxSlash=950\.0 AITBC\)/);
    });

    it("reports bad arguments by flag", async function () {
      await expect(run(["agent", "stake"], { from: "", amount: "12x" })).to.be.rejectedWith(
        '--amount: "12x" is not a number of AITBC',
      );
      await expect(run(["agent", "stake"], { from: "", amount: "" })).to.be.rejectedWith("--amount: is required");
      await expect(run(["agent", "stake"], { from: "99", amount: "1" })).to.be.rejectedWith(
        "--from: account index 99 out of range",
      );
      await expect(
        run(["agent", "register"], {
          from: "",
          operator: "0x123",
          type: "service-provider",
          metadataUri: "",
          endpoint: "",
          agentVersion: "1",
          capabilities: "",
          expectedDailyVolume: "0",
        }),
      ).to.be.rejectedWith('--operator: "0x123" is not an address');
      await expect(
        run(["agent", "register"], {
          from: "",
          operator: "0x000000000000000000000000000000000000dEaD",
          type: "oracle",
          metadataUri: "",
          endpoint: "",
          agentVersion: "1",
          capabilities: "",
          expectedDailyVolume: "0",
        }),
      ).to.be.rejectedWith('--type: "oracle" is not one of service-provider, market-maker, governance, validator');
      await expect(run(["agent", "unstake"], { from: "", agentId: "0", amount: "1" })).to.be.rejectedWith(
        "--agent-id: must be at least 1",
      );
      await expect(run(["agent", "show"], { agent: "1" })).to.be.rejectedWith(/AgentRegistryUnknownAgent\(agentId=1\)/);
    });

    it("refuses a deployment that is not on this chain", async function () {
      const bad = path.join(dir, "bad.json");
      writeFileSync(
        bad,
        JSON.stringify(
          Object.fromEntries(Object.values(FUTURE_IDS).map((id) => [id, "0x000000000000000000000000000000000000dEaD"])),
        ),
      );
      process.env.AITBC_ADDRESSES = bad;
      await expect(run(["agent", "show"], { agent: "1" })).to.be.rejectedWith(/no token contract at 0x0+dEaD/);
    });
  });

  describe("agent list and token", function () {
    it("agent list shows every agent with its type, status, stake and reputation", async function () {
      expect(await run(["agent", "list"], {})).to.equal("0 agents");
      await registerAndFund(f, "2500");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      await register(f, f.agent2);
      const text = (await run(["agent", "list"], {})) as string;
      expect(text.split("\n")).to.deep.equal([
        "2 agents",
        `  #1 ${f.agent.address} service-provider, active (active), stake 2000.0 AITBC, reputation 500`,
        `  #2 ${f.agent2.address} service-provider, active, stake 0.0 AITBC, reputation 500`,
      ]);
    });

    it("token balance shows wallet, credits and stake; token transfer sends by address or index", async function () {
      await pay(f, f.client, "30");
      await run(["token", "transfer"], { from: f.index(f.client), to: f.index(f.outsider), amount: "12.5" });
      await run(["token", "transfer"], { from: f.index(f.client), to: f.outsider.address, amount: "0.5" });
      expect(await f.token.balanceOf(f.outsider.address)).to.equal(13n * AITBC);
      const text = (await run(["token", "balance"], { account: f.outsider.address })) as string;
      expect(text).to.equal(
        [
          f.outsider.address,
          "  wallet          13.0 AITBC",
          "  credits         0.0 AITBC claimable in Workflows (workflow claim)",
        ].join("\n"),
      );
      await registerAndFund(f, "2500");
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      expect(await run(["token", "balance"], { account: f.index(f.agent) })).to.contain(
        "  agent #1       staked 2000.0 AITBC, pending 0.0 AITBC",
      );
    });

    it("token transfer and balance name the flag of a bad value, before any transaction", async function () {
      await pay(f, f.client, "3");
      const from = f.index(f.client);
      await expect(run(["token", "transfer"], { from, to: "", amount: "1" })).to.be.rejectedWith("--to: is required");
      await expect(run(["token", "transfer"], { from, to: "0x1234", amount: "1" })).to.be.rejectedWith(
        '--to: "0x1234" is not an address',
      );
      await expect(run(["token", "transfer"], { from, to: "99", amount: "1" })).to.be.rejectedWith(
        "--to: account index 99 out of range",
      );
      await expect(run(["token", "transfer"], { from, to: f.outsider.address, amount: "-1" })).to.be.rejectedWith(
        '--amount: "-1" is not a number of AITBC',
      );
      await expect(run(["token", "transfer"], { from, to: f.outsider.address, amount: "4" })).to.be.rejectedWith(
        `--amount: 4.0 AITBC is more than ${f.client.address} holds (3.0 AITBC)`,
      );
      await expect(run(["token", "balance"], { account: "" })).to.be.rejectedWith("--account: is required");
      expect(await f.token.balanceOf(f.client.address)).to.equal(3n * AITBC);
    });
  });

  describe("constitution and override", function () {
    it("set keeps empty flags, then grant / deny / revoke gate the agent's transfers", async function () {
      await registerAndFund(f, "3000");
      // the bond for the 10,000 AITBC a day it declared: its stake backs the volume its transfers use
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      await run(["constitution", "set"], {
        from: f.index(f.operator),
        agent: f.agent.address,
        maxStake: "",
        maxDailyVolume: "500",
        maxGasPerDay: "",
        allowed: "all",
        humanApproval: "transfer",
      });
      const c = await f.constitution.constraintsOf(f.agent.address);
      expect(c.maxDailyVolume).to.equal(500n * AITBC);
      expect(c.maxStake).to.equal((await f.constitution.defaults()).maxStake);
      expect(c.humanApprovalActions).to.equal(1n);

      await expect(f.token.connect(f.agent).transfer(f.client.address, AITBC)).to.be.revertedWithCustomError(
        f.constitution,
        "AgentConstitutionHumanApprovalRequired",
      );
      const g = f.index(f.guardian);
      await run(["override", "grant"], { from: g, agent: f.agent.address, action: "transfer", duration: "2h" });
      await f.token.connect(f.agent).transfer(f.client.address, AITBC);
      await run(["override", "deny"], { from: g, agent: f.agent.address, action: "transfer", duration: "1d" });
      await expect(f.token.connect(f.agent).transfer(f.client.address, AITBC)).to.be.revertedWithCustomError(
        f.constitution,
        "AgentConstitutionActionDenied",
      );
      await run(["override", "revoke"], { from: g, agent: f.agent.address, action: "transfer" });
      await expect(f.token.connect(f.agent).transfer(f.client.address, AITBC)).to.be.revertedWithCustomError(
        f.constitution,
        "AgentConstitutionHumanApprovalRequired",
      );
      await expect(
        run(["constitution", "set"], {
          from: f.index(f.outsider),
          agent: f.agent.address,
          maxStake: "",
          maxDailyVolume: "1",
          maxGasPerDay: "",
          allowed: "",
          humanApproval: "",
        }),
      ).to.be.rejectedWith(/AgentConstitutionNotOperator/);
      await expect(
        run(["override", "grant"], { from: g, agent: f.agent.address, action: "teleport", duration: "1h" }),
      ).to.be.rejectedWith('--action: unknown action type "teleport"');
      await expect(
        run(["override", "grant"], { from: g, agent: f.agent.address, action: "transfer", duration: "soon" }),
      ).to.be.rejectedWith('--duration: "soon" is not a duration');
    });

    it("freeze / unfreeze and stop / resume", async function () {
      await registerAndFund(f, "3000");
      const g = f.index(f.guardian);
      await run(["override", "freeze"], { from: g, agent: f.agent.address, reason: "anomaly" });
      expect(await f.humanOverride.isFrozen(f.agent.address)).to.equal(true);
      await expect(run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" })).to.be.rejectedWith(
        "AgentRegistryNotActive(agentId=1, status=frozen)",
      );
      await run(["override", "unfreeze"], { from: g, agent: f.agent.address });
      await run(["override", "stop"], { from: g, reason: "drill" });
      await expect(run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" })).to.be.rejectedWith(
        /HumanOverrideEmergencyStopped/,
      );
      await expect(run(["override", "stop"], { from: g, reason: "" })).to.be.rejectedWith("--reason: is required");
      await run(["override", "resume"], { from: g });
      await run(["agent", "stake"], { from: f.index(f.agent), amount: "2000" });
      expect(await f.registry.isActive(1n)).to.equal(true);
    });
  });

  describe("receipt", function () {
    it("signs to a file and mints a batch; a replayed file is refused", async function () {
      const files = [];
      for (const units of ["5", "7"]) {
        const out = path.join(dir, `batch-${units}.json`);
        await run(["receipt", "sign"], {
          from: f.index(f.attestor),
          provider: f.outsider.address,
          client: f.client.address,
          units,
          work: `w${units}`,
          result: "0x" + "ab".repeat(32),
          receiptId: `receipt-${units}`,
          validFor: "10m",
          out,
        });
        files.push(out);
      }
      const first = readSignedReceipt(files[0] ?? "");
      expect(first.receipt.receiptId).to.equal(ethers.id("receipt-5"));
      expect(first.receipt.resultHash).to.equal("0x" + "ab".repeat(32));
      await run(["receipt", "mint"], { from: "", files: files.join(",") });
      expect(await f.token.balanceOf(f.outsider.address)).to.equal(12n * AITBC);
      await expect(run(["receipt", "mint"], { from: "", files: files[1] })).to.be.rejectedWith(
        /AITokenReceiptAlreadyMinted/,
      );
    });

    it("a receipt signed by a non-attestor is refused", async function () {
      const out = path.join(dir, "rogue.json");
      await run(["receipt", "sign"], {
        from: f.index(f.outsider),
        provider: f.outsider.address,
        client: f.client.address,
        units: "5",
        work: "w",
        result: "r",
        receiptId: "",
        validFor: "10m",
        out,
      });
      await expect(run(["receipt", "mint"], { from: "", files: out })).to.be.rejectedWith(/AITokenSignerNotAttestor/);
    });

    it("names the file and field of a malformed receipt", async function () {
      const bad = path.join(dir, "malformed.json");
      writeFileSync(bad, JSON.stringify({ receipt: { receiptId: "0x12" }, signature: "0x" }));
      expect(() => readSignedReceipt(bad)).to.throw(`${bad}: receipt.receiptId is not 32 bytes of hex`);
      await expect(run(["receipt", "mint"], { from: "", files: path.join(dir, "missing.json") })).to.be.rejectedWith(
        /missing\.json: cannot read a JSON receipt/,
      );
    });
  });
});

describe("marketplace and workflow tasks", function () {
  let f: Fixture;
  beforeEach(async function () {
    f = await networkHelpers.loadFixture(tasksFixture);
    process.env.AITBC_ADDRESSES = f.file;
  });
  after(function () {
    delete process.env.AITBC_ADDRESSES;
  });

  /** Registers, funds and stakes `who` as a provider agent (operator: f.operator) through the tasks. */
  async function provider(who: typeof f.agent, serviceId: string): Promise<void> {
    await register(f, who);
    await pay(f, who, "2100");
    await run(["agent", "stake"], { from: f.index(who), amount: "2100" }); // the bond plus room for one slash
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

  async function fundClient(units: string): Promise<void> {
    await pay(f, f.client, units);
  }

  const post = () =>
    run(["market", "post"], {
      from: f.index(f.client),
      serviceType: "iris-mlp-inference",
      model: "",
      units: "100",
      maxPrice: "0.2",
      bidWindow: "1h",
      executionWindow: "1h",
      reopen: false,
    }) as Promise<bigint>;

  it("market workloads lists newest first, filtered by status and client", async function () {
    await fundClient("100");
    await post();
    await post();
    await run(["market", "cancel"], { from: f.index(f.client), workload: "1" });
    const all = ((await run(["market", "workloads"], { status: "", client: "" })) as string).split("\n");
    expect(all[0]).to.equal("2 of 2 workloads");
    expect(all[1]).to.match(
      /^ {2}#2 open: 100 units at most 0\.2 AITBC\/unit, client 0x[0-9a-fA-F]{40}, 0 bids, bidding until /,
    );
    expect(all[2]).to.match(/^ {2}#1 cancelled: 100 units/);
    const open = (await run(["market", "workloads"], { status: "open", client: "" })) as string;
    expect(open.split("\n")).to.have.length(2);
    expect(open).to.match(/^1 of 2 workloads \(open\)/);
    const none = (await run(["market", "workloads"], { status: "", client: f.outsider.address })) as string;
    expect(none).to.equal(`0 of 2 workloads (client ${f.outsider.address})`);
    await expect(run(["market", "workloads"], { status: "won", client: "" })).to.be.rejectedWith("--status:");
  });

  it("workflow claim refuses an account with no credits, naming it", async function () {
    await expect(run(["workflow", "claim"], { from: f.index(f.outsider) })).to.be.rejectedWith(
      `${f.outsider.address} has no credits in Workflows to claim`,
    );
  });

  it("list, post, bid, award, submit, accept: the workload settles", async function () {
    await provider(f.agent, "iris-a");
    await provider(f.agent2, "iris-b");
    await fundClient("100");
    await (await f.token.connect(f.deployer).setRewardRate(RATE_AT_FEE_SCALE)).wait(); // after the funding receipts
    const workloadId = await post();
    expect(workloadId).to.equal(1n);
    await run(["market", "bid"], {
      from: f.index(f.agent),
      workload: "1",
      serviceId: "iris-a",
      price: "0.15",
      proposal: "",
    });
    await run(["market", "bid"], {
      from: f.index(f.agent2),
      workload: "1",
      serviceId: "iris-b",
      price: "0.1",
      proposal: "p",
    });
    // An open workload shows when its award window closes: a day after the bid deadline.
    const { bidDeadline } = await f.marketplace.getWorkload(1n);
    const awardBy = new Date(Number(bidDeadline + 86_400n) * 1000).toISOString();
    expect(await run(["market", "show"], { workload: "1" })).to.contain(`; award by ${awardBy}; result due`);
    // The award names the bid's provider: --provider as the client read it, or the bid's provider now.
    await expect(
      run(["market", "award"], { from: f.index(f.client), workload: "1", bid: "1", provider: "1" }),
    ).to.be.rejectedWith(/MarketplaceBidReplaced\(workloadId=1, bidIndex=1, expectedProviderId=1, providerId=2\)/);
    await expect(run(["market", "award"], { from: f.index(f.client), workload: "1", bid: "2" })).to.be.rejectedWith(
      "--bid: workload #1 has no bid #2",
    );
    await run(["market", "award"], { from: f.index(f.client), workload: "1", bid: "1" });
    expect((await f.marketplace.getWorkload(1n)).providerId).to.equal(2n);
    await expect(
      run(["market", "submit"], { from: f.index(f.agent), workload: "1", result: "stolen" }),
    ).to.be.rejectedWith(/MarketplaceInvalidResultSignature\(workloadId=1\)/);
    await run(["market", "submit"], { from: f.index(f.agent2), workload: "1", result: "predictions" });
    const before = await f.token.balanceOf(f.agent2.address);
    await run(["market", "accept"], { from: f.index(f.client), workload: "1" });
    const w = await f.marketplace.getWorkload(1n);
    expect(w.status).to.equal(5n); // Settled
    // payment 10 AITBC less the 1% fee; the compute receipt is issued, not minted
    expect((await f.token.balanceOf(f.agent2.address)) - before).to.equal((99n * AITBC) / 10n);
    // an attestor signs the marketplace's receipt; it mints 100 units x 0.001 AITBC to the provider, once (the
    // receipt's units are those its 0.1 AITBC fee backs at the rate: all 100)
    const out = path.join(dir, "workload-1.json");
    await run(["receipt", "sign"], { from: f.index(f.attestor), workload: "1", validFor: "1h", out });
    expect(readSignedReceipt(out).receipt.receiptId).to.equal((await f.marketplace.receiptOf(1n)).receiptId);
    await run(["receipt", "mint"], { from: "", files: out });
    expect((await f.token.balanceOf(f.agent2.address)) - before).to.equal((99n * AITBC) / 10n + AITBC / 10n);
    await expect(run(["receipt", "mint"], { from: "", files: out })).to.be.rejectedWith(/AITokenReceiptAlreadyMinted/);
    const text = (await run(["market", "show"], { workload: "1" })) as string;
    expect(text).to.contain("workload #1 (round 0): settled");
    expect(text).to.contain("bid #1          agent #2 via iris-b at 0.1 AITBC");
    await expect(run(["market", "accept"], { from: f.index(f.client), workload: "1" })).to.be.rejectedWith(
      "MarketplaceWrongStatus(workloadId=1, status=settled)",
    );
  });

  it("receipt publish-root and mint-private: a settled workload's receipt mints as proven notes, each once", async function () {
    this.timeout(120_000);
    await provider(f.agent, "iris-a");
    await fundClient("100");
    await (await f.token.connect(f.deployer).setRewardRate(RATE_AT_FEE_SCALE)).wait(); // after the funding receipts
    /** A workload of 100 units, bid, awarded, submitted and accepted: settled. */
    async function settled(): Promise<string> {
      const id = String(await post());
      await run(["market", "bid"], {
        from: f.index(f.agent),
        workload: id,
        serviceId: "iris-a",
        price: "0.1",
        proposal: "",
      });
      await run(["market", "award"], { from: f.index(f.client), workload: id, bid: "0" });
      await run(["market", "submit"], { from: f.index(f.agent), workload: id, result: "predictions" });
      await run(["market", "accept"], { from: f.index(f.client), workload: id });
      return id;
    }
    const first = await settled();
    const open = String(await post());
    const tree = path.join(dir, "receipt-tree");
    const attestor = f.index(f.attestor);
    await expect(run(["receipt", "publish-root"], { from: attestor, workloads: open, dir: tree })).to.be.rejectedWith(
      `--workloads: workload ${open} is open: only a settled workload has a receipt`,
    );
    await expect(
      run(["receipt", "publish-root"], { from: attestor, workloads: `${first},${first}`, dir: tree }),
    ).to.be.rejectedWith(`--workloads: workload ${first} is committed already`);
    await expect(
      run(["receipt", "publish-root"], { from: f.index(f.outsider), workloads: first, dir: tree }),
    ).to.be.rejectedWith(`--from: ${f.outsider.address} is not an attestor of ReceiptMinter`);
    expect(existsSync(path.join(tree, "tree.json"))).to.equal(false); // nothing written for a refused call

    await run(["receipt", "publish-root"], { from: attestor, workloads: first, dir: tree });
    const file = path.join(tree, `receipt-${first}.json`);
    const { root } = readPrivateReceipt(file);
    expect(await f.receiptMinter.isKnownRoot(root)).to.equal(true);
    // committed once: the same workload again (another salt would mint it twice) is refused
    await expect(run(["receipt", "publish-root"], { from: attestor, workloads: first, dir: tree })).to.be.rejectedWith(
      `--workloads: workload ${first} is committed already`,
    );
    // a receipt minted with its signature cannot be committed too
    const second = await settled();
    const signed = path.join(dir, `signed-${second}.json`);
    await run(["receipt", "sign"], { from: attestor, workload: second, validFor: "1h", out: signed });
    await run(["receipt", "mint"], { from: "", files: signed });
    await expect(run(["receipt", "publish-root"], { from: attestor, workloads: second, dir: tree })).to.be.rejectedWith(
      `--workloads: workload ${second}'s receipt was minted with its signature already`,
    );

    // 100 units = 4 + 32 + 64: three notes, three addresses
    const payees = [f.outsider, f.operator, f.treasury].map((s) => s.address);
    await expect(
      run(["receipt", "mint-private"], { from: "", file, to: payees.slice(0, 2).join(","), denomination: "" }),
    ).to.be.rejectedWith("--to: give one address per note to mint: 3 (2^2, 2^5, 2^6 units), got 2");
    await expect(
      run(["receipt", "mint-private"], {
        from: "",
        file,
        to: [payees[0], payees[0], payees[1]].join(","),
        denomination: "",
      }),
    ).to.be.rejectedWith("--to: an address is named twice");
    await expect(
      run(["receipt", "mint-private"], { from: "", file, to: payees[0], denomination: "3" }),
    ).to.be.rejectedWith(
      "--denomination: the receipt's 100 units hold no note of 2^3 units (its notes: 2^2, 2^5, 2^6)",
    );
    const before = await Promise.all(payees.map((a) => f.token.balanceOf(a)));
    await run(["receipt", "mint-private"], { from: "", file, to: payees.join(","), denomination: "" });
    const after = await Promise.all(payees.map((a) => f.token.balanceOf(a)));
    expect(after.map((b, i) => b - (before[i] ?? 0n))).to.deep.equal([4n, 32n, 64n].map((n) => n * RATE_AT_FEE_SCALE));
    // every note is spent: nothing is minted twice
    const supply = await f.token.totalSupply();
    await run(["receipt", "mint-private"], { from: "", file, to: payees.join(","), denomination: "" });
    expect(await f.token.totalSupply()).to.equal(supply);
  });

  it("auto award after the window, dispute, guardian resolution for the client, and a timeout", async function () {
    await provider(f.agent, "iris-a");
    await fundClient("100");
    await post();
    await run(["market", "bid"], {
      from: f.index(f.agent),
      workload: "1",
      serviceId: "iris-a",
      price: "0.1",
      proposal: "",
    });
    await expect(run(["market", "award"], { from: "", workload: "1", bid: "" })).to.be.rejectedWith(
      /MarketplaceBiddingOpen/,
    );
    await expect(run(["market", "award"], { from: "", workload: "1", bid: "", provider: "1" })).to.be.rejectedWith(
      "--provider: goes with --bid",
    );
    await networkHelpers.time.increase(3601);
    await run(["market", "award"], { from: f.index(f.outsider), workload: "1", bid: "" });
    await run(["market", "submit"], { from: f.index(f.agent), workload: "1", result: "wrong" });
    await run(["market", "dispute"], { from: f.index(f.client), workload: "1", reason: "accuracy below 90%" });
    await expect(
      run(["market", "resolve"], { from: f.index(f.outsider), workload: "1", winner: "client" }),
    ).to.be.rejectedWith(/MarketplaceNotResolver/);
    await expect(
      run(["market", "resolve"], { from: f.index(f.guardian), workload: "1", winner: "nobody" }),
    ).to.be.rejectedWith('--winner: "nobody" is not one of provider, client');
    const treasury = await f.token.balanceOf(f.treasury.address);
    await run(["market", "resolve"], { from: f.index(f.guardian), workload: "1", winner: "client" });
    expect((await f.marketplace.getWorkload(1n)).status).to.equal(6n); // Refunded
    // 10% of the escrowed value: 100 units x 0.2 AITBC
    expect((await f.token.balanceOf(f.treasury.address)) - treasury).to.equal(2n * AITBC);

    await post();
    await run(["market", "bid"], {
      from: f.index(f.agent),
      workload: "2",
      serviceId: "iris-a",
      price: "0.1",
      proposal: "",
    });
    await run(["market", "award"], { from: f.index(f.client), workload: "2", bid: "0", provider: "1" });
    await expect(run(["market", "timeout"], { from: "", workload: "2" })).to.be.rejectedWith(
      /MarketplaceDeadlineNotPassed/,
    );
    await networkHelpers.time.increase(7300);
    await run(["market", "timeout"], { from: "", workload: "2" });
    expect((await f.marketplace.getWorkload(2n)).status).to.equal(6n);
  });

  it("after the award window no award is taken; the client cancels and gets its escrow back", async function () {
    await provider(f.agent, "iris-a");
    await fundClient("100");
    await post();
    await run(["market", "bid"], {
      from: f.index(f.agent),
      workload: "1",
      serviceId: "iris-a",
      price: "0.1",
      proposal: "",
    });
    const { bidDeadline } = await f.marketplace.getWorkload(1n);
    await networkHelpers.time.increaseTo(bidDeadline + 86_400n + 1n);
    const closedAt = new Date(Number(bidDeadline + 86_400n) * 1000).toISOString();
    const closed = `MarketplaceAwardWindowClosed(workloadId=1, closedAt=${closedAt})`;
    await expect(run(["market", "award"], { from: f.index(f.client), workload: "1", bid: "0" })).to.be.rejectedWith(
      closed,
    );
    await expect(run(["market", "award"], { from: "", workload: "1", bid: "" })).to.be.rejectedWith(closed);
    await expect(run(["market", "cancel"], { from: f.index(f.outsider), workload: "1" })).to.be.rejectedWith(
      /MarketplaceNotClient/,
    );
    const before = await f.token.balanceOf(f.client.address);
    await run(["market", "cancel"], { from: f.index(f.client), workload: "1" });
    expect((await f.marketplace.getWorkload(1n)).status).to.equal(7n); // Cancelled
    expect((await f.token.balanceOf(f.client.address)) - before).to.equal(20n * AITBC); // 100 units x 0.2 AITBC
  });

  it("reports bad market arguments by flag", async function () {
    await expect(
      run(["market", "list-service"], {
        from: "",
        serviceId: "a-label-that-is-much-longer-than-31-bytes",
        name: "x",
        price: "1",
        capacity: "1",
        model: "",
        minAccuracy: "0",
      }),
    ).to.be.rejectedWith("--service-id:");
    await expect(
      run(["market", "post"], {
        from: "",
        serviceType: "x",
        model: "",
        units: "ten",
        maxPrice: "1",
        bidWindow: "1h",
        executionWindow: "1h",
        reopen: false,
      }),
    ).to.be.rejectedWith('--units: "ten" is not a whole number');
    await expect(run(["market", "show"], { workload: "7" })).to.be.rejectedWith(
      /MarketplaceUnknownWorkload\(workloadId=7\)/,
    );
  });

  it("define a workflow from JSON, list it, request an execution, show its status", async function () {
    const spec = path.join(dir, "pipeline.json");
    writeFileSync(
      spec,
      JSON.stringify({
        name: "pipeline",
        maxExecutionTime: "1h",
        maxBudget: "50",
        steps: [
          { id: "a", type: "data-processing" },
          { id: "b", type: "inference", model: "iris-mlp-v1", dependsOn: ["a"], requiresProof: true },
          { id: "c", type: "training", dependsOn: ["a", "b"] },
        ],
      }),
    );
    // A proof requirement belongs to zk workflows (whose step b would prove its inference against `model`).
    await expect(run(["workflow", "define"], { from: f.index(f.client), file: spec })).to.be.rejectedWith(
      /WorkflowsInvalidSpec\(field=requiresProof\)/,
    );
    writeFileSync(
      spec,
      JSON.stringify({
        name: "pipeline",
        maxExecutionTime: "1h",
        maxBudget: "50",
        steps: [
          { id: "a", type: "data-processing" },
          { id: "b", type: "inference", model: "iris-mlp-v1", dependsOn: ["a"] },
          { id: "c", type: "training", dependsOn: ["a", "b"] },
        ],
      }),
    );
    const runnable = (await run(["workflow", "define"], { from: f.index(f.client), file: spec })) as bigint;
    const wf = await f.workflows.getWorkflow(runnable);
    expect(wf.stepCount).to.equal(3n);
    expect(wf.proofMask).to.equal(0n);
    expect(await f.workflows.dependenciesOf(runnable, 2n)).to.equal(3n);
    const listingId = (await run(["workflow", "list"], {
      from: f.index(f.client),
      workflow: String(runnable),
      title: "Iris pipeline",
      description: "",
      tags: "iris,mlp",
      price: "1",
      subscription: "0",
      restricted: false,
    })) as bigint;
    await fundClient("30");
    await f.token.connect(f.client).transfer(f.outsider.address, 5n * AITBC); // a plain (non-agent) client
    const executionId = (await run(["workflow", "request"], {
      from: f.index(f.outsider),
      workflow: String(runnable),
      inputs: "rows",
      budget: "3",
      listing: String(listingId),
    })) as bigint;
    expect(await f.token.balanceOf(await f.workflows.getAddress())).to.equal(4n * AITBC);
    const text = (await run(["workflow", "show"], { execution: String(executionId) })) as string;
    expect(text).to.contain("pending");
    expect(text).to.contain("0 / 3 recorded");
  });

  it("names the file and field of a bad workflow specification", async function () {
    const bad = path.join(dir, "cyclic.json");
    writeFileSync(
      bad,
      JSON.stringify({
        name: "cyclic",
        maxExecutionTime: "1h",
        maxBudget: "5",
        steps: [
          { id: "a", type: "inference", dependsOn: ["b"] },
          { id: "b", type: "inference", dependsOn: ["a"] },
        ],
      }),
    );
    // refused before any transaction (the contract's own WorkflowsCycle is tested in test/workflows)
    await expect(run(["workflow", "define"], { from: "", file: bad })).to.be.rejectedWith(
      `${bad}: steps[0]: the workflow has a cycle`,
    );
    writeFileSync(
      bad,
      JSON.stringify({
        name: "typo",
        maxExecutionTime: "1h",
        maxBudget: "5",
        steps: [
          { id: "a", type: "data-processing" },
          { id: "b", type: "data-processing", depends_on: ["a"], input: "$a" },
        ],
      }),
    );
    await expect(run(["workflow", "define"], { from: "", file: bad })).to.be.rejectedWith(
      `${bad}: steps[1].depends_on is not a known field (did you mean dependsOn?)`,
    );
    writeFileSync(
      bad,
      JSON.stringify({ name: "x", maxExecutionTime: "1h", maxBudget: "5", steps: [{ id: "a", type: "quantum" }] }),
    );
    await expect(run(["workflow", "define"], { from: "", file: bad })).to.be.rejectedWith(
      `${bad}: steps[0].type must be one of inference, training, data-processing`,
    );
    writeFileSync(
      bad,
      JSON.stringify({
        name: "x",
        maxExecutionTime: "1h",
        maxBudget: "5",
        steps: [{ id: "a", type: "inference", dependsOn: ["zz"] }],
      }),
    );
    await expect(run(["workflow", "define"], { from: "", file: bad })).to.be.rejectedWith(
      `${bad}: steps[0].dependsOn[0] "zz" is not a step id`,
    );
  });
});

describe("zero-knowledge tasks", function () {
  let f: Fixture;
  beforeEach(async function () {
    f = await networkHelpers.loadFixture(tasksFixture);
    process.env.AITBC_ADDRESSES = f.file;
  });
  after(function () {
    delete process.env.AITBC_ADDRESSES;
  });

  it("zk prove writes a proof file that zk verify accepts off-chain and on-chain; a tampered one fails both", async function () {
    const input = path.join(dir, "iris-input.json");
    writeFileSync(
      input,
      JSON.stringify(irisProofInput(loadIrisModel(), quantizeFeatures([5.1, 3.5, 1.4, 0.2]), TEST_BLIND)),
    );
    const proof = path.join(dir, "iris-proof.json");
    await run(["zk", "prove"], { circuit: "inference", input, out: proof });
    await run(["zk", "verify"], { proof, onchain: true });

    const file = readProofFile(proof);
    const tampered = path.join(dir, "iris-proof-tampered.json");
    writeProofFile(tampered, { ...file, publicSignals: file.publicSignals.map((s, i) => (i === 2 ? s + 1n : s)) });
    await expect(run(["zk", "verify"], { proof: tampered, onchain: true })).to.be.rejectedWith(/does not verify/);
    expect(await f.inferenceVerifier.getAddress()).to.match(/^0x/);
  });

  it("names the flag or field of bad zk arguments", async function () {
    await expect(run(["zk", "prove"], { circuit: "nope", input: "x", out: "y" })).to.be.rejectedWith(
      /unknown circuit "nope"/,
    );
    await expect(run(["zk", "prove"], { circuit: "inference", input: "", out: "y" })).to.be.rejectedWith(/--input/);
    const bad = path.join(dir, "bad-input.json");
    writeFileSync(bad, JSON.stringify({ modelHash: "1" }));
    await expect(run(["zk", "prove"], { circuit: "inference", input: bad, out: "y" })).to.be.rejectedWith(
      /inference: no valid witness/,
    );
    await expect(run(["zk", "verify"], { proof: path.join(dir, "missing.json") })).to.be.rejectedWith(
      /--proof: cannot read/,
    );
  });
});

describe("argument parsers", function () {
  it("parse valid values", function () {
    expect(parseTokenAmount("amount", "1.5")).to.equal(1_500_000_000_000_000_000n);
    expect(parseDuration("duration", "90")).to.equal(90n);
    expect(parseDuration("duration", "15m")).to.equal(900n);
    expect(parseDuration("duration", "2h")).to.equal(7200n);
    expect(parseDuration("duration", "7d")).to.equal(604_800n);
    expect(parseHash("work", "hello")).to.equal(ethers.id("hello"));
    expect(parseLabels("capabilities", "a, b")).to.deep.equal([
      ethers.encodeBytes32String("a"),
      ethers.encodeBytes32String("b"),
    ]);
    expect(parseActionSet("allowed", "transfer,stake")).to.equal(3n);
    expect(parseActionSet("allowed", "none")).to.equal(0n);
    expect(parseActionSet("allowed", "all")).to.equal((1n << 48n) - 1n);
    expect(parseAddress("agent", "0x000000000000000000000000000000000000dead")).to.equal(
      "0x000000000000000000000000000000000000dEaD",
    );
  });

  it("name the flag on bad values", function () {
    expect(() => parseTokenAmount("maxStake", "-1")).to.throw('--max-stake: "-1" is not a number of AITBC');
    expect(() => parseTokenAmount("amount", "0")).to.throw("--amount: must be greater than zero");
    expect(() => parseTokenAmount("amount", "0.0000000000000000001")).to.throw("is not a number of AITBC");
    expect(() => parseDuration("duration", "0")).to.throw("--duration: must be greater than zero");
    expect(() => parseHash("result", "0x1234")).to.throw('--result: "0x1234" is not 32 bytes of hex');
    expect(() => parseLabels("capabilities", "a".repeat(32))).to.throw("must be 1 to 31 bytes");
    expect(() => parseActionSet("humanApproval", "transfer,fly")).to.throw(
      '--human-approval: unknown action type "fly"',
    );
  });
});
