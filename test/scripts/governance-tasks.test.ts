/**
 * The `gov` tasks against a protocol handed over to governance (deploy/modules/Handover.ts) with short voting
 * parameters: proposals through the timelock, votes, delegation, vetoes, power and bad input.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";
import { runTaskById } from "../../scripts/tasks/cli.js";

import { writeAddresses } from "../../scripts/lib/protocol.js";
import { AITBC, registerAndStake, type Core } from "../helpers/agents.js";
import { deployGovernance, GOVERNANCE } from "../helpers/governance.js";

const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;
const dir = mkdtempSync(path.join(tmpdir(), "aitbc-gov-tasks-"));

/** Seconds: AITBCGovernance parameters of the fixture. */
const { votingDelay: VOTING_DELAY, votingPeriod: VOTING_PERIOD, timelockDelay: TIMELOCK_DELAY } = GOVERNANCE;
const VOTE = AITBC; // wei of votes per vote (DEFAULT_SCHEDULE: one vote per staked AITBC)

async function governanceFixture() {
  const signers = await ethers.getSigners();
  const gov = await deployGovernance(connection, { handover: true });
  const { agent, agent2, operator } = gov;
  const core: Core = gov;
  // agent #1: 2,000 AITBC staked, 2,000 votes; agent #2: 10,000 AITBC staked, 10,000 votes (DEFAULT_SCHEDULE).
  await registerAndStake(core, agent, operator, 2_000n * AITBC);
  await registerAndStake(core, agent2, operator, 10_000n * AITBC);
  await networkHelpers.time.increase(1); // the stakes are checkpointed before any proposal's snapshot
  const file = path.join(dir, "deployed_addresses.json");
  await writeAddresses(file, gov);
  const index = (s: { address: string }) => String(signers.findIndex((x) => x.address === s.address));
  return { ...gov, file, index };
}

type Fixture = Awaited<ReturnType<typeof governanceFixture>>;

const run = (id: string[], args: Record<string, unknown>) => runTaskById(hre, id, args);

/** A vote through the task; returns its weight. */
const vote = async (args: Record<string, unknown>) => (await run(["gov", "vote"], args)) as bigint;

const PROPOSE = { target: "", function: "", args: "", value: "", actions: "", description: "" };

/** Proposes through the task as agent #2 and returns the proposal id. */
async function propose(f: Fixture, args: Partial<typeof PROPOSE>): Promise<bigint> {
  return (await run(["gov", "propose"], { ...PROPOSE, from: f.index(f.agent2), ...args })) as bigint;
}

/** Both agents vote for proposal `ref` when voting opens; the period ends; the proposal is queued. */
async function passAndQueue(f: Fixture, ref: string): Promise<bigint> {
  await networkHelpers.time.increase(VOTING_DELAY + 1n);
  await run(["gov", "vote"], { from: f.index(f.agent2), proposal: ref, support: "for", reason: "" });
  await run(["gov", "vote"], { from: f.index(f.agent), proposal: ref, support: "for", reason: "" });
  await networkHelpers.time.increase(VOTING_PERIOD);
  return (await run(["gov", "queue"], { from: f.index(f.outsider), proposal: ref })) as bigint;
}

const show = async (proposal: string) => (await run(["gov", "show"], { proposal })) as string;
const power = async (account: string, proposal = "") => (await run(["gov", "power"], { account, proposal })) as string;

describe("Governance tasks", function () {
  let f: Fixture;
  beforeEach(async function () {
    f = await networkHelpers.loadFixture(governanceFixture);
    process.env.AITBC_ADDRESSES = f.file;
  });
  after(function () {
    delete process.env.AITBC_ADDRESSES;
  });

  it("propose, vote, queue and execute setMinStake through the timelock", async function () {
    const id = await propose(f, {
      target: "registry",
      function: "setMinStake(uint256)",
      args: "1500 AITBC",
      description: "Raise the minimum stake to 1,500 AITBC",
    });
    expect(await f.governor.proposalCount()).to.equal(1n);
    expect((await f.governor.proposalDetailsAt(0n)).proposalId).to.equal(id);
    let text = await show("1");
    expect(text).to.contain("proposal #1: pending");
    expect(text).to.contain(`id              ${id}`);
    expect(text).to.contain(`(agent #2)`);
    expect(text).to.contain("description     Raise the minimum stake to 1,500 AITBC");
    expect(text).to.match(/action 1        registry\.setMinStake\(minStake_?=1500000000000000000000\)/);
    expect(text).to.contain("quorum          - (set at the snapshot: 10% of the total power then)");
    expect(await show(String(id))).to.equal(text.replace("proposal #1: pending", `proposal ${id}: pending`));
    expect(await run(["gov", "proposals"], {})).to.match(
      /^1 of 1 proposals\n {2}#1 pending: "Raise the minimum stake to 1,500 AITBC", voting \d{4}-\S+ to \d{4}-\S+, for 0\.0 votes \/ against 0\.0 votes \/ abstain 0\.0 votes$/,
    );
    expect(await run(["gov", "proposals"], { state: "active" })).to.equal("0 of 1 proposals (active)");

    await expect(
      run(["gov", "vote"], { from: f.index(f.agent2), proposal: "1", support: "for", reason: "" }),
    ).to.be.rejectedWith(/GovernorUnexpectedProposalState\(proposalId=\d+, current=pending, expectedStates=active\)/);
    await networkHelpers.time.increase(VOTING_DELAY + 1n);

    const reason = "policy: 1,500 AITBC is within [500, 5000]";
    const w2 = await vote({ from: f.index(f.agent2), proposal: "#1", support: "for", reason });
    expect(w2).to.equal(10_000n * VOTE);
    const w1 = await vote({ from: f.index(f.agent), proposal: "1", support: "Against", reason: "" });
    expect(w1).to.equal(2_000n * VOTE);
    expect(await f.governor.hasVoted(id, f.agent2.address)).to.equal(true);
    await expect(
      run(["gov", "vote"], { from: f.index(f.agent), proposal: "1", support: "for", reason: "" }),
    ).to.be.rejectedWith(/GovernorAlreadyCastVote\(voter=0x/);
    text = await show("1");
    expect(text).to.contain("proposal #1: active");
    expect(text).to.contain("votes           for 10000.0 votes, against 2000.0 votes, abstain 0.0 votes");
    expect(text).to.contain("quorum          1200.0 votes (for + abstain reach it)");

    // Voting counted the power at the snapshot; the vote itself raised the voter's power (activity bonus).
    const p = await power("2", "1");
    expect(p).to.contain("at snapshot     10000.0 votes on proposal #1");
    expect(p).to.contain("; voted");
    expect(p).to.contain("activity        1 vote cast");
    expect(p).to.contain("= 10500.0 votes");

    await expect(run(["gov", "queue"], { from: "", proposal: "1" })).to.be.rejectedWith(
      /GovernorUnexpectedProposalState\(proposalId=\d+, current=active, expectedStates=succeeded\)/,
    );
    await networkHelpers.time.increase(VOTING_PERIOD);
    expect(await show("1")).to.contain("proposal #1: succeeded");
    const eta = (await run(["gov", "queue"], { from: f.index(f.outsider), proposal: "1" })) as bigint;
    expect(eta).to.equal(await f.governor.proposalEta(id));
    expect(await show("1")).to.contain(`eta             ${new Date(Number(eta) * 1000).toISOString()}`);
    await expect(run(["gov", "execute"], { from: f.index(f.outsider), proposal: "1" })).to.be.rejectedWith(
      /TimelockUnexpectedOperationState\(operationId=0x[0-9a-f]{64}, expectedStates=/,
    );
    await networkHelpers.time.increase(TIMELOCK_DELAY);
    await run(["gov", "execute"], { from: f.index(f.outsider), proposal: "1" });
    expect(await f.registry.minStake()).to.equal(1_500n * AITBC);
    expect(await show("1")).to.contain("proposal #1: executed");
  });

  it("an --actions file changes the governor's own settings (onlyGovernance, through the timelock)", async function () {
    const file = path.join(dir, "settings.json");
    writeFileSync(
      file,
      JSON.stringify([
        { target: "governor", function: "setVotingPeriod", args: [1200] },
        { target: await f.governor.getAddress(), function: "setProposalThreshold(uint256)", args: ["5000 AITBC"] },
      ]),
    );
    await propose(f, { actions: file, description: "Longer votes, higher threshold" });
    const text = await show("1");
    expect(text).to.match(/action 1        governor\.setVotingPeriod\(newVotingPeriod=1200\)/);
    expect(text).to.match(
      /action 2        governor\.setProposalThreshold\(newProposalThreshold=5000000000000000000000\)/,
    );
    await passAndQueue(f, "1");
    await networkHelpers.time.increase(TIMELOCK_DELAY);
    await run(["gov", "execute"], { from: "", proposal: "1" });
    expect(await f.governor.votingPeriod()).to.equal(1200n);
    expect(await f.governor.proposalThreshold()).to.equal(5_000n * VOTE);
    // A direct call is not governance.
    await expect(f.governor.setVotingPeriod(10n)).to.be.revertedWithCustomError(f.governor, "GovernorOnlyExecutor");
    // Agent #1 (2,100 votes after its vote's activity bonus) may no longer propose.
    await expect(
      run(["gov", "propose"], {
        ...PROPOSE,
        from: f.index(f.agent),
        target: "governor",
        function: "setVotingDelay",
        args: "30",
        description: "Shorter delay",
      }),
    ).to.be.rejectedWith(
      /GovernorInsufficientProposerVotes\(proposer=0x[0-9a-fA-F]{40}, votes=2100\.0 votes, threshold=[\d.]+ votes\)/,
    );
  });

  it("delegate to an agent by id or address, undelegate", async function () {
    await run(["gov", "delegate"], { from: f.index(f.agent), to: "2" });
    expect(await f.agentVotes.delegates(f.agent.address)).to.equal(f.agent2.address);
    expect(await f.agentVotes.getVotes(f.agent2.address)).to.equal(12_000n * VOTE);
    expect(await f.agentVotes.getVotes(f.agent.address)).to.equal(0n);
    const p = await power(f.agent.address);
    expect(p).to.contain("votes           0.0 votes");
    expect(p).to.contain(`own power       2000.0 votes, delegated to ${f.agent2.address} (agent #2)`);
    expect(await power("2")).to.contain("votes           12000.0 votes");

    await run(["gov", "undelegate"], { from: f.index(f.agent) });
    expect(await f.agentVotes.getVotes(f.agent2.address)).to.equal(10_000n * VOTE);
    expect(await f.agentVotes.getVotes(f.agent.address)).to.equal(2_000n * VOTE);
    expect(await power("1")).to.contain("own power       2000.0 votes, delegated to itself");

    await run(["gov", "delegate"], { from: f.index(f.agent2), to: f.agent.address });
    expect(await f.agentVotes.getVotes(f.agent.address)).to.equal(12_000n * VOTE);

    await expect(run(["gov", "delegate"], { from: f.index(f.agent), to: f.outsider.address })).to.be.rejectedWith(
      /AgentVotesInvalidDelegate\(delegatee=0x/,
    );
    await expect(run(["gov", "delegate"], { from: f.index(f.outsider), to: "1" })).to.be.rejectedWith(
      /AgentRegistryNotRegistered\(agent=0x/,
    );
    await expect(run(["gov", "undelegate"], { from: f.index(f.outsider) })).to.be.rejectedWith(
      /AgentRegistryNotRegistered\(agent=0x/,
    );
    await expect(run(["gov", "delegate"], { from: f.index(f.agent), to: "9" })).to.be.rejectedWith(
      "--to: no agent #9 (2 registered)",
    );
    await expect(run(["gov", "delegate"], { from: f.index(f.agent), to: "bob" })).to.be.rejectedWith(
      '--to: "bob" is neither an address nor an agent id',
    );
    await expect(run(["gov", "delegate"], { from: f.index(f.agent), to: "" })).to.be.rejectedWith("--to: is required");
  });

  it("a guardian vetoes a queued proposal; others cannot", async function () {
    await propose(f, {
      target: "registry",
      function: "setMinStake",
      args: '["5000000000000000000000"]',
      description: "Minimum stake 5,000 AITBC",
    });
    await passAndQueue(f, "1");
    expect(await show("1")).to.contain("proposal #1: queued");
    await expect(run(["gov", "veto"], { from: f.index(f.agent2), proposal: "1", reason: "mine" })).to.be.rejectedWith(
      /AITBCGovernorNotGuardian\(caller=0x/,
    );
    await expect(run(["gov", "veto"], { from: f.index(f.guardian), proposal: "1", reason: " " })).to.be.rejectedWith(
      "--reason: is required",
    );
    await run(["gov", "veto"], { from: f.index(f.guardian), proposal: "1", reason: "locks out small agents" });
    expect(await show("1")).to.contain("proposal #1: canceled");
    await networkHelpers.time.increase(TIMELOCK_DELAY);
    await expect(run(["gov", "execute"], { from: "", proposal: "1" })).to.be.rejectedWith(
      /GovernorUnexpectedProposalState\(proposalId=\d+, current=canceled, expectedStates=/,
    );
    expect(await f.registry.minStake()).to.equal(1_000n * AITBC);
    await expect(
      run(["gov", "veto"], { from: f.index(f.guardian), proposal: "1", reason: "again" }),
    ).to.be.rejectedWith(/GovernorUnexpectedProposalState/);
  });

  it("power: votes, delegation, stake, reputation and the formula's factors", async function () {
    const p = await power(f.agent.address);
    expect(p).to.contain(`${f.agent.address} (agent #1)`);
    expect(p).to.contain("votes           2000.0 votes");
    expect(p).to.contain("own power       2000.0 votes, delegated to itself");
    expect(p).to.contain("status          active");
    expect(p).to.contain("stake           2000.0 AITBC");
    expect(p).to.contain("reputation      500 / 1000");
    expect(p).to.contain("activity        0 votes cast");
    expect(p).to.contain(
      "formula         2000.0 AITBC staked × 1.0 votes per AITBC × 1× (stake ≥ 1000.0 AITBC) × 100% (reputation) × 100% (activity) = 2000.0 votes",
    );
    expect(p).to.contain("next tiers      stake 100000.0 AITBC → 1.1×; reputation 600 → +10%; activity 1 → +5%");
    expect(await power("1")).to.equal(p);
    expect(await power("2")).to.contain("formula         10000.0 AITBC staked × 1.0 votes per AITBC × 1× ");
    // Default: the first account, the deployer, which is not an agent.
    const deployer = await power("");
    expect(deployer).to.contain(`${f.deployer.address} (not an agent: no power of its own)`);
    expect(deployer).to.contain("votes           0.0 votes");
    // Before the snapshot, past votes are unknown.
    await propose(f, { target: "registry", function: "setMinStake", args: "1200 AITBC", description: "x" });
    expect(await power("1", "1")).to.contain("proposal #1's snapshot is");
    await networkHelpers.time.increase(VOTING_DELAY + 1n);
    expect(await power("1", "1")).to.contain("at snapshot     2000.0 votes on proposal #1");
    // An exiting agent has no power.
    await f.registry.connect(f.agent).requestUnstake(1n, 2_000n * AITBC);
    const exiting = await power("1");
    expect(exiting).to.contain("status          exiting (no power while exiting)");
    expect(exiting).to.contain("own power       0.0 votes");
    expect(exiting).to.contain("= 0.0 votes");
    await expect(
      run(["gov", "vote"], { from: f.index(f.agent), proposal: "1", support: "for", reason: "" }),
    ).to.be.rejectedWith(/AITBCGovernorNotAgent\(account=0x/);
  });

  it("reports bad input by option", async function () {
    const from = f.index(f.agent2);
    const bad = (args: Partial<typeof PROPOSE> & { from?: string }) =>
      run(["gov", "propose"], {
        ...PROPOSE,
        from,
        target: "registry",
        function: "setMinStake(uint256)",
        args: "1",
        description: "d",
        ...args,
      });
    await expect(bad({ description: "" })).to.be.rejectedWith("--description: is required");
    await expect(bad({ target: "" })).to.be.rejectedWith("--target: is required");
    await expect(bad({ target: "nowhere" })).to.be.rejectedWith(
      '--target: "nowhere" is neither an address nor a contract (token, registry,',
    );
    await expect(bad({ function: "setMinStake(" })).to.be.rejectedWith(
      '--function: "setMinStake(" is not a function signature such as setMinStake(uint256)',
    );
    await expect(bad({ function: "setFoo(uint256)" })).to.be.rejectedWith(
      "--function: registry has no function setFoo(uint256)",
    );
    await expect(bad({ function: "setFoo" })).to.be.rejectedWith("--function: registry has no function setFoo");
    await expect(bad({ target: f.outsider.address, function: "setFoo" })).to.be.rejectedWith(
      '--function: "setFoo": give the full signature (e.g. setFoo(uint256))',
    );
    await expect(bad({ args: "1,2" })).to.be.rejectedWith("--args: setMinStake(uint256) takes 1 argument, got 2");
    await expect(bad({ args: "12x" })).to.be.rejectedWith(
      '--args: argument 1 (minStake_ uint256): "12x" is not an integer (or "N AITBC")',
    );
    await expect(bad({ args: "[1" })).to.be.rejectedWith("--args: not valid JSON");
    await expect(bad({ args: "-1" })).to.be.rejectedWith('--args: argument 1 (minStake_ uint256): "-1" is negative');
    await expect(bad({ value: "lots" })).to.be.rejectedWith('--value: "lots" is not a whole number');
    await expect(bad({ actions: "x.json" })).to.be.rejectedWith("--target: cannot be combined with --actions");
    const file = path.join(dir, "bad-actions.json");
    writeFileSync(
      file,
      JSON.stringify([{ target: "registry", function: "setMinStake", args: ["1"] }, { target: "moon" }]),
    );
    await expect(bad({ target: "", function: "", args: "", actions: file })).to.be.rejectedWith(
      `--actions: ${file} action #2: target: "moon" is neither an address nor a contract`,
    );
    writeFileSync(file, "{}");
    await expect(bad({ target: "", function: "", args: "", actions: file })).to.be.rejectedWith(
      `--actions: ${file}: expected a non-empty JSON array`,
    );
    await expect(bad({ from: f.index(f.outsider) })).to.be.rejectedWith(/AITBCGovernorNotAgent\(account=0x/);

    await expect(run(["gov", "vote"], { from, proposal: "1", support: "maybe", reason: "" })).to.be.rejectedWith(
      '--support: "maybe" is not one of for, against, abstain',
    );
    await expect(run(["gov", "vote"], { from, proposal: "", support: "for", reason: "" })).to.be.rejectedWith(
      "--proposal: is required",
    );
    await expect(run(["gov", "vote"], { from, proposal: "abc", support: "for", reason: "" })).to.be.rejectedWith(
      '--proposal: "abc" is not a whole number',
    );
    await expect(run(["gov", "show"], { proposal: "9".repeat(80) })).to.be.rejectedWith("--proposal: must be at most");
    await expect(run(["gov", "show"], { proposal: "99" })).to.be.rejectedWith(
      "--proposal: no proposal 99 (0 proposals so far)",
    );
    await expect(run(["gov", "queue"], { from: "", proposal: "7" })).to.be.rejectedWith(
      "--proposal: no proposal 7 (0 proposals so far)",
    );
    await expect(run(["gov", "power"], { account: "0x12", proposal: "" })).to.be.rejectedWith(
      '--account: "0x12" is neither an address nor an agent id',
    );
    await expect(run(["gov", "veto"], { from: "42", proposal: "1", reason: "r" })).to.be.rejectedWith(
      "--from: account index 42 out of range",
    );
  });
});
