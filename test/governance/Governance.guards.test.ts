/**
 * Governance: the checks its functions share, written once in test/helpers/behaviours.ts and applied here to every
 * function they concern: unknown proposal ids; the emergency stop (proposing, voting, queueing, executing,
 * delegating and syncing; a veto stays open, see Governance.proposals.test.ts); and the GOVERN action each
 * proposal, vote and delegation charges to the agent's constitution. The fixtures and checks are in
 * test/helpers/governance.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { SUPPORT_CODES } from "../../protocol/enums.js";
import {
  shouldBeChargedAsAgentAction,
  shouldBeRefusedWhileStopped,
  shouldRevertForUnknownId,
} from "../helpers/behaviours.js";
import {
  type Gov,
  load,
  noopProposal,
  type Proposal,
  signDelegation,
  submit,
  toVoteEnd,
  toVoting,
} from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { time } = connection.networkHelpers;

type WithProposal = Gov & { p: Proposal };

/** The fixture, with a no-op proposal described `description` (not proposed yet). */
async function drafted(description = "guards"): Promise<WithProposal> {
  const f = await load();
  return { ...f, p: await noopProposal(f, description) };
}

/** The proposal proposed by `agent`, its voting open. */
async function voting(): Promise<WithProposal> {
  const f = await drafted();
  await submit(f.governor, f.agent, f.p);
  await toVoting(connection, f.governor, f.p.id);
  return f;
}

/** The proposal voted through by `agent2` (10,000 votes: the quorum), its voting over. */
async function succeeded(): Promise<WithProposal> {
  const f = await voting();
  await (await f.governor.connect(f.agent2).castVote(f.p.id, SUPPORT_CODES.for)).wait();
  await toVoteEnd(connection, f.governor, f.p.id);
  return f;
}

/** The proposal queued, its timelock delay over. */
async function executable(): Promise<WithProposal> {
  const f = await succeeded();
  await (await f.governor["queue(uint256)"](f.p.id)).wait();
  await time.increaseTo(await f.governor.proposalEta(f.p.id));
  return f;
}

/** `agent` delegated to `agent2` (so that it can undelegate). */
async function delegated(): Promise<Gov> {
  const f = await load();
  await (await f.agentVotes.connect(f.agent).delegate(f.agent2.address)).wait();
  return f;
}

/** `agent`'s EIP-712 delegation to `agent2` (nonce 0, an hour to run), for anyone to submit. */
async function signedDelegation() {
  const f = await load();
  const expiry = BigInt(await time.latest()) + 3600n;
  return { ...f, expiry, sig: await signDelegation(f, f.agent, f.agent2.address, 0n, expiry) };
}

describe("Governance: guards", function () {
  describe("unknown proposal ids", function () {
    const cases: Array<{ fn: string; call: (f: Gov, id: bigint) => Promise<unknown> }> = [
      { fn: "state", call: (f, id) => f.governor.state(id) },
      { fn: "castVote", call: (f, id) => f.governor.connect(f.agent).castVote(id, SUPPORT_CODES.for) },
      {
        fn: "castVoteWithReason",
        call: (f, id) => f.governor.connect(f.agent).castVoteWithReason(id, SUPPORT_CODES.for, "x"),
      },
      { fn: "queue", call: (f, id) => f.governor["queue(uint256)"](id) },
      { fn: "execute", call: (f, id) => f.governor["execute(uint256)"](id) },
      { fn: "veto", call: (f, id) => f.governor.connect(f.guardian).veto(id, "unknown") },
    ];
    for (const c of cases) {
      shouldRevertForUnknownId({
        ...c,
        error: "GovernorNonexistentProposal",
        ids: [0n, 1n],
        setup: voting,
        contract: (f) => f.governor,
      });
    }
  });

  describe("emergency stop", function () {
    shouldBeRefusedWhileStopped({
      fn: "propose",
      setup: drafted,
      call: (f) => f.governor.connect(f.agent).propose(f.p.targets, f.p.values, f.p.calldatas, f.p.description),
      contract: (f) => f.governor,
    });
    shouldBeRefusedWhileStopped({
      fn: "castVote",
      setup: voting,
      call: (f) => f.governor.connect(f.agent2).castVote(f.p.id, SUPPORT_CODES.for),
      contract: (f) => f.governor,
    });
    shouldBeRefusedWhileStopped({
      fn: "castVoteWithReason",
      setup: voting,
      call: (f) => f.governor.connect(f.agent2).castVoteWithReason(f.p.id, SUPPORT_CODES.for, "x"),
      contract: (f) => f.governor,
    });
    shouldBeRefusedWhileStopped({
      fn: "queue",
      setup: succeeded,
      call: (f) => f.governor["queue(uint256)"](f.p.id),
      contract: (f) => f.governor,
    });
    shouldBeRefusedWhileStopped({
      fn: "execute",
      setup: executable,
      call: (f) => f.governor["execute(uint256)"](f.p.id),
      contract: (f) => f.governor,
      afterCall: async (f) => {
        const executed = await f.governor.queryFilter(f.governor.filters.ProposalExecuted());
        expect(executed.map((e) => e.args.proposalId)).to.deep.equal([f.p.id]);
      },
    });
    shouldBeRefusedWhileStopped({
      fn: "delegate",
      setup: load,
      call: (f) => f.agentVotes.connect(f.agent).delegate(f.agent2.address),
      contract: (f) => f.agentVotes,
    });
    shouldBeRefusedWhileStopped({
      fn: "undelegate",
      setup: delegated,
      call: (f) => f.agentVotes.connect(f.agent).undelegate(),
      contract: (f) => f.agentVotes,
    });
    shouldBeRefusedWhileStopped({
      fn: "delegateBySig",
      setup: signedDelegation,
      call: (f) => {
        const { v, r, s } = f.sig;
        return f.agentVotes.connect(f.outsider).delegateBySig(f.agent2.address, 0n, f.expiry, v, r, s);
      },
      contract: (f) => f.agentVotes,
    });
    shouldBeRefusedWhileStopped({
      fn: "sync",
      setup: load,
      call: (f) => f.agentVotes.connect(f.outsider).sync([f.agent.address]),
      contract: (f) => f.agentVotes,
    });
  });

  describe("the GOVERN action", function () {
    shouldBeChargedAsAgentAction({
      fn: "propose",
      action: "govern",
      setup: drafted,
      agent: (f) => f.agent,
      call: (f) => f.governor.connect(f.agent).propose(f.p.targets, f.p.values, f.p.calldatas, f.p.description),
    });
    shouldBeChargedAsAgentAction({
      fn: "castVote",
      action: "govern",
      setup: voting,
      agent: (f) => f.agent,
      call: (f) => f.governor.connect(f.agent).castVote(f.p.id, SUPPORT_CODES.for),
    });
    shouldBeChargedAsAgentAction({
      fn: "castVoteWithReason",
      action: "govern",
      setup: voting,
      agent: (f) => f.agent,
      call: (f) => f.governor.connect(f.agent).castVoteWithReason(f.p.id, SUPPORT_CODES.for, "x"),
    });
    shouldBeChargedAsAgentAction({
      fn: "delegate",
      action: "govern",
      setup: load,
      agent: (f) => f.agent,
      call: (f) => f.agentVotes.connect(f.agent).delegate(f.agent2.address),
    });
    shouldBeChargedAsAgentAction({
      fn: "undelegate",
      action: "govern",
      setup: delegated,
      agent: (f) => f.agent,
      call: (f) => f.agentVotes.connect(f.agent).undelegate(),
    });
    // A signed delegation is the signer's action, whoever submits it.
    shouldBeChargedAsAgentAction({
      fn: "delegateBySig",
      action: "govern",
      setup: signedDelegation,
      agent: (f) => f.agent,
      call: (f) => {
        const { v, r, s } = f.sig;
        return f.agentVotes.connect(f.outsider).delegateBySig(f.agent2.address, 0n, f.expiry, v, r, s);
      },
    });
  });
});
