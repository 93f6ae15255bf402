/**
 * ServiceMarketplace: compute receipts. A settled workload issues a receipt (receiptOf) that the attestor signs
 * for the AIToken to mint once; settlement itself mints nothing. Unknown ids are in ServiceMarketplace.guards.test.ts.
 * The market fixture and its states are in test/helpers/market.ts.
 */
import { expect } from "chai";
import { id, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { DAY, HOUR } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AGENT_ID,
  attestReceipt,
  awarded,
  disputed,
  expectBooks,
  expectSettles,
  loadMarket,
  MAX_PRICE,
  now,
  offer,
  posted,
  PRICE_A,
  PRICE_B,
  PROPOSAL,
  type ReceiptData,
  receiptIdOf,
  receiptTuple,
  RESULT,
  REWARD_RATE,
  send,
  SERVICE_A,
  SERVICE_B,
  settlementB,
  signResult,
  split,
  statusOf,
  submitted,
  UNITS,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

const { ethers } = await network.getOrCreate();

/**
 * A reward rate at which the fixture settlement's fee (1 % of 10 units at 6 AITBC: 0.6 AITBC) backs all 10 units
 * (0.01 AITBC of reward): a receipt's units are those its fee backs, units × rate <= fee.
 */
const BACKED_RATE = REWARD_RATE / 1_000n;

describe("ServiceMarketplace: compute receipts", function () {
  describe("compute receipts", function () {
    it("receiptOf reverts MarketplaceWrongStatus unless settled (open, awarded, submitted, disputed, refunded, cancelled)", async function () {
      const refunded = async () => {
        const f = await disputed();
        await send(f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false));
        return f;
      };
      const cancelled = async () => {
        const f = await posted();
        await send(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID));
        return f;
      };
      for (const [fixture, status] of [
        [posted, WORKLOAD.open],
        [awarded, WORKLOAD.awarded],
        [submitted, WORKLOAD.submitted],
        [disputed, WORKLOAD.disputed],
        [refunded, WORKLOAD.refunded],
        [cancelled, WORKLOAD.cancelled],
      ] as const) {
        const f = await fixture();
        expect(await statusOf(f, WORKLOAD_ID)).to.equal(status);
        await expect(f.marketplace.receiptOf(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
          .withArgs(WORKLOAD_ID, status);
      }
    });

    it("the attestor signs an AIToken ComputeReceipt built from receiptOf (plus a deadline): it mints once, to the provider", async function () {
      const f = await submitted();
      const { marketplace, token, attestor, agent2, client, outsider } = f;
      await send(token.connect(f.deployer).setRewardRate(BACKED_RATE));
      const { receipt: issued } = await expectSettles(
        f,
        () => marketplace.connect(client).accept(WORKLOAD_ID),
        settlementB(f),
      );
      const view = await marketplace.receiptOf(WORKLOAD_ID);
      const data: ReceiptData = {
        receiptId: view.receiptId,
        provider: view.provider,
        client: view.client,
        units: view.units,
        workHash: view.workHash,
        resultHash: view.resultHash,
      };
      expect(data).to.deep.equal(issued);
      const deadline = (await now()) + HOUR;
      const { receipt, signature } = await attestReceipt(attestor, token, data, deadline);
      expect(ethers.recoverAddress(await token.hashReceipt(receipt), signature)).to.equal(attestor.address);

      expect(data.units).to.equal(UNITS);
      const reward = UNITS * BACKED_RATE;
      const supplyBefore = await token.totalSupply();
      const providerBefore = await token.balanceOf(agent2.address);
      // Anyone may submit an attested receipt; the reward goes to the receipt's provider.
      const tx = token.connect(outsider).mintFromReceipt(receipt, signature);
      await expect(tx)
        .to.emit(token, "ReceiptMinted")
        .withArgs(data.receiptId, agent2.address, attestor.address, client.address, UNITS, reward);
      await expect(tx).to.emit(token, "Transfer").withArgs(ZeroAddress, agent2.address, reward);
      expect(await token.totalSupply()).to.equal(supplyBefore + reward);
      expect((await token.balanceOf(agent2.address)) - providerBefore).to.equal(reward);
      expect(await token.isReceiptMinted(data.receiptId)).to.equal(true);

      // Exactly once: the same signature, and a fresh one over a later deadline, are the same receipt id.
      await expect(token.connect(outsider).mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(data.receiptId);
      const again = await attestReceipt(attestor, token, data, deadline + DAY);
      await expect(token.connect(agent2).mintFromReceipt(again.receipt, again.signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(data.receiptId);
      expect(await token.totalSupply()).to.equal(supplyBefore + reward);
      // The receipt view is unchanged by minting, and the marketplace's books are untouched.
      expect(await marketplace.receiptOf(WORKLOAD_ID)).to.deep.equal(receiptTuple(data));
      await expectBooks(f);
    });

    it("the parties cannot attest their own receipt: a provider- or client-signed (or tampered) receipt reverts AITokenSignerNotAttestor", async function () {
      const f = await submitted();
      const { marketplace, token, attestor, agent2, client } = f;
      await send(token.connect(f.deployer).setRewardRate(BACKED_RATE));
      const { receipt: data } = await expectSettles(
        f,
        () => marketplace.connect(client).accept(WORKLOAD_ID),
        settlementB(f),
      );
      const deadline = (await now()) + HOUR;
      for (const signer of [agent2, client]) {
        const { receipt, signature } = await attestReceipt(signer, token, data, deadline);
        await expect(token.connect(signer).mintFromReceipt(receipt, signature))
          .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
          .withArgs(data.receiptId, signer.address);
      }
      // The attestor's signature does not carry over to inflated units.
      const { receipt, signature } = await attestReceipt(attestor, token, data, deadline);
      const inflated = { ...receipt, units: receipt.units * 1_000n };
      const recovered = ethers.recoverAddress(await token.hashReceipt(inflated), signature);
      expect(recovered).to.not.equal(attestor.address);
      await expect(token.connect(agent2).mintFromReceipt(inflated, signature))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(data.receiptId, recovered);
      expect(await token.isReceiptMinted(data.receiptId)).to.equal(false);
    });

    it("receipt ids bind the marketplace and the workload; the work hash uses the request's serviceType and modelHash (zero when unset)", async function () {
      const f = await loadMarket();
      const { marketplace, client, agent, agent2 } = f;
      const result2 = id("result of workload 2");
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { modelHash: ZeroHash })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { serviceType: ZeroHash })));
      await send(marketplace.connect(agent2).bid(1n, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(agent).bid(2n, SERVICE_A, PRICE_A, PROPOSAL));
      await send(marketplace.connect(client).award(1n, 0n, AGENT2_ID));
      await send(marketplace.connect(client).award(2n, 0n, AGENT_ID));
      await send(
        marketplace.connect(agent2).submitResult(1n, RESULT, await signResult(agent2, marketplace, 1n, 0n, RESULT)),
      );
      await send(
        marketplace.connect(agent).submitResult(2n, result2, await signResult(agent, marketplace, 2n, 0n, result2)),
      );
      const { receipt: first } = await expectSettles(f, () => marketplace.connect(client).accept(1n), {
        ...settlementB(f, 1n),
        modelHash: ZeroHash,
      });
      const { receipt: second } = await expectSettles(f, () => marketplace.connect(client).accept(2n), {
        workloadId: 2n,
        provider: agent,
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
        client: client.address,
        units: UNITS,
        maxPrice: MAX_PRICE,
        price: PRICE_A,
        serviceType: ZeroHash,
        resultHash: result2,
      });
      expect(first.receiptId).to.equal(receiptIdOf(f.market, 1n));
      expect(second.receiptId).to.equal(receiptIdOf(f.market, 2n));
      expect(first.receiptId).to.not.equal(second.receiptId);
      expect(first.workHash).to.not.equal(second.workHash);
      // Another marketplace's workload 1 would have another receipt id.
      expect(receiptIdOf(f.outsider.address, 1n)).to.not.equal(first.receiptId);
    });

    it("self-dealing: a workload at 1 wei per unit with 1e9 units settles without minting anything, and its receipt rewards no unit", async function () {
      const f = await loadMarket();
      const { marketplace, token, client, agent2 } = f;
      const units = 1_000_000_000n;
      await send(marketplace.connect(agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: units })));
      await send(
        marketplace.connect(client).postWorkload(workloadRequest(await now(), { units, maxPricePerUnit: 1n })),
      );
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, 1n, PROPOSAL));
      await send(marketplace.connect(client).award(WORKLOAD_ID, 0n, AGENT2_ID));
      await send(
        marketplace
          .connect(agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      // Minted at settlement, units × rewardRate would be 1e9 AITBC: the whole supply cap, for 1e9 wei.
      expect(units * (await token.rewardRate())).to.equal(await token.cap());
      const supplyBefore = await token.totalSupply();
      const { receipt } = await expectSettles(f, () => marketplace.connect(client).accept(WORKLOAD_ID), {
        ...settlementB(f),
        units,
        maxPrice: 1n,
        price: 1n,
      });
      expect(await token.totalSupply()).to.equal(supplyBefore);
      // Its 1e7 wei of fee backs no unit's reward (1 AITBC): the receipt has nothing for an attestor to mint.
      expect(receipt.units).to.equal(0n);
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
      // 1e9 wei paid: 1e7 wei of fee, the rest to the provider, nothing back.
      expect(split(units, 1n, 1n)).to.deep.equal({
        payment: units,
        fee: units / 100n,
        net: units - units / 100n,
        refund: 0n,
      });
    });
  });
});
