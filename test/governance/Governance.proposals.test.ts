/**
 * Governance: proposals. The lifecycle through the timelock after the handover (propose, vote, queue, execute),
 * guardians' vetoes (also during a stop, and of operations scheduled around the governor), the timelock delay's
 * floor, and activity: votes raise power at most once a period; schedule changes reach powers through sync.
 * The fixtures and checks are in test/helpers/governance.ts.
 */
import { expect } from "chai";
import { toBeHex, ZeroHash, zeroPadValue } from "ethers";
import { network } from "hardhat";

import { SUPPORT_CODES } from "../../protocol/enums.js";
import { MIN_STAKE } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AITBC,
  CANCELABLE,
  castVotes,
  DEFAULT_SCHEDULE,
  expectConserved,
  GOVERNANCE,
  load,
  loadHandover,
  noopProposal,
  passAndQueue,
  PROPOSAL,
  proposal,
  scheduleTuple,
  setMinStakeProposal,
  stateBitmap,
  submit,
  toVoteEnd,
  toVoting,
  votes,
} from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

describe("Governance: proposals", function () {
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
});
