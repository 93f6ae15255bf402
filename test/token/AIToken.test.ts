import { anyUint } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { ethers } from "ethers";
import type { ContractTransactionResponse, LogDescription, Signer, TypedDataDomain } from "ethers";
import { network } from "hardhat";

import { COMPUTE_RECEIPT_TYPES, PERMIT_TYPES } from "../../protocol/eip712.js";
import { forEthers } from "../../scripts/lib/eip712.js";
import { receiptDomain, signReceipt } from "../../scripts/lib/receipts.js";
import type { ComputeReceipt } from "../../scripts/lib/receipts.js";
import type { AIToken } from "../../typechain-types/index.js";
import { DEFAULT_CONSTRAINTS } from "../../deploy/modules/Core.js";
import { AITBC, deployCore } from "../../scripts/lib/deploy.js";
import { shouldBeChargedAsAgentAction, shouldBeRefusedWhileStopped } from "../helpers/behaviours.js";
import { type Core, registerAndStake, requiredStakeFor, type Signer as AgentSigner } from "../helpers/agents.js";
import { receiptMaker } from "../helpers/receipts.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const SMALL_CAP = 10n * AITBC;
const MAX_REWARD_RATE = 1_000n * AITBC;
const TRANSFER_ACTION = 0;
const DAY = 86_400n;
/** The daily volume the fixture agents declare: the default limit, so they start with DEFAULT_CONSTRAINTS. */
const DECLARED_VOLUME = DEFAULT_CONSTRAINTS.maxDailyVolume;

/** The core, plus a coordinator module (an EOA holding COORDINATOR_ROLE) and the receipt domain. */
async function setup(parameters: Parameters<typeof deployCore>[1]) {
  const core = await deployCore(connection, parameters);
  const signers = await connection.ethers.getSigners();
  const coordinator = signers[9];
  const module = signers[10];
  if (!coordinator || !module) throw new Error("the test network needs at least 11 accounts");
  await core.token.connect(core.deployer).grantRole(await core.token.COORDINATOR_ROLE(), coordinator.address);
  const domain = await receiptDomain(core.token);
  return { ...core, coordinator, module, domain };
}

const coreFixture = () => setup({});
const smallCapFixture = () => setup({ supplyCap: SMALL_CAP });

const makeReceipt = receiptMaker("AIToken.test", time);

/** The core, plus a receipt for `agent`'s work for `client` (10 units), signed by the attestor. */
async function signedReceipt() {
  const f = await networkHelpers.loadFixture(coreFixture);
  const receipt = await makeReceipt({ provider: f.agent.address, client: f.client.address });
  const signature = await signReceipt(f.attestor, f.domain, receipt);
  return { ...f, receipt, signature };
}

async function eventsOf(token: AIToken, tx: Promise<ContractTransactionResponse>): Promise<LogDescription[]> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction not mined");
  return receipt.logs
    .map((log) => token.interface.parseLog(log))
    .filter((event): event is LogDescription => event !== null);
}

/** An EIP-2612 permit of `owner`, signed by `signer` (the owner itself unless a forgery is wanted). */
async function signPermit(
  token: AIToken,
  domain: TypedDataDomain,
  owner: string,
  spender: string,
  value: bigint,
  deadline: bigint,
  signer: Signer,
): Promise<ethers.Signature> {
  const nonce = await token.nonces(owner);
  const signature = await signer.signTypedData(domain, forEthers(PERMIT_TYPES), {
    owner,
    spender,
    value,
    nonce,
    deadline,
  });
  return ethers.Signature.from(signature);
}

/**
 * Registers `agent` (so enrolls it in the constitution) declaring `expectedDailyVolume`, which caps its daily volume
 * limit (with 0 it can transfer nothing), and stakes the bond for it: the stake backs the volume (unbonded, an agent
 * moves no value; test/agents/UnbondedVolumeAttack.test.ts).
 */
async function enroll(
  core: Core,
  agent: AgentSigner,
  operator: AgentSigner,
  expectedDailyVolume = DECLARED_VOLUME,
): Promise<void> {
  await registerAndStake(core, agent, operator, requiredStakeFor(expectedDailyVolume), {
    agentType: 0n,
    capabilities: [],
    expectedDailyVolume,
  });
}

/** Moves the chain to one hour into the next UTC day, so a test's usage never straddles a day bucket. */
async function startOfFreshDay(): Promise<void> {
  const now = BigInt(await time.latest());
  await time.increaseTo((now / DAY + 1n) * DAY + 3_600n);
}

describe("AIToken", function () {
  describe("constructor", function () {
    async function deployArgs() {
      const { humanOverride, constitution, deployer, attestor, agent } = await networkHelpers.loadFixture(coreFixture);
      const factory = await connection.ethers.getContractFactory("AIToken", deployer);
      return {
        factory,
        attestor,
        agent,
        admin: deployer.address,
        humanOverride: await humanOverride.getAddress(),
        constitution: await constitution.getAddress(),
      };
    }

    it("grants the admin and every attestor their roles and sets the reward rate", async function () {
      const { factory, admin, humanOverride, constitution, attestor, agent } = await deployArgs();
      const token = await factory.deploy(admin, humanOverride, constitution, SMALL_CAP, 3n * AITBC, [
        attestor.address,
        agent.address,
      ]);
      await expect(token.deploymentTransaction())
        .to.emit(token, "RewardRateSet")
        .withArgs(3n * AITBC);
      expect(await token.hasRole(ethers.ZeroHash, admin)).to.equal(true);
      expect(await token.hasRole(await token.ATTESTOR_ROLE(), attestor.address)).to.equal(true);
      expect(await token.hasRole(await token.ATTESTOR_ROLE(), agent.address)).to.equal(true);
      expect(await token.rewardRate()).to.equal(3n * AITBC);
      expect(await token.cap()).to.equal(SMALL_CAP);
      expect(await token.humanOverride()).to.equal(humanOverride);
      expect(await token.constitution()).to.equal(constitution);
    });

    it("reverts AITokenZeroAddress when the admin is zero", async function () {
      const { factory, humanOverride, constitution, attestor } = await deployArgs();
      await expect(
        factory.deploy(ethers.ZeroAddress, humanOverride, constitution, SMALL_CAP, AITBC, [attestor.address]),
      ).to.be.revertedWithCustomError(factory, "AITokenZeroAddress");
    });

    it("reverts AITokenZeroAddress when the human override is zero", async function () {
      const { factory, admin, constitution, attestor } = await deployArgs();
      await expect(
        factory.deploy(admin, ethers.ZeroAddress, constitution, SMALL_CAP, AITBC, [attestor.address]),
      ).to.be.revertedWithCustomError(factory, "AITokenZeroAddress");
    });

    it("reverts AITokenZeroAddress when the constitution is zero", async function () {
      const { factory, admin, humanOverride, attestor } = await deployArgs();
      await expect(
        factory.deploy(admin, humanOverride, ethers.ZeroAddress, SMALL_CAP, AITBC, [attestor.address]),
      ).to.be.revertedWithCustomError(factory, "AITokenZeroAddress");
    });

    it("reverts AITokenZeroAddress when an attestor is zero", async function () {
      const { factory, admin, humanOverride, constitution, attestor } = await deployArgs();
      await expect(
        factory.deploy(admin, humanOverride, constitution, SMALL_CAP, AITBC, [attestor.address, ethers.ZeroAddress]),
      ).to.be.revertedWithCustomError(factory, "AITokenZeroAddress");
    });

    it("reverts AITokenInvalidRewardRate when the reward rate is zero", async function () {
      const { factory, admin, humanOverride, constitution, attestor } = await deployArgs();
      await expect(factory.deploy(admin, humanOverride, constitution, SMALL_CAP, 0n, [attestor.address]))
        .to.be.revertedWithCustomError(factory, "AITokenInvalidRewardRate")
        .withArgs(0n, MAX_REWARD_RATE);
    });

    it("reverts AITokenInvalidRewardRate when the reward rate exceeds MAX_REWARD_RATE", async function () {
      const { factory, admin, humanOverride, constitution, attestor } = await deployArgs();
      await expect(
        factory.deploy(admin, humanOverride, constitution, SMALL_CAP, MAX_REWARD_RATE + 1n, [attestor.address]),
      )
        .to.be.revertedWithCustomError(factory, "AITokenInvalidRewardRate")
        .withArgs(MAX_REWARD_RATE + 1n, MAX_REWARD_RATE);
    });

    it("reverts ERC20InvalidCap when the supply cap is zero", async function () {
      const { factory, admin, humanOverride, constitution, attestor } = await deployArgs();
      await expect(factory.deploy(admin, humanOverride, constitution, 0n, AITBC, [attestor.address]))
        .to.be.revertedWithCustomError(factory, "ERC20InvalidCap")
        .withArgs(0n);
    });
  });

  describe("deployment through the Core module", function () {
    it("is wired: metadata, roles, safety modules, EIP-712 domain", async function () {
      const { token, registry, humanOverride, constitution, deployer, attestor, domain } =
        await networkHelpers.loadFixture(coreFixture);
      expect(await token.name()).to.equal("AITBC");
      expect(await token.symbol()).to.equal("AITBC");
      expect(await token.decimals()).to.equal(18n);
      expect(await token.totalSupply()).to.equal(0n);
      expect(await token.cap()).to.equal(1_000_000_000n * AITBC);
      expect(await token.rewardRate()).to.equal(AITBC);
      expect(await token.MAX_REWARD_RATE()).to.equal(MAX_REWARD_RATE);
      expect(await token.humanOverride()).to.equal(await humanOverride.getAddress());
      expect(await token.constitution()).to.equal(await constitution.getAddress());
      expect(await token.hasRole(ethers.ZeroHash, deployer.address)).to.equal(true);
      expect(await token.hasRole(await token.ATTESTOR_ROLE(), attestor.address)).to.equal(true);
      expect(await token.hasRole(await token.ATTESTOR_ROLE(), deployer.address)).to.equal(false);
      expect(await token.hasRole(await token.MODULE_ROLE(), await registry.getAddress())).to.equal(true);
      expect(await token.ATTESTOR_ROLE()).to.equal(ethers.id("ATTESTOR_ROLE"));
      expect(await token.COORDINATOR_ROLE()).to.equal(ethers.id("COORDINATOR_ROLE"));
      expect(await token.MODULE_ROLE()).to.equal(ethers.id("MODULE_ROLE"));
      const { chainId } = await connection.ethers.provider.getNetwork();
      expect(domain).to.deep.equal({
        name: "AITBC",
        version: "1",
        chainId,
        verifyingContract: await token.getAddress(),
      });
      expect(await token.DOMAIN_SEPARATOR()).to.equal(ethers.TypedDataEncoder.hashDomain(domain));
    });
  });

  describe("mintFromReceipt", function () {
    it("mints units × rewardRate to the provider and emits ReceiptMinted with the attestor as verifier", async function () {
      const { token, attestor, agent, client, outsider, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: 42n });
      const signature = await signReceipt(attestor, domain, receipt);
      const amount = 42n * AITBC;

      expect(await token.connect(outsider).mintFromReceipt.staticCall(receipt, signature)).to.equal(amount);
      const tx = token.connect(outsider).mintFromReceipt(receipt, signature);
      await expect(tx)
        .to.emit(token, "ReceiptMinted")
        .withArgs(receipt.receiptId, agent.address, attestor.address, client.address, 42n, amount);
      await expect(tx).to.emit(token, "Transfer").withArgs(ethers.ZeroAddress, agent.address, amount);
      expect(await token.balanceOf(agent.address)).to.equal(amount);
      expect(await token.balanceOf(outsider.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(amount);
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(true);
    });

    it("uses the current reward rate", async function () {
      const { token, deployer, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const rate = (5n * AITBC) / 2n;
      await token.connect(deployer).setRewardRate(rate);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: 4n });
      await token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt));
      expect(await token.balanceOf(agent.address)).to.equal(4n * rate);
    });

    it("accepts a receipt whose deadline equals the block timestamp", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const timestamp = BigInt(await time.latest()) + 100n;
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, deadline: timestamp });
      const signature = await signReceipt(attestor, domain, receipt);
      await time.setNextBlockTimestamp(timestamp);
      await expect(token.mintFromReceipt(receipt, signature)).to.emit(token, "ReceiptMinted");
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
    });

    it("reverts AITokenReceiptAlreadyMinted when the receipt was minted before", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await token.mintFromReceipt(receipt, signature);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(receipt.receiptId);
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
    });

    it("reverts AITokenReceiptExpired when the deadline is one second before the block timestamp", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const timestamp = BigInt(await time.latest()) + 100n;
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, deadline: timestamp - 1n });
      const signature = await signReceipt(attestor, domain, receipt);
      await time.setNextBlockTimestamp(timestamp);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptExpired")
        .withArgs(receipt.receiptId, timestamp - 1n, timestamp);
    });

    it("reverts AITokenReceiptExpired once time passes the deadline", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await time.increase(3_601n);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptExpired")
        .withArgs(receipt.receiptId, receipt.deadline, anyUint);
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
    });

    const garbage: [string, string][] = [
      ["a garbage 65-byte signature", "0x" + "11".repeat(65)],
      ["an all-zero 65-byte signature", "0x" + "00".repeat(65)],
      ["a 64-byte signature", "0x" + "22".repeat(64)],
      ["an empty signature", "0x"],
      ["a 66-byte signature", "0x" + "1b".repeat(66)],
    ];
    for (const [label, signature] of garbage) {
      it(`reverts AITokenInvalidSignature for ${label}`, async function () {
        const { token, agent, client } = await networkHelpers.loadFixture(coreFixture);
        const receipt = await makeReceipt({ provider: agent.address, client: client.address });
        await expect(token.mintFromReceipt(receipt, signature))
          .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
          .withArgs(receipt.receiptId);
      });
    }

    it("reverts AITokenInvalidSignature for a valid signature with one extra byte appended", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      await expect(token.mintFromReceipt(receipt, ethers.concat([signature, "0x00"])))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(receipt.receiptId);
    });

    it("reverts AITokenSignerNotAttestor when the signer lacks ATTESTOR_ROLE", async function () {
      const { token, deployer, outsider, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      await expect(token.mintFromReceipt(receipt, await signReceipt(outsider, domain, receipt)))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, outsider.address);
      // the admin is not an attestor either (the fixture names a separate attestor)
      await expect(token.mintFromReceipt(receipt, await signReceipt(deployer, domain, receipt)))
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(receipt.receiptId, deployer.address);
    });

    it("reverts AITokenZeroUnits when the receipt has zero units", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: 0n });
      await expect(token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt)))
        .to.be.revertedWithCustomError(token, "AITokenZeroUnits")
        .withArgs(receipt.receiptId);
    });

    it("reverts AITokenZeroAddress when the provider is the zero address", async function () {
      const { token, attestor, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: ethers.ZeroAddress, client: client.address });
      await expect(
        token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt)),
      ).to.be.revertedWithCustomError(token, "AITokenZeroAddress");
    });

    it("reverts AITokenUnitsTooLarge when units × rewardRate would overflow", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: ethers.MaxUint256 });
      const maxUnits = ethers.MaxUint256 / (await token.rewardRate());
      await expect(token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt)))
        .to.be.revertedWithCustomError(token, "AITokenUnitsTooLarge")
        .withArgs(receipt.receiptId, ethers.MaxUint256, maxUnits);
    });

    it("mints up to the cap exactly and reverts ERC20ExceededCap past it", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(smallCapFixture);
      const fill = await makeReceipt({ provider: agent.address, client: client.address, units: 10n });
      await token.mintFromReceipt(fill, await signReceipt(attestor, domain, fill));
      expect(await token.totalSupply()).to.equal(SMALL_CAP);

      const over = await makeReceipt({ provider: agent.address, client: client.address, units: 1n });
      await expect(token.mintFromReceipt(over, await signReceipt(attestor, domain, over)))
        .to.be.revertedWithCustomError(token, "ERC20ExceededCap")
        .withArgs(SMALL_CAP + AITBC, SMALL_CAP);
      expect(await token.isReceiptMinted(over.receiptId)).to.equal(false);
    });

    shouldBeRefusedWhileStopped({
      fn: "mintFromReceipt",
      setup: signedReceipt,
      call: (f) => f.token.mintFromReceipt(f.receipt, f.signature),
      contract: (f) => f.token,
      // the receipt stays mintable after resume
      whileStopped: async (f) => {
        expect(await f.token.isReceiptMinted(f.receipt.receiptId)).to.equal(false);
      },
      afterCall: async (f) => {
        expect(await f.token.balanceOf(f.agent.address)).to.equal(10n * AITBC);
      },
    });
  });

  describe("mintFromReceipts", function () {
    shouldBeRefusedWhileStopped({
      fn: "mintFromReceipts (a batch whose receipts would all be skipped)",
      setup: async () => {
        const f = await signedReceipt();
        await f.token.mintFromReceipt(f.receipt, f.signature);
        return f;
      },
      call: (f) => f.token.mintFromReceipts([f.receipt], [f.signature]),
    });

    it("mints a batch: total returned, one ReceiptMinted per receipt, one Transfer per distinct provider", async function () {
      const { token, attestor, agent, agent2, operator, client, outsider, domain } =
        await networkHelpers.loadFixture(coreFixture);
      // interleaved providers: agent, agent2, agent, operator, agent2
      const providers = [agent, agent2, agent, operator, agent2];
      const receipts: ComputeReceipt[] = [];
      for (const [i, provider] of providers.entries()) {
        receipts.push(await makeReceipt({ provider: provider.address, client: client.address, units: BigInt(i + 1) }));
      }
      const signatures = await Promise.all(receipts.map((r) => signReceipt(attestor, domain, r)));

      expect(await token.connect(outsider).mintFromReceipts.staticCall(receipts, signatures)).to.equal(15n * AITBC);
      const events = await eventsOf(token, token.connect(outsider).mintFromReceipts(receipts, signatures));

      const minted = events.filter((e) => e.name === "ReceiptMinted");
      expect(minted.map((e) => e.args.toArray() as unknown[])).to.deep.equal(
        receipts.map((r) => [r.receiptId, r.provider, attestor.address, client.address, r.units, r.units * AITBC]),
      );
      const transfers = events.filter((e) => e.name === "Transfer");
      expect(transfers.map((e) => e.args.toArray() as unknown[])).to.deep.equal([
        [ethers.ZeroAddress, agent.address, 4n * AITBC],
        [ethers.ZeroAddress, agent2.address, 7n * AITBC],
        [ethers.ZeroAddress, operator.address, 4n * AITBC],
      ]);
      expect(await token.balanceOf(agent.address)).to.equal(4n * AITBC);
      expect(await token.balanceOf(agent2.address)).to.equal(7n * AITBC);
      expect(await token.balanceOf(operator.address)).to.equal(4n * AITBC);
      expect(await token.totalSupply()).to.equal(15n * AITBC);
      for (const r of receipts) expect(await token.isReceiptMinted(r.receiptId)).to.equal(true);
    });

    it("mints a batch of one", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: 3n });
      await expect(token.mintFromReceipts([receipt], [await signReceipt(attestor, domain, receipt)]))
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, agent.address, 3n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(3n * AITBC);
    });

    it("reverts AITokenEmptyBatch for an empty batch", async function () {
      const { token } = await networkHelpers.loadFixture(coreFixture);
      await expect(token.mintFromReceipts([], [])).to.be.revertedWithCustomError(token, "AITokenEmptyBatch");
    });

    it("reverts AITokenLengthMismatch when receipts and signatures differ in length", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const a = await makeReceipt({ provider: agent.address, client: client.address });
      const b = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, a);
      await expect(token.mintFromReceipts([a, b], [signature]))
        .to.be.revertedWithCustomError(token, "AITokenLengthMismatch")
        .withArgs(2n, 1n);
      await expect(token.mintFromReceipts([a], [signature, signature]))
        .to.be.revertedWithCustomError(token, "AITokenLengthMismatch")
        .withArgs(1n, 2n);
    });

    it("reverts as a whole when one receipt is signed by a non-attestor", async function () {
      const { token, attestor, outsider, agent, agent2, client, domain } =
        await networkHelpers.loadFixture(coreFixture);
      const good = await makeReceipt({ provider: agent.address, client: client.address });
      const bad = await makeReceipt({ provider: agent2.address, client: client.address });
      await expect(
        token.mintFromReceipts(
          [good, bad],
          [await signReceipt(attestor, domain, good), await signReceipt(outsider, domain, bad)],
        ),
      )
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(bad.receiptId, outsider.address);
      expect(await token.isReceiptMinted(good.receiptId)).to.equal(false);
      expect(await token.totalSupply()).to.equal(0n);
    });

    it("reverts as a whole when one receipt is expired", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const good = await makeReceipt({ provider: agent.address, client: client.address });
      const expired = await makeReceipt({
        provider: agent.address,
        client: client.address,
        deadline: BigInt(await time.latest()) - 1n,
      });
      await expect(
        token.mintFromReceipts(
          [good, expired],
          [await signReceipt(attestor, domain, good), await signReceipt(attestor, domain, expired)],
        ),
      )
        .to.be.revertedWithCustomError(token, "AITokenReceiptExpired")
        .withArgs(expired.receiptId, expired.deadline, anyUint);
      expect(await token.isReceiptMinted(good.receiptId)).to.equal(false);
    });

    it("reverts as a whole when one signature is garbage", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const good = await makeReceipt({ provider: agent.address, client: client.address });
      const bad = await makeReceipt({ provider: agent.address, client: client.address });
      await expect(token.mintFromReceipts([good, bad], [await signReceipt(attestor, domain, good), "0x1234"]))
        .to.be.revertedWithCustomError(token, "AITokenInvalidSignature")
        .withArgs(bad.receiptId);
      expect(await token.totalSupply()).to.equal(0n);
    });

    it("reverts as a whole when one receipt has zero units", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const good = await makeReceipt({ provider: agent.address, client: client.address });
      const zero = await makeReceipt({ provider: agent.address, client: client.address, units: 0n });
      await expect(
        token.mintFromReceipts(
          [good, zero],
          [await signReceipt(attestor, domain, good), await signReceipt(attestor, domain, zero)],
        ),
      )
        .to.be.revertedWithCustomError(token, "AITokenZeroUnits")
        .withArgs(zero.receiptId);
      expect(await token.totalSupply()).to.equal(0n);
    });

    it("skips the second occurrence of a receipt id repeated inside the batch (ReceiptSkipped), minting it once", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const signature = await signReceipt(attestor, domain, receipt);
      expect(await token.mintFromReceipts.staticCall([receipt, receipt], [signature, signature])).to.equal(10n * AITBC);
      const events = await eventsOf(token, token.mintFromReceipts([receipt, receipt], [signature, signature]));
      expect(events.map((e) => e.name)).to.deep.equal(["ReceiptMinted", "ReceiptSkipped", "Transfer"]);
      expect(events[1]?.args.toArray()).to.deep.equal([receipt.receiptId]);
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(true);
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("skips a different receipt that reuses an id minted earlier in the same batch: the first one wins", async function () {
      const { token, attestor, agent, agent2, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const first = await makeReceipt({ provider: agent.address, client: client.address });
      const twin = { ...first, provider: agent2.address, units: 99n };
      const tx = token.mintFromReceipts(
        [first, twin],
        [await signReceipt(attestor, domain, first), await signReceipt(attestor, domain, twin)],
      );
      await expect(tx).to.emit(token, "ReceiptSkipped").withArgs(first.receiptId);
      await expect(tx)
        .to.emit(token, "ReceiptMinted")
        .withArgs(first.receiptId, agent.address, attestor.address, client.address, 10n, 10n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(10n * AITBC);
      expect(await token.balanceOf(agent2.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("skips a receipt of the batch minted before (ReceiptSkipped) and mints the rest", async function () {
      const { token, attestor, agent, agent2, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const old = await makeReceipt({ provider: agent.address, client: client.address, units: 4n });
      const oldSignature = await signReceipt(attestor, domain, old);
      await token.mintFromReceipt(old, oldSignature);
      const fresh = await makeReceipt({ provider: agent.address, client: client.address, units: 3n });
      const other = await makeReceipt({ provider: agent2.address, client: client.address, units: 2n });
      const receipts = [fresh, old, other];
      const signatures = [
        await signReceipt(attestor, domain, fresh),
        oldSignature,
        await signReceipt(attestor, domain, other),
      ];
      expect(await token.mintFromReceipts.staticCall(receipts, signatures)).to.equal(5n * AITBC);
      const events = await eventsOf(token, token.mintFromReceipts(receipts, signatures));
      expect(events.filter((e) => e.name === "ReceiptSkipped").map((e) => e.args.toArray() as unknown[])).to.deep.equal(
        [[old.receiptId]],
      );
      expect(events.filter((e) => e.name === "ReceiptMinted").map((e) => e.args[0] as string)).to.deep.equal([
        fresh.receiptId,
        other.receiptId,
      ]);
      expect(events.filter((e) => e.name === "Transfer").map((e) => e.args.toArray() as unknown[])).to.deep.equal([
        [ethers.ZeroAddress, agent.address, 3n * AITBC],
        [ethers.ZeroAddress, agent2.address, 2n * AITBC],
      ]);
      expect(await token.balanceOf(agent.address)).to.equal(7n * AITBC);
      expect(await token.balanceOf(agent2.address)).to.equal(2n * AITBC);
      expect(await token.totalSupply()).to.equal(9n * AITBC);
    });

    it("mints nothing, returns 0 and does not revert when every receipt of the batch was minted before", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const a = await makeReceipt({ provider: agent.address, client: client.address });
      const b = await makeReceipt({ provider: agent.address, client: client.address });
      const signatures = [await signReceipt(attestor, domain, a), await signReceipt(attestor, domain, b)];
      await token.mintFromReceipts([a, b], signatures);
      expect(await token.mintFromReceipts.staticCall([a, b], signatures)).to.equal(0n);
      const events = await eventsOf(token, token.mintFromReceipts([a, b], signatures));
      expect(events.map((e) => [e.name, ...(e.args.toArray() as unknown[])])).to.deep.equal([
        ["ReceiptSkipped", a.receiptId],
        ["ReceiptSkipped", b.receiptId],
      ]);
      expect(await token.totalSupply()).to.equal(20n * AITBC);
    });

    it("still reverts as a whole when an invalid receipt sits next to a skipped one", async function () {
      const { token, attestor, outsider, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const old = await makeReceipt({ provider: agent.address, client: client.address });
      const oldSignature = await signReceipt(attestor, domain, old);
      await token.mintFromReceipt(old, oldSignature);
      const good = await makeReceipt({ provider: agent.address, client: client.address });
      const forged = await makeReceipt({ provider: outsider.address, client: client.address });
      await expect(
        token.mintFromReceipts(
          [old, good, forged],
          [oldSignature, await signReceipt(attestor, domain, good), await signReceipt(outsider, domain, forged)],
        ),
      )
        .to.be.revertedWithCustomError(token, "AITokenSignerNotAttestor")
        .withArgs(forged.receiptId, outsider.address);
      expect(await token.isReceiptMinted(good.receiptId)).to.equal(false);
      expect(await token.totalSupply()).to.equal(10n * AITBC);
    });

    it("reverts ERC20ExceededCap when the batch total passes the cap", async function () {
      const { token, attestor, agent, agent2, client, domain } = await networkHelpers.loadFixture(smallCapFixture);
      const a = await makeReceipt({ provider: agent.address, client: client.address, units: 6n });
      const b = await makeReceipt({ provider: agent2.address, client: client.address, units: 5n });
      await expect(
        token.mintFromReceipts(
          [a, b],
          [await signReceipt(attestor, domain, a), await signReceipt(attestor, domain, b)],
        ),
      )
        .to.be.revertedWithCustomError(token, "ERC20ExceededCap")
        .withArgs(11n * AITBC, SMALL_CAP);
      expect(await token.isReceiptMinted(a.receiptId)).to.equal(false);
    });

    shouldBeRefusedWhileStopped({
      fn: "mintFromReceipts",
      setup: signedReceipt,
      call: (f) => f.token.mintFromReceipts([f.receipt], [f.signature]),
      contract: (f) => f.token,
    });
  });

  describe("mintFromVerifiedReceipt", function () {
    it("mints units × rewardRate to the provider, with the coordinator as verifier and no client", async function () {
      const { token, coordinator, agent } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("nullifier 1");
      expect(await token.connect(coordinator).mintFromVerifiedReceipt.staticCall(key, agent.address, 7n)).to.equal(
        7n * AITBC,
      );
      await expect(token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 7n))
        .to.emit(token, "ReceiptMinted")
        .withArgs(key, agent.address, coordinator.address, ethers.ZeroAddress, 7n, 7n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(7n * AITBC);
      expect(await token.isVerifiedReceiptMinted(coordinator.address, key)).to.equal(true);
      // the key is spent in the coordinator's namespace, not as an attested receipt id
      expect(await token.isReceiptMinted(key)).to.equal(false);
    });

    it("keeps coordinator keys apart from attested ids, even an id equal to keccak256(abi.encode(coordinator, key))", async function () {
      const { token, coordinator, agent, attestor, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("nullifier namespaced");
      const collidingId = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [coordinator.address, key]),
      );
      // An attested receipt whose id is the coordinator's hashed key does not spend that key...
      const receipt = await makeReceipt({ receiptId: collidingId, provider: agent.address, client: client.address });
      await token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt));
      expect(await token.isReceiptMinted(collidingId)).to.equal(true);
      expect(await token.isVerifiedReceiptMinted(coordinator.address, key)).to.equal(false);
      // ...so the coordinator still mints with it, and that does not touch the attested set.
      await token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 1n);
      expect(await token.isVerifiedReceiptMinted(coordinator.address, key)).to.equal(true);
      expect(await token.isReceiptMinted(key)).to.equal(false);
    });

    it("reverts AccessControlUnauthorizedAccount for callers without COORDINATOR_ROLE", async function () {
      const { token, deployer, attestor, outsider, agent } = await networkHelpers.loadFixture(coreFixture);
      const role = await token.COORDINATOR_ROLE();
      for (const caller of [outsider, attestor, deployer]) {
        await expect(token.connect(caller).mintFromVerifiedReceipt(ethers.id("k"), agent.address, 1n))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("reverts AITokenReceiptAlreadyMinted (with the coordinator's key) when the same coordinator spends a key twice", async function () {
      const { token, coordinator, agent } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("nullifier 2");
      await token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 1n);
      await expect(token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 1n))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(key);
      expect(await token.balanceOf(agent.address)).to.equal(AITBC);
    });

    it("lets two coordinators spend the same key, each once: keys are namespaced per coordinator", async function () {
      const {
        token,
        deployer,
        coordinator,
        module: coordinator2,
        agent,
        agent2,
      } = await networkHelpers.loadFixture(coreFixture);
      await token.connect(deployer).grantRole(await token.COORDINATOR_ROLE(), coordinator2.address);
      const key = ethers.id("shared nullifier");
      await token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 2n);
      expect(await token.isVerifiedReceiptMinted(coordinator2.address, key)).to.equal(false);
      await expect(token.connect(coordinator2).mintFromVerifiedReceipt(key, agent2.address, 3n))
        .to.emit(token, "ReceiptMinted")
        .withArgs(key, agent2.address, coordinator2.address, ethers.ZeroAddress, 3n, 3n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(2n * AITBC);
      expect(await token.balanceOf(agent2.address)).to.equal(3n * AITBC);
      for (const c of [coordinator, coordinator2]) {
        await expect(token.connect(c).mintFromVerifiedReceipt(key, agent.address, 1n))
          .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
          .withArgs(key);
      }
    });

    it("is not blocked by an attested receipt minted with the same bytes32 id", async function () {
      const { token, coordinator, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      await token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt));
      await expect(token.connect(coordinator).mintFromVerifiedReceipt(receipt.receiptId, agent.address, 5n))
        .to.emit(token, "ReceiptMinted")
        .withArgs(receipt.receiptId, agent.address, coordinator.address, ethers.ZeroAddress, 5n, 5n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(15n * AITBC);
      expect(await token.isVerifiedReceiptMinted(coordinator.address, receipt.receiptId)).to.equal(true);
    });

    it("does not block an attested receipt with the same bytes32 id minted after it", async function () {
      const { token, coordinator, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      await token.connect(coordinator).mintFromVerifiedReceipt(receipt.receiptId, agent.address, 5n);
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
      const signature = await signReceipt(attestor, domain, receipt);
      await expect(token.mintFromReceipt(receipt, signature))
        .to.emit(token, "ReceiptMinted")
        .withArgs(receipt.receiptId, agent.address, attestor.address, client.address, 10n, 10n * AITBC);
      expect(await token.balanceOf(agent.address)).to.equal(15n * AITBC);
      // each door still spends its own key once
      await expect(token.mintFromReceipt(receipt, signature))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(receipt.receiptId);
      await expect(token.connect(coordinator).mintFromVerifiedReceipt(receipt.receiptId, agent.address, 5n))
        .to.be.revertedWithCustomError(token, "AITokenReceiptAlreadyMinted")
        .withArgs(receipt.receiptId);
    });

    it("reverts AITokenZeroUnits for zero units", async function () {
      const { token, coordinator, agent } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("nullifier 3");
      await expect(token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 0n))
        .to.be.revertedWithCustomError(token, "AITokenZeroUnits")
        .withArgs(key);
    });

    it("reverts AITokenZeroAddress for the zero provider", async function () {
      const { token, coordinator } = await networkHelpers.loadFixture(coreFixture);
      await expect(
        token.connect(coordinator).mintFromVerifiedReceipt(ethers.id("nullifier 4"), ethers.ZeroAddress, 1n),
      ).to.be.revertedWithCustomError(token, "AITokenZeroAddress");
    });

    it("reverts ERC20ExceededCap past the cap", async function () {
      const { token, coordinator, agent } = await networkHelpers.loadFixture(smallCapFixture);
      await expect(token.connect(coordinator).mintFromVerifiedReceipt(ethers.id("nullifier 5"), agent.address, 11n))
        .to.be.revertedWithCustomError(token, "ERC20ExceededCap")
        .withArgs(11n * AITBC, SMALL_CAP);
    });

    shouldBeRefusedWhileStopped({
      fn: "mintFromVerifiedReceipt",
      setup: () => networkHelpers.loadFixture(coreFixture),
      call: (f) =>
        f.token.connect(f.coordinator).mintFromVerifiedReceipt(ethers.id("nullifier 6"), f.agent.address, 1n),
      contract: (f) => f.token,
    });
  });

  describe("setRewardRate", function () {
    it("sets the rate and emits RewardRateSet when called by the admin", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(coreFixture);
      await expect(token.connect(deployer).setRewardRate(2n * AITBC))
        .to.emit(token, "RewardRateSet")
        .withArgs(2n * AITBC);
      expect(await token.rewardRate()).to.equal(2n * AITBC);
    });

    it("accepts the bounds 1 and MAX_REWARD_RATE", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(coreFixture);
      await token.connect(deployer).setRewardRate(1n);
      expect(await token.rewardRate()).to.equal(1n);
      await token.connect(deployer).setRewardRate(MAX_REWARD_RATE);
      expect(await token.rewardRate()).to.equal(MAX_REWARD_RATE);
    });

    it("reverts AITokenInvalidRewardRate for zero", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(coreFixture);
      await expect(token.connect(deployer).setRewardRate(0n))
        .to.be.revertedWithCustomError(token, "AITokenInvalidRewardRate")
        .withArgs(0n, MAX_REWARD_RATE);
    });

    it("reverts AITokenInvalidRewardRate above MAX_REWARD_RATE", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(coreFixture);
      await expect(token.connect(deployer).setRewardRate(MAX_REWARD_RATE + 1n))
        .to.be.revertedWithCustomError(token, "AITokenInvalidRewardRate")
        .withArgs(MAX_REWARD_RATE + 1n, MAX_REWARD_RATE);
    });

    it("reverts AccessControlUnauthorizedAccount for non-admins", async function () {
      const { token, attestor, coordinator, outsider } = await networkHelpers.loadFixture(coreFixture);
      for (const caller of [outsider, attestor, coordinator]) {
        await expect(token.connect(caller).setRewardRate(2n * AITBC))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ethers.ZeroHash);
      }
      expect(await token.rewardRate()).to.equal(AITBC);
    });
  });

  describe("hashReceipt", function () {
    it("matches ethers' TypedDataEncoder.hash under the token's domain", async function () {
      const { token, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address, units: 123_456n });
      expect(await token.hashReceipt(receipt)).to.equal(
        ethers.TypedDataEncoder.hash(domain, forEthers(COMPUTE_RECEIPT_TYPES), receipt),
      );
    });

    it("changes when any field changes", async function () {
      const { token, agent, agent2, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      const base = await token.hashReceipt(receipt);
      const variants: ComputeReceipt[] = [
        { ...receipt, receiptId: ethers.id("other id") },
        { ...receipt, provider: agent2.address },
        { ...receipt, client: agent2.address },
        { ...receipt, units: receipt.units + 1n },
        { ...receipt, workHash: ethers.id("other job") },
        { ...receipt, resultHash: ethers.id("other result") },
        { ...receipt, deadline: receipt.deadline + 1n },
      ];
      for (const variant of variants) {
        const hash = await token.hashReceipt(variant);
        expect(hash).to.not.equal(base);
        expect(hash).to.equal(ethers.TypedDataEncoder.hash(domain, forEthers(COMPUTE_RECEIPT_TYPES), variant));
      }
    });
  });

  describe("isReceiptMinted", function () {
    it("is false for an unspent attested receipt id and true once minted", async function () {
      const { token, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(false);
      await token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt));
      expect(await token.isReceiptMinted(receipt.receiptId)).to.equal(true);
    });

    it("stays false for a key spent by a coordinator", async function () {
      const { token, coordinator, agent } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("nullifier 7");
      await token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 1n);
      expect(await token.isReceiptMinted(key)).to.equal(false);
    });
  });

  describe("isVerifiedReceiptMinted", function () {
    it("is true only for the (coordinator, key) pair that was spent", async function () {
      const { token, coordinator, module: other, agent } = await networkHelpers.loadFixture(coreFixture);
      const key = ethers.id("nullifier 8");
      expect(await token.isVerifiedReceiptMinted(coordinator.address, key)).to.equal(false);
      await token.connect(coordinator).mintFromVerifiedReceipt(key, agent.address, 1n);
      expect(await token.isVerifiedReceiptMinted(coordinator.address, key)).to.equal(true);
      expect(await token.isVerifiedReceiptMinted(other.address, key)).to.equal(false);
      expect(await token.isVerifiedReceiptMinted(coordinator.address, ethers.id("nullifier 9"))).to.equal(false);
    });

    it("stays false for an attested receipt id, whoever is asked as coordinator", async function () {
      const { token, coordinator, attestor, agent, client, domain } = await networkHelpers.loadFixture(coreFixture);
      const receipt = await makeReceipt({ provider: agent.address, client: client.address });
      await token.mintFromReceipt(receipt, await signReceipt(attestor, domain, receipt));
      for (const c of [coordinator.address, attestor.address, ethers.ZeroAddress]) {
        expect(await token.isVerifiedReceiptMinted(c, receipt.receiptId)).to.equal(false);
      }
    });
  });

  describe("permit", function () {
    async function fundedFixture() {
      const core = await networkHelpers.loadFixture(coreFixture);
      await core.token.connect(core.coordinator).mintFromVerifiedReceipt(ethers.id("fund"), core.client.address, 100n);
      return core;
    }

    it("sets the allowance from an EIP-2612 signature and consumes the nonce", async function () {
      const { token, client, outsider, agent, domain } = await fundedFixture();
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(
        token,
        domain,
        client.address,
        outsider.address,
        40n * AITBC,
        deadline,
        client,
      );
      await expect(token.connect(agent).permit(client.address, outsider.address, 40n * AITBC, deadline, v, r, s))
        .to.emit(token, "Approval")
        .withArgs(client.address, outsider.address, 40n * AITBC);
      expect(await token.allowance(client.address, outsider.address)).to.equal(40n * AITBC);
      expect(await token.nonces(client.address)).to.equal(1n);

      await token.connect(outsider).transferFrom(client.address, outsider.address, 40n * AITBC);
      expect(await token.balanceOf(outsider.address)).to.equal(40n * AITBC);
    });

    it("reverts ERC2612InvalidSigner when replayed (the nonce moved on)", async function () {
      const { token, client, outsider, domain } = await fundedFixture();
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, domain, client.address, outsider.address, AITBC, deadline, client);
      await token.permit(client.address, outsider.address, AITBC, deadline, v, r, s);
      await expect(
        token.permit(client.address, outsider.address, AITBC, deadline, v, r, s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });

    it("reverts ERC2612InvalidSigner when signed by someone other than the owner", async function () {
      const { token, client, outsider, domain } = await fundedFixture();
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, domain, client.address, outsider.address, AITBC, deadline, outsider);
      await expect(token.permit(client.address, outsider.address, AITBC, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
        .withArgs(outsider.address, client.address);
    });

    it("reverts ERC2612ExpiredSignature past the deadline", async function () {
      const { token, client, outsider, domain } = await fundedFixture();
      const deadline = BigInt(await time.latest()) + 10n;
      const { v, r, s } = await signPermit(token, domain, client.address, outsider.address, AITBC, deadline, client);
      await time.increase(11n);
      await expect(token.permit(client.address, outsider.address, AITBC, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });

    shouldBeRefusedWhileStopped({
      fn: "permit",
      setup: async () => {
        const f = await fundedFixture();
        const deadline = BigInt(await time.latest()) + 3_600n;
        const permit = await signPermit(
          f.token,
          f.domain,
          f.client.address,
          f.outsider.address,
          AITBC,
          deadline,
          f.client,
        );
        return { ...f, deadline, permit };
      },
      call: (f) => {
        const { v, r, s } = f.permit;
        return f.token.permit(f.client.address, f.outsider.address, AITBC, f.deadline, v, r, s);
      },
      contract: (f) => f.token,
      // the nonce stays unused
      whileStopped: async (f) => {
        expect(await f.token.nonces(f.client.address)).to.equal(0n);
        expect(await f.token.allowance(f.client.address, f.outsider.address)).to.equal(0n);
      },
    });
  });

  describe("transfer", function () {
    async function agentFixture() {
      const core = await networkHelpers.loadFixture(coreFixture);
      await enroll(core, core.agent, core.operator);
      await core.token
        .connect(core.coordinator)
        .mintFromVerifiedReceipt(ethers.id("fund agent"), core.agent.address, 2_000n);
      await core.token
        .connect(core.coordinator)
        .mintFromVerifiedReceipt(ethers.id("fund client"), core.client.address, 100n);
      await startOfFreshDay();
      return core;
    }

    it("moves tokens between non-agents without touching any constitution", async function () {
      const { token, constitution, client, outsider } = await agentFixture();
      await expect(token.connect(client).transfer(outsider.address, 10n * AITBC))
        .to.emit(token, "Transfer")
        .withArgs(client.address, outsider.address, 10n * AITBC);
      expect(await token.balanceOf(client.address)).to.equal(90n * AITBC);
      expect(await token.balanceOf(outsider.address)).to.equal(10n * AITBC);
      expect(await constitution.isEnrolled(client.address)).to.equal(false);
      const usage = await constitution.usageOf(client.address);
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.equal(0n);
    });

    it("charges a transfer from an enrolled agent to its constitution as TRANSFER", async function () {
      const { token, constitution, agent, outsider } = await agentFixture();
      expect(await constitution.isEnrolled(agent.address)).to.equal(true);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(0n);

      await token.connect(agent).transfer(outsider.address, 25n * AITBC);
      const first = await constitution.usageOf(agent.address);
      expect(first.volume).to.equal(25n * AITBC);
      expect(first.gas).to.be.greaterThan(0n);

      await token.connect(agent).transfer(outsider.address, 5n * AITBC);
      const second = await constitution.usageOf(agent.address);
      expect(second.volume).to.equal(30n * AITBC);
      expect(second.gas).to.be.greaterThan(first.gas);
      expect(await token.balanceOf(outsider.address)).to.equal(30n * AITBC);
    });

    it("does not charge the recipient agent", async function () {
      const { token, constitution, agent, client } = await agentFixture();
      await token.connect(client).transfer(agent.address, 10n * AITBC);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(0n);
    });

    it("caps the agent's daily volume at the volume it declared: an agent that declared none can transfer nothing", async function () {
      const f = await agentFixture();
      const { token, constitution, coordinator, operator, agent2, outsider } = f;
      await enroll(f, agent2, operator, 0n);
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(0n);
      await token.connect(coordinator).mintFromVerifiedReceipt(ethers.id("fund agent2"), agent2.address, 10n);
      await expect(token.connect(agent2).transfer(outsider.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent2.address, 0n, 1n, 0n);
      await token.connect(agent2).transfer(outsider.address, 0n); // a zero-value transfer still fits
      expect(await token.balanceOf(agent2.address)).to.equal(10n * AITBC);
    });

    it("lets an agent that declared a small volume move exactly that much a day", async function () {
      const f = await agentFixture();
      const { token, constitution, coordinator, operator, agent2, outsider } = f;
      await enroll(f, agent2, operator, 3n * AITBC);
      await token.connect(coordinator).mintFromVerifiedReceipt(ethers.id("fund agent2"), agent2.address, 10n);
      await token.connect(agent2).transfer(outsider.address, 3n * AITBC);
      await expect(token.connect(agent2).transfer(outsider.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent2.address, 3n * AITBC, 1n, 3n * AITBC);
    });

    it("reverts AgentConstitutionDailyVolumeExceeded when an agent's transfer passes its daily volume", async function () {
      const { token, constitution, operator, agent, outsider } = await agentFixture();
      await constitution
        .connect(operator)
        .setConstraints(agent.address, { ...DEFAULT_CONSTRAINTS, maxDailyVolume: 30n * AITBC });
      await token.connect(agent).transfer(outsider.address, 20n * AITBC);
      await expect(token.connect(agent).transfer(outsider.address, 20n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent.address, 20n * AITBC, 20n * AITBC, 30n * AITBC);
      expect(await token.balanceOf(outsider.address)).to.equal(20n * AITBC);
    });

    it("reverts AgentConstitutionAgentFrozen when the agent is frozen", async function () {
      const { token, constitution, humanOverride, guardian, agent, outsider } = await agentFixture();
      await humanOverride.connect(guardian).freeze(agent.address, "suspicious");
      await expect(token.connect(agent).transfer(outsider.address, AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
    });

    it("reverts AgentConstitutionActionDenied when a guardian denied the agent's TRANSFER", async function () {
      const { token, constitution, humanOverride, guardian, agent, outsider } = await agentFixture();
      await humanOverride.connect(guardian).deny(agent.address, TRANSFER_ACTION, 3_600n);
      await expect(token.connect(agent).transfer(outsider.address, AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionDenied")
        .withArgs(agent.address, TRANSFER_ACTION);
    });

    it("reverts ERC20InsufficientBalance when the sender lacks the balance", async function () {
      const { token, client, outsider } = await agentFixture();
      await expect(token.connect(client).transfer(outsider.address, 101n * AITBC))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(client.address, 100n * AITBC, 101n * AITBC);
    });

    it("reverts ERC20InvalidReceiver for the zero address", async function () {
      const { token, client } = await agentFixture();
      await expect(token.connect(client).transfer(ethers.ZeroAddress, AITBC))
        .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });

    shouldBeRefusedWhileStopped({
      fn: "transfer (by a non-agent)",
      setup: agentFixture,
      call: (f) => f.token.connect(f.client).transfer(f.outsider.address, AITBC),
      contract: (f) => f.token,
    });
    shouldBeRefusedWhileStopped({
      fn: "transfer (by an agent)",
      setup: agentFixture,
      call: (f) => f.token.connect(f.agent).transfer(f.outsider.address, AITBC),
      contract: (f) => f.token,
    });
    shouldBeChargedAsAgentAction({
      fn: "transfer",
      action: "transfer",
      setup: agentFixture,
      agent: (f) => f.agent,
      call: (f) => f.token.connect(f.agent).transfer(f.outsider.address, AITBC),
    });
  });

  describe("transferFrom", function () {
    /** `agent` and `agent2` enrolled (operator `operator`), `agent` and `client` funded, a fresh day. */
    async function agentFixture() {
      const core = await networkHelpers.loadFixture(coreFixture);
      await enroll(core, core.agent, core.operator);
      await enroll(core, core.agent2, core.operator);
      await core.token
        .connect(core.coordinator)
        .mintFromVerifiedReceipt(ethers.id("fund agent"), core.agent.address, 2_000n);
      await core.token
        .connect(core.coordinator)
        .mintFromVerifiedReceipt(ethers.id("fund client"), core.client.address, 100n);
      await startOfFreshDay();
      return core;
    }

    it("charges the owning agent the value but none of the gas of a pull by a non-module spender", async function () {
      const { token, constitution, agent, outsider } = await agentFixture();
      await token.connect(agent).approve(outsider.address, 50n * AITBC);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(0n); // approving is not an action
      await token.connect(outsider).transferFrom(agent.address, outsider.address, 15n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(15n * AITBC);
      expect(usage.gas).to.equal(0n); // the spender paid the gas
      expect((await constitution.usageOf(outsider.address)).volume).to.equal(0n);
      expect(await token.allowance(agent.address, outsider.address)).to.equal(35n * AITBC);
    });

    it("charges an agent spending its own allowance once, value and gas, like a transfer", async function () {
      const { token, constitution, agent, outsider } = await agentFixture();
      await token.connect(agent).approve(agent.address, 10n * AITBC);
      await token.connect(agent).transferFrom(agent.address, outsider.address, 10n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(10n * AITBC); // not twice
      expect(usage.gas).to.be.greaterThan(0n);
    });

    it("charges an enrolled spender the value and the gas of a pull from a non-agent's allowance", async function () {
      const { token, constitution, agent2, client, outsider } = await agentFixture();
      await token.connect(client).approve(agent2.address, 50n * AITBC);
      await token.connect(agent2).transferFrom(client.address, outsider.address, 10n * AITBC);
      const first = await constitution.usageOf(agent2.address);
      expect(first.volume).to.equal(10n * AITBC);
      expect(first.gas).to.be.greaterThan(0n);
      await token.connect(agent2).transferFrom(client.address, outsider.address, 5n * AITBC);
      const second = await constitution.usageOf(agent2.address);
      expect(second.volume).to.equal(15n * AITBC);
      expect(second.gas).to.be.greaterThan(first.gas);
      expect((await constitution.usageOf(client.address)).volume).to.equal(0n);
      expect(await token.balanceOf(outsider.address)).to.equal(15n * AITBC);
    });

    it("charges both agents when one pulls from the other: the owner the value, the spender value and gas", async function () {
      const { token, constitution, agent, agent2, outsider } = await agentFixture();
      await token.connect(agent).approve(agent2.address, 50n * AITBC);
      await token.connect(agent2).transferFrom(agent.address, outsider.address, 20n * AITBC);
      const owner = await constitution.usageOf(agent.address);
      const spender = await constitution.usageOf(agent2.address);
      expect(owner.volume).to.equal(20n * AITBC);
      expect(owner.gas).to.equal(0n);
      expect(spender.volume).to.equal(20n * AITBC);
      expect(spender.gas).to.be.greaterThan(0n);
    });

    it("lets no one burn an agent's gas budget with zero-value pulls (no allowance needed for 0)", async function () {
      const { token, constitution, operator, agent, outsider } = await agentFixture();
      const maxGasPerDay = 200_000n; // a few transfers' worth
      await constitution.connect(operator).setConstraints(agent.address, { ...DEFAULT_CONSTRAINTS, maxGasPerDay });
      expect(await token.allowance(agent.address, outsider.address)).to.equal(0n);
      for (let i = 0; i < 25; i++) {
        await token.connect(outsider).transferFrom(agent.address, outsider.address, 0n);
      }
      const usage = await constitution.usageOf(agent.address);
      expect(usage.gas).to.equal(0n);
      expect(usage.volume).to.equal(0n);
      // the agent's own budget is intact: it can still act
      await token.connect(agent).transfer(outsider.address, AITBC);
      expect((await constitution.usageOf(agent.address)).gas).to.be.greaterThan(0n);
    });

    it("reverts AgentConstitutionAgentFrozen when a frozen agent spends from a non-agent's allowance", async function () {
      const { token, constitution, humanOverride, guardian, agent2, client, outsider } = await agentFixture();
      await token.connect(client).approve(agent2.address, 10n * AITBC);
      await humanOverride.connect(guardian).freeze(agent2.address, "compromised key");
      await expect(token.connect(agent2).transferFrom(client.address, outsider.address, 10n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent2.address);
      expect(await token.balanceOf(client.address)).to.equal(100n * AITBC);
      expect(await token.allowance(client.address, agent2.address)).to.equal(10n * AITBC);
    });

    it("reverts AgentConstitutionActionDenied when a guardian denied the spending agent's TRANSFER", async function () {
      const { token, constitution, humanOverride, guardian, agent2, client, outsider } = await agentFixture();
      await token.connect(client).approve(agent2.address, 10n * AITBC);
      await humanOverride.connect(guardian).deny(agent2.address, TRANSFER_ACTION, 3_600n);
      await expect(token.connect(agent2).transferFrom(client.address, outsider.address, AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionDenied")
        .withArgs(agent2.address, TRANSFER_ACTION);
    });

    shouldBeChargedAsAgentAction({
      fn: "transferFrom (by a spending agent)",
      action: "transfer",
      setup: async () => {
        const f = await agentFixture();
        await f.token.connect(f.client).approve(f.agent2.address, 10n * AITBC);
        return f;
      },
      agent: (f) => f.agent2,
      call: (f) => f.token.connect(f.agent2).transferFrom(f.client.address, f.outsider.address, AITBC),
    });
    shouldBeChargedAsAgentAction({
      fn: "transferFrom (pulling from an agent)",
      action: "transfer",
      setup: async () => {
        const f = await agentFixture();
        await f.token.connect(f.agent).approve(f.outsider.address, 10n * AITBC);
        return f;
      },
      agent: (f) => f.agent,
      call: (f) => f.token.connect(f.outsider).transferFrom(f.agent.address, f.outsider.address, AITBC),
    });

    it("reverts AgentConstitutionDailyVolumeExceeded once the spending agent's daily volume is used up", async function () {
      const { token, constitution, operator, agent2, client, outsider } = await agentFixture();
      await constitution
        .connect(operator)
        .setConstraints(agent2.address, { ...DEFAULT_CONSTRAINTS, maxDailyVolume: 10n * AITBC });
      await token.connect(client).approve(agent2.address, 50n * AITBC);
      await token.connect(agent2).transferFrom(client.address, outsider.address, 10n * AITBC);
      expect((await constitution.usageOf(agent2.address)).volume).to.equal(10n * AITBC);
      await expect(token.connect(agent2).transferFrom(client.address, outsider.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent2.address, 10n * AITBC, 1n, 10n * AITBC);
      expect(await token.balanceOf(outsider.address)).to.equal(10n * AITBC);
    });

    it("blocks an agent that declared no daily volume from spending a non-agent's allowance", async function () {
      const f = await agentFixture();
      const { token, constitution, operator, client, outsider } = f;
      const [zeroAgent] = (await connection.ethers.getSigners()).slice(11, 12);
      if (!zeroAgent) throw new Error("the test network needs at least 12 accounts");
      await enroll(f, zeroAgent, operator, 0n);
      await token.connect(client).approve(zeroAgent.address, 10n * AITBC);
      await expect(token.connect(zeroAgent).transferFrom(client.address, outsider.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(zeroAgent.address, 0n, 1n, 0n);
    });

    it("charges registry.stake once, as a STAKE of value 0: the registry's pull (MODULE_ROLE) is not a TRANSFER", async function () {
      const { token, registry, constitution, agent } = await agentFixture();
      const bonds = await token.balanceOf(await registry.getAddress()); // enroll staked both agents' bonds
      const amount = 1_500n * AITBC;
      await token.connect(agent).approve(await registry.getAddress(), amount);
      await expect(registry.connect(agent).stake(amount))
        .to.emit(token, "Transfer")
        .withArgs(agent.address, await registry.getAddress(), amount);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(0n); // staking is not daily volume
      expect(usage.gas).to.be.greaterThan(0n); // the STAKE action's gas
      expect(await registry.stakeOf(await registry.getAgentId(agent.address))).to.equal(
        requiredStakeFor(DECLARED_VOLUME) + amount,
      );
      expect(await token.balanceOf(await registry.getAddress())).to.equal(bonds + amount);
    });

    it("does not charge a pull by a MODULE_ROLE spender", async function () {
      const { token, constitution, deployer, module, agent } = await agentFixture();
      await token.connect(deployer).grantRole(await token.MODULE_ROLE(), module.address);
      await token.connect(agent).approve(module.address, 10n * AITBC);
      await token.connect(module).transferFrom(agent.address, module.address, 10n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.equal(0n);
      expect(await token.balanceOf(module.address)).to.equal(10n * AITBC);
    });

    it("moves a non-agent's tokens without touching any constitution", async function () {
      const { token, constitution, client, outsider } = await agentFixture();
      await token.connect(client).approve(outsider.address, 10n * AITBC);
      await expect(token.connect(outsider).transferFrom(client.address, outsider.address, 10n * AITBC))
        .to.emit(token, "Transfer")
        .withArgs(client.address, outsider.address, 10n * AITBC);
      expect((await constitution.usageOf(client.address)).volume).to.equal(0n);
      expect(await token.allowance(client.address, outsider.address)).to.equal(0n);
    });

    it("reverts AgentConstitutionAgentFrozen when a spender pulls from a frozen agent", async function () {
      const { token, constitution, humanOverride, guardian, agent, outsider } = await agentFixture();
      await token.connect(agent).approve(outsider.address, 10n * AITBC);
      await humanOverride.connect(guardian).freeze(agent.address, "suspicious");
      await expect(token.connect(outsider).transferFrom(agent.address, outsider.address, 10n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
    });

    it("reverts AgentConstitutionDailyVolumeExceeded when a pull passes the agent's daily volume", async function () {
      const { token, constitution, operator, agent, outsider } = await agentFixture();
      await constitution
        .connect(operator)
        .setConstraints(agent.address, { ...DEFAULT_CONSTRAINTS, maxDailyVolume: 10n * AITBC });
      await token.connect(agent).approve(outsider.address, 11n * AITBC);
      await expect(token.connect(outsider).transferFrom(agent.address, outsider.address, 11n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent.address, 0n, 11n * AITBC, 10n * AITBC);
    });

    it("reverts ERC20InsufficientAllowance when the allowance is short", async function () {
      const { token, client, outsider } = await agentFixture();
      await token.connect(client).approve(outsider.address, AITBC);
      await expect(token.connect(outsider).transferFrom(client.address, outsider.address, 2n * AITBC))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(outsider.address, AITBC, 2n * AITBC);
    });

    shouldBeRefusedWhileStopped({
      fn: "transferFrom (with an unlimited allowance)",
      setup: async () => {
        const f = await agentFixture();
        await f.token.connect(f.client).approve(f.outsider.address, ethers.MaxUint256);
        return f;
      },
      call: (f) => f.token.connect(f.outsider).transferFrom(f.client.address, f.outsider.address, AITBC),
      contract: (f) => f.token,
    });
  });

  describe("approve", function () {
    it("sets the allowance and emits Approval", async function () {
      const { token, client, outsider } = await networkHelpers.loadFixture(coreFixture);
      await expect(token.connect(client).approve(outsider.address, 5n))
        .to.emit(token, "Approval")
        .withArgs(client.address, outsider.address, 5n);
      expect(await token.allowance(client.address, outsider.address)).to.equal(5n);
    });

    it("reverts ERC20InvalidSpender for the zero spender", async function () {
      const { token, client } = await networkHelpers.loadFixture(coreFixture);
      await expect(token.connect(client).approve(ethers.ZeroAddress, 5n))
        .to.be.revertedWithCustomError(token, "ERC20InvalidSpender")
        .withArgs(ethers.ZeroAddress);
    });

    shouldBeRefusedWhileStopped({
      fn: "approve",
      setup: () => networkHelpers.loadFixture(coreFixture),
      call: (f) => f.token.connect(f.client).approve(f.outsider.address, 5n),
      contract: (f) => f.token,
      afterCall: async (f) => {
        expect(await f.token.allowance(f.client.address, f.outsider.address)).to.equal(5n);
      },
    });
  });
});
