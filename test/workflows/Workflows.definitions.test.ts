/**
 * Workflows: deployment and workflow definitions. The wiring and EIP-712 domain, then defineWorkflow: the spec hash
 * over every field, dependency masks, DAG checks (cycles, unknown dependencies, out-of-order DAGs), size and field
 * limits, and the proof mask of Zk workflows. Unknown ids, the DEFINE_WORKFLOW action and the emergency stop are in
 * Workflows.guards.test.ts. The fixture and its states are in test/helpers/workflows.ts.
 */
import { expect } from "chai";
import { id, MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import type { IWorkflows } from "../../typechain-types/index.js";
import {
  BUDGET,
  chainSpec,
  DIAMOND,
  EXECUTION,
  executionRequest,
  FIELD_INPUTS,
  INPUTS,
  loadBase,
  mask,
  MAX_BUDGET,
  MAX_EXECUTION_TIME,
  MAX_STEPS,
  MAX_TIME,
  MAX_UINT128,
  MAX_UINT64,
  PROOF_MODEL_DIAMOND,
  PUBLIC_LISTING,
  randomDag,
  record,
  RESULT,
  sign,
  specHash,
  stepDigest,
  stepSpec,
  VERIFICATION,
  workflowSpec,
} from "../helpers/workflows.js";

const { ethers } = await network.getOrCreate();

describe("Workflows: definitions", function () {
  describe("deployment", function () {
    it("is wired to the protocol and publishes its EIP-712 domain and MAX_STEPS", async function () {
      const f = await loadBase();
      expect(await f.workflows.humanOverride()).to.equal(await f.humanOverride.getAddress());
      expect(await f.workflows.constitution()).to.equal(await f.constitution.getAddress());
      expect(await f.workflows.MAX_STEPS()).to.equal(BigInt(MAX_STEPS));
      const d = await f.workflows.eip712Domain();
      expect(d.name).to.equal("AITBC Workflows");
      expect(d.version).to.equal("1");
      expect(d.verifyingContract).to.equal(await f.workflows.getAddress());
      const r = { executionId: 7n, step: 3, inputHash: id("in"), outputHash: id("out"), cost: 12n };
      expect(await f.workflows.hashStepResult(r.executionId, r.step, r.inputHash, r.outputHash, r.cost)).to.equal(
        await stepDigest(f.workflows, r),
      );
    });

    it("reverts WorkflowsZeroAddress when a dependency is the zero address", async function () {
      const f = await loadBase();
      const args = [
        await f.token.getAddress(),
        await f.registry.getAddress(),
        await f.humanOverride.getAddress(),
        await f.constitution.getAddress(),
        await f.workflowVerifier.getAddress(),
        await f.inferenceVerifier.getAddress(),
        await f.ledger.getAddress(),
      ];
      for (let i = 0; i < args.length; ++i) {
        const bad = [...args];
        bad[i] = ZeroAddress;
        await expect(ethers.deployContract("Workflows", bad)).to.be.revertedWithCustomError(
          f.workflows,
          "WorkflowsZeroAddress",
        );
      }
    });
  });

  describe("definitions", function () {
    it("stores owner, step count, verification, limits, spec hash and proof mask, and emits WorkflowDefined", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.client).defineWorkflow(DIAMOND))
        .to.emit(f.workflows, "WorkflowDefined")
        .withArgs(2n, f.client.address, specHash(DIAMOND), "iris-diamond", 4n);
      const wf = await f.workflows.getWorkflow(2n);
      expect(wf.owner).to.equal(f.client.address);
      expect(wf.stepCount).to.equal(4n);
      expect(wf.verification).to.equal(VERIFICATION.basic);
      expect(wf.maxExecutionTime).to.equal(MAX_TIME);
      expect(wf.maxBudget).to.equal(MAX_BUDGET);
      expect(wf.specHash).to.equal(specHash(DIAMOND));
      expect(wf.proofMask).to.equal(0n);
      // the fixture's definition by the owner is workflow 1, with the same content hash
      const first = await f.workflows.getWorkflow(1n);
      expect(first.owner).to.equal(f.owner.address);
      expect(first.specHash).to.equal(specHash(DIAMOND));
    });

    it("commits the spec hash to every field of the spec", async function () {
      const f = await loadBase();
      const first = DIAMOND.steps[0];
      if (!first) throw new Error("empty diamond");
      const variants: IWorkflows.WorkflowSpecStruct[] = [
        { ...DIAMOND, name: "iris-diamond-2" },
        { ...DIAMOND, maxExecutionTime: 3_601n },
        { ...DIAMOND, maxBudget: MAX_BUDGET + 1n },
        { ...DIAMOND, verification: VERIFICATION.zk },
        { ...DIAMOND, steps: [{ ...first, model: id("other") }, ...DIAMOND.steps.slice(1)] },
        { ...DIAMOND, steps: [{ ...first, inputMapping: "x" }, ...DIAMOND.steps.slice(1)] },
        { ...DIAMOND, steps: [{ ...first, outputMapping: "y" }, ...DIAMOND.steps.slice(1)] },
        { ...DIAMOND, steps: [{ ...first, timeout: 1n }, ...DIAMOND.steps.slice(1)] },
        { ...DIAMOND, steps: [{ ...first, maxRetries: 9n }, ...DIAMOND.steps.slice(1)] },
        { ...DIAMOND, steps: [{ ...first, retryBackoff: 9n }, ...DIAMOND.steps.slice(1)] },
        { ...DIAMOND, steps: [{ ...first, stepType: 1n }, ...DIAMOND.steps.slice(1)] },
        // requiresProof (a Zk workflow's Inference step with a field-element model), alone and with the model
        PROOF_MODEL_DIAMOND,
        {
          ...PROOF_MODEL_DIAMOND,
          steps: PROOF_MODEL_DIAMOND.steps.map((s, i) => (i === 1 ? { ...s, requiresProof: true } : s)),
        },
      ];
      const hashes = new Set([specHash(DIAMOND)]);
      let workflowId = 1n;
      for (const spec of variants) {
        await f.workflows.connect(f.owner).defineWorkflow(spec);
        workflowId += 1n;
        const wf = await f.workflows.getWorkflow(workflowId);
        expect(wf.specHash).to.equal(specHash(spec));
        hashes.add(wf.specHash);
      }
      expect(hashes.size).to.equal(variants.length + 1);
      expect((await f.workflows.getWorkflow(workflowId)).proofMask).to.equal(mask(1));
    });

    it("stores the proof mask of a Zk workflow's requiresProof steps; executing it needs field inputs and proofs (WorkflowsNotFieldElement, WorkflowsProofRequired)", async function () {
      const f = await loadBase();
      const steps = PROOF_MODEL_DIAMOND.steps.map((s, i) => (i === 1 || i === 2 ? { ...s, requiresProof: true } : s));
      const spec = { ...PROOF_MODEL_DIAMOND, steps };
      await expect(f.workflows.connect(f.owner).defineWorkflow(spec))
        .to.emit(f.workflows, "WorkflowDefined")
        .withArgs(2n, f.owner.address, specHash(spec), "iris-diamond", 4n);
      const wf = await f.workflows.getWorkflow(2n);
      expect(wf.proofMask).to.equal(mask(1, 2));
      expect(wf.verification).to.equal(VERIFICATION.zk);
      // INPUTS (a keccak hash) is not a field element: the workflow circuit could not take it
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, BUDGET, 0n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
        .withArgs("inputsHash", INPUTS);
      await f.workflows.connect(f.owner).createListing(2n, PUBLIC_LISTING);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(2n, INPUTS, BUDGET, 1n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
        .withArgs("inputsHash", INPUTS);
      await f.workflows.connect(f.client).requestExecution(executionRequest(2n, FIELD_INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsProofRequired")
        .withArgs(1n);
    });

    it('reverts WorkflowsInvalidSpec("requiresProof") for requiresProof on a Basic or Full workflow', async function () {
      const f = await loadBase();
      for (const verification of [VERIFICATION.basic, VERIFICATION.full]) {
        const steps = PROOF_MODEL_DIAMOND.steps.map((s, i) => (i === 1 ? { ...s, requiresProof: true } : s));
        await expect(f.workflows.connect(f.owner).defineWorkflow({ ...PROOF_MODEL_DIAMOND, steps, verification }))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs("requiresProof");
      }
    });

    it("records each step's dependency mask (dependenciesOf), merging duplicates", async function () {
      const f = await loadBase();
      expect(await f.workflows.dependenciesOf(1n, 0n)).to.equal(0n);
      expect(await f.workflows.dependenciesOf(1n, 1n)).to.equal(mask(0));
      expect(await f.workflows.dependenciesOf(1n, 2n)).to.equal(mask(0));
      expect(await f.workflows.dependenciesOf(1n, 3n)).to.equal(mask(1, 2));
      await f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[], [], [1, 0, 1, 0]]));
      expect(await f.workflows.dependenciesOf(2n, 2n)).to.equal(mask(0, 1));
    });

    it("defines a 64-step DAG", async function () {
      const f = await loadBase();
      const deps = randomDag(64, 3);
      const spec = workflowSpec(deps, { name: "sixty-four" });
      await expect(f.workflows.connect(f.owner).defineWorkflow(spec))
        .to.emit(f.workflows, "WorkflowDefined")
        .withArgs(2n, f.owner.address, specHash(spec), "sixty-four", 64n);
      const wf = await f.workflows.getWorkflow(2n);
      expect(wf.stepCount).to.equal(64n);
      expect(wf.specHash).to.equal(specHash(spec));
      for (let i = 0; i < 64; ++i) {
        expect(await f.workflows.dependenciesOf(2n, BigInt(i))).to.equal(mask(...(deps[i] ?? [])));
      }
    });

    it("defines a MAX_STEPS (256) workflow, the last step depending on steps 0, 128 and 254", async function () {
      const f = await loadBase();
      const spec = chainSpec(MAX_STEPS, { name: "max" });
      spec.steps = spec.steps.map((s, i) => (i === MAX_STEPS - 1 ? stepSpec([0, 128, 254]) : s));
      // requiresProof is for Zk workflows, which have at most 64 steps: a proof mask never reaches bit 255
      const proven = {
        ...spec,
        steps: spec.steps.map((s, i) => (i === MAX_STEPS - 1 ? { ...s, requiresProof: true, model: ZeroHash } : s)),
      };
      await expect(f.workflows.connect(f.owner).defineWorkflow(proven))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
        .withArgs("requiresProof");
      await expect(f.workflows.connect(f.owner).defineWorkflow({ ...proven, verification: VERIFICATION.zk }))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsTooManySteps")
        .withArgs(256n, 64n);
      await expect(f.workflows.connect(f.owner).defineWorkflow(spec))
        .to.emit(f.workflows, "WorkflowDefined")
        .withArgs(2n, f.owner.address, specHash(spec), "max", 256n);
      const wf = await f.workflows.getWorkflow(2n);
      expect(wf.stepCount).to.equal(256n);
      expect(wf.proofMask).to.equal(0n);
      expect(await f.workflows.dependenciesOf(2n, 1n)).to.equal(mask(0));
      expect(await f.workflows.dependenciesOf(2n, 255n)).to.equal(mask(0, 128, 254));
    });

    it("reverts WorkflowsNoSteps for an empty workflow", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([]))).to.be.revertedWithCustomError(
        f.workflows,
        "WorkflowsNoSteps",
      );
    });

    it("reverts WorkflowsTooManySteps for 257 steps", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec(Array.from({ length: 257 }, () => []))))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsTooManySteps")
        .withArgs(257n, 256n);
    });

    it("reverts WorkflowsUnknownDependency for a dependency at or past the step count", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[], [0], [3]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownDependency")
        .withArgs(2n, 3n);
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[], [0, 500]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownDependency")
        .withArgs(1n, 500n);
    });

    it("reverts WorkflowsCycle for a step depending on itself", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[], [0, 1], []])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsCycle")
        .withArgs(1n);
    });

    it("reverts WorkflowsCycle for a 2-cycle", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[1], [0]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsCycle")
        .withArgs(0n);
    });

    it("reverts WorkflowsCycle for a 3-cycle listed out of order", async function () {
      const f = await loadBase();
      // 1 -> 3 -> 2 -> 1, behind a valid step 0
      await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[], [0, 3], [1], [2]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsCycle")
        .withArgs(1n);
    });

    it("accepts a DAG listed out of topological order, and enforces it when recording", async function () {
      const f = await loadBase();
      // valid order: 1, 3, 0, 2
      const spec = workflowSpec([[3], [], [0, 1], [1]]);
      await f.workflows.connect(f.owner).defineWorkflow(spec);
      expect((await f.workflows.getWorkflow(2n)).stepCount).to.equal(4n);
      expect(await f.workflows.dependenciesOf(2n, 0n)).to.equal(mask(3));
      expect(await f.workflows.dependenciesOf(2n, 2n)).to.equal(mask(0, 1));
      await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      const early = await sign(f, 1n, [[0, f.p1, 1n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, early))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsDependencyPending")
        .withArgs(1n, 0n, mask(3));
      await record(f, 1n, [
        [1, f.p1, 1n],
        [3, f.p2, 2n],
        [0, f.p1, 3n],
        [2, f.p3, 4n],
      ]);
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n);
      expect((await f.workflows.getExecution(1n)).status).to.equal(EXECUTION.completed);
    });

    it("reverts WorkflowsInvalidSpec for an empty or oversized name", async function () {
      const f = await loadBase();
      for (const name of ["", "n".repeat(1025)]) {
        await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[]], { name })))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs("name");
      }
    });

    it("reverts WorkflowsInvalidSpec for a zero maxExecutionTime or one above MAX_EXECUTION_TIME (30 days)", async function () {
      const f = await loadBase();
      expect(await f.workflows.MAX_EXECUTION_TIME()).to.equal(MAX_EXECUTION_TIME);
      for (const maxExecutionTime of [0n, MAX_EXECUTION_TIME + 1n, MAX_UINT64]) {
        await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[]], { maxExecutionTime })))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs("maxExecutionTime");
      }
    });

    it("reverts WorkflowsInvalidSpec for a zero maxBudget or one above uint128, and accepts uint128 max", async function () {
      const f = await loadBase();
      for (const maxBudget of [0n, MAX_UINT128 + 1n, MaxUint256]) {
        await expect(f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[]], { maxBudget })))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs("maxBudget");
      }
      await f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[]], { maxBudget: MAX_UINT128 }));
      expect((await f.workflows.getWorkflow(2n)).maxBudget).to.equal(MAX_UINT128);
    });
  });
});
