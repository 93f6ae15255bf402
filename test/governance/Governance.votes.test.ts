/**
 * Governance: votes over time and delegation. Checkpoints (a vote weighs the power at the proposal's snapshot;
 * getPastVotes and getPastTotalSupply), and delegation (delegate, undelegate, delegateBySig; no double counting;
 * delegated votes follow the delegator). The GOVERN action and the emergency stop are in
 * Governance.guards.test.ts. The fixtures and checks are in test/helpers/governance.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { SUPPORT_CODES } from "../../protocol/enums.js";
import { MIN_STAKE } from "../helpers/agents.js";
import {
  addAgent,
  AGENT2_ID,
  AGENT_ID,
  AITBC,
  expectConserved,
  load,
  noopProposal,
  signDelegation,
  stakeMore,
  submit,
  toVoting,
  voter,
  votes,
} from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

describe("Governance: votes and delegation", function () {
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
});
