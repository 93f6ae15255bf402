/**
 * ServiceMarketplace: service offers. listService, updateService and delistService: who may, the offer's checks,
 * the load an offer keeps. Unknown ids, the LIST_SERVICE action and the emergency stop are in
 * ServiceMarketplace.guards.test.ts. The market fixture and its states are in test/helpers/market.ts.
 */
import { expect } from "chai";
import { id, ZeroHash } from "ethers";

import { AITBC, registerAgent } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AGENT_ID,
  awarded,
  expectSettles,
  freeze,
  loadMarket,
  loadOf,
  MODEL_HASH,
  now,
  offer,
  PRICE_B,
  PROPOSAL,
  RESULT,
  send,
  SERVICE_A,
  SERVICE_B,
  SERVICE_C,
  SERVICE_NAME,
  settlementB,
  signResult,
  UNITS,
  VALIDATOR_ID,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

describe("ServiceMarketplace: services", function () {
  describe("listService", function () {
    it("lists an offer: the serviceType is keccak256 of its name; the currentLoad passed in is ignored", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { currentLoad: 77n })))
        .to.emit(f.marketplace, "ServiceListed")
        .withArgs(SERVICE_C, AGENT_ID, [SERVICE_C, SERVICE_NAME, 5n * AITBC, 1_000n, 0n, MODEL_HASH, 9_500n]);
      expect(await loadOf(f, SERVICE_C)).to.equal(0n);
      expect(await f.marketplace.serviceOwner(SERVICE_C)).to.deep.equal([AGENT_ID, true]);
    });

    it("accepts a 64-byte service name", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { serviceName: "n".repeat(64) })));
      expect((await f.marketplace.getServiceStatus(SERVICE_C)).serviceName).to.equal("n".repeat(64));
    });

    it("reverts MarketplaceNotRegistered for an account that is not an agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.outsider).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
    });

    it("reverts MarketplaceNotServiceProvider for a validator agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.validator).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceProvider")
        .withArgs(VALIDATOR_ID);
    });

    it("reverts MarketplaceAgentNotActive for a provider agent without stake, and for a frozen one", async function () {
      const f = await loadMarket();
      const unstakedId = await registerAgent(f, f.outsider, f.operator);
      await expect(f.marketplace.connect(f.outsider).listService(offer(SERVICE_C)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(unstakedId);
      await freeze(f, f.agent);
      await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceInvalidServiceId for the zero id", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent).listService(offer(ZeroHash))).to.be.revertedWithCustomError(
        f.marketplace,
        "MarketplaceInvalidServiceId",
      );
    });

    it("reverts MarketplaceServiceExists for an id already listed, by its owner or another provider", async function () {
      const f = await loadMarket();
      for (const who of [f.agent, f.agent2]) {
        await expect(f.marketplace.connect(who).listService(offer(SERVICE_A)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceExists")
          .withArgs(SERVICE_A);
      }
    });

    it("reverts MarketplaceServiceExists for a delisted id listed by another provider (ids never change hands)", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
      await expect(f.marketplace.connect(f.agent2).listService(offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceExists")
        .withArgs(SERVICE_A);
    });

    for (const [field, label, overrides] of [
      ["serviceName", "an empty name", { serviceName: "" }],
      ["serviceName", "a 65-byte name", { serviceName: "n".repeat(65) }],
      ["pricePerUnit", "a zero price", { pricePerUnit: 0n }],
      ["maxCapacity", "a zero capacity", { maxCapacity: 0n }],
    ] as const) {
      it(`reverts MarketplaceInvalidRequest("${field}") for ${label}`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, overrides)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs(field);
      });
    }
  });

  describe("updateService", function () {
    it("replaces the terms and keeps the load", async function () {
      const f = await awarded();
      const updated = offer(SERVICE_B, {
        serviceName: "gpu-training",
        pricePerUnit: 9n * AITBC,
        maxCapacity: UNITS,
        modelHash: id("other model"),
        minAccuracy: 1n,
        currentLoad: 0n,
      });
      await expect(f.marketplace.connect(f.agent2).updateService(SERVICE_B, updated))
        .to.emit(f.marketplace, "ServiceUpdated")
        .withArgs(SERVICE_B, AGENT2_ID, [SERVICE_B, "gpu-training", 9n * AITBC, UNITS, UNITS, id("other model"), 1n]);
      expect(await loadOf(f, SERVICE_B)).to.equal(UNITS);
      // Awarded work continues.
      await send(
        f.marketplace
          .connect(f.agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
    });

    it("reverts MarketplaceNotRegistered for an account that is not an agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.outsider).updateService(SERVICE_A, offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
    });

    it("reverts MarketplaceNotServiceOwner for another agent", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.agent2).updateService(SERVICE_A, offer(SERVICE_A)))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceOwner")
        .withArgs(SERVICE_A, AGENT2_ID);
    });

    for (const [field, label, overrides] of [
      ["serviceName", "an empty name", { serviceName: "" }],
      ["serviceName", "a 65-byte name", { serviceName: "n".repeat(65) }],
      ["pricePerUnit", "a zero price", { pricePerUnit: 0n }],
      ["maxCapacity", "a zero capacity", { maxCapacity: 0n }],
    ] as const) {
      it(`reverts MarketplaceInvalidRequest("${field}") for ${label}`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A, overrides)))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs(field);
      });
    }

    it("reverts MarketplaceCapacityBelowLoad below the current load; the load itself is accepted", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 9n })))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityBelowLoad")
        .withArgs(SERVICE_B, 9n, UNITS);
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: UNITS })));
      expect((await f.marketplace.getServiceStatus(SERVICE_B)).maxCapacity).to.equal(UNITS);
    });
  });

  describe("delistService", function () {
    it("stops new bids; awarded work continues", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.agent2).delistService(SERVICE_B))
        .to.emit(f.marketplace, "ServiceDelisted")
        .withArgs(SERVICE_B, AGENT2_ID);
      expect(await f.marketplace.serviceOwner(SERVICE_B)).to.deep.equal([AGENT2_ID, false]);
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now())));
      await expect(f.marketplace.connect(f.agent2).bid(2n, SERVICE_B, PRICE_B, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_B);
      await send(
        f.marketplace
          .connect(f.agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(f.agent2, f.marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    it("reverts MarketplaceNotRegistered and MarketplaceNotServiceOwner", async function () {
      const f = await loadMarket();
      await expect(f.marketplace.connect(f.outsider).delistService(SERVICE_A))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
      await expect(f.marketplace.connect(f.agent2).delistService(SERVICE_A))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceOwner")
        .withArgs(SERVICE_A, AGENT2_ID);
    });

    it("reverts MarketplaceServiceNotListed when delisted already", async function () {
      const f = await loadMarket();
      await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
      await expect(f.marketplace.connect(f.agent).delistService(SERVICE_A))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_A);
    });
  });
});
