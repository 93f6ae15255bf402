/**
 * Receipt units: the receipt circuit proves units < 2^64 (circuits/src/receipt.circom, Num2Bits(64)), so the
 * marketplace takes workloads of at most 2^64 − 1 units (else a settled receipt could never be minted privately)
 * and ReceiptMinter refuses a note of 2^64 units or more (denomination 64) before it verifies a proof.
 */
import { expect } from "chai";
import { network } from "hardhat";

import type { Groth16ProofStruct } from "../../protocol/proofs.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { buildEconomics, type Economics, post, workloadRequest } from "../helpers/economics.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const TWO_64 = 1n << 64n;
const ZERO_PROOF: Groth16ProofStruct = {
  a: [0n, 0n],
  b: [
    [0n, 0n],
    [0n, 0n],
  ],
  c: [0n, 0n],
};

async function marketFixture(): Promise<Economics> {
  return buildEconomics(connection);
}

async function minterFixture() {
  const f = await deployProtocol(connection);
  await (await f.receiptMinter.connect(f.attestor).publishRoot(1n)).wait();
  return f;
}

describe("Receipt units: the contracts take what the receipt circuit proves", function () {
  it("attack (unprovable receipt): a workload of 2^64 units reverts MarketplaceInvalidRequest(units)", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    const request = workloadRequest(BigInt(await time.latest()), { units: TWO_64, maxPricePerUnit: 1n });
    await expect(f.marketplace.connect(f.client).postWorkload(request))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
      .withArgs("units");
  });

  it("takes a workload of 2^64 − 1 units", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    const request = workloadRequest(BigInt(await time.latest()), { units: TWO_64 - 1n, maxPricePerUnit: 1n });
    expect(await post(f, f.client, request)).to.equal(1n);
  });

  it("ReceiptMinter reverts ReceiptMinterInvalidDenomination for a note of 2^64 units, before the proof", async function () {
    const f = await networkHelpers.loadFixture(minterFixture);
    expect(1n << 64n).to.equal(TWO_64);
    await expect(f.receiptMinter.mint(ZERO_PROOF, 1n, 1n, f.agent.address, 64n))
      .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterInvalidDenomination")
      .withArgs(64n);
  });
});
