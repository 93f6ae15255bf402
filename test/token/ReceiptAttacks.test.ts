import { expect } from "chai";
import { ethers } from "ethers";
import type { TypedDataDomain } from "ethers";
import { network } from "hardhat";

import { COMPUTE_RECEIPT_TYPES } from "../../protocol/eip712.js";
import { forEthers } from "../../scripts/lib/eip712.js";
import { receiptDomain, signReceipt } from "../../scripts/lib/receipts.js";
import type { ComputeReceipt } from "../../scripts/lib/receipts.js";
import type { AIToken } from "../../typechain-types/index.js";
import { AITBC, deployCore } from "../../scripts/lib/deploy.js";
import { receiptMaker } from "../helpers/receipts.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

/** Order of secp256k1's group. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const ECRECOVER_PRECOMPILE = "0x0000000000000000000000000000000000000001";

/** The core, plus two coordinator modules (EOAs holding COORDINATOR_ROLE) and the receipt domain. */
async function coreFixture() {
  const core = await deployCore(connection);
  const [coordinatorA, coordinatorB] = (await connection.ethers.getSigners()).slice(9, 11);
  if (!coordinatorA || !coordinatorB) throw new Error("the test network needs at least 11 accounts");
  const role = await core.token.COORDINATOR_ROLE();
  await core.token.connect(core.deployer).grantRole(role, coordinatorA.address);
  await core.token.connect(core.deployer).grantRole(role, coordinatorB.address);
  return { ...core, coordinatorA, coordinatorB, domain: await receiptDomain(core.token) };
}

/** Two independent cores on the same chain, both trusting the same attestor. */
async function twoCoresFixture() {
  const a = await deployCore(connection);
  const b = await deployCore(connection);
  return {
    ...a,
    tokenA: a.token,
    tokenB: b.token,
    domainA: await receiptDomain(a.token),
    domainB: await receiptDomain(b.token),
  };
}

const makeReceipt = receiptMaker("ReceiptAttacks.test", time);

/** The address the token's ECDSA check recovers from `signature` over `receipt` under `domain`. */
function recoveredSigner(domain: TypedDataDomain, receipt: ComputeReceipt, signature: string): string {
  return ethers.recoverAddress(
    ethers.TypedDataEncoder.hash(domain, forEthers(COMPUTE_RECEIPT_TYPES), receipt),
    signature,
  );
}

/** The same (r, s) point with s' = n - s and the other parity: a second valid ECDSA signature, high-s. */
function malleate(signature: string): { signature: string; v: number; r: string; s: string } {
  const bytes = ethers.getBytes(signature);
  const r = ethers.hexlify(bytes.slice(0, 32));
  const s = ethers.toBigInt(bytes.slice(32, 64));
  const v = bytes[64] === 27 ? 28 : 27;
  const highS = ethers.toBeHex(SECP256K1_N - s, 32);
  return { signature: ethers.concat([r, highS, ethers.toBeHex(v, 1)]), v, r, s: highS };
}

async function expectNothingMinted(token: AIToken, receipt: ComputeReceipt, supply = 0n): Promise<void> {
  expect(await token.totalSupply()).to.equal(supply);
  if (supply === 0n) {
    expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
    expect(await token.balanceOf(receipt.provider)).to.equal(0n);
  }
}

describe("Receipt attacks", function () {
  describe("replay on the same chain", function () {
    it("rejects a second submission of the same receipt with AITokenReceiptAlreadyMinted; a batch skips it", async function () {
      const { token, attestor, agent, client, outsider, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await token.connect(agent).mintFromReceipt(receipt, signature);

      for (const submitter of [agent, outsider]) {
        await expect(token.connect(submitter).mintFromReceipt(receipt, signature))
          .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
          .withArgs(receipt.receiptId);
      }
      expect(await token.mintFromReceipts.staticCall([receipt], [signature])).to.equal(0n);
      const tx = token.mintFromReceipts([receipt], [signature]);
      await expect(tx).to.emit(token, "ReceiptSkipped").withArgs(receipt.receiptId);
      await expect(tx).to.not.emit(token, "ReceiptMinted");
      await expect(tx).to.not.emit(token, "Transfer");
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("rejects the EIP-2098 compact (64-byte) encoding after the 65-byte one minted", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      const compact = ethers.Signature.from(signature).compactSerialized;
      expect(ethers.dataLength(compact)).to.equal(64);
      // the compact form is a genuine signature of the attestor...
      expect(recoveredSigner(domain, receipt, compact)).to.equal(attestor.address);

      await token.mintFromReceipt(receipt, signature);
      // ...but OZ ECDSA only takes 65-byte signatures, so the token rejects it before even reaching the replay check
      await expect(token.mintFromReceipt(receipt, compact))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("rejects the EIP-2098 compact encoding of a fresh receipt, which then mints once from the 65-byte form", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      const compact = ethers.Signature.from(signature).compactSerialized;

      await expect(token.mintFromReceipt(receipt, compact))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      await expectNothingMinted(token, receipt);

      await token.mintFromReceipt(receipt, signature);
      await expect(token.mintFromReceipt(receipt, compact))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(receipt.receiptId);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("rejects the v ∈ {0, 1} encoding with AITokenInvalidSignature", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      const { r, s, yParity } = ethers.Signature.from(signature);
      const rawV = ethers.concat([r, s, ethers.toBeHex(yParity, 1)]);
      await expect(token.mintFromReceipt(receipt, rawV))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      await expectNothingMinted(token, receipt);
    });

    it("rejects a minted receipt's signature with trailing bytes appended", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await token.mintFromReceipt(receipt, signature);
      await expect(token.mintFromReceipt(receipt, ethers.concat([signature, "0x00"])))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("rejects a re-signed receipt with the same id (a fresh signature does not make a fresh receipt)", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      await token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt));
      const sameId = { ...receipt, units: 11n, deadline: receipt.deadline + 1n };
      await expect(token.mintFromReceipt(sameId, await signReceipt(attestor, domain, sameId)))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(receipt.receiptId);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });
  });

  describe("replay on another contract", function () {
    it("rejects on token B, with AITokenSignerNotAttestor, a receipt signed for token A", async function () {
      const { tokenA, tokenB, domainA, domainB, attestor, agent, client } =
        await networkHelpers.loadFixture(twoCoresFixture);
      expect(await tokenB.getAddress()).to.not.equal(await tokenA.getAddress());
      expect(await tokenB.hasRole(await tokenB.ATTESTOR_ROLE(), attestor.address)).to.equal(true);

      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domainA, receipt);
      const signerSeenByB = recoveredSigner(domainB, receipt, signature);
      expect(signerSeenByB).to.not.equal(attestor.address);

      await expect(tokenB.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(tokenB, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, signerSeenByB);
      await expectNothingMinted(tokenB, receipt);

      // the receipt is still good where it was meant to be spent
      await tokenA.mintFromReceipt(receipt, signature);
      expect(await tokenA.balanceOf(agent.address)).to.equal(10n * AITBC);
      expect(await tokenB.balanceOf(agent.address)).to.equal(0n);
    });

    it("rejects on token A a receipt signed for token B, after B minted it", async function () {
      const { tokenA, tokenB, domainB, attestor, agent, client } = await networkHelpers.loadFixture(twoCoresFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domainB, receipt);
      await tokenB.mintFromReceipt(receipt, signature);
      await expect(tokenA.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(tokenA, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, recoveredSigner(await receiptDomain(tokenA), receipt, signature));
      await expectNothingMinted(tokenA, receipt);
    });
  });

  describe("replay on another chain id", function () {
    const otherChains: [string, (chainId: bigint) => bigint][] = [
      ["the next chain id", (chainId) => chainId + 1n],
      ["Ethereum mainnet (1)", () => 1n],
    ];
    for (const [label, otherChain] of otherChains) {
      it(`rejects a receipt signed for ${label} with AITokenSignerNotAttestor`, async function () {
        const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
        const { chainId } = await connection.ethers.provider.getNetwork();
        expect(domain.chainId).to.equal(chainId);
        const otherChainId = otherChain(chainId);
        expect(otherChainId).to.not.equal(chainId);
        const foreignDomain = { ...domain, chainId: otherChainId };

        const receipt = await makeReceipt({ provider: agent.address, client: client.address });
        const signature = await signReceipt(attestor, foreignDomain, receipt);
        const signerSeen = recoveredSigner(domain, receipt, signature);
        expect(signerSeen).to.not.equal(attestor.address);

        await expect(token.mintFromReceipt(receipt, signature))
          .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
          .withArgs(receipt.receiptId, signerSeen);
        await expectNothingMinted(token, receipt);
      });
    }
  });

  describe("signature malleability", function () {
    it("rejects a high-s malleated signature of a fresh receipt with AITokenInvalidSignature", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      const malleated = malleate(signature);

      // the malleated signature is a valid ECDSA signature of the attestor under raw ecrecover
      const digest = await token.hashReceipt(receipt);
      const raw = await connection.ethers.provider.call({
        to: ECRECOVER_PRECOMPILE,
        data: ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "uint8", "bytes32", "bytes32"],
          [digest, malleated.v, malleated.r, malleated.s],
        ),
      });
      expect(ethers.getAddress(ethers.dataSlice(raw, 12))).to.equal(attestor.address);
      expect(ethers.toBigInt(malleated.s)).to.be.greaterThan(SECP256K1_N / 2n);

      await expect(token.mintFromReceipt(receipt, malleated.signature))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      await expectNothingMinted(token, receipt);
    });

    it("rejects the high-s twin of an already minted receipt's signature and mints nothing more", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await token.mintFromReceipt(receipt, signature);
      await expect(token.mintFromReceipt(receipt, malleate(signature).signature))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
      // a batch skips a minted id before looking at its signature: the twin is skipped, and mints nothing
      await expect(token.mintFromReceipts([receipt], [malleate(signature).signature]))
        .to.emit(token, "ReceiptSkipped")
        .withArgs(receipt.receiptId);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
    });
  });

  describe("front-running a batch", function () {
    it("cannot sink a pending batch by minting one of its receipts alone first: the batch skips it and mints the rest", async function () {
      const { token, attestor, agent, agent2, client, outsider, domain } =
        await networkHelpers.loadFixture(coreFixture);
      const receipts = [
        await makeReceipt({ provider: agent.address, client: client.address, units: 1n }),
        await makeReceipt({ provider: agent2.address, client: client.address, units: 2n }),
        await makeReceipt({ provider: agent.address, client: client.address, units: 3n }),
      ];
      const signatures = await Promise.all(receipts.map((r) => signReceipt(attestor, domain, r)));
      const [, victim] = receipts;
      const [, victimSignature] = signatures;
      if (!victim || !victimSignature) throw new Error("unreachable");

      // the attacker copies one receipt out of the pending batch transaction and mints it first
      await connection.ethers.provider.send("evm_setAutomine", [false]);
      try {
        const batchTx = await token.connect(client).mintFromReceipts(receipts, signatures, { gasLimit: 1_000_000n });
        const frontRunTx = await token.connect(outsider).mintFromReceipt(victim, victimSignature, {
          gasLimit: 1_000_000n,
          maxPriorityFeePerGas: batchTx.maxPriorityFeePerGas === null ? null : batchTx.maxPriorityFeePerGas * 10n,
          maxFeePerGas: batchTx.maxFeePerGas === null ? null : batchTx.maxFeePerGas * 10n,
        });
        await connection.ethers.provider.send("evm_mine", []);
        const frontRun = await frontRunTx.wait();
        const batch = await batchTx.wait();
        if (frontRun === null || batch === null) throw new Error("not mined");
        expect(frontRun.blockNumber).to.equal(batch.blockNumber);
        expect(frontRun.index).to.be.lessThan(batch.index); // the front-run went first
        expect(batch.status).to.equal(1);
        const events = batch.logs
          .map((log) => token.interface.parseLog(log))
          .filter((e) => e !== null)
          .map((e) => [e.name, e.args[0] as string]);
        expect(events).to.deep.include(["ReceiptSkipped", victim.receiptId]);
        expect(events.filter(([name]) => name === "ReceiptMinted")).to.have.length(2);
      } finally {
        await connection.ethers.provider.send("evm_setAutomine", [true]);
      }

      // every receipt minted exactly once, each to its own provider
      expect(await token.balanceOf(agent.address)).to.equal(4n * AITBC);
      expect(await token.balanceOf(agent2.address)).to.equal(2n * AITBC);
      expect(await token.balanceOf(outsider.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(6n * AITBC);
      for (const r of receipts) expect(await token.isReceiptMinted(r.receiptId)).to.equal(true);
    });

    it("cannot make a batch pay twice by repeating a receipt in it", async function () {
      const { token, attestor, agent, client, outsider, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      const copies = Array.from({ length: 5 }, () => receipt);
      const signatures = Array.from({ length: 5 }, () => signature);
      expect(await token.connect(outsider).mintFromReceipts.staticCall(copies, signatures)).to.equal(10n * AITBC);
      await token.connect(outsider).mintFromReceipts(copies, signatures);
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });
  });

  describe("receipt keys across the two minting doors", function () {
    it("does not let an attested receipt pre-spend a coordinator's key with the same bytes32", async function () {
      const { token, attestor, coordinatorA, agent, client, outsider, domain } =
        await networkHelpers.loadFixture(coreFixture);
      const nullifier = ethers.id("a proof's nullifier, seen in the mempool");
      // someone gets a genuine attested receipt whose id is the coordinator's pending nullifier, and mints it first
      const squat = await makeReceipt({ receiptId: nullifier, provider: outsider.address, client: client.address });
      await token.connect(outsider).mintFromReceipt(squat, await signReceipt(attestor, domain, squat));
      await expect(token.connect(coordinatorA).mintFromVerifiedReceipt(nullifier, agent.address, 4n))
        .to.emit(token, "ReceiptMinted")
        .withArgs(nullifier, agent.address, coordinatorA.address, ethers.ZeroAddress, 4n, 4n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(4n * AITBC);
    });

    it("does not let one coordinator pre-spend another coordinator's key", async function () {
      const { token, coordinatorA, coordinatorB, agent, outsider } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("coordinator A's nullifier");
      await token.connect(coordinatorB).mintFromVerifiedReceipt(key, outsider.address, 1n);
      expect(await token.isVerifiedReceiptMinted(coordinatorA.address, key)).to.equal(false);
      await token.connect(coordinatorA).mintFromVerifiedReceipt(key, agent.address, 4n);
      expect(await token.isVerifiedReceiptMinted(coordinatorA.address, key)).to.equal(true);
      expect(await token.balanceOf(agent.address)).to.equal(4n * AITBC);
    });

    it("still mints each (coordinator, key) once: a replayed verified receipt reverts AITokenReceiptAlreadyMinted", async function () {
      const { token, coordinatorA, agent } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("replayed nullifier");
      await token.connect(coordinatorA).mintFromVerifiedReceipt(key, agent.address, 4n);
      await expect(token.connect(coordinatorA).mintFromVerifiedReceipt(key, agent.address, 4n))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(key);
      expect(await token.totalSupply()).to.equal(4n * AITBC);
    });
  });

  describe("forged and stale receipts", function () {
    it("rejects a receipt signed by a non-attestor with AITokenSignerNotAttestor", async function () {
      const { token, deployer, guardian, agent, client, outsider, domain } =
        await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: 1_000_000n });
      // an outsider, the provider itself, the client, the admin and a guardian are all not attestors
      for (const signer of [outsider, agent, client, deployer, guardian]) {
        await expect(token.mintFromReceipt(receipt, await signReceipt(signer, domain, receipt)))
          .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
          .withArgs(receipt.receiptId, signer.address);
      }
      await expectNothingMinted(token, receipt);
    });

    it("rejects receipts of an attestor whose role was revoked, even ones signed before", async function () {
      const { token, deployer, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await token.connect(deployer).revokeRole(await token.ATTESTOR_ROLE(), attestor.address);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, attestor.address);
      await expectNothingMinted(token, receipt);
    });

    it("lets the admin revoke a compromised attestor during an emergency stop; its receipts fail after resume", async function () {
      const { token, humanOverride, deployer, guardian, attestor, agent, client, domain } =
        await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await humanOverride.connect(guardian).emergencyStop("attestor key leaked");
      await expect(token.mintFromReceipt(receipt, signature)).to.be.revertedWithCustomError(
        token,
        "HumanOverrideEmergencyStopped",
      );
      await token.connect(deployer).revokeRole(await token.ATTESTOR_ROLE(), attestor.address);
      await humanOverride.connect(guardian).resume();
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, attestor.address);
      await expectNothingMinted(token, receipt);
    });

    it("rejects an expired receipt with AITokenReceiptExpired", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      const timestamp = receipt.deadline + 1n;
      await time.setNextBlockTimestamp(timestamp);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptExpired")
        .withArgs(receipt.receiptId, receipt.deadline, timestamp);
      await expectNothingMinted(token, receipt);
    });

    it("rejects an expired receipt whose deadline was pushed back after signing", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await time.increase(7_200n);
      const extended = { ...receipt, deadline: receipt.deadline + 86_400n };
      await expect(token.mintFromReceipt(extended, signature))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, recoveredSigner(domain, extended, signature));
      await expectNothingMinted(token, receipt);
    });

    const tampers: [string, (r: ComputeReceipt, attacker: string) => ComputeReceipt][] = [
      ["units raised", (r) => ({ ...r, units: r.units * 1_000n })],
      ["provider redirected to the attacker", (r, attacker) => ({ ...r, provider: attacker })],
      ["client changed", (r, attacker) => ({ ...r, client: attacker })],
      ["work hash changed", (r) => ({ ...r, workHash: ethers.id("other job") })],
      ["result hash changed", (r) => ({ ...r, resultHash: ethers.id("forged result") })],
      ["receipt id changed (to mint it twice)", (r) => ({ ...r, receiptId: ethers.id("fresh id") })],
    ];
    for (const [label, tamper] of tampers) {
      it(`rejects a receipt tampered after signing (${label}) with AITokenSignerNotAttestor`, async function () {
        const { token, attestor, agent, client, outsider, domain } = await networkHelpers.loadFixture(coreFixture);
        const receipt = await makeReceipt({ provider: agent.address, client: client.address });
        const signature = await signReceipt(attestor, domain, receipt);
        const tampered = tamper(receipt, outsider.address);
        const signerSeen = recoveredSigner(domain, tampered, signature);
        expect(signerSeen).to.not.equal(attestor.address);

        await expect(token.connect(outsider).mintFromReceipt(tampered, signature))
          .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
          .withArgs(tampered.receiptId, signerSeen);
        expect(await token.totalSupply()).to.equal(0n);
        expect(await token.balanceOf(outsider.address)).to.equal(0n);

        // the genuine receipt still mints, to its genuine provider only
        await token.connect(outsider).mintFromReceipt(receipt, signature);
        expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
        expect(await token.balanceOf(outsider.address)).to.equal(0n);
      });
    }

    it("pays a front-run submission to the signed provider, never to the submitter", async function () {
      const { token, attestor, agent, client, outsider, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await token.connect(outsider).mintFromReceipt(receipt, signature);
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
      expect(await token.balanceOf(outsider.address)).to.equal(0n);
      await expect(token.connect(agent).mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(receipt.receiptId);
    });
  });
});
