/**
 * ServiceMarketplace: the checks every function shares, written once in test/helpers/behaviours.ts and applied
 * here to every function they concern: unknown workload and service ids; the emergency stop (every state-changing
 * function but the admin's recovery functions); the action each function charges to an agent's constitution; and
 * permissionless upkeep, charged to a calling agent only. Tables list the functions; a test checks that the
 * unknown-workload and stop tables cover the contract's ABI. The market fixture and its states are in
 * test/helpers/market.ts.
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import { network } from "hardhat";

import { AITBC, HOUR, mintAitbc, registerAgent, type Signer } from "../helpers/agents.js";
import {
  shouldBeChargedAsAgentAction,
  shouldBeRefusedWhileStopped,
  shouldChargeUpkeepToCallingAgent,
  shouldRevertForUnknownId,
} from "../helpers/behaviours.js";
import {
  AGENT2_ID,
  AGENT_ID,
  AWARD_WINDOW,
  awarded,
  bidded,
  CHALLENGE_WINDOW,
  disputed,
  ESCROW,
  expectBooks,
  loadMarket,
  now,
  offer,
  posted,
  type Posted,
  PRICE_A,
  PROPOSAL,
  RESULT,
  send,
  SERVICE_A,
  SERVICE_C,
  signPermit,
  signResult,
  submitted,
  UNKNOWN_SERVICE,
  UNKNOWN_WORKLOAD,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
  type Market,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

/** Ids that name no workload: 0 (never issued), the next id, and one far past the last. */
const UNKNOWN_WORKLOADS = [0n, WORKLOAD_ID + 1n, UNKNOWN_WORKLOAD] as const;
/** IZkVerifiers.sol's Groth16Proof, with bigints. */
type Groth16Proof = { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint] };
/** A Groth16 proof of nothing: the unknown id is checked before any proof is. */
const NO_PROOF: Groth16Proof = {
  a: [0n, 0n],
  b: [
    [0n, 0n],
    [0n, 0n],
  ],
  c: [0n, 0n],
};

/** A state after `f`'s bid deadline (auto-award is open). */
async function afterBidding(): Promise<Posted> {
  const f = await bidded();
  await time.increaseTo(f.request.bidDeadline + 1n);
  return f;
}

/** A state after the challenge window of workload 1's result (finalize is open). */
async function afterChallenge(): Promise<Posted> {
  const f = await submitted();
  await time.increase(CHALLENGE_WINDOW + 1n);
  return f;
}

/** A state after workload 1's dispute timed out (expireDispute is open: DISPUTE_TIMEOUT after the challenge window). */
async function afterDisputeTimeout(): Promise<Posted> {
  const f = await disputed();
  const w = await f.marketplace.getWorkload(WORKLOAD_ID);
  await time.increaseTo(w.submittedAt + w.challengeWindow + (await f.marketplace.DISPUTE_TIMEOUT()) + 1n);
  return f;
}

/** Workload 1 posted, and 1 AITBC sent straight to the marketplace (sweepExcess is open). */
async function donated(): Promise<Posted> {
  const f = await posted();
  await mintAitbc(f, f.outsider.address, 1n);
  await send(f.token.connect(f.outsider).transfer(f.market, AITBC));
  return f;
}

/** The books hold, leaving aside `donated`'s 1 AITBC while it is not swept yet. */
async function expectBooksOrDonation(f: Posted): Promise<void> {
  const excess = (await f.token.balanceOf(f.market)) - (await f.marketplace.totalEscrowed());
  expect([0n, AITBC]).to.include(excess);
}

/** A state after workload 1's execution deadline (claimTimeout is open). */
async function afterDeadline(): Promise<Posted> {
  const f = await awarded();
  await time.increaseTo(f.request.executionDeadline + 1n);
  return f;
}

/** `state`, with the client (a plain account so far) registered as an agent: its later actions are charged. */
function byClientAgent(state: () => Promise<Posted>): () => Promise<Posted> {
  return async () => {
    const f = await state();
    await registerAgent(f, f.client, f.operator);
    return f;
  };
}

/** The market, with `agent` (a provider agent) holding 100 AITBC to post a workload of its own. */
async function fundedAgent(): Promise<Market> {
  const f = await loadMarket();
  await mintAitbc(f, f.agent.address, 100n);
  return f;
}

/** Posts workload 1's request as `f.agent` with a fresh EIP-2612 permit (no allowance needed). */
async function postWithPermitAsAgent(f: Market) {
  const deadline = (await now()) + HOUR;
  const { v, r, s } = await signPermit(f.token, f.agent, f.market, ESCROW, deadline);
  return f.marketplace.connect(f.agent).postWorkloadWithPermit(workloadRequest(await now()), deadline, v, r, s);
}

describe("ServiceMarketplace: guards", function () {
  describe("unknown workload ids", function () {
    const cases: Array<{
      fn: string;
      setup: () => Promise<Posted>;
      call: (f: Posted, id: bigint) => Promise<unknown>;
    }> = [
      { fn: "getWorkload", setup: posted, call: (f, id) => f.marketplace.getWorkload(id) },
      { fn: "getBids", setup: posted, call: (f, id) => f.marketplace.getBids(id) },
      { fn: "receiptOf", setup: posted, call: (f, id) => f.marketplace.receiptOf(id) },
      { fn: "cancelWorkload", setup: posted, call: (f, id) => f.marketplace.connect(f.client).cancelWorkload(id) },
      {
        fn: "bid",
        setup: posted,
        call: (f, id) => f.marketplace.connect(f.agent).bid(id, SERVICE_A, PRICE_A, PROPOSAL),
      },
      { fn: "award", setup: bidded, call: (f, id) => f.marketplace.connect(f.client).award(id, 0n, AGENT_ID) },
      { fn: "autoAward", setup: bidded, call: (f, id) => f.marketplace.autoAward(id) },
      {
        fn: "submitResult",
        setup: awarded,
        call: async (f, id) =>
          f.marketplace
            .connect(f.agent2)
            .submitResult(id, RESULT, await signResult(f.agent2, f.marketplace, id, 0n, RESULT)),
      },
      {
        fn: "submitProvenResult",
        setup: awarded,
        call: async (f, id) =>
          f.marketplace
            .connect(f.agent2)
            .submitProvenResult(id, RESULT, await signResult(f.agent2, f.marketplace, id, 0n, RESULT), 0n, NO_PROOF),
      },
      { fn: "accept", setup: submitted, call: (f, id) => f.marketplace.connect(f.client).accept(id) },
      { fn: "finalize", setup: submitted, call: (f, id) => f.marketplace.finalize(id) },
      { fn: "reject", setup: submitted, call: (f, id) => f.marketplace.connect(f.client).reject(id, ZeroHash) },
      {
        fn: "resolveDispute",
        setup: disputed,
        call: (f, id) => f.marketplace.connect(f.validator).resolveDispute(id, true),
      },
      { fn: "claimTimeout", setup: awarded, call: (f, id) => f.marketplace.claimTimeout(id) },
      { fn: "expireDispute", setup: disputed, call: (f, id) => f.marketplace.expireDispute(id) },
    ];

    it("cover every function that takes a workload id (but hashResult, a pure digest)", async function () {
      const f = await loadMarket();
      const takesId: string[] = [];
      f.marketplace.interface.forEachFunction((fn) => {
        if (fn.inputs.some((input) => input.name === "workloadId") && fn.name !== "hashResult") takesId.push(fn.name);
      });
      expect([...takesId].sort()).to.deep.equal(cases.map((c) => c.fn).sort());
    });

    for (const c of cases) {
      shouldRevertForUnknownId({
        ...c,
        error: "MarketplaceUnknownWorkload",
        ids: UNKNOWN_WORKLOADS,
        contract: (f) => f.marketplace,
      });
    }
  });

  describe("unknown service ids", function () {
    const cases: Array<{
      fn: string;
      setup: () => Promise<Posted>;
      call: (f: Posted, id: string) => Promise<unknown>;
    }> = [
      { fn: "getServiceStatus", setup: posted, call: (f, id) => f.marketplace.getServiceStatus(id) },
      { fn: "serviceOwner", setup: posted, call: (f, id) => f.marketplace.serviceOwner(id) },
      {
        fn: "updateService",
        setup: posted,
        call: (f, id) => f.marketplace.connect(f.agent).updateService(id, offer(id)),
      },
      { fn: "delistService", setup: posted, call: (f, id) => f.marketplace.connect(f.agent).delistService(id) },
      {
        fn: "bid (the offer bid with)",
        setup: posted,
        call: (f, id) => f.marketplace.connect(f.agent).bid(WORKLOAD_ID, id, PRICE_A, PROPOSAL),
      },
    ];
    for (const c of cases) {
      shouldRevertForUnknownId({
        ...c,
        error: "MarketplaceUnknownService",
        ids: [UNKNOWN_SERVICE, ZeroHash],
        contract: (f) => f.marketplace,
      });
    }
  });

  describe("emergency stop", function () {
    // finalize and claimTimeout: their deadline ran out before the stop, so the stop does not revive it: each works
    // at once after the resume (IHumanOverride.extendedDeadline).
    const finalize = (f: Posted) => f.marketplace.finalize(WORKLOAD_ID);
    const claimTimeout = (f: Posted) => f.marketplace.claimTimeout(WORKLOAD_ID);
    const cases: Array<{
      fn: string;
      setup: () => Promise<Posted>;
      call: (f: Posted) => Promise<unknown>;
      afterResume?: (f: Posted) => Promise<void>;
    }> = [
      { fn: "listService", setup: posted, call: (f) => f.marketplace.connect(f.agent).listService(offer(SERVICE_C)) },
      {
        fn: "updateService",
        setup: posted,
        call: (f) => f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A)),
      },
      { fn: "delistService", setup: posted, call: (f) => f.marketplace.connect(f.agent).delistService(SERVICE_A) },
      {
        fn: "postWorkload",
        setup: posted,
        call: async (f) => f.marketplace.connect(f.client).postWorkload(workloadRequest(await now())),
      },
      {
        fn: "postWorkloadWithPermit",
        setup: posted,
        call: async (f) => {
          const deadline = (await now()) + HOUR;
          const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
          const request = workloadRequest(await now());
          return f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s);
        },
      },
      { fn: "cancelWorkload", setup: posted, call: (f) => f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID) },
      {
        fn: "bid",
        setup: posted,
        call: (f) => f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL),
      },
      {
        fn: "award",
        setup: bidded,
        call: (f) => f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID),
      },
      { fn: "autoAward", setup: afterBidding, call: (f) => f.marketplace.autoAward(WORKLOAD_ID) },
      {
        fn: "submitResult",
        setup: awarded,
        call: async (f) =>
          f.marketplace
            .connect(f.agent2)
            .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
      },
      { fn: "accept", setup: submitted, call: (f) => f.marketplace.connect(f.client).accept(WORKLOAD_ID) },
      {
        fn: "finalize",
        setup: afterChallenge,
        call: finalize,
      },
      { fn: "reject", setup: submitted, call: (f) => f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash) },
      {
        fn: "resolveDispute (validator)",
        setup: disputed,
        call: (f) => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true),
      },
      {
        fn: "resolveDispute (guardian)",
        setup: disputed,
        call: (f) => f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false),
      },
      {
        fn: "claimTimeout",
        setup: afterDeadline,
        call: claimTimeout,
      },
      { fn: "expireDispute", setup: afterDisputeTimeout, call: (f) => f.marketplace.expireDispute(WORKLOAD_ID) },
      { fn: "sweepExcess", setup: donated, call: (f) => f.marketplace.connect(f.outsider).sweepExcess() },
    ];

    it("covers every state-changing function but the admin's recovery functions and submitProvenResult", async function () {
      const f = await loadMarket();
      // setParameters stays open during a stop (ServiceMarketplace.deployment.test.ts), as do AccessControl's
      // role functions; submitProvenResult needs an inference proof to work after the resume (test/zk/).
      const open = ["setParameters", "grantRole", "revokeRole", "renounceRole", "submitProvenResult"];
      const mutating: string[] = [];
      f.marketplace.interface.forEachFunction((fn) => {
        if (fn.stateMutability !== "view" && fn.stateMutability !== "pure" && !open.includes(fn.name)) {
          mutating.push(fn.name);
        }
      });
      const covered = new Set(cases.map((c) => c.fn.split(" ")[0] ?? c.fn));
      expect([...mutating].sort()).to.deep.equal([...covered].sort());
    });

    for (const c of cases) {
      shouldBeRefusedWhileStopped({
        ...c,
        contract: (f) => f.marketplace,
        invariant: c.fn === "sweepExcess" ? expectBooksOrDonation : expectBooks,
      });
    }

    it("a deadline that ran out during a stop: it moves by the stop's length (at least a day past the resume), and no timeout before", async function () {
      const f = await awarded();
      await send(f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress"));
      const stoppedAt = BigInt(await time.latest());
      await time.increaseTo(f.request.executionDeadline + 10n * HOUR); // the deadline passes while stopped
      await send(f.humanOverride.connect(f.guardian).resume());
      const resumedAt = BigInt(await time.latest());
      const shifted = f.request.executionDeadline + (resumedAt - stoppedAt);
      const graceEnd = resumedAt + 24n * HOUR;
      await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, shifted > graceEnd ? shifted : graceEnd);
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await send(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
      expect((await f.marketplace.getWorkload(WORKLOAD_ID)).status).to.equal(WORKLOAD.submitted);
    });

    it("an award window that ran out during a stop: it moves by the stop's length (at least a day past the resume), and the award works after the resume", async function () {
      const f = await bidded();
      await time.increaseTo(f.request.bidDeadline + HOUR);
      await send(f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress"));
      const stoppedAt = BigInt(await time.latest());
      await time.increaseTo(f.request.bidDeadline + AWARD_WINDOW + 10n * HOUR); // the window closes while stopped
      await send(f.humanOverride.connect(f.guardian).resume());
      const resumedAt = BigInt(await time.latest());
      const shifted = f.request.bidDeadline + AWARD_WINDOW + (resumedAt - stoppedAt);
      const graceEnd = resumedAt + 24n * HOUR;
      const closedAt = shifted > graceEnd ? shifted : graceEnd;
      const beforeClose = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(closedAt);
      await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID));
      expect((await f.marketplace.getWorkload(WORKLOAD_ID)).status).to.equal(WORKLOAD.awarded);
      await beforeClose.restore();
      await time.increaseTo(closedAt + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
        .withArgs(WORKLOAD_ID, closedAt);
    });
  });

  describe("agent actions", function () {
    // listService, updateService and delistService: the provider's LIST_SERVICE.
    shouldBeChargedAsAgentAction({
      fn: "listService",
      action: "list-service",
      setup: loadMarket,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).listService(offer(SERVICE_C)),
    });
    shouldBeChargedAsAgentAction({
      fn: "updateService",
      action: "list-service",
      setup: loadMarket,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A)),
    });
    shouldBeChargedAsAgentAction({
      fn: "delistService",
      action: "list-service",
      setup: loadMarket,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).delistService(SERVICE_A),
    });
    // A client agent's posting, award, acceptance and rejection: its POST_WORKLOAD.
    shouldBeChargedAsAgentAction({
      fn: "postWorkload",
      action: "post-workload",
      setup: async () => {
        const f = await fundedAgent();
        await send(f.token.connect(f.agent).approve(f.market, ESCROW));
        return f;
      },
      agent: (f) => f.agent,
      call: async (f) => f.marketplace.connect(f.agent).postWorkload(workloadRequest(await now())),
    });
    shouldBeChargedAsAgentAction({
      fn: "postWorkloadWithPermit",
      action: "post-workload",
      setup: fundedAgent,
      agent: (f) => f.agent,
      call: postWithPermitAsAgent,
    });
    shouldBeChargedAsAgentAction({
      fn: "award",
      action: "post-workload",
      setup: byClientAgent(bidded),
      agent: (f) => f.client,
      call: (f) => f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID),
    });
    shouldBeChargedAsAgentAction({
      fn: "accept",
      action: "post-workload",
      setup: byClientAgent(submitted),
      agent: (f) => f.client,
      call: (f) => f.marketplace.connect(f.client).accept(WORKLOAD_ID),
    });
    shouldBeChargedAsAgentAction({
      fn: "reject",
      action: "post-workload",
      setup: byClientAgent(submitted),
      agent: (f) => f.client,
      call: (f) => f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash),
    });
    shouldBeChargedAsAgentAction({
      fn: "bid",
      action: "bid",
      setup: posted,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL),
    });
    // The provider's result is its SUBMIT_RESULT even when someone else relays it.
    shouldBeChargedAsAgentAction({
      fn: "submitResult (relayed)",
      action: "submit-result",
      setup: awarded,
      agent: (f) => f.agent2,
      call: async (f) =>
        f.marketplace
          .connect(f.outsider)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
    });
    shouldBeChargedAsAgentAction({
      fn: "resolveDispute (validator)",
      action: "resolve-dispute",
      setup: disputed,
      agent: (f) => f.validator,
      call: (f) => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true),
    });
    // Upkeep by an agent: its UPKEEP.
    shouldBeChargedAsAgentAction({
      fn: "autoAward",
      action: "upkeep",
      setup: afterBidding,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).autoAward(WORKLOAD_ID),
    });
    shouldBeChargedAsAgentAction({
      fn: "finalize",
      action: "upkeep",
      setup: afterChallenge,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).finalize(WORKLOAD_ID),
    });
    shouldBeChargedAsAgentAction({
      fn: "claimTimeout",
      action: "upkeep",
      setup: afterDeadline,
      agent: (f) => f.agent,
      call: (f) => f.marketplace.connect(f.agent).claimTimeout(WORKLOAD_ID),
    });
  });

  describe("upkeep by agents", function () {
    const cases: Array<{
      fn: string;
      setup: () => Promise<Posted>;
      call: (f: Posted, caller: Signer) => Promise<unknown>;
    }> = [
      {
        fn: "autoAward",
        setup: afterBidding,
        call: (f, caller) => f.marketplace.connect(caller).autoAward(WORKLOAD_ID),
      },
      {
        fn: "finalize",
        setup: afterChallenge,
        call: (f, caller) => f.marketplace.connect(caller).finalize(WORKLOAD_ID),
      },
      {
        fn: "claimTimeout",
        setup: afterDeadline,
        call: (f, caller) => f.marketplace.connect(caller).claimTimeout(WORKLOAD_ID),
      },
    ];
    for (const c of cases) {
      shouldChargeUpkeepToCallingAgent({ ...c, agent: (f) => f.agent, nonAgent: (f) => f.outsider });
    }
  });
});
