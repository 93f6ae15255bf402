/**
 * ServiceMarketplace at the Zk verification level, on chain with a real Iris inference proof: Zk workloads name a
 * model commitment (a field element), and their result is submitted with submitProvenResult, the result hash being
 * the proof's leaf Poseidon(inputHash, 0, outputHash). Full workloads are refused. One proof is made in `before`;
 * the negative cases submit changed copies.
 */
import { expect } from "chai";
import { id, MaxUint256, ZeroHash } from "ethers";
import { network } from "hardhat";

import { FIELD_MODULUS, fieldToBytes32, poseidonHash } from "../../circuits/lib/field.js";
import {
  irisInputHash,
  irisModelHash,
  loadIrisModel,
  quantizeFeatures,
  type IrisModel,
} from "../../circuits/lib/iris.js";
import { Prover } from "../../circuits/lib/prover.js";
import { AITBC, HOUR, mintAitbc, registerAndStake } from "../helpers/agents.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import {
  escrowOf,
  offer,
  type Request,
  PROVIDER_STAKE,
  PROVIDER_VOLUME,
  signResult,
  split,
  VERIFICATION,
  WORKLOAD,
  workloadRequest,
} from "../helpers/market.js";
import { proveIris, tamperedProofs, TEST_BLIND, type IrisProof } from "../helpers/proofs.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const P = FIELD_MODULUS;
const MAX_UINT256 = (1n << 256n) - 1n;
const AGENT_ID = 1n;

/** A virginica of the Iris data set (cm). */
const FLOWER = [5.9, 3.0, 5.1, 1.8];
/** The client's input commitment for FLOWER under its blind: the inference proof's inputHash. */
const FLOWER_INPUT = fieldToBytes32(irisInputHash(quantizeFeatures(FLOWER), TEST_BLIND));

let loaded: { model: IrisModel; hash: string; other: string } | undefined;
/**
 * The committed Iris model, its commitment iris().hash and another commitment iris().other (a field element the proof
 * is not for). Loaded on first use, so that a broken model fails the tests that need it, not the whole run.
 */
function iris() {
  if (loaded === undefined) {
    const model = loadIrisModel();
    const hash = irisModelHash(model);
    loaded = { model, hash: fieldToBytes32(hash), other: fieldToBytes32((hash + 1n) % P) };
  }
  return loaded;
}
/** A model commitment for posting tests (a field element). */
const SOME_MODEL = fieldToBytes32(BigInt(id("some model")) % P);
const SERVICE_IRIS = id("service: agent, iris");
const SERVICE_OTHER = id("service: agent2, other model");
const PRICE = 5n * AITBC;

/**
 * The protocol, plus: `agent` (id 1) and `agent2` (id 2), staked service providers; `client` holds 10,000 AITBC
 * and approved the marketplace.
 */
async function zkMarketFixture() {
  const core = await deployProtocol(connection);
  const { token, marketplace, operator, agent, agent2, client } = core;
  for (const a of [agent, agent2]) {
    await registerAndStake(core, a, operator, PROVIDER_STAKE, { expectedDailyVolume: PROVIDER_VOLUME });
  }
  await mintAitbc(core, client.address, 10_000n);
  await (await token.connect(client).approve(await marketplace.getAddress(), MaxUint256)).wait();
  return core;
}
const loadZkMarket = () => networkHelpers.loadFixture(zkMarketFixture);
type ZkMarket = Awaited<ReturnType<typeof zkMarketFixture>>;

/** The market, plus: agent lists SERVICE_IRIS (model iris().hash), agent2 SERVICE_OTHER (model iris().other). */
async function loadListed(): Promise<ZkMarket> {
  const f = await loadZkMarket();
  await (await f.marketplace.connect(f.agent).listService(offer(SERVICE_IRIS, { modelHash: iris().hash }))).wait();
  await (await f.marketplace.connect(f.agent2).listService(offer(SERVICE_OTHER, { modelHash: iris().other }))).wait();
  return f;
}

/** Any 256-bit value as bytes32 (fieldToBytes32 refuses values outside the field). */
function hex32(v: bigint): string {
  return `0x${v.toString(16).padStart(64, "0")}`;
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** A Zk request for `modelHash` (any service type), other fields as workloadRequest's. */
async function zkRequest(modelHash: string, overrides: Partial<Request> = {}): Promise<Request> {
  return workloadRequest(await now(), {
    serviceType: ZeroHash,
    modelHash,
    verification: VERIFICATION.zk,
    inputHash: FLOWER_INPUT,
    ...overrides,
  });
}

/** `client` posts `request`; `provider` bids on it with `serviceId` at PRICE; the client awards it. Returns its id. */
async function awarded(f: ZkMarket, request: Request, provider: ZkMarket["agent"], serviceId: string): Promise<bigint> {
  const workloadId = await f.marketplace.connect(f.client).postWorkload.staticCall(request);
  await (await f.marketplace.connect(f.client).postWorkload(request)).wait();
  await (await f.marketplace.connect(provider).bid(workloadId, serviceId, PRICE, id("proposal"))).wait();
  const providerId = await f.registry.agentIdOf(provider.address);
  await (await f.marketplace.connect(f.client).award(workloadId, 0n, providerId)).wait();
  return workloadId;
}

describe("ServiceMarketplace at the Zk level (on chain, a real inference proof)", function () {
  const prover = new Prover();
  let inference: IrisProof;

  after(async function () {
    await prover.close();
  });

  /** submitProvenResult by the provider, with its signature over `resultHash` (the leaf unless replaced). */
  async function submitProven(
    f: ZkMarket,
    workloadId: bigint,
    provider: ZkMarket["agent"],
    fields: Partial<{ resultHash: string; outputHash: bigint; proof: IrisProof["proof"] }> = {},
  ) {
    const resultHash = fields.resultHash ?? fieldToBytes32(inference.leaf);
    const signature = await signResult(provider, f.marketplace, workloadId, 0n, resultHash);
    return f.marketplace
      .connect(provider)
      .submitProvenResult(
        workloadId,
        resultHash,
        signature,
        fields.outputHash ?? inference.outputHash,
        fields.proof ?? inference.proof,
      );
  }

  describe("posting", function () {
    it("reverts MarketplaceVerificationUnsupported(Full) for a Full workload", async function () {
      const f = await loadZkMarket();
      for (const modelHash of [SOME_MODEL, id("model:llama-3-8b")]) {
        const request = await zkRequest(modelHash, { verification: VERIFICATION.full });
        await expect(f.marketplace.connect(f.client).postWorkload(request))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceVerificationUnsupported")
          .withArgs(VERIFICATION.full);
      }
    });

    it('reverts MarketplaceInvalidRequest("modelHash") for a Zk workload whose model is 0 or at/above the field', async function () {
      const f = await loadZkMarket();
      const cases: [string, Partial<Request>][] = [
        ["0, with a service type", { modelHash: ZeroHash, serviceType: id("gpu-inference") }],
        ["p", { modelHash: hex32(P) }],
        ["p + 1", { modelHash: hex32(P + 1n) }],
        ["2^256 - 1", { modelHash: hex32(MAX_UINT256) }],
      ];
      for (const [what, overrides] of cases) {
        const request = await zkRequest(SOME_MODEL, overrides);
        await expect(f.marketplace.connect(f.client).postWorkload(request), what)
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("modelHash");
      }
    });

    it('reverts MarketplaceInvalidRequest("inputHash") for a Zk workload whose input commitment is 0 or at/above the field', async function () {
      const f = await loadZkMarket();
      for (const inputHash of [ZeroHash, hex32(P), hex32(MAX_UINT256)]) {
        const request = await zkRequest(SOME_MODEL, { inputHash });
        await expect(f.marketplace.connect(f.client).postWorkload(request), inputHash)
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
          .withArgs("inputHash");
      }
    });

    it("accepts a Zk workload on a model commitment below the field (p - 1 included)", async function () {
      const f = await loadZkMarket();
      for (const modelHash of [SOME_MODEL, fieldToBytes32(P - 1n)]) {
        const request = await zkRequest(modelHash);
        await expect(f.marketplace.connect(f.client).postWorkload(request)).to.emit(f.marketplace, "WorkloadPosted");
      }
      const w = await f.marketplace.getWorkload(1n);
      expect(w.verification).to.equal(VERIFICATION.zk);
      expect(w.modelHash).to.equal(SOME_MODEL);
      expect(w.inputHash).to.equal(FLOWER_INPUT);
      expect(w.status).to.equal(WORKLOAD.open);
    });
  });

  describe("submitProvenResult", function () {
    before(async function () {
      this.timeout(120_000);
      inference = await proveIris(prover, iris().model, quantizeFeatures(FLOWER));
    });

    it("a Zk workload goes through award, a proven result (ResultProven) and settlement; the receipt's result is the leaf", async function () {
      const f = await loadListed();
      const request = await zkRequest(iris().hash);
      const workloadId = await awarded(f, request, f.agent, SERVICE_IRIS);
      expect(inference.modelHash).to.equal(BigInt(iris().hash));
      const leaf = fieldToBytes32(inference.leaf);
      await expect(submitProven(f, workloadId, f.agent))
        .to.emit(f.marketplace, "ResultProven")
        .withArgs(workloadId, inference.outputHash)
        .and.to.emit(f.marketplace, "ResultSubmitted")
        .withArgs(workloadId, AGENT_ID, leaf);
      let w = await f.marketplace.getWorkload(workloadId);
      expect(w.status).to.equal(WORKLOAD.submitted);
      expect(w.resultHash).to.equal(leaf);

      const { net, fee, refund } = split(
        request.units,
        request.maxPricePerUnit,
        PRICE,
        await f.marketplace.protocolFeeBps(),
      );
      const [agentBefore, clientBefore] = [
        await f.token.balanceOf(f.agent.address),
        await f.token.balanceOf(f.client.address),
      ];
      await expect(f.marketplace.connect(f.client).accept(workloadId))
        .to.emit(f.marketplace, "WorkloadSettled")
        .withArgs(workloadId, AGENT_ID, net, fee, refund);
      w = await f.marketplace.getWorkload(workloadId);
      expect(w.status).to.equal(WORKLOAD.settled);
      expect(await f.token.balanceOf(f.agent.address)).to.equal(agentBefore + net);
      expect(await f.token.balanceOf(f.client.address)).to.equal(clientBefore + refund);
      expect(net + fee + refund).to.equal(escrowOf(request));
      const receipt = await f.marketplace.receiptOf(workloadId);
      expect(receipt.resultHash).to.equal(leaf);
      expect(receipt.provider).to.equal(f.agent.address);
    });

    it("anyone may relay the provider's signed, proven result; it still needs the provider's signature (MarketplaceInvalidResultSignature)", async function () {
      const f = await loadListed();
      const workloadId = await awarded(f, await zkRequest(iris().hash), f.agent, SERVICE_IRIS);
      const leaf = fieldToBytes32(inference.leaf);
      const forged = await signResult(f.agent2, f.marketplace, workloadId, 0n, leaf);
      await expect(
        f.marketplace
          .connect(f.client)
          .submitProvenResult(workloadId, leaf, forged, inference.outputHash, inference.proof),
      )
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidResultSignature")
        .withArgs(workloadId);
      const signature = await signResult(f.agent, f.marketplace, workloadId, 0n, leaf);
      await expect(
        f.marketplace
          .connect(f.outsider)
          .submitProvenResult(workloadId, leaf, signature, inference.outputHash, inference.proof),
      ).to.emit(f.marketplace, "ResultProven");
    });

    it("reverts MarketplaceProofRequired for submitResult on a Zk workload", async function () {
      const f = await loadListed();
      const workloadId = await awarded(f, await zkRequest(iris().hash), f.agent, SERVICE_IRIS);
      const leaf = fieldToBytes32(inference.leaf);
      const signature = await signResult(f.agent, f.marketplace, workloadId, 0n, leaf);
      await expect(f.marketplace.connect(f.agent).submitResult(workloadId, leaf, signature))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceProofRequired")
        .withArgs(workloadId);
    });

    it("reverts MarketplaceNotProven for submitProvenResult on a Basic workload", async function () {
      const f = await loadListed();
      const request = await zkRequest(iris().hash, { verification: VERIFICATION.basic });
      const workloadId = await awarded(f, request, f.agent, SERVICE_IRIS);
      await expect(submitProven(f, workloadId, f.agent))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotProven")
        .withArgs(workloadId);
      // the Basic path still works
      const signature = await signResult(f.agent, f.marketplace, workloadId, 0n, fieldToBytes32(inference.leaf));
      await expect(
        f.marketplace.connect(f.agent).submitResult(workloadId, fieldToBytes32(inference.leaf), signature),
      ).to.emit(f.marketplace, "ResultSubmitted");
    });

    it("reverts MarketplaceInvalidProof for a tampered proof or a statement the proof does not prove", async function () {
      const f = await loadListed();
      const workloadId = await awarded(f, await zkRequest(iris().hash), f.agent, SERVICE_IRIS);
      const cases: [string, Parameters<typeof submitProven>[3]][] = [
        ...tamperedProofs(inference.proof).map(([what, proof]): [string, { proof: IrisProof["proof"] }] => [
          what,
          { proof },
        ]),
        ["another result hash (leaf)", { resultHash: fieldToBytes32(inference.leaf + 1n) }],
        ["a result hash at or above the field", { resultHash: hex32(inference.leaf + P) }],
        ["another output hash", { outputHash: inference.outputHash + 1n }],
        ["the input hash as the output hash", { outputHash: inference.inputHash }],
      ];
      for (const [what, fields] of cases) {
        await expect(submitProven(f, workloadId, f.agent, fields), what)
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidProof")
          .withArgs(workloadId);
      }
      expect((await f.marketplace.getWorkload(workloadId)).status).to.equal(WORKLOAD.awarded);
      await expect(submitProven(f, workloadId, f.agent)).to.emit(f.marketplace, "ResultProven");
    });

    it("reverts MarketplaceInvalidProof for a workload on another input (the proof is for the client's input only)", async function () {
      const f = await loadListed();
      const other = fieldToBytes32(irisInputHash(quantizeFeatures([5.0, 3.4, 1.5, 0.2]), TEST_BLIND));
      const workloadId = await awarded(f, await zkRequest(iris().hash, { inputHash: other }), f.agent, SERVICE_IRIS);
      await expect(submitProven(f, workloadId, f.agent))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidProof")
        .withArgs(workloadId);
    });

    it("reverts MarketplaceInvalidProof for a workload on the same features under another blind, or unblinded (the proof binds the client's blind)", async function () {
      const f = await loadListed();
      const features = quantizeFeatures(FLOWER);
      for (const inputHash of [irisInputHash(features, TEST_BLIND + 1n), poseidonHash(features)]) {
        const request = await zkRequest(iris().hash, { inputHash: fieldToBytes32(inputHash) });
        const workloadId = await awarded(f, request, f.agent, SERVICE_IRIS);
        await expect(submitProven(f, workloadId, f.agent))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidProof")
          .withArgs(workloadId);
      }
    });

    it("reverts MarketplaceInvalidProof for a workload on another model (the proof is for the Iris model)", async function () {
      const f = await loadListed();
      const workloadId = await awarded(f, await zkRequest(iris().other), f.agent2, SERVICE_OTHER);
      await expect(submitProven(f, workloadId, f.agent2))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidProof")
        .withArgs(workloadId);
    });

    it("a valid proof does not bypass the workload's status (MarketplaceWrongStatus before the award and after submission)", async function () {
      const f = await loadListed();
      const request = await zkRequest(iris().hash, { bidDeadline: (await now()) + HOUR });
      await (await f.marketplace.connect(f.client).postWorkload(request)).wait();
      await expect(submitProven(f, 1n, f.agent))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(1n, WORKLOAD.open);
      await (await f.marketplace.connect(f.agent).bid(1n, SERVICE_IRIS, PRICE, id("proposal"))).wait();
      await (await f.marketplace.connect(f.client).award(1n, 0n, await f.registry.agentIdOf(f.agent.address))).wait();
      await (await submitProven(f, 1n, f.agent)).wait();
      await expect(submitProven(f, 1n, f.agent))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(1n, WORKLOAD.submitted);
    });
  });
});
