/**
 * ServiceMarketplace: posting and cancelling workloads. postWorkload and postWorkloadWithPermit (the request's
 * checks, escrow, a client agent's daily volume) and cancelWorkload. Unknown ids, the POST_WORKLOAD action and
 * the emergency stop are in ServiceMarketplace.guards.test.ts. The market fixture and its states are in
 * test/helpers/market.ts.
 */
import { expect } from "chai";
import { MaxUint256, toBeHex, ZeroHash } from "ethers";
import { network } from "hardhat";

import { FIELD_MODULUS } from "../../circuits/lib/field.js";
import { AITBC, HOUR, mintAitbc, registerAndStake, requiredStakeFor } from "../helpers/agents.js";
import {
  AGENT_ID,
  awarded,
  bidded,
  ESCROW,
  expectBooks,
  loadMarket,
  MODEL_HASH,
  now,
  offer,
  posted,
  PRICE_A,
  PROPOSAL,
  RESULT,
  send,
  SERVICE_A,
  signPermit,
  signResult,
  VERIFICATION,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("ServiceMarketplace: posting", function () {
  describe("postWorkload", function () {
    it("accepts a request with only a serviceType or only a modelHash", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now(), { modelHash: ZeroHash })));
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now(), { serviceType: ZeroHash })));
      expect(await f.marketplace.workloadCount()).to.equal(2n);
      expect(await f.marketplace.totalEscrowed()).to.equal(2n * ESCROW);
      await expectBooks(f);
    });

    it('reverts MarketplaceInvalidRequest("serviceType/modelHash") when neither is set', async function () {
      const f = await loadMarket();
      const request = workloadRequest(await now(), { serviceType: ZeroHash, modelHash: ZeroHash });
      await expect(f.marketplace.connect(f.client).postWorkload(request))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("serviceType/modelHash");
    });

    for (const [field, label, overrides] of [
      ["units", "0", { units: 0n }],
      ["units", "2^96 (above uint96)", { units: 2n ** 96n }],
      ["maxPricePerUnit", "0", { maxPricePerUnit: 0n }],
      ["maxPricePerUnit", "2^128 (above uint128)", { maxPricePerUnit: 2n ** 128n }],
    ] as const) {
      it(`reverts MarketplaceInvalidRequest("${field}") for ${field} ${label}`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now(), overrides)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs(field);
      });
    }

    it('reverts MarketplaceInvalidRequest("bidDeadline") for a deadline in the past or at the block\'s time', async function () {
      const f = await loadMarket();
      const t = (await now()) + 10n;
      for (const bidDeadline of [t - 100n, t - 1n, t]) {
        await time.setNextBlockTimestamp(t);
        await expect(f.marketplace.connect(f.client).postWorkload(workloadRequest(t, { bidDeadline })))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("bidDeadline");
      }
      await time.setNextBlockTimestamp(t);
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(t, { bidDeadline: t + 1n })));
    });

    it("reverts MarketplaceInvalidRequest for bidding or execution periods over 30 days (MAX_PERIOD)", async function () {
      const f = await loadMarket();
      const month = 30n * 24n * HOUR;
      const t = (await now()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(
        f.marketplace
          .connect(f.client)
          .postWorkload(workloadRequest(t, { bidDeadline: t + month + 1n, executionDeadline: t + month + 2n })),
      )
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("bidDeadline");
      const huge = 2n ** 64n - 1n; // would overflow the award's deadline arithmetic
      await expect(
        f.marketplace
          .connect(f.client)
          .postWorkload(workloadRequest(t, { bidDeadline: t + HOUR, executionDeadline: huge })),
      )
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("executionDeadline");
      await time.setNextBlockTimestamp(t + 5n);
      await send(
        f.marketplace
          .connect(f.client)
          .postWorkload(workloadRequest(t, { bidDeadline: t + 5n + month, executionDeadline: t + 5n + 2n * month })),
      );
    });

    it('reverts MarketplaceInvalidRequest("executionDeadline") at or before the bid deadline', async function () {
      const f = await loadMarket();
      const t = await now();
      for (const executionDeadline of [t + HOUR, t + HOUR - 1n]) {
        const request = workloadRequest(t, { bidDeadline: t + HOUR, executionDeadline });
        await expect(f.marketplace.connect(f.client).postWorkload(request))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("executionDeadline");
      }
    });

    it("reverts MarketplaceVerificationUnsupported for Full verification", async function () {
      const f = await loadMarket();
      const request = workloadRequest(await now(), { verification: VERIFICATION.full });
      await expect(f.marketplace.connect(f.client).postWorkload(request))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceVerificationUnsupported")
        .withArgs(VERIFICATION.full);
      const deadline = (await now()) + HOUR;
      const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
      await expect(f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceVerificationUnsupported")
        .withArgs(VERIFICATION.full);
    });

    it('reverts MarketplaceInvalidRequest("modelHash") for Zk verification without a model commitment in the field', async function () {
      const f = await loadMarket();
      // MODEL_HASH (a keccak hash) is above the field; 0 is no commitment
      expect(BigInt(MODEL_HASH) >= FIELD_MODULUS).to.be.true;
      for (const modelHash of [MODEL_HASH, ZeroHash, toBeHex(FIELD_MODULUS, 32)]) {
        const request = workloadRequest(await now(), { verification: VERIFICATION.zk, modelHash });
        await expect(f.marketplace.connect(f.client).postWorkload(request))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("modelHash");
        const deadline = (await now()) + HOUR;
        const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
        await expect(f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("modelHash");
      }
    });

    it("accepts Zk verification with a model commitment in the field; its result then needs a proof (MarketplaceProofRequired)", async function () {
      const f = await loadMarket();
      const modelHash = toBeHex(FIELD_MODULUS - 1n, 32);
      const inputHash = toBeHex(FIELD_MODULUS - 2n, 32);
      const request = workloadRequest(await now(), { verification: VERIFICATION.zk, modelHash, inputHash });
      await expect(f.marketplace.connect(f.client).postWorkload(request)).to.emit(f.marketplace, "WorkloadPosted");
      const w = await f.marketplace.getWorkload(WORKLOAD_ID);
      expect(w.verification).to.equal(VERIFICATION.zk);
      expect(w.modelHash).to.equal(modelHash);
      expect(w.inputHash).to.equal(inputHash);
      await send(f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A, { modelHash })));
      await send(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID));
      const signature = await signResult(f.agent, f.marketplace, WORKLOAD_ID, 0n, RESULT);
      await expect(f.marketplace.connect(f.agent).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceProofRequired")
        .withArgs(WORKLOAD_ID);
    });

    it("postWorkloadWithPermit validates the request first (MarketplaceInvalidRequest)", async function () {
      const f = await loadMarket();
      const deadline = (await now()) + HOUR;
      const { v, r, s } = await signPermit(f.token, f.permitClient, f.market, ESCROW, deadline);
      const request = workloadRequest(await now(), { units: 0n });
      await expect(f.marketplace.connect(f.permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("units");
    });

    it("reverts ERC20InsufficientAllowance without an approval", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.permitClient).postWorkload(workloadRequest(await now())))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.market, 0n, ESCROW);
    });

    it("a client agent's escrow counts toward its daily volume (AgentConstitutionDailyVolumeExceeded)", async function () {
      const f = await loadMarket();
      const { marketplace, constitution, token, clientAgent, operator } = f;
      const declared = 150n * AITBC;
      await registerAndStake(f, clientAgent, operator, requiredStakeFor(declared), { expectedDailyVolume: declared });
      await mintAitbc(f, clientAgent.address, 1_000n);
      await send(token.connect(clientAgent).approve(f.market, MaxUint256));
      await send(marketplace.connect(clientAgent).postWorkload(workloadRequest(await now())));
      expect((await constitution.usageOf(clientAgent.address)).volume).to.equal(ESCROW);
      await expect(marketplace.connect(clientAgent).postWorkload(workloadRequest(await now())))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(clientAgent.address, ESCROW, ESCROW, declared);
      // 50 more fit exactly.
      await send(marketplace.connect(clientAgent).postWorkload(workloadRequest(await now(), { units: 5n })));
      expect((await constitution.usageOf(clientAgent.address)).volume).to.equal(declared);
      await expectBooks(f);
    });
  });

  describe("cancelWorkload", function () {
    it("reverts MarketplaceNotClient for anyone but the client", async function () {
      const f = await posted();
      for (const who of [f.outsider, f.agent, f.guardian]) {
        await expect(f.marketplace.connect(who).cancelWorkload(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus once awarded, and when cancelled already", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
      const g = await posted();
      await send(g.marketplace.connect(g.client).cancelWorkload(WORKLOAD_ID));
      await expect(g.marketplace.connect(g.client).cancelWorkload(WORKLOAD_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.cancelled);
      await expectBooks(g);
    });

    it("a cancelled workload takes no bids, award or auto-award", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.cancelled);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.cancelled);
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.cancelled);
    });
  });
});
