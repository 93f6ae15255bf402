/**
 * ServiceMarketplace: results and settlement. submitResult (signed results, relayed or not), accept, finalize
 * after the challenge window, and the window recorded at submission. Settlement itself is checked by
 * expectSettles (test/helpers/market.ts): the split, the books, reputation, load and the compute receipt. Unknown
 * ids, the SUBMIT_RESULT action, finalize as upkeep and the emergency stop are in ServiceMarketplace.guards.test.ts.
 */
import { expect } from "chai";
import { id, toBeHex, ZeroHash } from "ethers";
import { network } from "hardhat";

import {
  AGENT2_ID,
  AGENT_ID,
  awarded,
  bidded,
  CHALLENGE_WINDOW,
  disputed,
  expectBooks,
  expectSettles,
  MAX_CHALLENGE_WINDOW,
  MAX_PRICE,
  MIN_CHALLENGE_WINDOW,
  now,
  PRICE_A,
  PROPOSAL,
  PROTOCOL_FEE_BPS,
  RESULT,
  send,
  SERVICE_A,
  settlementB,
  signResult,
  statusOf,
  submitted,
  TIMEOUT_SLASH_BPS,
  UNITS,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

const { ethers, networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("ServiceMarketplace: results and settlement", function () {
  describe("submitResult", function () {
    it("anyone may relay the provider's signed result; the provider's gas is charged only when it sends", async function () {
      const f = await awarded();
      const gasBefore = (await f.constitution.usageOf(f.agent2.address)).gas;
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.outsider).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.emit(f.marketplace, "ResultSubmitted")
        .withArgs(WORKLOAD_ID, AGENT2_ID, RESULT);
      expect((await f.constitution.usageOf(f.agent2.address)).gas).to.equal(gasBefore);
    });

    it("accepts a result at the execution deadline", async function () {
      const f = await awarded();
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await time.setNextBlockTimestamp(f.request.executionDeadline);
      await send(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.submitted);
    });

    it("reverts MarketplaceWrongStatus before award and once submitted", async function () {
      const f = await bidded();
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.open);
      const g = await submitted();
      await expect(g.marketplace.connect(g.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.submitted);
    });

    it("reverts MarketplaceDeadlinePassed after the execution deadline", async function () {
      const f = await awarded();
      const signature = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await time.setNextBlockTimestamp(f.request.executionDeadline + 1n);
      await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDeadlinePassed")
        .withArgs(WORKLOAD_ID, f.request.executionDeadline);
    });

    it("reverts MarketplaceInvalidResultSignature for a provider that was not assigned (wrong signer)", async function () {
      const f = await awarded();
      for (const signer of [f.agent, f.operator, f.client]) {
        const signature = await signResult(signer, f.marketplace, WORKLOAD_ID, 0n, RESULT);
        await expect(f.marketplace.connect(f.agent).submitResult(WORKLOAD_ID, RESULT, signature))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
          .withArgs(WORKLOAD_ID);
      }
    });

    it("reverts MarketplaceInvalidResultSignature for a signature of another round, workload or result", async function () {
      const f = await awarded();
      for (const [workloadId, round, resultHash] of [
        [WORKLOAD_ID, 1n, RESULT],
        [2n, 0n, RESULT],
        [WORKLOAD_ID, 0n, id("another result")],
      ] as const) {
        const signature = await signResult(f.agent2, f.marketplace, workloadId, round, resultHash);
        await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
          .withArgs(WORKLOAD_ID);
      }
    });

    it("reverts MarketplaceInvalidResultSignature for garbage signatures", async function () {
      const f = await awarded();
      const good = await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      const highS = ethers.Signature.from(good);
      const garbage = [
        "0x",
        "0x1234",
        "0x" + "00".repeat(65),
        "0x" + "ff".repeat(65),
        good.slice(0, -2), // 64 bytes, no v
        good + "00", // 66 bytes
        ethers.concat([highS.r, toBeHex(ethers.N - BigInt(highS.s), 32), highS.v === 27 ? "0x1c" : "0x1b"]),
      ];
      for (const signature of garbage) {
        await expect(f.marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
          .withArgs(WORKLOAD_ID);
      }
    });
  });

  describe("accept", function () {
    it("reverts MarketplaceNotClient for anyone but the client (the provider included)", async function () {
      const f = await submitted();
      for (const who of [f.agent2, f.outsider, f.guardian, f.validator]) {
        await expect(f.marketplace.connect(who).accept(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus before a result is submitted, and when disputed", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
      const g = await disputed();
      await expect(g.marketplace.connect(g.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.disputed);
    });

    it("double settlement: accept twice, finalize after accept, reject after accept → MarketplaceWrongStatus", async function () {
      const f = await submitted();
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
      await expect(f.marketplace.connect(f.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.settled);
      await time.increase(CHALLENGE_WINDOW + 1n);
      await expect(f.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.settled);
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.settled);
      await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.settled);
      await expectBooks(f);
    });
  });

  describe("finalize", function () {
    it("reverts MarketplaceWrongStatus before submission, when disputed, and after finalize", async function () {
      const f = await awarded();
      await expect(f.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
      const g = await disputed();
      await time.increase(CHALLENGE_WINDOW + 1n);
      await expect(g.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.disputed);
      const h = await submitted();
      await time.increase(CHALLENGE_WINDOW + 1n);
      await send(h.marketplace.finalize(WORKLOAD_ID));
      await expect(h.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(h.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.settled);
      await expect(h.marketplace.connect(h.client).accept(WORKLOAD_ID))
        .to.be.revertedWithCustomError(h.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.settled);
    });

    it("reverts MarketplaceChallengeWindowOpen right after submission", async function () {
      const f = await submitted();
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await expect(f.marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, submittedAt + CHALLENGE_WINDOW);
    });
  });

  describe("challenge window snapshot", function () {
    it("a longer window set after submission changes nothing for that result: reject closes and finalize settles at the recorded end", async function () {
      const f = await submitted();
      const { marketplace, deployer, client } = f;
      const { submittedAt } = await marketplace.getWorkload(WORKLOAD_ID);
      await expect(
        marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, MAX_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS),
      )
        .to.emit(marketplace, "ParametersSet")
        .withArgs(PROTOCOL_FEE_BPS, MAX_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS);
      expect(await marketplace.challengeWindow()).to.equal(MAX_CHALLENGE_WINDOW);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).challengeWindow).to.equal(CHALLENGE_WINDOW);
      const endsAt = submittedAt + CHALLENGE_WINDOW;
      await time.setNextBlockTimestamp(endsAt);
      await expect(marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, endsAt);
      await time.setNextBlockTimestamp(endsAt + 1n);
      await expect(marketplace.connect(client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowClosed")
        .withArgs(WORKLOAD_ID, endsAt);
      await expectSettles(f, () => marketplace.finalize(WORKLOAD_ID), settlementB(f));
    });

    it("a shorter window set after submission changes nothing for that result: finalize stays closed and reject stays open until the recorded end", async function () {
      const f = await submitted();
      const { marketplace, deployer, client } = f;
      const { submittedAt } = await marketplace.getWorkload(WORKLOAD_ID);
      await send(
        marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, MIN_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS),
      );
      expect((await marketplace.getWorkload(WORKLOAD_ID)).challengeWindow).to.equal(CHALLENGE_WINDOW);
      const endsAt = submittedAt + CHALLENGE_WINDOW;
      await time.increaseTo(submittedAt + MIN_CHALLENGE_WINDOW + 1n);
      await expect(marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, endsAt);
      await time.setNextBlockTimestamp(endsAt);
      await expect(marketplace.connect(client).reject(WORKLOAD_ID, id("late but in time")))
        .to.emit(marketplace, "ResultRejected")
        .withArgs(WORKLOAD_ID, id("late but in time"));
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.disputed);
      await expectBooks(f);
    });

    it("the window is the one in force at submission (not at award): a later submission gets the new window, an earlier one keeps the old", async function () {
      const f = await submitted();
      const { marketplace, deployer, client, agent } = f;
      const first = await marketplace.getWorkload(WORKLOAD_ID);
      // Workload 2 is awarded under the old window, then the window shrinks, then its result arrives.
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now())));
      await send(marketplace.connect(agent).bid(2n, SERVICE_A, PRICE_A, PROPOSAL));
      await send(marketplace.connect(client).award(2n, 0n, AGENT_ID));
      await send(
        marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, MIN_CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS),
      );
      await send(
        marketplace.connect(agent).submitResult(2n, RESULT, await signResult(agent, marketplace, 2n, 0n, RESULT)),
      );
      const second = await marketplace.getWorkload(2n);
      expect(second.challengeWindow).to.equal(MIN_CHALLENGE_WINDOW);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).challengeWindow).to.equal(CHALLENGE_WINDOW);

      const secondEnds = second.submittedAt + MIN_CHALLENGE_WINDOW;
      await time.setNextBlockTimestamp(secondEnds);
      await expect(marketplace.finalize(2n))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(2n, secondEnds);
      await time.setNextBlockTimestamp(secondEnds + 1n);
      await expectSettles(f, () => marketplace.finalize(2n), {
        workloadId: 2n,
        provider: agent,
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
        client: client.address,
        units: UNITS,
        maxPrice: MAX_PRICE,
        price: PRICE_A,
      });
      await expect(marketplace.connect(client).reject(2n, ZeroHash))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceWrongStatus")
        .withArgs(2n, WORKLOAD.settled);
      // Workload 1 still has its day.
      await expect(marketplace.finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, first.submittedAt + CHALLENGE_WINDOW);
      await expect(marketplace.connect(client).reject(WORKLOAD_ID, ZeroHash))
        .to.emit(marketplace, "ResultRejected")
        .withArgs(WORKLOAD_ID, ZeroHash);
    });
  });
});
