/**
 * Self-dealing (wash work) must not pay: a client and a provider who are one owner (two unrelated-looking
 * addresses, which the chain cannot tell apart) settle work between themselves and have its compute receipt
 * minted. The payment goes from one pocket to the other; the protocol fee goes to the treasury. The receipt's
 * reward must never exceed that fee, through either door that mints from the receipt the marketplace issued
 * (an attestor's signature over receiptOf, or the private notes an attestor commits from receiptOf's units).
 */
import { expect } from "chai";
import { network } from "hardhat";

import { AITBC, DAY } from "../helpers/agents.js";
import { buildEconomics, type Economics, SERVICE_B, settled, workloadRequest } from "../helpers/economics.js";
import { attestReceipt, type ReceiptData } from "../helpers/market.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

async function marketFixture(): Promise<Economics> {
  return buildEconomics(connection);
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** The pair's AITBC: the client's balance and the provider agent's (its stake does not move). */
async function pairWealth(f: Economics): Promise<bigint> {
  return (await f.token.balanceOf(f.client.address)) + (await f.token.balanceOf(f.agent2.address));
}

/** Settles `units` at `price` from `client` to agent2, then has the attestor sign and mint its receipt if it has units. */
async function washOnce(f: Economics, units: bigint, price: bigint): Promise<{ fee: bigint; receipt: ReceiptData }> {
  const request = workloadRequest(await now(), { units, maxPricePerUnit: price });
  const workloadId = await settled(f, f.client, f.agent2, SERVICE_B, request, price);
  const view = await f.marketplace.receiptOf(workloadId);
  const receipt: ReceiptData = {
    receiptId: view.receiptId,
    provider: view.provider,
    client: view.client,
    units: view.units,
    workHash: view.workHash,
    resultHash: view.resultHash,
  };
  const fee = (units * price * (await f.marketplace.protocolFeeBps())) / 10_000n;
  if (receipt.units > 0n) {
    const signed = await attestReceipt(f.attestor, f.token, receipt, (await now()) + DAY);
    await (await f.token.connect(f.agent2).mintFromReceipt(signed.receipt, signed.signature)).wait();
  }
  return { fee, receipt };
}

describe("ServiceMarketplace: self-dealing receipts", function () {
  for (const [label, units, price] of [
    ["at the full price, 10 units at 2 AITBC", 10n, 2n * AITBC],
    ["at 1 wei a unit", 1_000n, 1n],
    ["at a high price, 10 units at 100 AITBC", 10n, 100n * AITBC],
  ] as const) {
    it(`attack: a client and a provider washing work ${label} end no richer (mint <= fee)`, async function () {
      const f = await networkHelpers.loadFixture(marketFixture);
      const before = await pairWealth(f);
      const { fee, receipt } = await washOnce(f, units, price);
      const rate = await f.token.rewardRate();
      // What either door would mint from this receipt: its units × the reward rate. Never above the fee.
      expect(receipt.units * rate).to.be.at.most(fee);
      // The pair paid the fee to the treasury and got at most that back: no richer.
      expect(await pairWealth(f)).to.be.at.most(before);
    });
  }
});
