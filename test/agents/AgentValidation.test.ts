/**
 * AgentValidation: ERC-8004 validation responses backed by what the marketplace verified. Called through the
 * reference ABI (erc-8004/erc-8004-contracts abis/ValidationRegistry.json) where the standard has the call; the
 * attacks: a response the chain cannot back (before the ruling, against the ruling, after an expiry, to a free
 * reference request), by the wrong validator (another one, a party, one without the marketplace's role, a frozen
 * one), and twice. The Zk subject is checked with a real Iris inference proof.
 */
import { expect } from "chai";
import { Contract, id, Interface, type InterfaceAbi, ZeroHash } from "ethers";
import { readFileSync } from "node:fs";
import path from "node:path";
import { network } from "hardhat";

import { fieldToBytes32 } from "../../circuits/lib/field.js";
import { irisInputHash, irisModelHash, loadIrisModel, quantizeFeatures } from "../../circuits/lib/iris.js";
import { Prover } from "../../circuits/lib/prover.js";
import { AGENT_TYPE, registerAndStake } from "../helpers/agents.js";
import {
  AGENT2_ID,
  CHALLENGE_WINDOW,
  disputed,
  freeze,
  loadMarket,
  type Market,
  now,
  offer,
  type Posted,
  PROVIDER_STAKE,
  PROVIDER_VOLUME,
  send,
  signResult,
  submitted,
  type Tx,
  VERIFICATION,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";
import { proveIris, TEST_BLIND } from "../helpers/proofs.js";

const { ethers, networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

const REFERENCE = JSON.parse(readFileSync(path.join(import.meta.dirname, "erc8004-reference-abi.json"), "utf8")) as {
  validation: InterfaceAbi;
};
const REFERENCE_INTERFACE = new Interface(REFERENCE.validation);

const SUBJECT = { dispute: 1n, zkInference: 2n } as const;
const DISPUTE_TAG = "aitbc.dispute";
const ZK_TAG = "aitbc.zk-inference";
const DISPUTE_TIMEOUT = 7n * 24n * 3600n;
const URI = "https://validator.example/rulings/1.json";
const EVIDENCE = id("the validator's evidence");

/** The registry as an ERC-8004 client sees it: the reference ABI at AITBC's address, signed by `signer`. */
async function asReference(f: Market, signer = f.validator) {
  return new Contract(await f.validation.getAddress(), REFERENCE.validation, signer);
}

/** The validator asks about the dispute on workload 1; returns the request hash. */
async function requested(f: Posted, validator = f.validator): Promise<string> {
  const requestHash = await f.validation.connect(validator).requestDisputeValidation.staticCall(WORKLOAD_ID, URI);
  await send(f.validation.connect(validator).requestDisputeValidation(WORKLOAD_ID, URI));
  return requestHash;
}

/** A second staked validator agent admitted by the admin (`outsider`). */
async function secondValidator(f: Posted) {
  await registerAndStake(f, f.outsider, f.operator, PROVIDER_STAKE, {
    expectedDailyVolume: PROVIDER_VOLUME,
    agentType: AGENT_TYPE.validator,
  });
  await send(f.marketplace.connect(f.deployer).grantRole(f.validatorRole, f.outsider.address));
  return f.outsider;
}

describe("AgentValidation (ERC-8004 validation registry backed by the marketplace)", function () {
  describe("deployment and the reference's read calls", function () {
    it("is deployed by Protocol.ts next to the marketplace: identity registry, version, empty lists", async function () {
      const f = await loadMarket();
      const reference = new Contract(await f.validation.getAddress(), REFERENCE.validation, ethers.provider);
      expect(await reference.getFunction("getIdentityRegistry")()).to.equal(await f.identity.getAddress());
      expect(await reference.getFunction("getVersion")()).to.equal("2.0.0");
      expect(await reference.getFunction("getAgentValidations")(AGENT2_ID)).to.deep.equal([]);
      expect(await reference.getFunction("getSummary")(AGENT2_ID, [], "")).to.deep.equal([0n, 0n]);
      expect(await f.validation.marketplace()).to.equal(await f.marketplace.getAddress());
    });
  });

  describe("a dispute ruling", function () {
    it("provider upheld: request (ValidationRequest), ruling, response 100 through the reference ABI, status and summary", async function () {
      const f = await disputed();
      const requestHash = await f.validation.requestHashOf(f.validator.address, SUBJECT.dispute, WORKLOAD_ID, 0n);
      const request = f.validation.connect(f.validator).requestDisputeValidation(WORKLOAD_ID, URI);
      await expect(request)
        .to.emit(f.validation, "ValidationRequest")
        .withArgs(f.validator.address, AGENT2_ID, URI, requestHash);
      // The event is the reference's, topic for topic.
      const receipt = await (await request).wait();
      if (receipt === null) throw new Error("no receipt");
      const log = receipt.logs.map((l) => REFERENCE_INTERFACE.parseLog(l)).find((l) => l !== null);
      expect(log?.name).to.equal("ValidationRequest");
      expect(await f.validation.subjectOf(requestHash)).to.deep.equal([SUBJECT.dispute, WORKLOAD_ID, 0n]);

      await send(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true));
      expect(await f.validation.backedResponse(requestHash)).to.equal(100n);
      const reference = await asReference(f);
      const response = reference.getFunction("validationResponse")(requestHash, 100, URI, EVIDENCE, DISPUTE_TAG);
      await expect(response)
        .to.emit(f.validation, "ValidationResponse")
        .withArgs(f.validator.address, AGENT2_ID, requestHash, 100n, URI, EVIDENCE, DISPUTE_TAG);
      const at = BigInt(await time.latest());

      expect(await reference.getFunction("getValidationStatus")(requestHash)).to.deep.equal([
        f.validator.address,
        AGENT2_ID,
        100n,
        EVIDENCE,
        DISPUTE_TAG,
        at,
      ]);
      expect(await reference.getFunction("getSummary")(AGENT2_ID, [], "")).to.deep.equal([1n, 100n]);
      expect(await reference.getFunction("getSummary")(AGENT2_ID, [f.validator.address], DISPUTE_TAG)).to.deep.equal([
        1n,
        100n,
      ]);
      expect(await reference.getFunction("getSummary")(AGENT2_ID, [f.outsider.address], "")).to.deep.equal([0n, 0n]);
      expect(await reference.getFunction("getSummary")(AGENT2_ID, [], ZK_TAG)).to.deep.equal([0n, 0n]);
      expect(await reference.getFunction("getAgentValidations")(AGENT2_ID)).to.deep.equal([requestHash]);
      expect(await reference.getFunction("getValidatorRequests")(f.validator.address)).to.deep.equal([requestHash]);
    });

    it("client upheld: the response must be 0; 100 is refused (AgentValidationResponseMismatch)", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      await send(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false));
      const reference = await asReference(f);
      await expect(reference.getFunction("validationResponse")(requestHash, 100, URI, EVIDENCE, DISPUTE_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationResponseMismatch")
        .withArgs(requestHash, 0n, 100n);
      await send(reference.getFunction("validationResponse")(requestHash, 0, URI, EVIDENCE, DISPUTE_TAG) as Tx);
      expect(await f.validation.getSummary(AGENT2_ID, [], "")).to.deep.equal([1n, 0n]);
    });

    it("a guardian's ruling backs the response too (the ruling is the chain's)", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      await send(f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false));
      await send(f.validation.connect(f.validator).validationResponse(requestHash, 0, URI, EVIDENCE, DISPUTE_TAG));
    });
  });

  describe("attack: a response the chain cannot back", function () {
    it("the reference's free validationRequest is refused (AgentValidationUnbackedRequest)", async function () {
      const f = await disputed();
      const reference = await asReference(f, f.agent2);
      await expect(
        reference.getFunction("validationRequest")(f.validator.address, AGENT2_ID, URI, id("anything")),
      ).to.be.revertedWithCustomError(f.validation, "AgentValidationUnbackedRequest");
    });

    it("before the ruling: AgentValidationNotRuled, for either answer", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      for (const answer of [0, 100]) {
        await expect(
          f.validation.connect(f.validator).validationResponse(requestHash, answer, URI, EVIDENCE, DISPUTE_TAG),
        )
          .to.be.revertedWithCustomError(f.validation, "AgentValidationNotRuled")
          .withArgs(WORKLOAD_ID);
      }
      await expect(f.validation.backedResponse(requestHash))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNotRuled")
        .withArgs(WORKLOAD_ID);
    });

    it("a request on a workload that is not disputed: AgentValidationNoSubject", async function () {
      const f = await submitted();
      await expect(f.validation.connect(f.validator).requestDisputeValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNoSubject")
        .withArgs(WORKLOAD_ID, SUBJECT.dispute);
      await expect(f.validation.connect(f.validator).requestProofValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNoSubject")
        .withArgs(WORKLOAD_ID, SUBJECT.zkInference);
    });

    it("an expired dispute (refunded, nobody ruled): no response either way (AgentValidationRulingUnknown)", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await time.increaseTo(submittedAt + CHALLENGE_WINDOW + DISPUTE_TIMEOUT + 1n);
      await send(f.marketplace.connect(f.outsider).expireDispute(WORKLOAD_ID));
      for (const answer of [0, 100]) {
        await expect(
          f.validation.connect(f.validator).validationResponse(requestHash, answer, URI, EVIDENCE, DISPUTE_TAG),
        )
          .to.be.revertedWithCustomError(f.validation, "AgentValidationRulingUnknown")
          .withArgs(WORKLOAD_ID);
      }
    });

    it("the wrong tag: AgentValidationWrongTag", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      await send(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true));
      await expect(f.validation.connect(f.validator).validationResponse(requestHash, 100, URI, EVIDENCE, ZK_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationWrongTag")
        .withArgs(requestHash, ZK_TAG);
    });

    it("an unknown request: AgentValidationUnknownRequest", async function () {
      const f = await disputed();
      const reference = await asReference(f);
      await expect(reference.getFunction("validationResponse")(id("nope"), 100, URI, EVIDENCE, DISPUTE_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationUnknownRequest")
        .withArgs(id("nope"));
      await expect(reference.getFunction("getValidationStatus")(id("nope")))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationUnknownRequest")
        .withArgs(id("nope"));
    });
  });

  describe("attack: the wrong validator", function () {
    it("another validator answers the request: AgentValidationWrongValidator", async function () {
      const f = await disputed();
      const other = await secondValidator(f);
      const requestHash = await requested(f);
      await send(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true));
      await expect(f.validation.connect(other).validationResponse(requestHash, 100, URI, EVIDENCE, DISPUTE_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationWrongValidator")
        .withArgs(requestHash, other.address);
      const reference = await asReference(f, f.agent2);
      await expect(reference.getFunction("validationResponse")(requestHash, 100, URI, EVIDENCE, DISPUTE_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationWrongValidator")
        .withArgs(requestHash, f.agent2.address);
    });

    it("the parties, a non-validator and a validator without the marketplace's role cannot ask", async function () {
      const f = await disputed();
      await expect(f.validation.connect(f.agent2).requestDisputeValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNotValidator")
        .withArgs(f.agent2.address);
      await expect(f.validation.connect(f.client).requestDisputeValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNotValidator")
        .withArgs(f.client.address);
      await expect(f.validation.connect(f.idleValidator).requestDisputeValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNotValidator")
        .withArgs(f.idleValidator.address);
      const other = await secondValidator(f);
      await send(f.marketplace.connect(f.deployer).revokeRole(f.validatorRole, other.address));
      await expect(f.validation.connect(other).requestDisputeValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNotResolver")
        .withArgs(WORKLOAD_ID, other.address);
    });

    it("a validator a guardian froze after asking cannot answer", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      await send(f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, true));
      await freeze(f, f.validator);
      await expect(f.validation.connect(f.validator).validationResponse(requestHash, 100, URI, EVIDENCE, DISPUTE_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNotValidator")
        .withArgs(f.validator.address);
    });
  });

  describe("attack: twice", function () {
    it("a second response is refused (AgentValidationAlreadyAnswered), the first stands", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      await send(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true));
      await send(f.validation.connect(f.validator).validationResponse(requestHash, 100, URI, EVIDENCE, DISPUTE_TAG));
      await expect(f.validation.connect(f.validator).validationResponse(requestHash, 100, URI, ZeroHash, DISPUTE_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationAlreadyAnswered")
        .withArgs(requestHash);
      const [, , , responseHash] = await f.validation.getValidationStatus(requestHash);
      expect(responseHash).to.equal(EVIDENCE);
      expect(await f.validation.getSummary(AGENT2_ID, [], "")).to.deep.equal([1n, 100n]);
    });

    it("a second request for the same dispute by the same validator is refused (AgentValidationRequestExists)", async function () {
      const f = await disputed();
      const requestHash = await requested(f);
      await expect(f.validation.connect(f.validator).requestDisputeValidation(WORKLOAD_ID, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationRequestExists")
        .withArgs(requestHash);
    });
  });

  describe("a zk inference proof", function () {
    const prover = new Prover();
    after(async function () {
      await prover.close();
    });

    it("a Zk workload's proven result (checked by the InferenceVerifier on submit) is validated 100, and only 100", async function () {
      this.timeout(180_000);
      const f = await loadMarket();
      const model = loadIrisModel();
      const modelHash = fieldToBytes32(irisModelHash(model));
      const features = quantizeFeatures([5.9, 3.0, 5.1, 1.8]);
      const inference = await proveIris(prover, model, features);
      const serviceId = id("service: agent2, iris");
      await send(f.marketplace.connect(f.agent2).listService(offer(serviceId, { modelHash })));
      const request = workloadRequest(await now(), {
        serviceType: ZeroHash,
        modelHash,
        verification: VERIFICATION.zk,
        inputHash: fieldToBytes32(irisInputHash(features, TEST_BLIND)),
      });
      const workloadId = await f.marketplace.connect(f.client).postWorkload.staticCall(request);
      await send(f.marketplace.connect(f.client).postWorkload(request));
      await send(f.marketplace.connect(f.agent2).bid(workloadId, serviceId, 5n * 10n ** 18n, id("proposal")));
      await send(f.marketplace.connect(f.client).award(workloadId, 0n, AGENT2_ID));
      // Awarded, no proof yet: nothing to validate.
      await expect(f.validation.connect(f.validator).requestProofValidation(workloadId, URI))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationNoSubject")
        .withArgs(workloadId, SUBJECT.zkInference);
      const leaf = fieldToBytes32(inference.leaf);
      const signature = await signResult(f.agent2, f.marketplace, workloadId, 0n, leaf);
      await send(
        f.marketplace
          .connect(f.agent2)
          .submitProvenResult(workloadId, leaf, signature, inference.outputHash, inference.proof),
      );

      const requestHash = await f.validation.connect(f.validator).requestProofValidation.staticCall(workloadId, URI);
      await expect(f.validation.connect(f.validator).requestProofValidation(workloadId, URI))
        .to.emit(f.validation, "ValidationRequest")
        .withArgs(f.validator.address, AGENT2_ID, URI, requestHash);
      await expect(f.validation.connect(f.validator).validationResponse(requestHash, 99, URI, leaf, ZK_TAG))
        .to.be.revertedWithCustomError(f.validation, "AgentValidationResponseMismatch")
        .withArgs(requestHash, 100n, 99n);
      const reference = await asReference(f);
      await send(reference.getFunction("validationResponse")(requestHash, 100, URI, leaf, ZK_TAG) as Tx);
      expect(await reference.getFunction("getSummary")(AGENT2_ID, [f.validator.address], ZK_TAG)).to.deep.equal([
        1n,
        100n,
      ]);
    });
  });
});
