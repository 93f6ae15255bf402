import { expect } from "chai";
import { Signature, ZeroAddress, ZeroHash, zeroPadValue, toBeHex } from "ethers";
import { network } from "hardhat";

import { ALL_ACTIONS, bit, constraints, MIN_STAKE, mintAitbc, STATUS, type Signer } from "../helpers/agents.js";
import {
  addAgent,
  AITBC,
  castVotes,
  DEFAULT_GOVERNANCE,
  DEFAULT_SCHEDULE,
  deployGovernance,
  GOVERN,
  GOVERNANCE,
  type Gov,
  noopProposal,
  PROPOSAL,
  proposal,
  type Proposal,
  scheduleTuple,
  submit,
  TEST_SCHEDULE,
  toVoteEnd,
  toVoting,
  votes,
} from "../helpers/governance.js";
import { SUPPORT_CODES } from "../../protocol/enums.js";
import { DELEGATION_TYPES } from "../../protocol/eip712.js";
import { forEthers } from "../../scripts/lib/eip712.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

/** The agent ids the fixtures give `agent` and `agent2`. */
const AGENT_ID = 1n;
const AGENT2_ID = 2n;

/**
 * The protocol with short governance parameters, admin roles still with the deployer: `agent` stakes the minimum
 * (1,000 AITBC: 1,000 votes) and `agent2` 10,000 AITBC (10,000 votes); `slasher` and `reputer` hold their registry
 * roles.
 */
async function governanceFixture() {
  const f = await deployGovernance(connection);
  await addAgent(f, f.agent, MIN_STAKE);
  await addAgent(f, f.agent2, 10_000n * AITBC);
  return f;
}

/** The same, deployed through deploy/modules/Handover.ts: the timelock holds the protocol's admin roles. */
async function handoverFixture() {
  const f = await deployGovernance(connection, { handover: true });
  await addAgent(f, f.agent, MIN_STAKE);
  await addAgent(f, f.agent2, 10_000n * AITBC);
  return f;
}

/** The protocol deployed with the governance module's own defaults (no "AITBCGovernance" parameters). */
async function defaultsFixture() {
  return deployGovernance(connection, { defaults: true });
}

const load = () => networkHelpers.loadFixture(governanceFixture);
const loadHandover = () => networkHelpers.loadFixture(handoverFixture);

function voter(f: Gov, i: number): Signer {
  const v = f.voters[i];
  if (!v) throw new Error(`no voter ${i}`);
  return v;
}

/** Adds `amount` to an already staked agent's stake (the registry is approved by registerAndStake). */
async function stakeMore(f: Gov, agent: Signer, amount: bigint) {
  await mintAitbc(f, agent.address, (amount + AITBC - 1n) / AITBC);
  await (await f.registry.connect(agent).stake(amount)).wait();
}

/**
 * After mining a block: the total supply of votes, and the sums over every account of its current votes, its
 * votes at the same past timepoint and its own power. No double counting means all four are equal.
 */
async function expectConserved(f: Gov): Promise<bigint> {
  await networkHelpers.mine();
  const t = BigInt(await time.latest()) - 1n;
  const total = await f.agentVotes.getPastTotalSupply(t);
  let current = 0n;
  let past = 0n;
  let power = 0n;
  for (const account of await ethers.getSigners()) {
    current += await f.agentVotes.getVotes(account.address);
    past += await f.agentVotes.getPastVotes(account.address, t);
    power += await f.agentVotes.powerOf(account.address);
  }
  expect(current).to.equal(total);
  expect(past).to.equal(total);
  expect(power).to.equal(total);
  return total;
}

/** A proposal to set the registry's minimum stake (only the timelock may, after the handover). */
async function setMinStakeProposal(f: Gov, minStake: bigint, description: string): Promise<Proposal> {
  return proposal(
    f.governor,
    [await f.registry.getAddress()],
    [f.registry.interface.encodeFunctionData("setMinStake", [minStake])],
    description,
  );
}

/** Proposes `p` (as `agent`), votes it through (both fixture agents for), and queues it. Returns the operation id. */
async function passAndQueue(f: Gov, p: Proposal): Promise<string> {
  await submit(f.governor, f.agent, p);
  await toVoting(connection, f.governor, p.id);
  await (await f.governor.connect(f.agent).castVote(p.id, SUPPORT_CODES.for)).wait();
  await (await f.governor.connect(f.agent2).castVote(p.id, SUPPORT_CODES.for)).wait();
  await toVoteEnd(connection, f.governor, p.id);
  const receipt = await (await f.governor["queue(uint256)"](p.id)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = f.timelock.interface.parseLog(log);
    if (parsed?.name === "CallScheduled") return parsed.args.id as string;
  }
  throw new Error("no CallScheduled event");
}

/** Governor's bitmap of proposal states (for GovernorUnexpectedProposalState). */
function stateBitmap(...states: bigint[]): string {
  return zeroPadValue(toBeHex(states.reduce((m, s) => m | (1n << s), 0n)), 32);
}

/** The states a proposal can be canceled (vetoed) in: all but Canceled, Expired and Executed. */
const CANCELABLE = stateBitmap(
  PROPOSAL.Pending,
  PROPOSAL.Active,
  PROPOSAL.Defeated,
  PROPOSAL.Succeeded,
  PROPOSAL.Queued,
);

async function signDelegation(f: Gov, signer: Signer, delegatee: string, nonce: bigint, expiry: bigint) {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: "AITBC Agent Votes",
    version: "1",
    chainId,
    verifyingContract: await f.agentVotes.getAddress(),
  };
  return Signature.from(await signer.signTypedData(domain, forEthers(DELEGATION_TYPES), { delegatee, nonce, expiry }));
}

// ------------------------------------------------------------------------------------------------ power table

interface PowerRow {
  name: string;
  stake: bigint;
  reputation: number;
  activity: number;
  power: bigint;
  /** Whether the row is also reproduced with real registry state (stake, reputation, votes cast). */
  onChain: boolean;
}

/**
 * TEST_SCHEDULE (test/helpers/governance.ts): power = stake (in AITBC) × multiplier (0 below 1,000 AITBC, 1×, 1.1×
 * from 100,000, 1.2× from 1,000,000) × (1 + reputation bonus: +10/25/50% from 600/800/950) × (1 + activity
 * bonus: +5/10/20% from 1/5/20 votes cast), in votes; rounded down once, to the wei of votes.
 */
// prettier-ignore
const POWER_TABLE: PowerRow[] = [
  { name: "no stake", stake: 0n, reputation: 500, activity: 0, power: 0n, onChain: true },
  { name: "one wei below the minimum stake", stake: MIN_STAKE - 1n, reputation: 500, activity: 0, power: 0n, onChain: true },
  { name: "below the minimum, whatever the bonuses", stake: 999n * AITBC, reputation: 1000, activity: 5, power: 0n, onChain: true },
  { name: "exactly the minimum stake (1x)", stake: MIN_STAKE, reputation: 500, activity: 0, power: votes(1000), onChain: true },
  { name: "10,000 AITBC: linear in stake", stake: 10_000n * AITBC, reputation: 500, activity: 0, power: votes(10_000), onChain: true },
  { name: "one wei below the 100,000 AITBC tier", stake: 100_000n * AITBC - 1n, reputation: 500, activity: 0, power: votes(100_000) - 1n, onChain: true },
  { name: "exactly 100,000 AITBC (1.1x)", stake: 100_000n * AITBC, reputation: 500, activity: 0, power: votes(110_000), onChain: true },
  { name: "one wei below the top tier, rounded down", stake: 1_000_000n * AITBC - 1n, reputation: 500, activity: 0, power: votes(1_100_000) - 2n, onChain: false },
  { name: "exactly 1,000,000 AITBC: the top stake tier (1.2x)", stake: 1_000_000n * AITBC, reputation: 500, activity: 0, power: votes(1_200_000), onChain: true },
  { name: "the whole token supply cap (1e9 AITBC)", stake: 10n ** 9n * AITBC, reputation: 500, activity: 0, power: votes(1_200_000_000), onChain: false },
  { name: "reputation 0", stake: MIN_STAKE, reputation: 0, activity: 0, power: votes(1000), onChain: true },
  { name: "reputation 599, one below the first tier", stake: MIN_STAKE, reputation: 599, activity: 0, power: votes(1000), onChain: true },
  { name: "reputation exactly 600 (+10%)", stake: MIN_STAKE, reputation: 600, activity: 0, power: votes(1100), onChain: true },
  { name: "reputation 799", stake: MIN_STAKE, reputation: 799, activity: 0, power: votes(1100), onChain: false },
  { name: "reputation exactly 800 (+25%)", stake: MIN_STAKE, reputation: 800, activity: 0, power: votes(1250), onChain: true },
  { name: "reputation 949", stake: MIN_STAKE, reputation: 949, activity: 0, power: votes(1250), onChain: false },
  { name: "reputation exactly 950: the top tier (+50%)", stake: MIN_STAKE, reputation: 950, activity: 0, power: votes(1500), onChain: true },
  { name: "reputation 1000, the maximum", stake: MIN_STAKE, reputation: 1000, activity: 0, power: votes(1500), onChain: true },
  { name: "1 vote cast: the first activity tier (+5%)", stake: MIN_STAKE, reputation: 500, activity: 1, power: votes(1050), onChain: true },
  { name: "4 votes cast, one below the second tier", stake: MIN_STAKE, reputation: 500, activity: 4, power: votes(1050), onChain: true },
  { name: "exactly 5 votes cast (+10%)", stake: MIN_STAKE, reputation: 500, activity: 5, power: votes(1100), onChain: true },
  { name: "19 votes cast", stake: MIN_STAKE, reputation: 500, activity: 19, power: votes(1100), onChain: false },
  { name: "exactly 20 votes cast: the top activity tier (+20%)", stake: MIN_STAKE, reputation: 500, activity: 20, power: votes(1200), onChain: true },
  { name: "far above the top activity tier", stake: MIN_STAKE, reputation: 500, activity: 1_000_000, power: votes(1200), onChain: false },
  { name: "10,000 AITBC, reputation 800, 1 vote cast", stake: 10_000n * AITBC, reputation: 800, activity: 1, power: votes(13_125), onChain: true },
  { name: "every top tier", stake: 1_000_000n * AITBC, reputation: 1000, activity: 20, power: votes(2_160_000), onChain: true },
];

describe("Governance", function () {
  describe("deployment", function () {
    it("deploys AgentVotes, the timelock and the governor wired together, with the test parameters", async function () {
      const f = await load();
      const { agentVotes, governor, timelock, registry, constitution, deployer } = f;
      const governorAddress = await governor.getAddress();
      expect(await governor.votingDelay()).to.equal(GOVERNANCE.votingDelay);
      expect(await governor.votingPeriod()).to.equal(GOVERNANCE.votingPeriod);
      expect(await governor.proposalThreshold()).to.equal(GOVERNANCE.proposalThreshold);
      expect(await governor["quorumNumerator()"]()).to.equal(GOVERNANCE.quorumPercent);
      expect(await timelock.getMinDelay()).to.equal(GOVERNANCE.timelockDelay);
      expect(await governor.token()).to.equal(await agentVotes.getAddress());
      expect(await governor.timelock()).to.equal(await timelock.getAddress());
      expect(await governor.agentVotes()).to.equal(await agentVotes.getAddress());
      expect(await registry.votes()).to.equal(await agentVotes.getAddress());
      expect(await agentVotes.registry()).to.equal(await registry.getAddress());
      expect(await agentVotes.CLOCK_MODE()).to.equal("mode=timestamp");
      expect(await governor.CLOCK_MODE()).to.equal("mode=timestamp");
      expect(scheduleTuple(await agentVotes.schedule())).to.deep.equal(scheduleTuple(TEST_SCHEDULE));
      expect(await agentVotes.hasRole(await agentVotes.ACTIVITY_ROLE(), governorAddress)).to.be.true;
      const enforcer = await constitution.ENFORCER_ROLE();
      expect(await constitution.hasRole(enforcer, await agentVotes.getAddress())).to.be.true;
      expect(await constitution.hasRole(enforcer, governorAddress)).to.be.true;
      expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), governorAddress)).to.be.true;
      expect(await timelock.hasRole(await timelock.CANCELLER_ROLE(), governorAddress)).to.be.true;
      // Only the governor executes: nobody reaches the timelock around the emergency stop or a veto.
      expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), governorAddress)).to.be.true;
      expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), ZeroAddress)).to.be.false;
      expect(await timelock.hasRole(ZeroHash, deployer.address)).to.be.false;
      expect(await timelock.hasRole(ZeroHash, await timelock.getAddress())).to.be.true;
      const [, name, version] = await agentVotes.eip712Domain();
      expect([name, version]).to.deep.equal(["AITBC Agent Votes", "1"]);
      // The fixture's agents: 1,000 and 10,000 votes, self-delegated on their first stake.
      expect(await agentVotes.getVotes(f.agent.address)).to.equal(votes(1000));
      expect(await agentVotes.getVotes(f.agent2.address)).to.equal(votes(10_000));
      expect(await agentVotes.delegates(f.agent.address)).to.equal(f.agent.address);
      expect(await expectConserved(f)).to.equal(votes(11_000));
    });

    it("without parameters, Governance.ts deploys DEFAULT_SCHEDULE and DEFAULT_GOVERNANCE", async function () {
      const { agentVotes, governor, timelock } = await networkHelpers.loadFixture(defaultsFixture);
      expect(scheduleTuple(await agentVotes.schedule())).to.deep.equal(scheduleTuple(DEFAULT_SCHEDULE));
      expect(await governor.votingDelay()).to.equal(DEFAULT_GOVERNANCE.votingDelay);
      expect(await governor.votingPeriod()).to.equal(DEFAULT_GOVERNANCE.votingPeriod);
      expect(await governor.proposalThreshold()).to.equal(DEFAULT_GOVERNANCE.proposalThreshold);
      expect(await governor["quorumNumerator()"]()).to.equal(DEFAULT_GOVERNANCE.quorumPercent);
      expect(await timelock.getMinDelay()).to.equal(DEFAULT_GOVERNANCE.timelockDelay);
    });

    it("AgentVotes refuses a zero admin or registry", async function () {
      const f = await load();
      const factory = await ethers.getContractFactory("AgentVotes");
      const args = [f.humanOverride, f.constitution, DEFAULT_SCHEDULE] as const;
      await expect(factory.deploy(ZeroAddress, await f.registry.getAddress(), ...args)).to.be.revertedWithCustomError(
        factory,
        "AgentVotesZeroAddress",
      );
      await expect(factory.deploy(f.deployer.address, ZeroAddress, ...args)).to.be.revertedWithCustomError(
        factory,
        "AgentVotesZeroAddress",
      );
    });
  });

  describe("power formula", function () {
    it("computePower matches the table", async function () {
      const { agentVotes } = await load();
      for (const row of POWER_TABLE) {
        expect(await agentVotes.computePower(row.stake, row.reputation, row.activity), row.name).to.equal(row.power);
      }
    });

    for (const row of POWER_TABLE.filter((r) => r.onChain)) {
      it(`from registry state: ${row.name}`, async function () {
        const f = await load();
        const { agentVotes, registry, reputer } = f;
        const agent = voter(f, 0);
        const agentId = await addAgent(f, agent, row.stake);
        if (row.reputation !== 500) {
          await (await registry.connect(reputer).updateReputation(agentId, row.reputation - 500, "test")).wait();
        }
        if (row.power === 0n) {
          // A vote without weight earns no activity: an ACTIVITY_ROLE account records it here instead.
          const { deployer } = f;
          await (await agentVotes.connect(deployer).grantRole(await agentVotes.ACTIVITY_ROLE(), deployer)).wait();
          for (let i = 0; i < row.activity; i++)
            await (await agentVotes.connect(deployer).recordActivity(agent)).wait();
        } else {
          await castVotes(connection, f, agent, row.activity);
        }
        expect(await registry.stakeOf(agentId)).to.equal(row.stake);
        expect(await registry.reputationOf(agentId)).to.equal(row.reputation);
        expect(await agentVotes.activityOf(agent.address)).to.equal(row.activity);
        expect(await agentVotes.powerOf(agent.address)).to.equal(row.power);
        expect(await agentVotes.getVotes(agent.address)).to.equal(row.power);
        expect(await agentVotes.computePower(row.stake, row.reputation, row.activity)).to.equal(row.power);
        await expectConserved(f);
      });
    }

    it("an exiting agent has no power (and sync keeps it at 0)", async function () {
      const f = await load();
      const { agentVotes, registry, agent2 } = f;
      await expect(registry.connect(agent2).requestUnstake(AGENT2_ID, 10_000n * AITBC))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(agent2.address, votes(10_000), 0n);
      expect(await registry.statusOf(AGENT2_ID)).to.equal(STATUS.exiting);
      expect(await agentVotes.powerOf(agent2.address)).to.equal(0n);
      expect(await agentVotes.getVotes(agent2.address)).to.equal(0n);
      await (await agentVotes.sync([agent2.address])).wait();
      expect(await agentVotes.powerOf(agent2.address)).to.equal(0n);
      expect(await expectConserved(f)).to.equal(votes(1000));
    });

    it("a partial unstake lowers power in proportion, and across a tier edge by the multiplier's step", async function () {
      const f = await load();
      const { agentVotes, registry, agent2 } = f;
      await expect(registry.connect(agent2).requestUnstake(AGENT2_ID, 1_000n * AITBC))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(agent2.address, votes(10_000), votes(9000));
      const whale = voter(f, 0);
      const whaleId = await addAgent(f, whale, 100_000n * AITBC);
      expect(await agentVotes.powerOf(whale.address)).to.equal(votes(110_000));
      await expect(registry.connect(whale).requestUnstake(whaleId, 1n))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(whale.address, votes(110_000), votes(100_000) - 1n);
      expect(await expectConserved(f)).to.equal(votes(110_000) - 1n);
    });

    it("slashing lowers power: in proportion, across a tier edge, and below the minimum to 0", async function () {
      const f = await load();
      const { agentVotes, registry, slasher, agent, agent2 } = f;
      await expect(registry.connect(slasher).slash(AGENT2_ID, 1_000n * AITBC, "proportion"))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(agent2.address, votes(10_000), votes(9000));
      await expect(registry.connect(slasher).slash(AGENT_ID, 1n, "below minimum"))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(agent.address, votes(1000), 0n);
      expect(await agentVotes.getVotes(agent.address)).to.equal(0n);
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(9000));
      const whale = voter(f, 0);
      const whaleId = await addAgent(f, whale, 100_000n * AITBC);
      await expect(registry.connect(slasher).slash(whaleId, 1n, "tier edge"))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(whale.address, votes(110_000), votes(100_000) - 1n);
      expect(await expectConserved(f)).to.equal(votes(109_000) - 1n);
    });

    it("a reputation loss lowers power", async function () {
      const f = await load();
      const { agentVotes, registry, reputer, agent } = f;
      await (await registry.connect(reputer).updateReputation(AGENT_ID, 300, "good work")).wait();
      expect(await agentVotes.powerOf(agent.address)).to.equal(votes(1250));
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, -201, "bad work"))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(agent.address, votes(1250), votes(1000));
      expect(await expectConserved(f)).to.equal(votes(11_000));
    });

    it("rounds down once, at the end", async function () {
      const { agentVotes, deployer } = await load();
      const schedule = {
        base: 7n, // 7 wei of votes per AITBC
        stakeMultiplierBps: [{ threshold: 1n, value: 15_000n }],
        reputationBonusPct: [{ threshold: 0n, value: 10n }],
        activityBonusPct: [{ threshold: 1n, value: 5n }],
      };
      await (await agentVotes.connect(deployer).setSchedule(schedule)).wait();
      // 1 AITBC: 7 × 1.5 × 1.1 × 1.05 = 12.1275 → 12 (rounding at each step would give 10 → 11 → 11).
      expect(await agentVotes.computePower(AITBC, 0, 1)).to.equal(12n);
      // 1 wei of stake: 0.000...0121275 → 0.
      expect(await agentVotes.computePower(1n, 0, 1)).to.equal(0n);
      // 1e8 AITBC: exact (1,212,750,000 × 1e8 / 1e8), no precision lost to the large stake.
      expect(await agentVotes.computePower(10n ** 8n * AITBC, 0, 1)).to.equal(1_212_750_000n);
      expect(await agentVotes.computePower(0n, 0, 1)).to.equal(0n);
    });

    it("the largest schedule allowed (MAX_TIERS tiers, maximum base, multiplier and bonuses) does not overflow", async function () {
      const { agentVotes, deployer, token } = await load();
      const [maxTiers, maxBase, maxMultiplier, maxBonus] = await Promise.all([
        agentVotes.MAX_TIERS(),
        agentVotes.MAX_BASE(),
        agentVotes.MAX_MULTIPLIER_BPS(),
        agentVotes.MAX_BONUS_PCT(),
      ]);
      expect([maxTiers, maxBase, maxMultiplier, maxBonus]).to.deep.equal([8n, 10n ** 30n, 1_000_000n, 1_000n]);
      const tiers = (max: bigint) =>
        Array.from({ length: Number(maxTiers) }, (_, i) => ({
          threshold: BigInt(i + 1),
          value: i + 1 === Number(maxTiers) ? max : BigInt(i + 1),
        }));
      const schedule = {
        base: maxBase,
        stakeMultiplierBps: tiers(maxMultiplier),
        reputationBonusPct: tiers(maxBonus),
        activityBonusPct: tiers(maxBonus),
      };
      await expect(agentVotes.connect(deployer).setSchedule(schedule)).to.emit(agentVotes, "ScheduleSet");
      expect(scheduleTuple(await agentVotes.schedule())).to.deep.equal(scheduleTuple(schedule));
      // The whole token supply staked by one agent, every bonus at its maximum: 1e9 AITBC × 1e12 votes per
      // AITBC × 100 × 11 × 11 = 1.21e25 votes.
      const cap = await token.cap();
      expect(cap).to.equal(10n ** 9n * AITBC);
      expect(await agentVotes.computePower(cap, 1000, 2n ** 256n - 1n)).to.equal(121n * 10n ** 41n);
      // Only a stake far beyond any supply overflows, and then it reverts rather than wraps.
      await expect(agentVotes.computePower(2n ** 256n - 1n, 1000, 1000)).to.be.revertedWithPanic(0x11);
    });
  });

  describe("checkpoints", function () {
    it("a vote weighs the voter's power at the proposal's snapshot, not later stake", async function () {
      const f = await load();
      const { agentVotes, governor, agent, agent2 } = f;
      const early = voter(f, 0);
      const late = voter(f, 1);
      const p = await noopProposal(f, "checkpoints");
      await submit(governor, agent, p);
      const snapshot = await governor.proposalSnapshot(p.id);
      // Before the snapshot: counts.
      await addAgent(f, early, MIN_STAKE);
      await toVoting(connection, governor, p.id);
      // After the snapshot: agent2 raises its stake to 100,000 AITBC (110,000 votes), `late` joins with 1,000.
      await stakeMore(f, agent2, 90_000n * AITBC);
      await addAgent(f, late, MIN_STAKE);
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(110_000));
      expect(await agentVotes.getPastVotes(agent2.address, snapshot)).to.equal(votes(10_000));
      expect(await agentVotes.getPastVotes(late.address, snapshot)).to.equal(0n);
      expect(await agentVotes.getPastVotes(early.address, snapshot)).to.equal(votes(1000));
      expect(await agentVotes.getPastTotalSupply(snapshot)).to.equal(votes(12_000));
      expect(await governor.quorum(snapshot)).to.equal(votes(1200));

      await expect(governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for))
        .to.emit(governor, "VoteCast")
        .withArgs(agent2.address, p.id, SUPPORT_CODES.for, votes(10_000), "");
      await expect(governor.connect(late).castVote(p.id, SUPPORT_CODES.against))
        .to.emit(governor, "VoteCast")
        .withArgs(late.address, p.id, SUPPORT_CODES.against, 0n, "");
      await expect(governor.connect(early).castVote(p.id, SUPPORT_CODES.abstain))
        .to.emit(governor, "VoteCast")
        .withArgs(early.address, p.id, SUPPORT_CODES.abstain, votes(1000), "");
      expect(await governor.proposalVotes(p.id)).to.deep.equal([0n, votes(10_000), votes(1000)]);
      // Now: 1,000 (agent) + 110,000 × 1.05 (agent2, one vote cast) + 1,000 × 1.05 (early, one vote) + 1,000 (late:
      // its vote had no weight, so it earned no activity).
      expect(await expectConserved(f)).to.equal(votes(118_550));
    });

    it("getPastVotes / getPastTotalSupply follow every change, and refuse future timepoints", async function () {
      const f = await load();
      const { agentVotes, agent2, slasher, registry } = f;
      const t0 = BigInt(await time.latest());
      await stakeMore(f, agent2, 90_000n * AITBC);
      const t1 = BigInt(await time.latest());
      await (await registry.connect(slasher).slash(AGENT2_ID, 50_000n * AITBC, "test")).wait();
      const t2 = BigInt(await time.latest());
      await networkHelpers.mine();
      expect(await agentVotes.getPastVotes(agent2.address, t0)).to.equal(votes(10_000));
      expect(await agentVotes.getPastVotes(agent2.address, t1)).to.equal(votes(110_000));
      expect(await agentVotes.getPastVotes(agent2.address, t2)).to.equal(votes(50_000));
      expect(await agentVotes.getPastTotalSupply(t0)).to.equal(votes(11_000));
      expect(await agentVotes.getPastTotalSupply(t1)).to.equal(votes(111_000));
      expect(await agentVotes.getPastTotalSupply(t2)).to.equal(votes(51_000));
      const future = BigInt(await time.latest()) + 1000n;
      await expect(agentVotes.getPastVotes(agent2.address, future)).to.be.revertedWithCustomError(
        agentVotes,
        "ERC5805FutureLookup",
      );
      await expect(agentVotes.getPastTotalSupply(future)).to.be.revertedWithCustomError(
        agentVotes,
        "ERC5805FutureLookup",
      );
    });
  });

  describe("delegation", function () {
    it("delegate moves an agent's votes to an active agent without counting them twice", async function () {
      const f = await load();
      const { agentVotes, agent, agent2 } = f;
      const tx = agentVotes.connect(agent).delegate(agent2.address);
      await expect(tx).to.emit(agentVotes, "DelegateChanged").withArgs(agent.address, agent.address, agent2.address);
      await expect(tx).to.emit(agentVotes, "DelegateVotesChanged").withArgs(agent.address, votes(1000), 0n);
      await expect(tx)
        .to.emit(agentVotes, "DelegateVotesChanged")
        .withArgs(agent2.address, votes(10_000), votes(11_000));
      expect(await agentVotes.delegates(agent.address)).to.equal(agent2.address);
      expect(await agentVotes.getVotes(agent.address)).to.equal(0n);
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(11_000));
      expect(await agentVotes.powerOf(agent.address)).to.equal(votes(1000)); // its own power is unchanged
      expect(await expectConserved(f)).to.equal(votes(11_000));

      // Re-delegating to a third active agent moves them again.
      const third = voter(f, 0);
      await addAgent(f, third, MIN_STAKE);
      await (await agentVotes.connect(agent).delegate(third.address)).wait();
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(10_000));
      expect(await agentVotes.getVotes(third.address)).to.equal(votes(2000));
      expect(await expectConserved(f)).to.equal(votes(12_000));
    });

    it("undelegate returns the votes to the delegator", async function () {
      const f = await load();
      const { agentVotes, agent, agent2 } = f;
      await (await agentVotes.connect(agent).delegate(agent2.address)).wait();
      await expect(agentVotes.connect(agent).undelegate())
        .to.emit(agentVotes, "DelegateChanged")
        .withArgs(agent.address, agent2.address, agent.address);
      expect(await agentVotes.delegates(agent.address)).to.equal(agent.address);
      expect(await agentVotes.getVotes(agent.address)).to.equal(votes(1000));
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(10_000));
      expect(await expectConserved(f)).to.equal(votes(11_000));
    });

    it("delegation is a GOVERN action charged to the delegator's constitution", async function () {
      const { agentVotes, constitution, agent, agent2 } = await load();
      const before = await constitution.usageOf(agent.address);
      await (await agentVotes.connect(agent).delegate(agent2.address)).wait();
      const after = await constitution.usageOf(agent.address);
      expect(after.gas).to.be.greaterThan(before.gas);
    });

    it("delegateBySig delegates for the signer (EIP-712 'AITBC Agent Votes' v1), once per nonce, until expiry", async function () {
      const f = await load();
      const { agentVotes, constitution, agent, agent2, outsider } = f;
      const expiry = BigInt(await time.latest()) + 3600n;
      expect(await agentVotes.nonces(agent.address)).to.equal(0n);
      const sig = await signDelegation(f, agent, agent2.address, 0n, expiry);
      const gasBefore = (await constitution.usageOf(agent.address)).gas;
      await expect(agentVotes.connect(outsider).delegateBySig(agent2.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.emit(agentVotes, "DelegateChanged")
        .withArgs(agent.address, agent.address, agent2.address);
      expect(await agentVotes.delegates(agent.address)).to.equal(agent2.address);
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(11_000));
      expect(await agentVotes.nonces(agent.address)).to.equal(1n);
      expect((await constitution.usageOf(agent.address)).gas).to.be.greaterThan(gasBefore); // the signer pays
      expect((await constitution.usageOf(outsider.address)).gas).to.equal(0n);
      expect(await expectConserved(f)).to.equal(votes(11_000));

      // Replay: the nonce is spent.
      await expect(agentVotes.connect(outsider).delegateBySig(agent2.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(agentVotes, "InvalidAccountNonce")
        .withArgs(agent.address, 1n);
      // Expired.
      const past = BigInt(await time.latest()) - 1n;
      const old = await signDelegation(f, agent, agent.address, 1n, past);
      await expect(agentVotes.connect(outsider).delegateBySig(agent.address, 1n, past, old.v, old.r, old.s))
        .to.be.revertedWithCustomError(agentVotes, "VotesExpiredSignature")
        .withArgs(past);
    });

    it("a delegate's votes follow the delegator's later stake, reputation and exit", async function () {
      const f = await load();
      const { agentVotes, registry, reputer, slasher, agent, agent2 } = f;
      await (await agentVotes.connect(agent).delegate(agent2.address)).wait();
      await stakeMore(f, agent, 9_000n * AITBC); // agent: 10,000 AITBC → 10,000 votes
      expect(await agentVotes.powerOf(agent.address)).to.equal(votes(10_000));
      expect(await agentVotes.getVotes(agent.address)).to.equal(0n);
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(20_000));
      expect(await expectConserved(f)).to.equal(votes(20_000));

      await (await registry.connect(reputer).updateReputation(AGENT_ID, 100, "test")).wait(); // 10,000 × 1.1
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(21_000));
      expect(await expectConserved(f)).to.equal(votes(21_000));

      await (await registry.connect(slasher).slash(AGENT_ID, 1_000n * AITBC, "test")).wait(); // 9,000 × 1.1
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(19_900));
      expect(await expectConserved(f)).to.equal(votes(19_900));

      const remaining = await registry.stakeOf(AGENT_ID);
      await (await registry.connect(agent).requestUnstake(AGENT_ID, remaining)).wait();
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(10_000));
      expect(await agentVotes.getVotes(agent.address)).to.equal(0n);
      expect(await expectConserved(f)).to.equal(votes(10_000));
    });

    it("delegated votes are cast by the delegate; the delegator keeps none", async function () {
      const f = await load();
      const { agentVotes, governor, agent, agent2 } = f;
      await (await agentVotes.connect(agent).delegate(agent2.address)).wait();
      const p = await noopProposal(f, "delegated");
      await submit(governor, agent2, p);
      await toVoting(connection, governor, p.id);
      await expect(governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for))
        .to.emit(governor, "VoteCast")
        .withArgs(agent2.address, p.id, SUPPORT_CODES.for, votes(11_000), "");
      await expect(governor.connect(agent).castVote(p.id, SUPPORT_CODES.against))
        .to.emit(governor, "VoteCast")
        .withArgs(agent.address, p.id, SUPPORT_CODES.against, 0n, "");
    });
  });

  describe("lifecycle through the timelock (handover deployment)", function () {
    it("the timelock administers the protocol; the HumanOverride stays with the deployer", async function () {
      const f = await loadHandover();
      const { deployer, guardian, timelock, humanOverride } = f;
      const timelockAddress = await timelock.getAddress();
      const administered = {
        token: f.token,
        registry: f.registry,
        constitution: f.constitution,
        marketplace: f.marketplace,
        receiptMinter: f.receiptMinter,
        agentVotes: f.agentVotes,
      };
      for (const [name, contract] of Object.entries(administered)) {
        expect(await contract.hasRole(ZeroHash, timelockAddress), name).to.be.true;
        expect(await contract.hasRole(ZeroHash, deployer.address), name).to.be.false;
      }
      expect(await humanOverride.hasRole(ZeroHash, deployer.address)).to.be.true;
      expect(await humanOverride.hasRole(ZeroHash, timelockAddress)).to.be.false;
      expect(await humanOverride.hasRole(await humanOverride.GUARDIAN_ROLE(), guardian.address)).to.be.true;
      expect(await timelock.hasRole(ZeroHash, deployer.address)).to.be.false;
      await expect(f.agentVotes.connect(deployer).setSchedule(DEFAULT_SCHEDULE))
        .to.be.revertedWithCustomError(f.agentVotes, "AccessControlUnauthorizedAccount")
        .withArgs(deployer.address, ZeroHash);
    });

    it("propose → vote with a reason → queue → wait → execute changes AgentRegistry.setMinStake", async function () {
      const f = await loadHandover();
      const { governor, registry, timelock, deployer, agent, agent2 } = f;
      const newMinStake = 500n * AITBC;
      const p = await setMinStakeProposal(f, newMinStake, "Lower the minimum stake to 500 AITBC");

      // Only the timelock may: the deployer renounced.
      await expect(registry.connect(deployer).setMinStake(newMinStake))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(deployer.address, ZeroHash);

      const proposedAt = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(proposedAt);
      const voteStart = proposedAt + GOVERNANCE.votingDelay;
      await expect(governor.connect(agent).propose(p.targets, p.values, p.calldatas, p.description))
        .to.emit(governor, "ProposalCreated")
        .withArgs(
          p.id,
          agent.address,
          p.targets,
          p.values,
          [""],
          p.calldatas,
          voteStart,
          voteStart + GOVERNANCE.votingPeriod,
          p.description,
        );
      expect(await governor.state(p.id)).to.equal(PROPOSAL.Pending);
      await toVoting(connection, governor, p.id);
      expect(await governor.state(p.id)).to.equal(PROPOSAL.Active);

      const reason = "cheaper entry for new agents";
      await expect(governor.connect(agent).castVoteWithReason(p.id, SUPPORT_CODES.for, reason))
        .to.emit(governor, "VoteCast")
        .withArgs(agent.address, p.id, SUPPORT_CODES.for, votes(1000), reason);
      await expect(governor.connect(agent2).castVoteWithReason(p.id, SUPPORT_CODES.against, "too cheap"))
        .to.emit(governor, "VoteCast")
        .withArgs(agent2.address, p.id, SUPPORT_CODES.against, votes(10_000), "too cheap");
      expect(await governor.hasVoted(p.id, agent.address)).to.be.true;

      // agent2's 10,000 votes against outweigh agent's 1,000 for: defeated, cannot be queued.
      expect(await governor.proposalVotes(p.id)).to.deep.equal([votes(10_000), votes(1000), 0n]);
      await toVoteEnd(connection, governor, p.id);
      expect(await governor.state(p.id)).to.equal(PROPOSAL.Defeated);
      await expect(governor["queue(uint256)"](p.id))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, PROPOSAL.Defeated, stateBitmap(PROPOSAL.Succeeded));

      // A second proposal, voted for by both.
      const p2 = await setMinStakeProposal(f, newMinStake, "Lower the minimum stake to 500 AITBC, again");
      await submit(governor, agent, p2);
      await toVoting(connection, governor, p2.id);
      await expect(governor.connect(agent).castVoteWithReason(p2.id, SUPPORT_CODES.for, reason))
        .to.emit(governor, "VoteCast")
        .withArgs(agent.address, p2.id, SUPPORT_CODES.for, votes(1050), reason); // one vote cast already: +5%
      await (await governor.connect(agent2).castVote(p2.id, SUPPORT_CODES.for)).wait();
      await toVoteEnd(connection, governor, p2.id);
      expect(await governor.state(p2.id)).to.equal(PROPOSAL.Succeeded);

      const queuedAt = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(queuedAt);
      const eta = queuedAt + GOVERNANCE.timelockDelay;
      await expect(governor["queue(uint256)"](p2.id)).to.emit(governor, "ProposalQueued").withArgs(p2.id, eta);
      expect(await governor.state(p2.id)).to.equal(PROPOSAL.Queued);
      expect(await governor.proposalEta(p2.id)).to.equal(eta);
      const salt = zeroPadValue(toBeHex((BigInt(await governor.getAddress()) << 96n) ^ BigInt(p2.descriptionHash)), 32);
      const operationId = await timelock.hashOperationBatch(p2.targets, p2.values, p2.calldatas, ZeroHash, salt);
      expect(await timelock.getTimestamp(operationId)).to.equal(eta);
      await expect(governor["execute(uint256)"](p2.id))
        .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState")
        .withArgs(operationId, stateBitmap(2n)); // TimelockController.OperationState.Ready

      await time.increaseTo(eta);
      const execution = governor.connect(f.outsider)["execute(uint256)"](p2.id); // anyone executes
      await expect(execution).to.emit(governor, "ProposalExecuted").withArgs(p2.id);
      await expect(execution).to.emit(registry, "MinStakeSet").withArgs(newMinStake);
      expect(await governor.state(p2.id)).to.equal(PROPOSAL.Executed);
      expect(await registry.minStake()).to.equal(newMinStake);
      expect(await timelock.isOperationDone(operationId)).to.be.true;
      await expect(governor["execute(uint256)"](p2.id))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p2.id, PROPOSAL.Executed, stateBitmap(PROPOSAL.Queued));
    });

    it("governance parameters change only through proposals (onlyGovernance)", async function () {
      const f = await load();
      const { governor, deployer, agent, agent2 } = f;
      const governorAddress = await governor.getAddress();
      const p = await proposal(
        governor,
        [governorAddress],
        [governor.interface.encodeFunctionData("setVotingDelay", [30n])],
        "Shorter voting delay",
      );
      await expect(governor.connect(deployer).setVotingDelay(30n))
        .to.be.revertedWithCustomError(governor, "GovernorOnlyExecutor")
        .withArgs(deployer.address);
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      await (await governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for)).wait();
      await toVoteEnd(connection, governor, p.id);
      await (await governor["queue(uint256)"](p.id)).wait();
      await time.increaseTo(await governor.proposalEta(p.id));
      await expect(governor["execute(uint256)"](p.id)).to.emit(governor, "VotingDelaySet").withArgs(60n, 30n);
      expect(await governor.votingDelay()).to.equal(30n);
    });
  });

  describe("veto", function () {
    it("a guardian cancels a queued proposal: Canceled, timelock operation gone, execute reverts", async function () {
      const f = await loadHandover();
      const { governor, timelock, registry, guardian } = f;
      const p = await setMinStakeProposal(f, 1n, "Minimum stake of 1 wei");
      const operationId = await passAndQueue(f, p);
      expect(await timelock.isOperationPending(operationId)).to.be.true;

      const veto = governor.connect(guardian).veto(p.id, "capture attempt");
      await expect(veto).to.emit(governor, "ProposalVetoed").withArgs(p.id, guardian.address, "capture attempt");
      await expect(veto).to.emit(governor, "ProposalCanceled").withArgs(p.id);
      await expect(veto).to.emit(timelock, "Cancelled").withArgs(operationId);
      expect(await governor.state(p.id)).to.equal(PROPOSAL.Canceled);
      expect(await timelock.isOperation(operationId)).to.be.false;

      await time.increase(GOVERNANCE.timelockDelay + 1n);
      await expect(governor["execute(uint256)"](p.id))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, PROPOSAL.Canceled, stateBitmap(PROPOSAL.Queued)); // a timelocked proposal runs from Queued only
      expect(await registry.minStake()).to.equal(MIN_STAKE);
      // Once canceled, it cannot be vetoed again.
      await expect(governor.connect(guardian).veto(p.id, "again"))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, PROPOSAL.Canceled, CANCELABLE);
    });

    it("only HumanOverride guardians may veto (not agents, nor the HumanOverride admin)", async function () {
      const f = await loadHandover();
      const { governor, humanOverride, deployer, agent, outsider } = f;
      const p = await setMinStakeProposal(f, 1n, "Minimum stake of 1 wei");
      await passAndQueue(f, p);
      for (const caller of [outsider, agent, deployer]) {
        await expect(governor.connect(caller).veto(p.id, "no"))
          .to.be.revertedWithCustomError(governor, "AITBCGovernorNotGuardian")
          .withArgs(caller.address);
      }
      expect(await governor.state(p.id)).to.equal(PROPOSAL.Queued);
      // The HumanOverride admin (still the deployer after the handover) appoints a new guardian, who may veto.
      await (await humanOverride.connect(deployer).grantRole(await humanOverride.GUARDIAN_ROLE(), outsider)).wait();
      await expect(governor.connect(outsider).veto(p.id, "appointed"))
        .to.emit(governor, "ProposalVetoed")
        .withArgs(p.id, outsider.address, "appointed");
    });

    it("a veto works during an emergency stop, on queued and active proposals", async function () {
      const f = await loadHandover();
      const { governor, humanOverride, timelock, guardian, agent } = f;
      const queued = await setMinStakeProposal(f, 1n, "Minimum stake of 1 wei");
      const operationId = await passAndQueue(f, queued);
      const active = await setMinStakeProposal(f, 2n, "Minimum stake of 2 wei");
      await submit(governor, agent, active);
      await toVoting(connection, governor, active.id);

      await (await humanOverride.connect(guardian).emergencyStop("incident")).wait();
      await expect(governor.connect(guardian).veto(queued.id, "incident"))
        .to.emit(governor, "ProposalVetoed")
        .withArgs(queued.id, guardian.address, "incident");
      await expect(governor.connect(guardian).veto(active.id, "incident"))
        .to.emit(governor, "ProposalVetoed")
        .withArgs(active.id, guardian.address, "incident");
      expect(await governor.state(queued.id)).to.equal(PROPOSAL.Canceled);
      expect(await governor.state(active.id)).to.equal(PROPOSAL.Canceled);
      expect(await timelock.isOperation(operationId)).to.be.false;
    });

    it("nobody but the governor executes: a queued operation cannot be run on the timelock directly, even in a stop", async function () {
      const f = await loadHandover();
      const { governor, timelock, registry, humanOverride, guardian, outsider } = f;
      const p = await setMinStakeProposal(f, 1_500n * AITBC, "Minimum stake of 1,500 AITBC (direct execution)");
      await passAndQueue(f, p);
      await time.increaseTo(await governor.proposalEta(p.id));
      await (await humanOverride.connect(guardian).emergencyStop("incident")).wait();
      const salt = (BigInt(await governor.getAddress()) << 96n) ^ BigInt(p.descriptionHash);
      const saltHex = toBeHex(salt & ((1n << 256n) - 1n), 32);
      await expect(timelock.connect(outsider).executeBatch(p.targets, p.values, p.calldatas, ZeroHash, saltHex))
        .to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await timelock.EXECUTOR_ROLE());
      await expect(governor.connect(outsider)["execute(uint256)"](p.id)).to.be.revertedWithCustomError(
        governor,
        "HumanOverrideEmergencyStopped",
      );
      expect(await registry.minStake()).to.equal(MIN_STAKE);
    });

    it("vetoOperation: guardians cancel a timelock operation scheduled around the governor; others cannot", async function () {
      const f = await loadHandover();
      const { governor, timelock, registry, guardian, agent, outsider } = f;
      // A proposal the guardians missed makes `outsider` a proposer of the timelock.
      const grant = await proposal(
        governor,
        [await timelock.getAddress()],
        [timelock.interface.encodeFunctionData("grantRole", [await timelock.PROPOSER_ROLE(), outsider.address])],
        "Add a proposer",
      );
      await passAndQueue(f, grant);
      await time.increaseTo(await governor.proposalEta(grant.id));
      await (await governor["execute(uint256)"](grant.id)).wait();
      // It schedules an operation of its own; it can never execute it (the governor is the only executor)...
      const call = registry.interface.encodeFunctionData("setMinStake", [1n]);
      const target = await registry.getAddress();
      const delay = await timelock.getMinDelay();
      await (await timelock.connect(outsider).schedule(target, 0n, call, ZeroHash, ZeroHash, delay)).wait();
      const operationId = await timelock.hashOperation(target, 0n, call, ZeroHash, ZeroHash);
      expect(await timelock.isOperationPending(operationId)).to.be.true;
      await time.increase(delay + 1n);
      await expect(timelock.connect(outsider).execute(target, 0n, call, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await timelock.EXECUTOR_ROLE());
      // ...and the guardians cancel it anyway.
      for (const caller of [outsider, agent]) {
        await expect(governor.connect(caller).vetoOperation(operationId, "no"))
          .to.be.revertedWithCustomError(governor, "AITBCGovernorNotGuardian")
          .withArgs(caller.address);
      }
      await expect(governor.connect(guardian).vetoOperation(operationId, "scheduled around the governor"))
        .to.emit(governor, "OperationVetoed")
        .withArgs(operationId, guardian.address, "scheduled around the governor");
      expect(await timelock.isOperation(operationId)).to.be.false;
      expect(await registry.minStake()).to.equal(MIN_STAKE);
    });

    it("the timelock delay (the veto window) cannot go below its deployment value: AITBCTimelockDelayBelowFloor", async function () {
      const f = await loadHandover();
      const { governor, timelock } = f;
      const floor = await timelock.delayFloor();
      expect(floor).to.equal(await timelock.getMinDelay());
      const shrink = await proposal(
        governor,
        [await timelock.getAddress()],
        [timelock.interface.encodeFunctionData("updateDelay", [floor - 1n])],
        "Shorten the veto window",
      );
      await passAndQueue(f, shrink);
      await time.increaseTo(await governor.proposalEta(shrink.id));
      await expect(governor["execute(uint256)"](shrink.id))
        .to.be.revertedWithCustomError(timelock, "AITBCTimelockDelayBelowFloor")
        .withArgs(floor - 1n, floor);
      const longer = await proposal(
        governor,
        [await timelock.getAddress()],
        [timelock.interface.encodeFunctionData("updateDelay", [floor * 2n])],
        "Lengthen the veto window",
      );
      await passAndQueue(f, longer);
      await time.increaseTo(await governor.proposalEta(longer.id));
      await (await governor["execute(uint256)"](longer.id)).wait();
      expect(await timelock.getMinDelay()).to.equal(floor * 2n);
    });

    it("an executed or unknown proposal cannot be vetoed", async function () {
      const f = await loadHandover();
      const { governor, guardian } = f;
      const p = await setMinStakeProposal(f, 500n * AITBC, "Minimum stake of 500 AITBC");
      await passAndQueue(f, p);
      await time.increaseTo(await governor.proposalEta(p.id));
      await (await governor["execute(uint256)"](p.id)).wait();
      await expect(governor.connect(guardian).veto(p.id, "late"))
        .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, PROPOSAL.Executed, CANCELABLE);
      await expect(governor.connect(guardian).veto(12345n, "unknown"))
        .to.be.revertedWithCustomError(governor, "GovernorNonexistentProposal")
        .withArgs(12345n);
    });
  });

  describe("activity and schedule changes", function () {
    it("votes count towards activityOf at most once a voting period, and power rises at the activity tiers", async function () {
      const f = await load();
      const { agentVotes, governor, agent } = f;
      const p = await noopProposal(f, "first vote");
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      const first = governor.connect(agent).castVote(p.id, SUPPORT_CODES.for);
      await expect(first).to.emit(agentVotes, "ActivityRecorded").withArgs(agent.address, 1n);
      await expect(first).to.emit(agentVotes, "PowerUpdated").withArgs(agent.address, votes(1000), votes(1050));
      expect(await agentVotes.activityOf(agent.address)).to.equal(1n);

      await castVotes(connection, f, agent, 3);
      expect(await agentVotes.activityOf(agent.address)).to.equal(4n);
      expect(await agentVotes.powerOf(agent.address)).to.equal(votes(1050));

      // A second vote within the same voting period earns nothing more...
      const same = await noopProposal(f, "same period");
      await submit(governor, agent, same);
      await toVoting(connection, governor, same.id);
      await expect(governor.connect(agent).castVote(same.id, SUPPORT_CODES.for)).not.to.emit(
        agentVotes,
        "ActivityRecorded",
      );
      expect(await agentVotes.activityOf(agent.address)).to.equal(4n);

      // ...one a period later does.
      await time.increase(await governor.votingPeriod());
      const fifth = await noopProposal(f, "fifth vote");
      await submit(governor, agent, fifth);
      await toVoting(connection, governor, fifth.id);
      const vote = governor.connect(agent).castVote(fifth.id, SUPPORT_CODES.against);
      await expect(vote).to.emit(agentVotes, "ActivityRecorded").withArgs(agent.address, 5n);
      await expect(vote).to.emit(agentVotes, "PowerUpdated").withArgs(agent.address, votes(1050), votes(1100));
      expect(await agentVotes.getVotes(agent.address)).to.equal(votes(1100));
      expect(await expectConserved(f)).to.equal(votes(11_100));
    });

    it("a zero-weight vote (an agent that delegated its power away) earns no activity", async function () {
      const f = await load();
      const { agentVotes, governor, agent, agent2 } = f;
      await (await agentVotes.connect(agent2).delegate(agent.address)).wait();
      const p = await noopProposal(f, "delegated voter");
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      const vote = governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for);
      await expect(vote).to.emit(governor, "VoteCast").withArgs(agent2.address, p.id, SUPPORT_CODES.for, 0n, "");
      await expect(vote).not.to.emit(agentVotes, "ActivityRecorded");
      expect(await agentVotes.activityOf(agent2.address)).to.equal(0n);
    });

    it("recordActivity ignores accounts that are not agents", async function () {
      const { agentVotes, deployer, outsider, agent } = await load();
      await (await agentVotes.connect(deployer).grantRole(await agentVotes.ACTIVITY_ROLE(), deployer)).wait();
      await expect(agentVotes.connect(deployer).recordActivity(outsider)).not.to.emit(agentVotes, "ActivityRecorded");
      expect(await agentVotes.activityOf(outsider.address)).to.equal(0n);
      expect(await agentVotes.powerOf(outsider.address)).to.equal(0n);
      await expect(agentVotes.connect(deployer).recordActivity(agent))
        .to.emit(agentVotes, "ActivityRecorded")
        .withArgs(agent.address, 1n);
    });

    it("a schedule change reaches powers through sync (by anyone) or the agent's next update", async function () {
      const f = await load();
      const { agentVotes, registry, reputer, deployer, outsider, agent, agent2 } = f;
      const schedule = {
        base: 2n * AITBC, // 2 votes per staked AITBC
        stakeMultiplierBps: [
          { threshold: 500n * AITBC, value: 10_000n },
          { threshold: 5_000n * AITBC, value: 15_000n },
        ],
        reputationBonusPct: [],
        activityBonusPct: [{ threshold: 1n, value: 100n }],
      };
      await expect(agentVotes.connect(deployer).setSchedule(schedule)).to.emit(agentVotes, "ScheduleSet");
      expect(scheduleTuple(await agentVotes.schedule())).to.deep.equal(scheduleTuple(schedule));
      expect(await agentVotes.computePower(MIN_STAKE, 500, 0)).to.equal(votes(2000));
      expect(await agentVotes.computePower(10_000n * AITBC, 500, 1)).to.equal(votes(60_000));
      // Not yet applied.
      expect(await agentVotes.powerOf(agent.address)).to.equal(votes(1000));
      expect(await agentVotes.powerOf(agent2.address)).to.equal(votes(10_000));

      // agent2's next update (a reputation change) applies it.
      await expect(registry.connect(reputer).updateReputation(AGENT2_ID, 1, "test"))
        .to.emit(agentVotes, "PowerUpdated")
        .withArgs(agent2.address, votes(10_000), votes(30_000));
      // sync applies it to the others; non-agents are skipped.
      const sync = agentVotes.connect(outsider).sync([agent.address, agent2.address, outsider.address]);
      await expect(sync).to.emit(agentVotes, "PowerUpdated").withArgs(agent.address, votes(1000), votes(2000));
      expect(await agentVotes.getVotes(agent.address)).to.equal(votes(2000));
      expect(await agentVotes.getVotes(agent2.address)).to.equal(votes(30_000));
      expect(await agentVotes.powerOf(outsider.address)).to.equal(0n);
      expect(await expectConserved(f)).to.equal(votes(32_000));
    });
  });

  describe("reverts", function () {
    it("onAgentChanged: the registry only (AgentVotesNotRegistry)", async function () {
      const { agentVotes, deployer, outsider, agent } = await load();
      for (const caller of [outsider, deployer, agent]) {
        await expect(agentVotes.connect(caller).onAgentChanged(agent.address, 10n ** 30n, 1000, false))
          .to.be.revertedWithCustomError(agentVotes, "AgentVotesNotRegistry")
          .withArgs(caller.address);
      }
    });

    it("setSchedule and recordActivity: AccessControl", async function () {
      const { agentVotes, outsider, agent, deployer } = await load();
      await expect(agentVotes.connect(outsider).setSchedule(DEFAULT_SCHEDULE))
        .to.be.revertedWithCustomError(agentVotes, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZeroHash);
      const activityRole = await agentVotes.ACTIVITY_ROLE();
      for (const caller of [outsider, agent, deployer]) {
        await expect(agentVotes.connect(caller).recordActivity(agent))
          .to.be.revertedWithCustomError(agentVotes, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, activityRole);
      }
    });

    describe("AgentVotesInvalidSchedule", function () {
      const tier = (threshold: bigint, value: bigint) => ({ threshold, value });
      const valid = () => ({
        base: AITBC,
        stakeMultiplierBps: [tier(1n, 10_000n)],
        reputationBonusPct: [tier(1n, 10n)],
        activityBonusPct: [tier(1n, 5n)],
      });
      type Schedule = ReturnType<typeof valid>;
      type Field = "stakeMultiplierBps" | "reputationBonusPct" | "activityBonusPct";
      const FIELDS: { field: Field; max: bigint }[] = [
        { field: "stakeMultiplierBps", max: 1_000_000n },
        { field: "reputationBonusPct", max: 1_000n },
        { field: "activityBonusPct", max: 1_000n },
      ];
      const cases: { name: string; schedule: Schedule; field: string; index: bigint }[] = [
        { name: "base 0", schedule: { ...valid(), base: 0n }, field: "base", index: 0n },
        { name: "base above MAX_BASE", schedule: { ...valid(), base: 10n ** 30n + 1n }, field: "base", index: 0n },
        {
          name: "no stake tiers",
          schedule: { ...valid(), stakeMultiplierBps: [] },
          field: "stakeMultiplierBps",
          index: 0n,
        },
      ];
      for (const { field, max } of FIELDS) {
        const ascending = (n: number) => Array.from({ length: n }, (_, i) => tier(BigInt(i + 1), BigInt(i + 1)));
        cases.push(
          {
            name: `${field}: 9 tiers (MAX_TIERS is 8)`,
            schedule: { ...valid(), [field]: ascending(9) },
            field,
            index: 9n,
          },
          {
            name: `${field}: a repeated threshold`,
            schedule: { ...valid(), [field]: [tier(5n, 1n), tier(5n, 2n)] },
            field,
            index: 1n,
          },
          {
            name: `${field}: a descending threshold`,
            schedule: { ...valid(), [field]: [tier(1n, 1n), tier(5n, 2n), tier(4n, 3n)] },
            field,
            index: 2n,
          },
          {
            name: `${field}: a decreasing value`,
            schedule: { ...valid(), [field]: [tier(1n, 1n), tier(2n, 3n), tier(3n, 2n)] },
            field,
            index: 2n,
          },
          {
            name: `${field}: a value above its maximum`,
            schedule: { ...valid(), [field]: [tier(1n, 1n), tier(2n, max + 1n)] },
            field,
            index: 1n,
          },
        );
      }

      it("the maxima themselves are accepted (MAX_BASE, 8 tiers, maximum values)", async function () {
        const { agentVotes, deployer } = await load();
        expect(await agentVotes.MAX_BASE()).to.equal(10n ** 30n);
        expect(await agentVotes.MAX_TIERS()).to.equal(8n);
        const schedule: Schedule = { ...valid(), base: 10n ** 30n };
        for (const { field, max } of FIELDS) {
          schedule[field] = Array.from({ length: 8 }, (_, i) => tier(BigInt(i + 1), i === 7 ? max : BigInt(i)));
        }
        await expect(agentVotes.connect(deployer).setSchedule(schedule)).to.emit(agentVotes, "ScheduleSet");
      });

      for (const c of cases) {
        it(c.name, async function () {
          const { agentVotes, deployer } = await load();
          await expect(agentVotes.connect(deployer).setSchedule(c.schedule))
            .to.be.revertedWithCustomError(agentVotes, "AgentVotesInvalidSchedule")
            .withArgs(c.field, c.index);
        });
      }

      it("the constructor checks the schedule too", async function () {
        const f = await load();
        const factory = await ethers.getContractFactory("AgentVotes");
        await expect(
          factory.deploy(f.deployer.address, f.registry, f.humanOverride, f.constitution, { ...valid(), base: 0n }),
        )
          .to.be.revertedWithCustomError(factory, "AgentVotesInvalidSchedule")
          .withArgs("base", 0n);
      });
    });

    it("delegation: AgentVotesInvalidDelegate (zero, unregistered, unstaked, frozen, exiting delegatee)", async function () {
      const f = await load();
      const { agentVotes, registry, humanOverride, guardian, agent, outsider } = f;
      const frozen = voter(f, 0);
      const exiting = voter(f, 1);
      const unstaked = voter(f, 2);
      await addAgent(f, frozen, MIN_STAKE);
      const exitingId = await addAgent(f, exiting, MIN_STAKE);
      await addAgent(f, unstaked, 0n); // registered, but nothing to slash: not active
      await (await humanOverride.connect(guardian).freeze(frozen, "test")).wait();
      await (await registry.connect(exiting).requestUnstake(exitingId, MIN_STAKE)).wait();
      for (const delegatee of [ZeroAddress, outsider.address, unstaked.address, frozen.address, exiting.address]) {
        await expect(agentVotes.connect(agent).delegate(delegatee))
          .to.be.revertedWithCustomError(agentVotes, "AgentVotesInvalidDelegate")
          .withArgs(delegatee);
      }
      // By signature too.
      const expiry = BigInt(await time.latest()) + 3600n;
      const sig = await signDelegation(f, agent, frozen.address, 0n, expiry);
      await expect(agentVotes.connect(outsider).delegateBySig(frozen.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(agentVotes, "AgentVotesInvalidDelegate")
        .withArgs(frozen.address);
    });

    it("delegation by a non-agent: AgentRegistryNotRegistered (delegate, undelegate, delegateBySig)", async function () {
      const f = await load();
      const { agentVotes, agent, outsider } = f;
      await expect(agentVotes.connect(outsider).delegate(agent.address))
        .to.be.revertedWithCustomError(agentVotes, "AgentRegistryNotRegistered")
        .withArgs(outsider.address);
      await expect(agentVotes.connect(outsider).delegate(outsider.address))
        .to.be.revertedWithCustomError(agentVotes, "AgentRegistryNotRegistered")
        .withArgs(outsider.address);
      await expect(agentVotes.connect(outsider).undelegate())
        .to.be.revertedWithCustomError(agentVotes, "AgentRegistryNotRegistered")
        .withArgs(outsider.address);
      const expiry = BigInt(await time.latest()) + 3600n;
      const sig = await signDelegation(f, outsider, agent.address, 0n, expiry);
      await expect(agentVotes.connect(agent).delegateBySig(agent.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(agentVotes, "AgentRegistryNotRegistered")
        .withArgs(outsider.address);
    });

    it("propose and vote by a non-agent: AITBCGovernorNotAgent", async function () {
      const f = await load();
      const { governor, agent, outsider } = f;
      const p = await noopProposal(f, "not an agent");
      await expect(governor.connect(outsider).propose(p.targets, p.values, p.calldatas, p.description))
        .to.be.revertedWithCustomError(governor, "AITBCGovernorNotAgent")
        .withArgs(outsider.address);
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      await expect(governor.connect(outsider).castVote(p.id, SUPPORT_CODES.for))
        .to.be.revertedWithCustomError(governor, "AITBCGovernorNotAgent")
        .withArgs(outsider.address);
      await expect(governor.connect(outsider).castVoteWithReason(p.id, SUPPORT_CODES.for, "x"))
        .to.be.revertedWithCustomError(governor, "AITBCGovernorNotAgent")
        .withArgs(outsider.address);
    });

    it("an exiting agent cannot propose or vote, not even with votes delegated to it (AITBCGovernorNotAgent)", async function () {
      const f = await load();
      const { governor, agentVotes, registry, agent, agent2 } = f;
      const p = await noopProposal(f, "exiting voter");
      await submit(governor, agent, p);
      await (await agentVotes.connect(agent).delegate(agent2.address)).wait();
      await (await registry.connect(agent2).requestUnstake(AGENT2_ID, 10_000n * AITBC)).wait();
      await toVoting(connection, governor, p.id);
      // agent2 holds agent's delegated 1,000 votes at the snapshot, but is exiting: idle, they count for nothing.
      expect(await agentVotes.isIdle(agent2.address)).to.equal(true);
      expect(await agentVotes.getPastVotes(agent2.address, await governor.proposalSnapshot(p.id))).to.equal(0n);
      await expect(governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for))
        .to.be.revertedWithCustomError(governor, "AITBCGovernorNotAgent")
        .withArgs(agent2.address);
      const p2 = await noopProposal(f, "exiting proposer");
      await expect(governor.connect(agent2).propose(p2.targets, p2.values, p2.calldatas, p2.description))
        .to.be.revertedWithCustomError(governor, "AITBCGovernorNotAgent")
        .withArgs(agent2.address);
      // The delegator takes its votes back (for later proposals) and votes itself.
      await (await agentVotes.connect(agent).undelegate()).wait();
      expect(await agentVotes.getVotes(agent2.address)).to.equal(0n);
      await expect(governor.connect(agent).castVote(p.id, SUPPORT_CODES.for))
        .to.emit(governor, "VoteCast")
        .withArgs(agent.address, p.id, SUPPORT_CODES.for, 0n, "");
    });

    it("propose below the threshold: GovernorInsufficientProposerVotes (no power, or votes delegated away)", async function () {
      const f = await load();
      const { governor, agentVotes, agent, agent2 } = f;
      const poor = voter(f, 0);
      await addAgent(f, poor, MIN_STAKE - 1n);
      const p = await noopProposal(f, "below threshold");
      await expect(governor.connect(poor).propose(p.targets, p.values, p.calldatas, p.description))
        .to.be.revertedWithCustomError(governor, "GovernorInsufficientProposerVotes")
        .withArgs(poor.address, 0n, GOVERNANCE.proposalThreshold);
      await (await agentVotes.connect(agent).delegate(agent2.address)).wait();
      await networkHelpers.mine();
      await expect(governor.connect(agent).propose(p.targets, p.values, p.calldatas, p.description))
        .to.be.revertedWithCustomError(governor, "GovernorInsufficientProposerVotes")
        .withArgs(agent.address, 0n, GOVERNANCE.proposalThreshold);
    });

    it("double vote: GovernorAlreadyCastVote", async function () {
      const f = await load();
      const { governor, agent } = f;
      const p = await noopProposal(f, "double vote");
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      await (await governor.connect(agent).castVote(p.id, SUPPORT_CODES.for)).wait();
      await expect(governor.connect(agent).castVoteWithReason(p.id, SUPPORT_CODES.against, "changed my mind"))
        .to.be.revertedWithCustomError(governor, "GovernorAlreadyCastVote")
        .withArgs(agent.address);
    });

    it("onlyGovernance setters called directly: GovernorOnlyExecutor", async function () {
      const { governor, deployer, agent, outsider } = await load();
      const calls = [
        (g: typeof governor) => g.setVotingDelay(1n),
        (g: typeof governor) => g.setVotingPeriod(1n),
        (g: typeof governor) => g.setProposalThreshold(0n),
        (g: typeof governor) => g.updateQuorumNumerator(1n),
        (g: typeof governor) => g.relay(outsider.address, 0n, "0x"),
      ];
      for (const caller of [deployer, agent]) {
        for (const call of calls) {
          await expect(call(governor.connect(caller)))
            .to.be.revertedWithCustomError(governor, "GovernorOnlyExecutor")
            .withArgs(caller.address);
        }
        // The timelock is fixed for good: not even governance can swap it for one the guardians cannot veto in.
        await expect(governor.connect(caller).updateTimelock(outsider.address)).to.be.revertedWithCustomError(
          governor,
          "AITBCGovernorTimelockFixed",
        );
      }
    });

    it("a frozen agent cannot vote, propose or delegate (AgentConstitutionAgentFrozen), yet keeps its power", async function () {
      const f = await load();
      const { governor, agentVotes, constitution, humanOverride, guardian, agent, agent2 } = f;
      const p = await noopProposal(f, "frozen");
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      await (await humanOverride.connect(guardian).freeze(agent, "test")).wait();
      await expect(governor.connect(agent).castVote(p.id, SUPPORT_CODES.for))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
      const p2 = await noopProposal(f, "frozen proposer");
      await expect(governor.connect(agent).propose(p2.targets, p2.values, p2.calldatas, p2.description))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
      await expect(agentVotes.connect(agent).delegate(agent2.address))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
      expect(await agentVotes.getVotes(agent.address)).to.equal(votes(1000));
    });

    it("a constitution that does not allow GOVERN refuses proposing, voting and delegating", async function () {
      const f = await load();
      const { governor, agentVotes, constitution, operator, agent, agent2 } = f;
      const p = await noopProposal(f, "no govern");
      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      const noGovern = constraints({ maxDailyVolume: 0n, allowedActions: ALL_ACTIONS & ~bit(GOVERN) });
      await (await constitution.connect(operator).setConstraints(agent, noGovern)).wait();
      await expect(governor.connect(agent).castVote(p.id, SUPPORT_CODES.for))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(agent.address, GOVERN);
      const p2 = await noopProposal(f, "no govern proposer");
      await expect(governor.connect(agent).propose(p2.targets, p2.values, p2.calldatas, p2.description))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(agent.address, GOVERN);
      await expect(agentVotes.connect(agent).delegate(agent2.address))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(agent.address, GOVERN);
      await expect(agentVotes.connect(agent).undelegate())
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(agent.address, GOVERN);
    });

    it("emergency stop: propose, vote, queue, execute, delegate(BySig), undelegate and sync revert", async function () {
      const f = await load();
      const { governor, agentVotes, humanOverride, guardian, agent, agent2, outsider } = f;
      const stop = async () => (await humanOverride.connect(guardian).emergencyStop("test")).wait();
      const resume = async () => (await humanOverride.connect(guardian).resume()).wait();
      const stopped = "HumanOverrideEmergencyStopped";

      const p = await noopProposal(f, "stop");
      await stop();
      await expect(
        governor.connect(agent).propose(p.targets, p.values, p.calldatas, p.description),
      ).to.be.revertedWithCustomError(governor, stopped);
      await expect(agentVotes.connect(agent).delegate(agent2.address)).to.be.revertedWithCustomError(
        agentVotes,
        stopped,
      );
      await expect(agentVotes.connect(agent).undelegate()).to.be.revertedWithCustomError(agentVotes, stopped);
      const expiry = BigInt(await time.latest()) + 3600n;
      const sig = await signDelegation(f, agent, agent2.address, 0n, expiry);
      await expect(
        agentVotes.connect(outsider).delegateBySig(agent2.address, 0n, expiry, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(agentVotes, stopped);
      await expect(agentVotes.connect(outsider).sync([agent.address])).to.be.revertedWithCustomError(
        agentVotes,
        stopped,
      );
      await resume();

      await submit(governor, agent, p);
      await toVoting(connection, governor, p.id);
      await stop();
      await expect(governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for)).to.be.revertedWithCustomError(
        governor,
        stopped,
      );
      await expect(
        governor.connect(agent2).castVoteWithReason(p.id, SUPPORT_CODES.for, "x"),
      ).to.be.revertedWithCustomError(governor, stopped);
      await resume();
      await (await governor.connect(agent2).castVote(p.id, SUPPORT_CODES.for)).wait();

      await toVoteEnd(connection, governor, p.id);
      await stop();
      await expect(governor["queue(uint256)"](p.id)).to.be.revertedWithCustomError(governor, stopped);
      await resume();
      await (await governor["queue(uint256)"](p.id)).wait();

      await time.increaseTo(await governor.proposalEta(p.id));
      await stop();
      await expect(governor["execute(uint256)"](p.id)).to.be.revertedWithCustomError(governor, stopped);
      await resume();
      await expect(governor["execute(uint256)"](p.id)).to.emit(governor, "ProposalExecuted").withArgs(p.id);
    });
  });
});
