/**
 * Governance: what is refused. Registry-only hooks, AccessControl, invalid schedules (each rule, and the maxima
 * accepted), invalid delegatees, non-agents and exiting agents, the proposal threshold, double votes,
 * onlyGovernance setters, frozen agents. The GOVERN action and the emergency stop are in Governance.guards.test.ts.
 * The fixtures and checks are in test/helpers/governance.ts.
 */
import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { SUPPORT_CODES } from "../../protocol/enums.js";
import { MIN_STAKE } from "../helpers/agents.js";
import {
  addAgent,
  AGENT2_ID,
  AITBC,
  DEFAULT_SCHEDULE,
  GOVERNANCE,
  load,
  noopProposal,
  signDelegation,
  submit,
  toVoting,
  voter,
  votes,
} from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

describe("Governance: reverts", function () {
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
  });
});
