/**
 * Governance: deployment and voting power. AgentVotes, the timelock and the governor wired together (and the
 * module's defaults), then the power formula: a table of stakes, reputations and activity, each row checked with
 * computePower and, where marked, reproduced from real registry state; exits, unstakes, slashes and reputation
 * losses lower power. The fixtures and checks are in test/helpers/governance.ts.
 */
import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { MIN_STAKE, STATUS } from "../helpers/agents.js";
import {
  addAgent,
  AGENT2_ID,
  AGENT_ID,
  AITBC,
  castVotes,
  DEFAULT_GOVERNANCE,
  DEFAULT_SCHEDULE,
  defaultsFixture,
  expectConserved,
  GOVERNANCE,
  load,
  scheduleTuple,
  TEST_SCHEDULE,
  voter,
  votes,
} from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;

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

describe("Governance: deployment and power", function () {
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
});
