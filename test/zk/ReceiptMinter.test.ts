/**
 * ReceiptMinter (contracts/zk/ReceiptMinter.sol) on chain with real Groth16 proofs of the receipt circuit: the
 * attestor publishes receipt-tree roots; whoever knows a receipt's opening mints it as notes, one of 2^k units ×
 * rewardRate per set bit k of its units, to the recipient each proof names, once per note nullifier. Three proofs
 * (the 10-unit receipt's 8-unit note to recipient A and to B, its 2-unit note to A) are made once and reused;
 * every negative case is a changed copy of one of them.
 */
import { expect } from "chai";
import { id, ZeroAddress } from "ethers";
import { network } from "hardhat";

import { FIELD_MODULUS, fieldToBytes32, poseidonHash } from "../../circuits/lib/field.js";
import { Prover } from "../../circuits/lib/prover.js";
import {
  jobFromReceiptId,
  noteNullifier,
  noteUnits,
  ReceiptTree,
  receiptCommitment,
  receiptNoteProofInput,
  receiptNotes,
  type PrivateReceipt,
  type ReceiptMintStatement,
} from "../../circuits/lib/receipt.js";
import { proofStruct, type Groth16ProofStruct } from "../../protocol/proofs.js";
import { AITBC } from "../helpers/agents.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { REWARD_RATE } from "../helpers/market.js";
import { tamperedProofs } from "../helpers/proofs.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;

const P = FIELD_MODULUS;
const MAX_UINT256 = (1n << 256n) - 1n;

const signers = await ethers.getSigners();
/** deployProtocol's roles: the receipt's provider is `agent`; `outsider` is a second recipient. */
const [, , , , , providerSigner, , , outsiderSigner] = signers;
if (!providerSigner || !outsiderSigner) throw new Error("the test network needs 9 accounts");
const PROVIDER = providerSigner.address;
const OTHER_RECIPIENT = outsiderSigner.address;

function receipt(n: number, units: bigint): PrivateReceipt {
  return {
    job: jobFromReceiptId(id(`zk receipt ${n}`)),
    provider: BigInt(PROVIDER),
    units,
    price: 5n * AITBC,
    resultHash: BigInt(id(`zk result ${n}`)) % P,
    salt: BigInt(id(`zk salt ${n}`)) % P,
  };
}

/**
 * The attestor's tree: three receipts; the proofs open receipt 1 (10 units = notes 2^3 and 2^1), a middle leaf.
 */
const RECEIPTS = [receipt(0, 3n), receipt(1, 10n), receipt(2, 7n)];
const tree = new ReceiptTree();
for (const r of RECEIPTS) tree.insert(receiptCommitment(r));
const OPENED = RECEIPTS[1] ?? receipt(1, 10n);
const UNITS = OPENED.units;
const ROOT = tree.root;
/** The note most tests mint: 2^3 = 8 units. */
const NOTE = 3;
const NOTE_UNITS = noteUnits(NOTE);
const NULLIFIER = noteNullifier(OPENED, NOTE);
/** The receipt's other note: 2^1 = 2 units. */
const SMALL_NOTE = 1;
/** Another attestor tree (one receipt): its root is valid but not the one the proofs were made against. */
const otherTree = new ReceiptTree();
otherTree.insert(receiptCommitment(receipt(9, 1n)));

interface MintProof {
  statement: ReceiptMintStatement;
  proof: Groth16ProofStruct;
}

/**
 * The protocol (the ReceiptMinter's attestor is the fixture's `attestor`, its admin the deployer) with ROOT
 * published.
 */
async function minterFixture() {
  const f = await deployProtocol(connection);
  await (await f.receiptMinter.connect(f.attestor).publishRoot(ROOT)).wait();
  return f;
}
const loadMinter = () => networkHelpers.loadFixture(minterFixture);
type Minter = Awaited<ReturnType<typeof minterFixture>>;

/** Calls mint with a proof's statement, fields replaceable. */
function mint(
  f: Minter,
  m: MintProof,
  overrides: Partial<{
    proof: Groth16ProofStruct;
    root: bigint;
    nullifier: bigint;
    recipient: string;
    denomination: bigint;
  }> = {},
) {
  return f.receiptMinter
    .connect(f.client)
    .mint(
      overrides.proof ?? m.proof,
      overrides.root ?? m.statement.root,
      overrides.nullifier ?? m.statement.nullifier,
      overrides.recipient ?? fieldToAddress(m.statement.recipient),
      overrides.denomination ?? m.statement.denomination,
    );
}

function fieldToAddress(v: bigint): string {
  return ethers.getAddress(`0x${v.toString(16).padStart(40, "0")}`);
}

describe("ReceiptMinter (on chain, real receipt proofs)", function () {
  const prover = new Prover();
  /** Receipt 1's 8-unit note minted to its provider, and to another recipient (a second proof of that note). */
  let toProvider: MintProof;
  let toOther: MintProof;
  /** Receipt 1's 2-unit note, to its provider. */
  let smallNote: MintProof;

  async function prove(recipient: string, denomination = NOTE): Promise<MintProof> {
    const { statement, input } = receiptNoteProofInput(OPENED, denomination, tree, BigInt(recipient), REWARD_RATE);
    const result = await prover.prove("receipt", input);
    return { statement, proof: proofStruct(result.calldata) };
  }

  before(async function () {
    this.timeout(120_000);
    toProvider = await prove(PROVIDER);
    toOther = await prove(OTHER_RECIPIENT);
    smallNote = await prove(PROVIDER, SMALL_NOTE);
  });

  after(async function () {
    await prover.close();
  });

  describe("deployment", function () {
    it("is wired to the token and its verifier, with the fixture's attestor and the token's coordinator role", async function () {
      const f = await loadMinter();
      const m = f.receiptMinter;
      expect(await m.token()).to.equal(await f.token.getAddress());
      expect(await m.verifier()).to.equal(await f.receiptVerifier.getAddress());
      expect(await m.hasRole(await m.ATTESTOR_ROLE(), f.attestor.address)).to.be.true;
      expect(await m.hasRole(await m.DEFAULT_ADMIN_ROLE(), f.deployer.address)).to.be.true;
      expect(await f.token.hasRole(await f.token.COORDINATOR_ROLE(), await m.getAddress())).to.be.true;
      expect(await f.token.rewardRate()).to.equal(REWARD_RATE);
    });

    it("reverts ReceiptMinterZeroAddress when any constructor argument is the zero address", async function () {
      const f = await loadMinter();
      const args = [
        await f.token.getAddress(),
        await f.receiptVerifier.getAddress(),
        f.deployer.address,
        f.attestor.address,
      ];
      for (let i = 0; i < args.length; ++i) {
        const bad = [...args];
        bad[i] = ZeroAddress;
        await expect(ethers.deployContract("ReceiptMinter", bad)).to.be.revertedWithCustomError(
          f.receiptMinter,
          "ReceiptMinterZeroAddress",
        );
      }
    });
  });

  describe("publishRoot", function () {
    it("the attestor publishes a root: RootPublished, isKnownRoot", async function () {
      const f = await loadMinter();
      expect(await f.receiptMinter.isKnownRoot(ROOT)).to.be.true;
      expect(await f.receiptMinter.isKnownRoot(otherTree.root)).to.be.false;
      await expect(f.receiptMinter.connect(f.attestor).publishRoot(otherTree.root))
        .to.emit(f.receiptMinter, "RootPublished")
        .withArgs(otherTree.root, f.attestor.address);
      expect(await f.receiptMinter.isKnownRoot(otherTree.root)).to.be.true;
      expect(await f.receiptMinter.isKnownRoot(ROOT)).to.be.true; // every published root stays valid
      // the largest field element is a valid root
      await expect(f.receiptMinter.connect(f.attestor).publishRoot(P - 1n)).to.emit(f.receiptMinter, "RootPublished");
    });

    it("reverts AccessControlUnauthorizedAccount for anyone without the attestor role; the admin can grant it", async function () {
      const f = await loadMinter();
      const role = await f.receiptMinter.ATTESTOR_ROLE();
      for (const who of [f.outsider, f.deployer, f.agent]) {
        await expect(f.receiptMinter.connect(who).publishRoot(otherTree.root))
          .to.be.revertedWithCustomError(f.receiptMinter, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, role);
      }
      await (await f.receiptMinter.connect(f.deployer).grantRole(role, f.outsider.address)).wait();
      await expect(f.receiptMinter.connect(f.outsider).publishRoot(otherTree.root))
        .to.emit(f.receiptMinter, "RootPublished")
        .withArgs(otherTree.root, f.outsider.address);
    });

    it("reverts ReceiptMinterInvalidRoot for 0 and for values at or above the field modulus", async function () {
      const f = await loadMinter();
      for (const root of [0n, P, P + ROOT, MAX_UINT256]) {
        await expect(f.receiptMinter.connect(f.attestor).publishRoot(root))
          .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterInvalidRoot")
          .withArgs(root);
      }
    });

    it("reverts ReceiptMinterRootExists for a root published before", async function () {
      const f = await loadMinter();
      await expect(f.receiptMinter.connect(f.attestor).publishRoot(ROOT))
        .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterRootExists")
        .withArgs(ROOT);
    });
  });

  describe("mint", function () {
    it("a valid note proof, sent by anyone, mints 2^denomination × rate to the recipient it names (ProofMinted, the token's ReceiptMinted), and spends the note's nullifier", async function () {
      const f = await loadMinter();
      const amount = NOTE_UNITS * REWARD_RATE;
      expect(toProvider.statement).to.deep.equal({
        root: ROOT,
        nullifier: NULLIFIER,
        recipient: BigInt(PROVIDER),
        rate: REWARD_RATE,
        denomination: BigInt(NOTE),
      });
      const minter = await f.receiptMinter.getAddress();
      const supply = await f.token.totalSupply();
      const [provider, sender] = [await f.token.balanceOf(PROVIDER), await f.token.balanceOf(f.client.address)];
      expect(await f.receiptMinter.isSpent(NULLIFIER)).to.be.false;
      expect(await f.token.isVerifiedReceiptMinted(minter, fieldToBytes32(NULLIFIER))).to.be.false;
      expect(
        await f.receiptMinter.connect(f.client).mint.staticCall(toProvider.proof, ROOT, NULLIFIER, PROVIDER, NOTE),
      ).to.equal(amount);
      await expect(mint(f, toProvider))
        .to.emit(f.receiptMinter, "ProofMinted")
        .withArgs(NULLIFIER, ROOT, PROVIDER, NOTE, amount)
        .and.to.emit(f.token, "ReceiptMinted")
        .withArgs(fieldToBytes32(NULLIFIER), PROVIDER, minter, ZeroAddress, NOTE_UNITS, amount);
      expect(await f.token.balanceOf(PROVIDER)).to.equal(provider + amount);
      expect(await f.token.balanceOf(f.client.address)).to.equal(sender); // the sender gets nothing
      expect(await f.token.totalSupply()).to.equal(supply + amount);
      expect(await f.receiptMinter.isSpent(NULLIFIER)).to.be.true;
      expect(await f.token.isVerifiedReceiptMinted(minter, fieldToBytes32(NULLIFIER))).to.be.true;
    });

    it("the second proof of the same note mints to its own recipient instead", async function () {
      const f = await loadMinter();
      const amount = NOTE_UNITS * REWARD_RATE;
      const [before, otherBefore] = [await f.token.balanceOf(PROVIDER), await f.token.balanceOf(OTHER_RECIPIENT)];
      await expect(mint(f, toOther))
        .to.emit(f.receiptMinter, "ProofMinted")
        .withArgs(NULLIFIER, ROOT, OTHER_RECIPIENT, NOTE, amount);
      expect(await f.token.balanceOf(OTHER_RECIPIENT)).to.equal(otherBefore + amount);
      expect(await f.token.balanceOf(PROVIDER)).to.equal(before);
    });

    it("the receipt's notes (2^3 and 2^1 of its 10 units) mint units × rate in all, each once, with unlinkable nullifiers; no other note exists", async function () {
      const f = await loadMinter();
      expect(receiptNotes(UNITS)).to.deep.equal([SMALL_NOTE, NOTE]);
      const supply = await f.token.totalSupply();
      await expect(mint(f, smallNote))
        .to.emit(f.receiptMinter, "ProofMinted")
        .withArgs(smallNote.statement.nullifier, ROOT, PROVIDER, SMALL_NOTE, noteUnits(SMALL_NOTE) * REWARD_RATE);
      await expect(mint(f, toProvider)).to.emit(f.receiptMinter, "ProofMinted");
      expect(await f.token.totalSupply()).to.equal(supply + UNITS * REWARD_RATE);
      expect(smallNote.statement.nullifier).to.not.equal(NULLIFIER);
      for (const proof of [smallNote, toProvider, toOther]) {
        await expect(mint(f, proof)).to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterNullifierSpent");
      }
      // Over-mint: no proof exists for a note the receipt does not hold (the circuit has no witness: receipt.test.ts),
      // and the prover refuses to build one; a held note's proof under another denomination does not verify.
      for (const denomination of [0, 2, 4, 63]) {
        expect(() => receiptNoteProofInput(OPENED, denomination, tree, BigInt(PROVIDER), REWARD_RATE)).to.throw(
          /^denomination: the receipt's 10 units hold no note of 2\^\d+ units \(its notes: 2\^1, 2\^3\)/,
        );
        // the nullifier such a note would have: Poseidon(job, salt, denomination)
        const nullifier = poseidonHash([OPENED.job, OPENED.salt, BigInt(denomination)]);
        await expect(
          mint(f, toProvider, { nullifier, denomination: BigInt(denomination) }),
        ).to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterInvalidProof");
      }
      expect(await f.token.totalSupply()).to.equal(supply + UNITS * REWARD_RATE);
    });

    it("reverts ReceiptMinterNullifierSpent for the same proof again, and for a second, different proof of the same note", async function () {
      const f = await loadMinter();
      await (await mint(f, toProvider)).wait();
      await expect(mint(f, toProvider))
        .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterNullifierSpent")
        .withArgs(NULLIFIER);
      // another proof of receipt 1's note (other randomness, other recipient): same nullifier
      expect(toOther.proof).to.not.deep.equal(toProvider.proof);
      expect(toOther.statement.nullifier).to.equal(NULLIFIER);
      await expect(mint(f, toOther))
        .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterNullifierSpent")
        .withArgs(NULLIFIER);
      expect(await f.token.balanceOf(OTHER_RECIPIENT)).to.equal(0n);
    });

    it("reverts ReceiptMinterUnknownRoot for a root never published, even the proof's own tree's before publication", async function () {
      const f = await loadMinter();
      await expect(mint(f, toProvider, { root: otherTree.root }))
        .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterUnknownRoot")
        .withArgs(otherTree.root);
      // a second minter on the same token and verifier, where nothing is published yet
      const fresh = await ethers.deployContract("ReceiptMinter", [
        await f.token.getAddress(),
        await f.receiptVerifier.getAddress(),
        f.deployer.address,
        f.attestor.address,
      ]);
      await expect(fresh.mint(toProvider.proof, ROOT, NULLIFIER, PROVIDER, NOTE))
        .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterUnknownRoot")
        .withArgs(ROOT);
    });

    it("reverts ReceiptMinterInvalidProof for a proof under another published root", async function () {
      const f = await loadMinter();
      await (await f.receiptMinter.connect(f.attestor).publishRoot(otherTree.root)).wait();
      await expect(mint(f, toProvider, { root: otherTree.root })).to.be.revertedWithCustomError(
        f.receiptMinter,
        "ReceiptMinterInvalidProof",
      );
    });

    it("reverts ReceiptMinterInvalidProof for a tampered proof (one coordinate changed)", async function () {
      const f = await loadMinter();
      for (const [what, proof] of tamperedProofs(toProvider.proof)) {
        await expect(mint(f, toProvider, { proof }), what).to.be.revertedWithCustomError(
          f.receiptMinter,
          "ReceiptMinterInvalidProof",
        );
      }
      expect(await f.receiptMinter.isSpent(NULLIFIER)).to.be.false;
      await expect(mint(f, toProvider)).to.emit(f.receiptMinter, "ProofMinted"); // the original still works
    });

    it("reverts ReceiptMinterInvalidProof for a proof made for recipient A submitted with recipient B", async function () {
      const f = await loadMinter();
      await expect(mint(f, toProvider, { recipient: OTHER_RECIPIENT })).to.be.revertedWithCustomError(
        f.receiptMinter,
        "ReceiptMinterInvalidProof",
      );
      await expect(mint(f, toOther, { recipient: PROVIDER })).to.be.revertedWithCustomError(
        f.receiptMinter,
        "ReceiptMinterInvalidProof",
      );
    });

    it("reverts ReceiptMinterInvalidProof for another nullifier (in the field)", async function () {
      const f = await loadMinter();
      for (const nullifier of [
        NULLIFIER + 1n,
        noteNullifier(RECEIPTS[0] ?? OPENED, 0),
        smallNote.statement.nullifier, // the same receipt's other note
      ]) {
        await expect(mint(f, toProvider, { nullifier })).to.be.revertedWithCustomError(
          f.receiptMinter,
          "ReceiptMinterInvalidProof",
        );
      }
    });

    it("reverts ReceiptMinterInvalidDenomination for a denomination of 64 or more (2^64 units: the circuit proves units < 2^64), before the proof", async function () {
      const f = await loadMinter();
      expect(await f.receiptMinter.NOTE_BITS()).to.equal(64n);
      for (const denomination of [64n, 65n, 255n, 256n, P, MAX_UINT256]) {
        await expect(mint(f, toProvider, { denomination }))
          .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterInvalidDenomination")
          .withArgs(denomination);
      }
      expect(await f.receiptMinter.isSpent(NULLIFIER)).to.be.false;
    });

    it("reverts ReceiptMinterInvalidProof for a note proof submitted with another denomination (the receipt's other note, a bigger one, 0, 63)", async function () {
      const f = await loadMinter();
      for (const denomination of [SMALL_NOTE, NOTE + 1, 0, 63]) {
        await expect(
          mint(f, toProvider, { denomination: BigInt(denomination) }),
          `denomination ${denomination}`,
        ).to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterInvalidProof");
      }
      expect(await f.token.balanceOf(PROVIDER)).to.equal(0n);
    });

    it("reverts ReceiptMinterInvalidProof when the reward rate changed after proving (the proof binds the rate)", async function () {
      const f = await loadMinter();
      const newRate = 2n * REWARD_RATE;
      await (await f.token.connect(f.deployer).setRewardRate(newRate)).wait();
      // the proven note (8 × new rate would mint twice the amount), and the note worth the old amount (4 × new rate)
      for (const denomination of [BigInt(NOTE), BigInt(NOTE - 1)]) {
        await expect(mint(f, toProvider, { denomination })).to.be.revertedWithCustomError(
          f.receiptMinter,
          "ReceiptMinterInvalidProof",
        );
      }
      // back to the proven rate, the proof mints again
      await (await f.token.connect(f.deployer).setRewardRate(REWARD_RATE)).wait();
      await expect(mint(f, toProvider))
        .to.emit(f.receiptMinter, "ProofMinted")
        .withArgs(NULLIFIER, ROOT, PROVIDER, NOTE, NOTE_UNITS * REWARD_RATE);
    });

    it("reverts ReceiptMinterZeroRate when the token's rate reads 0 (the token refuses to set 0: the rate's storage slot is zeroed)", async function () {
      const f = await loadMinter();
      await expect(f.token.connect(f.deployer).setRewardRate(0n)).to.be.revertedWithCustomError(
        f.token,
        "AITokenInvalidRewardRate",
      );
      // AIToken cannot be made to return 0 through its interface; find the slot that holds the rate and clear it.
      const token = await f.token.getAddress();
      let zeroed = false;
      for (let slot = 0; slot < 64 && !zeroed; ++slot) {
        const value = BigInt(await networkHelpers.getStorageAt(token, slot));
        if (value !== REWARD_RATE) continue;
        await networkHelpers.setStorageAt(token, slot, 0n);
        if ((await f.token.rewardRate()) === 0n) zeroed = true;
        else await networkHelpers.setStorageAt(token, slot, value);
      }
      expect(zeroed, "found the reward rate's storage slot").to.be.true;
      await expect(mint(f, toProvider)).to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterZeroRate");
    });

    it('reverts ReceiptMinterInvalidField("nullifier") for a nullifier at or above the field modulus (its alias too)', async function () {
      const f = await loadMinter();
      for (const nullifier of [P, NULLIFIER + P, MAX_UINT256]) {
        await expect(mint(f, toProvider, { nullifier }))
          .to.be.revertedWithCustomError(f.receiptMinter, "ReceiptMinterInvalidField")
          .withArgs("nullifier", nullifier);
      }
    });

    it("is blocked by the emergency stop (the token's stop check), and mints after resume", async function () {
      const f = await loadMinter();
      await (await f.humanOverride.connect(f.guardian).emergencyStop("incident")).wait();
      await expect(mint(f, toProvider)).to.be.revertedWithCustomError(f.humanOverride, "HumanOverrideEmergencyStopped");
      expect(await f.receiptMinter.isSpent(NULLIFIER)).to.be.false;
      await (await f.humanOverride.connect(f.guardian).resume()).wait();
      await expect(mint(f, toProvider)).to.emit(f.receiptMinter, "ProofMinted");
    });

    it("cannot mint once the token revokes its COORDINATOR_ROLE (the token's AccessControl error)", async function () {
      const f = await loadMinter();
      const role = await f.token.COORDINATOR_ROLE();
      const minter = await f.receiptMinter.getAddress();
      await (await f.token.connect(f.deployer).revokeRole(role, minter)).wait();
      await expect(mint(f, toProvider))
        .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
        .withArgs(minter, role);
      expect(await f.receiptMinter.isSpent(NULLIFIER)).to.be.false;
    });
  });
});
