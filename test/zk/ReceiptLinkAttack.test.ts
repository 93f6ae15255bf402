/**
 * Attack (issue 13, trust boundaries): link a private receipt mint to the receipt it spends, from chain data only.
 *
 * The marketplace emits every settled receipt's units in clear (ComputeReceiptIssued: settlement escrows and
 * pays units × price in public, so they cannot be hidden there). The attestor puts those receipts in its tree and
 * publishes the root; a provider then mints privately with a receipt proof to a fresh address. A watcher reads
 * the mint's amount (ProofMinted) and the reward rate, so the units the mint spent, and keeps the receipts that
 * could have minted exactly that: every receipt whose units equal them (a whole-receipt mint), and, when they are
 * a power of two, every receipt holding that denomination (a bit of its units: a note). If one receipt is left,
 * the mint is linked to it (and so to its workload, client and provider).
 *
 * The test asserts that every mint leaves more than one candidate, and prints the candidate set's size.
 */
import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { FIELD_MODULUS } from "../../circuits/lib/field.js";
import { Prover } from "../../circuits/lib/prover.js";
import {
  jobFromReceiptId,
  receiptNoteProofInput,
  receiptNotes,
  ReceiptTree,
  type PrivateReceipt,
} from "../../circuits/lib/receipt.js";
import { proofStruct } from "../../protocol/proofs.js";
import {
  buildEconomics,
  type Economics,
  SERVICE_A,
  SERVICE_B,
  settled,
  workloadRequest,
} from "../helpers/economics.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;

/** Units of the settled workloads, each unique: 10 is the receipt the victim mints. */
const UNITS = [3n, 5n, 6n, 10n, 12n, 7n];
const VICTIM_UNITS = 10n;

interface Settled {
  readonly f: Economics;
  /** The attestor's private openings, by receipt id (the attestor and each receipt's provider know them). */
  readonly openings: Map<string, PrivateReceipt>;
  readonly tree: ReceiptTree;
}

/** Six workloads settled (alternating providers), their receipts in the attestor's tree, its root published. */
async function settledFixture(): Promise<Settled> {
  const f = await buildEconomics(connection);
  // A receipt's units are those its fee backs (units × rate <= fee): at 2 AITBC a unit the 1 % fee is 0.02 AITBC a
  // unit, so a rate of 0.001 AITBC keeps every receipt at its work's units.
  await (await f.token.connect(f.deployer).setRewardRate(10n ** 15n)).wait();
  const openings = new Map<string, PrivateReceipt>();
  const tree = new ReceiptTree();
  for (const [i, units] of UNITS.entries()) {
    const now = BigInt(await networkHelpers.time.latest());
    const [provider, service] = i % 2 === 0 ? [f.agent, SERVICE_A] : [f.agent2, SERVICE_B];
    const workloadId = await settled(f, f.client, provider, service, workloadRequest(now, { units }), 2n * 10n ** 18n);
    const r = await f.marketplace.receiptOf(workloadId);
    const opening: PrivateReceipt = {
      job: jobFromReceiptId(r.receiptId),
      provider: BigInt(r.provider),
      units: r.units,
      price: (await f.marketplace.getWorkload(workloadId)).pricePerUnit,
      resultHash: BigInt(r.resultHash) % FIELD_MODULUS,
      salt: BigInt(id(`attack salt ${i}`)) % FIELD_MODULUS,
    };
    tree.insertReceipt(opening);
    openings.set(r.receiptId, opening);
  }
  await (await f.receiptMinter.connect(f.attestor).publishRoot(tree.root)).wait();
  return { f, openings, tree };
}

/** What a watcher reads from the chain: each settled receipt's units, and each private mint's units. */
async function chainView(f: Economics): Promise<{ receipts: Map<string, bigint>; mints: bigint[] }> {
  const receipts = new Map<string, bigint>();
  for (const log of await f.marketplace.queryFilter(f.marketplace.filters.ComputeReceiptIssued())) {
    receipts.set(log.args.receiptId, log.args.units);
  }
  const rate = await f.token.rewardRate();
  const mints = (await f.receiptMinter.queryFilter(f.receiptMinter.filters.ProofMinted())).map((log) => {
    const amount = log.args.amount;
    expect(amount % rate, "a mint is a whole number of units").to.equal(0n);
    return amount / rate;
  });
  return { receipts, mints };
}

/** The receipts that could have minted `minted` units in one mint: the whole receipt, or one of its bits. */
function candidates(receipts: Map<string, bigint>, minted: bigint): string[] {
  const powerOfTwo = minted > 0n && (minted & (minted - 1n)) === 0n;
  return [...receipts]
    .filter(([, units]) => units === minted || (powerOfTwo && (units & minted) !== 0n))
    .map(([r]) => r);
}

describe("attack: link a private receipt mint to its receipt from chain data (units are emitted)", function () {
  const prover = new Prover();

  after(async function () {
    await prover.close();
  });

  it("every private mint of the 10-unit receipt leaves more than one candidate receipt", async function () {
    this.timeout(180_000);
    const { f, openings, tree } = await networkHelpers.loadFixture(settledFixture);
    const victim = [...openings.values()].find((o) => o.units === VICTIM_UNITS);
    if (victim === undefined) throw new Error("no victim receipt");
    const rate = await f.token.rewardRate();

    // The provider mints its receipt privately: one note per set bit of its units (8 + 2), each to a fresh address.
    const notes = receiptNotes(victim.units);
    for (const denomination of notes) {
      const fresh = ethers.Wallet.createRandom().address;
      const { statement, input } = receiptNoteProofInput(victim, denomination, tree, BigInt(fresh), rate);
      const { calldata } = await prover.prove("receipt", input);
      await (
        await f.receiptMinter
          .connect(f.outsider)
          .mint(proofStruct(calldata), statement.root, statement.nullifier, fresh, statement.denomination)
      ).wait();
    }

    // The watcher, from logs alone.
    const { receipts, mints } = await chainView(f);
    expect(receipts.size).to.equal(UNITS.length);
    expect(mints).to.have.length(notes.length);
    expect(
      mints.reduce((sum, m) => sum + m, 0n),
      "the notes add up to the receipt",
    ).to.equal(VICTIM_UNITS);
    for (const minted of mints) {
      const set = candidates(receipts, minted);
      console.log(`      a mint of ${minted} units: ${set.length} candidate receipt(s) of ${receipts.size}`);
      expect(set.length, `candidates for a mint of ${minted} units`).to.be.greaterThan(1);
    }
  });
});
