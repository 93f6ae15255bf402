/**
 * Workflows at the Full and Zk verification levels, on chain with real Groth16 proofs: define-time rules, the
 * field check on the client's inputs, recordProvenSteps (chunks of 32 transcript leaves with a workflow proof, and
 * an Iris inference proof per requiresProof step) and completion with the proven result.
 *
 * Proofs are made once in `before` hooks and reused: the workflow proofs depend on the transcript only (not on
 * the execution id, which only the providers' signatures cover), so every execution below records the same
 * transcript with fresh signatures. Negative cases submit changed copies.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { id, MaxUint256, ZeroHash } from "ethers";
import { network } from "hardhat";

import { WORKFLOW_CHUNK, WORKFLOW_MAX_DEPS, WORKFLOW_MAX_STEPS } from "../../circuits/circuits.js";
import { FIELD_MODULUS, fieldToBytes32, poseidonHash } from "../../circuits/lib/field.js";
import {
  irisInputHash,
  irisLeaf,
  irisModelHash,
  irisProofInput,
  loadIrisModel,
  quantizeFeatures,
} from "../../circuits/lib/iris.js";
import { Prover } from "../../circuits/lib/prover.js";
import {
  buildTranscript,
  chunkProofInput,
  chunkPublicSignals,
  packDeps,
  stepLeaf,
  type Transcript,
} from "../../circuits/lib/workflow.js";
import { proveChunk, type TranscriptProofStruct } from "../../protocol/proofs.js";
import type { IWorkflows } from "../../typechain-types/index.js";
import { AITBC, MIN_STAKE, mintAitbc, registerAndStake } from "../helpers/agents.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { inferenceProof, proveIris, tamperedProofs, TEST_BLIND, type IrisProof } from "../helpers/proofs.js";
import {
  allSteps,
  chainSpec,
  EXECUTION,
  executionRequest,
  mask,
  receiptChain,
  receiptSeed,
  signedRecords,
  specHash,
  STEP_TYPE,
  stepSpec,
  type StepRecord,
  sum,
  VERIFICATION,
  workflowSpec,
} from "../helpers/workflows.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;

const P = FIELD_MODULUS;
const MAX_UINT256 = (1n << 256n) - 1n;
const FUNDS = 10_000n * AITBC;
const BUDGET = 100n * AITBC;
const COST = AITBC;

function at<T>(values: readonly T[], i: number): T {
  const v = values[i];
  if (v === undefined) throw new Error(`no element ${i}`);
  return v;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** A field element derived from a label. */
function field(label: string): bigint {
  return BigInt(id(label)) % P;
}

// ---------------------------------------------------------------- the Full workflow: 40 steps, two chunks

/**
 * 40 steps: roots at 0, 5, 18 and 31 (chunk 0) and 32 (chunk 1); steps 1, 6, 13, 20, 27 and 34 depend on one
 * earlier step, the others on two (WORKFLOW_MAX_DEPS), in ascending order, some across the chunk boundary
 * (step 34 on 17, step 39 on 20 and 38).
 */
const FULL_DEPS: number[][] = range(0, 40).map((i) => {
  if (i === 0 || i % 13 === 5 || i === 32) return [];
  if (i % 7 === 6) return [Math.floor(i / 2)];
  return [...new Set([i - 1, Math.floor(i / 2), Math.floor(i / 3), (i * 7) % 23])]
    .filter((d) => d < i)
    .sort((a, b) => a - b)
    .slice(-WORKFLOW_MAX_DEPS);
});
const FULL_INPUTS = field("full workflow inputs");
const FULL = buildTranscript(
  FULL_INPUTS,
  FULL_DEPS.map((deps, i) => ({ deps, outputHash: field(`full output ${i}`) })),
);
/** The same execution with another last output: another outputs root and result. */
const OTHER = buildTranscript(
  FULL_INPUTS,
  FULL_DEPS.map((deps, i) => ({ deps, outputHash: field(i === 39 ? "another result" : `full output ${i}`) })),
);

function provenSpec(deps: number[][], verification: bigint, name = "proven"): IWorkflows.WorkflowSpecStruct {
  return workflowSpec(deps, { name, verification, maxBudget: 1_000n * AITBC });
}

// ---------------------------------------------------------------- the Zk workflow: four features, one inference

/** Two flowers of the Iris data set (setosa, virginica), in cm. */
const FLOWER = [5.1, 3.5, 1.4, 0.2];
const OTHER_FLOWER = [6.3, 3.3, 6.0, 2.5];
/**
 * The Zk workflow: step 0 (Inference, requiresProof) classifies the client's flower, step 1 (DataProcessing)
 * turns the class into a report, the result. The inference proof's leaf is Poseidon(inputHash, 0, outputHash),
 * inputHash = Poseidon(features, blind); a root step's transcript leaf is Poseidon(inputsHash, 0, outputHash)
 * (circuits/lib/workflow.ts stepLeaf), so the client's inputsHash is Poseidon(features, blind) and step 0's transcript
 * leaf is then the inference proof's leaf.
 */
const ZK_DEPS = [[], [0]];
const ZK_INPUTS = irisInputHash(quantizeFeatures(FLOWER), TEST_BLIND);
const REPORT = field("zk workflow report");
/** The model of the fixture's Zk workflow (no proof is ever made for it). */
const SOME_MODEL = field("some model commitment");

function zkSpec(model: bigint, name = "iris-zk"): IWorkflows.WorkflowSpecStruct {
  const steps = [
    stepSpec([], { stepType: STEP_TYPE.inference, model: fieldToBytes32(model), requiresProof: true }),
    stepSpec([0], { stepType: STEP_TYPE.dataProcessing, model: ZeroHash }),
  ];
  return { ...provenSpec(ZK_DEPS, VERIFICATION.zk, name), steps };
}

/**
 * The other shape a proven inference step can take: step 0 (DataProcessing, a root) reads the client's raw record
 * and outputs the features' hash Poseidon(features, blind); step 1 (Inference, requiresProof) depends on step 0
 * alone, so its leaf is Poseidon(Poseidon(features, blind), 0, outputHash), the inference proof's leaf; step 2
 * writes the report.
 */
const LOADED_DEPS = [[], [0], [1]];
const LOADED_INPUTS = field("raw flower record");

function loadedSpec(model: bigint): IWorkflows.WorkflowSpecStruct {
  const steps = [
    stepSpec([], { stepType: STEP_TYPE.dataProcessing, model: ZeroHash }),
    stepSpec([0], { stepType: STEP_TYPE.inference, model: fieldToBytes32(model), requiresProof: true }),
    stepSpec([1], { stepType: STEP_TYPE.dataProcessing, model: ZeroHash }),
  ];
  return { ...provenSpec(LOADED_DEPS, VERIFICATION.zk, "iris-zk-loaded"), steps };
}

// ---------------------------------------------------------------- fixture

const FULL_ID = 1n;
const BASIC_ID = 2n;
const ZK_ID = 3n;

/**
 * The protocol, plus: active agents `keeper` (agent), providers `p1` (agent2) and `p2`; `owner` funded and
 * approving Workflows; workflows 1 (Full, the 40 steps of FULL_DEPS), 2 (Basic, a 3-step chain) and 3 (Zk, the
 * shape of the Iris workflow on SOME_MODEL), all defined by `owner`. The Iris model is loaded by the Zk tests
 * only (circuits/lib/iris.ts).
 */
async function provenFixture() {
  const core = await deployProtocol(connection);
  const { token, workflows, operator, agent: keeper, agent2: p1 } = core;
  const [p2, owner] = (await ethers.getSigners()).slice(9, 11);
  if (!p2 || !owner) throw new Error("the test network needs 11 accounts");
  for (const a of [keeper, p1, p2]) await registerAndStake(core, a, operator, MIN_STAKE);
  await mintAitbc(core, owner.address, FUNDS / AITBC);
  await (await token.connect(owner).approve(await workflows.getAddress(), MaxUint256)).wait();
  for (const spec of [
    provenSpec(FULL_DEPS, VERIFICATION.full, "full-40"),
    chainSpec(3, { maxBudget: 1_000n * AITBC }),
    zkSpec(SOME_MODEL, "zk-some-model"),
  ]) {
    await (await workflows.connect(owner).defineWorkflow(spec)).wait();
  }
  return { ...core, keeper, p1, p2, owner };
}
const loadProven = () => networkHelpers.loadFixture(provenFixture);
type Proven = Awaited<ReturnType<typeof provenFixture>>;

/** `owner` requests an execution of `workflowId` on `inputsHash`, `keeper` claims it; returns its id. */
async function running(f: Proven, workflowId: bigint, inputsHash: bigint): Promise<bigint> {
  const request = executionRequest(workflowId, fieldToBytes32(inputsHash), BUDGET);
  const executionId = await f.workflows.connect(f.owner).requestExecution.staticCall(request);
  await (await f.workflows.connect(f.owner).requestExecution(request)).wait();
  await (await f.workflows.connect(f.keeper).claimExecution(executionId)).wait();
  return executionId;
}

/**
 * The providers' signed records of `steps` of `t`: inputHash 0, outputHash the transcript leaf (or
 * `leaves[step]`); even steps by p1, odd by p2, COST each.
 */
function leafRecords(
  f: Proven,
  executionId: bigint,
  t: Transcript,
  steps: number[],
  fields: { leaves?: Record<number, string>; inputHashes?: Record<number, string> } = {},
): Promise<StepRecord[]> {
  return signedRecords(
    f.workflows,
    executionId,
    steps.map((step) => ({
      step,
      signer: step % 2 === 0 ? f.p1 : f.p2,
      cost: COST,
      inputHash: fields.inputHashes?.[step] ?? ZeroHash,
      outputHash: fields.leaves?.[step] ?? fieldToBytes32(t.leaves[step] ?? field(`no step ${step}`)),
    })),
  );
}

function chunkSteps(t: Transcript, chunk: number): number[] {
  const start = chunk * WORKFLOW_CHUNK;
  return range(start, Math.min(start + WORKFLOW_CHUNK, t.steps.length));
}

describe("Workflows at the Full and Zk levels (on chain, real proofs)", function () {
  const prover = new Prover();

  after(async function () {
    await prover.close();
  });

  describe("definitions", function () {
    it("defines Full and Zk workflows: verification, proof mask, dependencies packed as the workflow circuit reads them", async function () {
      const f = await loadProven();
      const full = await f.workflows.getWorkflow(FULL_ID);
      expect(full.verification).to.equal(VERIFICATION.full);
      expect(full.stepCount).to.equal(40n);
      expect(full.proofMask).to.equal(0n);
      for (const chunk of [0, 1]) {
        expect(await f.workflows.provenDependencies(FULL_ID, chunk)).to.deep.equal(
          packDeps(FULL_DEPS, chunk * WORKFLOW_CHUNK),
        );
      }
      expect(await f.workflows.provenDependencies(FULL_ID, 2)).to.deep.equal([0n, 0n]);
      for (let i = 0; i < FULL_DEPS.length; ++i) {
        expect(await f.workflows.dependenciesOf(FULL_ID, i)).to.equal(mask(...at(FULL_DEPS, i)));
      }
      const zk = await f.workflows.getWorkflow(ZK_ID);
      expect(zk.verification).to.equal(VERIFICATION.zk);
      expect(zk.proofMask).to.equal(mask(0));
      expect(await f.workflows.provenDependencies(ZK_ID, 0)).to.deep.equal(packDeps(ZK_DEPS, 0));
      // a Basic workflow packs nothing
      expect(await f.workflows.provenDependencies(BASIC_ID, 0)).to.deep.equal([0n, 0n]);
    });

    it("defines a 64-step (MAX_PROVEN_STEPS) Full workflow with 2 (MAX_PROVEN_DEPS) dependencies per step; its packing matches packDeps in both chunks", async function () {
      const f = await loadProven();
      expect(await f.workflows.MAX_PROVEN_STEPS()).to.equal(BigInt(WORKFLOW_MAX_STEPS));
      expect(await f.workflows.MAX_PROVEN_DEPS()).to.equal(BigInt(WORKFLOW_MAX_DEPS));
      expect(await f.workflows.PROVEN_CHUNK()).to.equal(BigInt(WORKFLOW_CHUNK));
      const deps = range(0, WORKFLOW_MAX_STEPS).map((i) => range(Math.max(0, i - WORKFLOW_MAX_DEPS), i));
      const spec = provenSpec(deps, VERIFICATION.full);
      await expect(f.workflows.connect(f.owner).defineWorkflow(spec))
        .to.emit(f.workflows, "WorkflowDefined")
        .withArgs(4n, f.owner.address, specHash(spec), "proven", 64n);
      for (const chunk of [0, 1]) {
        expect(await f.workflows.provenDependencies(4n, chunk)).to.deep.equal(packDeps(deps, chunk * WORKFLOW_CHUNK));
      }
    });

    it("reverts WorkflowsTooManySteps(65, 64) for a 65-step Full or Zk workflow (accepted at Basic)", async function () {
      const f = await loadProven();
      const deps = range(0, 65).map((i) => (i === 0 ? [] : [i - 1]));
      for (const level of [VERIFICATION.full, VERIFICATION.zk]) {
        await expect(f.workflows.connect(f.owner).defineWorkflow(provenSpec(deps, level)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsTooManySteps")
          .withArgs(65n, 64n);
      }
      await expect(f.workflows.connect(f.owner).defineWorkflow(provenSpec(deps, VERIFICATION.basic))).to.emit(
        f.workflows,
        "WorkflowDefined",
      );
    });

    for (const [what, deps] of [
      ["not ascending", [[], [], [1, 0]]],
      ["with a duplicate", [[], [0, 0]]],
      ["naming a later step", [[1], []]],
      ["longer than 2", [[], [], [], [0, 1, 2]]],
    ] as const) {
      it(`reverts WorkflowsInvalidSpec("dependsOn") for a Full or Zk step's dependencies ${what} (accepted at Basic)`, async function () {
        const f = await loadProven();
        const spec = (level: bigint) =>
          provenSpec(
            deps.map((d) => [...d]),
            level,
          );
        for (const level of [VERIFICATION.full, VERIFICATION.zk]) {
          await expect(f.workflows.connect(f.owner).defineWorkflow(spec(level)))
            .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
            .withArgs("dependsOn");
        }
        await expect(f.workflows.connect(f.owner).defineWorkflow(spec(VERIFICATION.basic))).to.emit(
          f.workflows,
          "WorkflowDefined",
        );
      });
    }

    it("a self-dependency is still WorkflowsCycle at the proven levels; exactly 2 ascending dependencies are accepted", async function () {
      const f = await loadProven();
      await expect(f.workflows.connect(f.owner).defineWorkflow(provenSpec([[], [1]], VERIFICATION.full)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsCycle")
        .withArgs(1n);
      await expect(f.workflows.connect(f.owner).defineWorkflow(provenSpec([[], [], [0, 1]], VERIFICATION.zk))).to.emit(
        f.workflows,
        "WorkflowDefined",
      );
    });

    it('reverts WorkflowsInvalidSpec("requiresProof") on a Basic or Full workflow, on a non-Inference step, and for a model 0 or at/above the field', async function () {
      const f = await loadProven();
      const good = { stepType: STEP_TYPE.inference, model: fieldToBytes32(SOME_MODEL), requiresProof: true };
      const spec = (level: bigint, overrides: Partial<IWorkflows.StepSpecStruct>) => ({
        ...provenSpec([[], [0]], level),
        steps: [stepSpec([]), stepSpec([0], { ...good, ...overrides })],
      });
      const bad: [string, bigint, Partial<IWorkflows.StepSpecStruct>][] = [
        ["Basic", VERIFICATION.basic, {}],
        ["Full", VERIFICATION.full, {}],
        ["Training step", VERIFICATION.zk, { stepType: STEP_TYPE.training }],
        ["DataProcessing step", VERIFICATION.zk, { stepType: STEP_TYPE.dataProcessing }],
        ["model 0", VERIFICATION.zk, { model: ZeroHash }],
        ["model = p", VERIFICATION.zk, { model: `0x${P.toString(16)}` }],
        ["model = 2^256 - 1", VERIFICATION.zk, { model: `0x${MAX_UINT256.toString(16)}` }],
      ];
      for (const [what, level, overrides] of bad) {
        await expect(f.workflows.connect(f.owner).defineWorkflow(spec(level, overrides)), what)
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs("requiresProof");
      }
      // the largest field element is a valid model
      await expect(
        f.workflows.connect(f.owner).defineWorkflow(spec(VERIFICATION.zk, { model: fieldToBytes32(P - 1n) })),
      ).to.emit(f.workflows, "WorkflowDefined");
      expect((await f.workflows.getWorkflow(4n)).proofMask).to.equal(mask(1));
    });
  });

  describe("requestExecution", function () {
    it('reverts WorkflowsNotFieldElement("inputsHash") for Full and Zk inputs at or above the field (Basic accepts any)', async function () {
      const f = await loadProven();
      for (const workflowId of [FULL_ID, ZK_ID]) {
        for (const inputs of [P, P + 1n, MAX_UINT256]) {
          const hex = `0x${inputs.toString(16)}`;
          await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(workflowId, hex, BUDGET)))
            .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
            .withArgs("inputsHash", hex);
        }
        await expect(
          f.workflows.connect(f.owner).requestExecution(executionRequest(workflowId, fieldToBytes32(P - 1n), BUDGET)),
        ).to.emit(f.workflows, "ExecutionRequested");
      }
      await expect(
        f.workflows
          .connect(f.owner)
          .requestExecution(executionRequest(BASIC_ID, `0x${MAX_UINT256.toString(16)}`, BUDGET)),
      ).to.emit(f.workflows, "ExecutionRequested");
    });
  });

  describe("a Full execution (40 steps, two chunk proofs)", function () {
    let chunk0: TranscriptProofStruct;
    let chunk1: TranscriptProofStruct;
    /** Chunk 1 of OTHER (same first 39 outputs, another result). */
    let otherChunk1: TranscriptProofStruct;

    before(async function () {
      this.timeout(300_000);
      chunk0 = (await proveChunk(prover, FULL, 0)).transcript;
      chunk1 = (await proveChunk(prover, FULL, 1)).transcript;
      otherChunk1 = (await proveChunk(prover, OTHER, 1)).transcript;
    });

    /** Records chunk `chunk` of FULL with its proof. */
    async function recordChunk(f: Proven, executionId: bigint, chunk: number) {
      const records = await leafRecords(f, executionId, FULL, chunkSteps(FULL, chunk));
      const proof = chunk === 0 ? chunk0 : chunk1;
      await (await f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, proof, [])).wait();
      return records;
    }

    it("records both chunks with their proofs (TranscriptChunkProven, providers credited, outputs root and result fixed) and completes with the proven result", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const root = fieldToBytes32(FULL.outputsRoot);
      const result = fieldToBytes32(FULL.resultHash);
      expect(chunk0.outputsRoot).to.equal(root);
      expect(chunk0.resultHash).to.equal(result);

      const records0 = await leafRecords(f, executionId, FULL, chunkSteps(FULL, 0));
      const tx0 = f.workflows.connect(f.keeper).recordProvenSteps(executionId, records0, chunk0, []);
      await expect(tx0).to.emit(f.workflows, "TranscriptChunkProven").withArgs(executionId, 0n, 32n, root);
      for (const r of records0.slice(0, 3)) {
        await expect(tx0)
          .to.emit(f.workflows, "StepRecorded")
          .withArgs(executionId, r.step, r.provider, ZeroHash, fieldToBytes32(at(FULL.leaves, r.step)), COST);
      }
      let e = await f.workflows.getExecution(executionId);
      expect(e.outputsRoot).to.equal(root);
      expect(e.resultHash).to.equal(result);
      expect(e.stepsDone).to.equal(32n);
      expect(e.doneMask).to.equal(allSteps(32));
      expect(e.status).to.equal(EXECUTION.running);
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, result, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepsMissing")
        .withArgs(executionId, allSteps(40) - allSteps(32));

      const records1 = await leafRecords(f, executionId, FULL, chunkSteps(FULL, 1));
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records1, chunk1, []))
        .to.emit(f.workflows, "TranscriptChunkProven")
        .withArgs(executionId, 32n, 8n, root);
      const records = [...records0, ...records1];
      e = await f.workflows.getExecution(executionId);
      expect(e.stepsDone).to.equal(40n);
      expect(e.spent).to.equal(40n * COST);
      expect(e.receipt).to.equal(receiptChain(receiptSeed(executionId, FULL_ID, fieldToBytes32(FULL_INPUTS)), records));
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(20n * COST);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(20n * COST);

      const wrong = fieldToBytes32(OTHER.resultHash);
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, wrong, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsResultMismatch")
        .withArgs(executionId, result, wrong);
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, ZeroHash, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsResultMismatch")
        .withArgs(executionId, result, ZeroHash);
      const ownerBefore = await f.token.balanceOf(f.owner.address);
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, result, 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(executionId, result, e.receipt, 40n * COST, BUDGET - 40n * COST);
      e = await f.workflows.getExecution(executionId);
      expect(e.status).to.equal(EXECUTION.completed);
      expect(e.resultHash).to.equal(result);
      expect(e.outputsRoot).to.equal(root);
      expect(await f.token.balanceOf(f.owner.address)).to.equal(ownerBefore + BUDGET - 40n * COST);
      // the providers are paid what they were credited
      const p1Before = await f.token.balanceOf(f.p1.address);
      await (await f.workflows.connect(f.p1).claimCredits()).wait();
      expect(await f.token.balanceOf(f.p1.address)).to.equal(p1Before + 20n * COST);
      expect(await f.token.balanceOf(await f.workflows.getAddress())).to.equal(await f.workflows.totalHeld());
    });

    it("reverts WorkflowsProofRequired for recordSteps on a Full (or Zk) execution", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const records = await leafRecords(f, executionId, FULL, [0]);
      await expect(f.workflows.connect(f.keeper).recordSteps(executionId, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsProofRequired")
        .withArgs(executionId);
      const zkId = await running(f, ZK_ID, ZK_INPUTS);
      await expect(f.workflows.connect(f.keeper).recordSteps(zkId, await leafRecords(f, zkId, FULL, [0])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsProofRequired")
        .withArgs(zkId);
    });

    it("reverts WorkflowsNotProven for recordProvenSteps on a Basic execution", async function () {
      const f = await loadProven();
      const executionId = await running(f, BASIC_ID, FULL_INPUTS);
      const records = await leafRecords(f, executionId, FULL, [0, 1, 2]);
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotProven")
        .withArgs(executionId);
    });

    it("reverts WorkflowsInvalidChunk for a wrong start, a wrong length or steps out of order", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const all = await leafRecords(f, executionId, FULL, range(0, 40));
      const beyond = await leafRecords(f, executionId, FULL, [40, 64]);
      const swapped = [...all.slice(0, 3), at(all, 4), at(all, 3), ...all.slice(5, 32)];
      const repeated = [...all.slice(0, 4), at(all, 3), ...all.slice(5, 32)];
      const cases: [string, StepRecord[], number, number][] = [
        ["no records", [], 0, 0],
        ["start 1", all.slice(1, 33), 1, 32],
        ["start 16", all.slice(16, 40), 16, 24],
        ["chunk 0 short by one", all.slice(0, 31), 0, 31],
        ["chunk 0 with a 33rd step", all.slice(0, 33), 0, 33],
        ["the whole workflow at once", all, 0, 40],
        ["chunk 1 short by one", all.slice(32, 39), 32, 7],
        ["chunk 1 with a step past the end", [...all.slice(32, 40), at(beyond, 0)], 32, 9],
        ["a chunk past the end", [at(beyond, 1)], 64, 1],
        ["steps 3 and 4 swapped", swapped, 0, 32],
        ["step 3 twice, step 4 missing", repeated, 0, 32],
      ];
      for (const [what, records, start, length] of cases) {
        await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []), what)
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidChunk")
          .withArgs(executionId, start, length);
      }
      // chunk 1 before chunk 0 has the right shape, but its steps depend on chunk 0's
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, all.slice(32, 40), chunk1, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsDependencyPending")
        .withArgs(executionId, 33n, mask(...at(FULL_DEPS, 33).filter((d) => d < 32)));
    });

    it('reverts WorkflowsNotFieldElement for a record with an input hash ("inputHash") or a leaf at or above the field ("outputHash")', async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      // what root step 5 read: the client's inputs (a record carries its leaf only)
      const input = fieldToBytes32(FULL_INPUTS);
      const withInput = await leafRecords(f, executionId, FULL, range(0, 32), { inputHashes: { 5: input } });
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, withInput, chunk0, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
        .withArgs("inputHash", input);
      for (const leaf of [P, at(FULL.leaves, 7) + P, MAX_UINT256]) {
        const hex = `0x${leaf.toString(16).padStart(64, "0")}`;
        const records = await leafRecords(f, executionId, FULL, range(0, 32), { leaves: { 7: hex } });
        await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
          .withArgs("outputHash", hex);
      }
    });

    it('reverts WorkflowsNotFieldElement when the first chunk claims an outputs root of 0 or one ("outputsRoot") or a result ("resultHash") at or above the field', async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const records = await leafRecords(f, executionId, FULL, range(0, 32));
      const big = `0x${(FULL.outputsRoot + P).toString(16).padStart(64, "0")}`;
      const cases: [string, TranscriptProofStruct, string][] = [
        ["outputsRoot", { ...chunk0, outputsRoot: ZeroHash }, ZeroHash],
        ["outputsRoot", { ...chunk0, outputsRoot: big }, big],
        ["resultHash", { ...chunk0, resultHash: big }, big],
      ];
      for (const [name, transcript, value] of cases) {
        await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, transcript, []))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
          .withArgs(name, value);
      }
    });

    it("reverts WorkflowsInvalidTranscriptProof for a tampered proof, another chunk's proof, or another claimed root or result", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const records = await leafRecords(f, executionId, FULL, range(0, 32));
      const claims: [string, TranscriptProofStruct][] = [
        ...tamperedProofs(chunk0.proof).map(([what, proof]): [string, TranscriptProofStruct] => [
          what,
          { ...chunk0, proof },
        ]),
        ["chunk 1's proof", { ...chunk0, proof: chunk1.proof }],
        ["another outputs root", { ...chunk0, outputsRoot: fieldToBytes32(OTHER.outputsRoot) }],
        ["another result", { ...chunk0, resultHash: fieldToBytes32(OTHER.resultHash) }],
      ];
      for (const [what, transcript] of claims) {
        await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, transcript, []), what)
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidTranscriptProof")
          .withArgs(executionId, 0n);
      }
      expect((await f.workflows.getExecution(executionId)).outputsRoot).to.equal(ZeroHash);
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, [])).to.emit(
        f.workflows,
        "TranscriptChunkProven",
      );
    });

    it("reverts WorkflowsInvalidTranscriptProof when a leaf is changed and re-signed by its provider (the signature is valid, the proof is not)", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const changed = { 9: fieldToBytes32(at(FULL.leaves, 9) + 1n) };
      const records = await leafRecords(f, executionId, FULL, range(0, 32), { leaves: changed });
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidTranscriptProof")
        .withArgs(executionId, 0n);
      // the same in chunk 1, after a valid chunk 0
      await recordChunk(f, executionId, 0);
      const records1 = await leafRecords(f, executionId, FULL, range(32, 40), {
        leaves: { 39: fieldToBytes32(at(OTHER.leaves, 39)) },
      });
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records1, chunk1, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidTranscriptProof")
        .withArgs(executionId, 32n);
    });

    it("reverts WorkflowsInvalidTranscriptProof for the same records and proof on an execution with other inputs (the proof binds the client's inputsHash)", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS + 1n);
      const records = await leafRecords(f, executionId, FULL, range(0, 32));
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidTranscriptProof")
        .withArgs(executionId, 0n);
    });

    it("reverts WorkflowsTranscriptMismatch for a second chunk proven against another transcript (root and result)", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      await recordChunk(f, executionId, 0);
      // the other transcript's chunk 1 proof is valid for its own statement
      const { statement } = chunkProofInput(OTHER, 1);
      const p = otherChunk1.proof;
      expect(await f.workflowVerifier.verifyProof(p.a, p.b, p.c, chunkPublicSignals(statement))).to.be.true;
      const records = await leafRecords(f, executionId, OTHER, range(32, 40));
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, otherChunk1, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsTranscriptMismatch")
        .withArgs(executionId);
      // the right proof with only the root or only the result changed
      const right = await leafRecords(f, executionId, FULL, range(32, 40));
      for (const transcript of [
        { ...chunk1, outputsRoot: otherChunk1.outputsRoot },
        { ...chunk1, resultHash: otherChunk1.resultHash },
      ]) {
        await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, right, transcript, []))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsTranscriptMismatch")
          .withArgs(executionId);
      }
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, right, chunk1, [])).to.emit(
        f.workflows,
        "TranscriptChunkProven",
      );
    });

    it("reverts WorkflowsStepAlreadyRecorded for the same chunk twice", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const records = await recordChunk(f, executionId, 0);
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(executionId, 0n);
    });

    it("reverts WorkflowsInferenceProofCount for inference proofs passed to a Full execution", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const records = await leafRecords(f, executionId, FULL, range(0, 32));
      const dummy = { inputHash: 1n, outputHash: 2n, proof: chunk0.proof };
      await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, [dummy]))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInferenceProofCount")
        .withArgs(executionId, 0n, 1n);
    });

    it("only the keeper records, while running and not stopped (WorkflowsNotKeeper, WorkflowsWrongStatus, the emergency stop)", async function () {
      const f = await loadProven();
      const executionId = await running(f, FULL_ID, FULL_INPUTS);
      const records = await leafRecords(f, executionId, FULL, range(0, 32));
      await expect(f.workflows.connect(f.p1).recordProvenSteps(executionId, records, chunk0, []))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(executionId, f.p1.address);
      const request = executionRequest(FULL_ID, fieldToBytes32(FULL_INPUTS), BUDGET);
      await (await f.workflows.connect(f.owner).requestExecution(request)).wait();
      const pending = executionId + 1n;
      await expect(
        f.workflows
          .connect(f.keeper)
          .recordProvenSteps(pending, await leafRecords(f, pending, FULL, range(0, 32)), chunk0, []),
      )
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(pending, EXECUTION.pending);
      await (await f.humanOverride.connect(f.guardian).emergencyStop("incident")).wait();
      await expect(
        f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, chunk0, []),
      ).to.be.revertedWithCustomError(f.humanOverride, "HumanOverrideEmergencyStopped");
    });
  });

  describe("a Zk execution (Iris inference step)", function () {
    let irisHash: bigint;
    let features: bigint[];
    /** Step 0 outputs the inference's output hash, step 1 REPORT. */
    let zk: Transcript;
    let transcript: TranscriptProofStruct;
    let iris: IrisProof;
    /** A real proof of the same model on another flower: another input, output and leaf. */
    let otherIris: IrisProof;
    /** The LOADED_DEPS workflow: step 0 outputs Poseidon(features, blind), step 1 the inference's output hash, step 2 REPORT. */
    let loaded: Transcript;
    let loadedTranscript: TranscriptProofStruct;

    before(async function () {
      this.timeout(300_000);
      const model = loadIrisModel();
      irisHash = irisModelHash(model);
      features = quantizeFeatures(FLOWER);
      iris = await proveIris(prover, model, features);
      otherIris = await proveIris(prover, model, quantizeFeatures(OTHER_FLOWER));
      zk = buildTranscript(
        ZK_INPUTS,
        ZK_DEPS.map((deps, i) => ({ deps, outputHash: i === 0 ? iris.outputHash : REPORT })),
      );
      transcript = (await proveChunk(prover, zk, 0)).transcript;
      const loadedOutputs = [iris.inputHash, iris.outputHash, REPORT];
      loaded = buildTranscript(
        LOADED_INPUTS,
        LOADED_DEPS.map((deps, i) => ({ deps, outputHash: at(loadedOutputs, i) })),
      );
      loadedTranscript = (await proveChunk(prover, loaded, 0)).transcript;
    });

    /** Defines the Iris workflow on `model` (the Iris model unless given) and returns its id. */
    async function irisWorkflow(f: Proven, model = irisHash): Promise<bigint> {
      const spec = zkSpec(model, "iris-zk");
      const workflowId = await f.workflows.connect(f.owner).defineWorkflow.staticCall(spec);
      await (await f.workflows.connect(f.owner).defineWorkflow(spec)).wait();
      return workflowId;
    }

    it("the inference step's transcript leaf is the inference proof's leaf Poseidon(inputHash, 0, outputHash): as a root (the client's inputsHash is Poseidon(features, blind)) or with one dependency outputting Poseidon(features, blind)", function () {
      expect(iris.modelHash).to.equal(irisHash);
      expect(iris.inputHash).to.equal(irisInputHash(features, TEST_BLIND));
      expect(ZK_INPUTS).to.equal(iris.inputHash);
      expect(iris.leaf).to.equal(poseidonHash([iris.inputHash, 0n, iris.outputHash]));
      expect(iris.leaf).to.equal(irisLeaf(iris.inputHash, iris.outputHash));
      // a root reads the client's inputs
      expect(at(zk.leaves, 0)).to.equal(stepLeaf(ZK_INPUTS, [], iris.outputHash));
      expect(at(zk.leaves, 0)).to.equal(iris.leaf);
      // step 1 reads the inference's output
      expect(at(zk.leaves, 1)).to.equal(poseidonHash([iris.outputHash, 0n, REPORT]));
      expect(zk.resultHash).to.equal(REPORT);
      // one dependency whose output is Poseidon(features, blind): the same leaf, whatever the client's inputs
      expect(at(loaded.leaves, 0)).to.equal(poseidonHash([LOADED_INPUTS, 0n, iris.inputHash]));
      expect(at(loaded.leaves, 1)).to.equal(stepLeaf(LOADED_INPUTS, [iris.inputHash], iris.outputHash));
      expect(at(loaded.leaves, 1)).to.equal(iris.leaf);
      expect(loaded.resultHash).to.equal(REPORT);
      // two dependencies, or a root reading other inputs, give another leaf
      expect(stepLeaf(ZK_INPUTS, [iris.inputHash, REPORT], iris.outputHash)).to.not.equal(iris.leaf);
      expect(stepLeaf(LOADED_INPUTS, [], iris.outputHash)).to.not.equal(iris.leaf);
      expect(iris.outputHash).to.equal(BigInt(irisProofInput(loadIrisModel(), features, TEST_BLIND).outputHash));
      expect(otherIris.leaf).to.not.equal(iris.leaf);
    });

    it("accepts the chunk with a correct inference proof and completes with the proven result", async function () {
      const f = await loadProven();
      const executionId = await running(f, await irisWorkflow(f), ZK_INPUTS);
      const records = await leafRecords(f, executionId, zk, range(0, 2));
      await expect(
        f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, transcript, [inferenceProof(iris)]),
      )
        .to.emit(f.workflows, "TranscriptChunkProven")
        .withArgs(executionId, 0n, 2n, fieldToBytes32(zk.outputsRoot));
      const result = fieldToBytes32(REPORT);
      expect((await f.workflows.getExecution(executionId)).resultHash).to.equal(result);
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, fieldToBytes32(iris.outputHash), 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsResultMismatch")
        .withArgs(executionId, result, fieldToBytes32(iris.outputHash));
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, result, 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(executionId, result, anyValue, 2n * COST, BUDGET - 2n * COST);
      expect(sum([await f.workflows.creditsOf(f.p1.address), await f.workflows.creditsOf(f.p2.address)])).to.equal(
        2n * COST,
      );
    });

    it("accepts a requiresProof step with one dependency that outputs Poseidon(features, blind) (step 1 of 3), and completes", async function () {
      const f = await loadProven();
      const spec = loadedSpec(irisHash);
      const workflowId = await f.workflows.connect(f.owner).defineWorkflow.staticCall(spec);
      await (await f.workflows.connect(f.owner).defineWorkflow(spec)).wait();
      expect((await f.workflows.getWorkflow(workflowId)).proofMask).to.equal(mask(1));
      const executionId = await running(f, workflowId, LOADED_INPUTS);
      const records = await leafRecords(f, executionId, loaded, range(0, 3));
      // the proof checked against the inference step's record (step 1): a proof on another flower fails there
      await expect(
        f.workflows
          .connect(f.keeper)
          .recordProvenSteps(executionId, records, loadedTranscript, [inferenceProof(otherIris)]),
      )
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidInferenceProof")
        .withArgs(executionId, 1n);
      await expect(
        f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, loadedTranscript, [inferenceProof(iris)]),
      )
        .to.emit(f.workflows, "TranscriptChunkProven")
        .withArgs(executionId, 0n, 3n, fieldToBytes32(loaded.outputsRoot));
      await expect(f.workflows.connect(f.keeper).completeExecution(executionId, fieldToBytes32(REPORT), 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(executionId, fieldToBytes32(REPORT), anyValue, 3n * COST, BUDGET - 3n * COST);
    });

    it("reverts WorkflowsInferenceProofCount(1, n) without the inference proof or with two", async function () {
      const f = await loadProven();
      const executionId = await running(f, await irisWorkflow(f), ZK_INPUTS);
      const records = await leafRecords(f, executionId, zk, range(0, 2));
      for (const inferences of [[], [inferenceProof(iris), inferenceProof(iris)]]) {
        await expect(f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, transcript, inferences))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInferenceProofCount")
          .withArgs(executionId, 1n, BigInt(inferences.length));
      }
    });

    it("reverts WorkflowsInvalidInferenceProof for a proof of another input (another leaf), other claimed hashes, or a tampered proof", async function () {
      const f = await loadProven();
      const executionId = await running(f, await irisWorkflow(f), ZK_INPUTS);
      const records = await leafRecords(f, executionId, zk, range(0, 2));
      const bad: [string, IWorkflows.InferenceProofStruct][] = [
        ["a proof on another flower", inferenceProof(otherIris)],
        [
          "another flower's hashes",
          inferenceProof(iris, { inputHash: otherIris.inputHash, outputHash: otherIris.outputHash }),
        ],
        ["another input hash", inferenceProof(iris, { inputHash: otherIris.inputHash })],
        ["another output hash", inferenceProof(iris, { outputHash: iris.outputHash + 1n })],
        ["input and output swapped", inferenceProof(iris, { inputHash: iris.outputHash, outputHash: iris.inputHash })],
        ...tamperedProofs(iris.proof).map(([what, proof]): [string, IWorkflows.InferenceProofStruct] => [
          what,
          { ...inferenceProof(iris), proof },
        ]),
      ];
      for (const [what, inference] of bad) {
        await expect(
          f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, transcript, [inference]),
          what,
        )
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidInferenceProof")
          .withArgs(executionId, 0n);
      }
    });

    it("reverts WorkflowsInvalidInferenceProof when the workflow's step names another model than the one proven", async function () {
      const f = await loadProven();
      const executionId = await running(f, await irisWorkflow(f, irisHash + 1n), ZK_INPUTS);
      const records = await leafRecords(f, executionId, zk, range(0, 2));
      await expect(
        f.workflows.connect(f.keeper).recordProvenSteps(executionId, records, transcript, [inferenceProof(iris)]),
      )
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidInferenceProof")
        .withArgs(executionId, 0n);
    });
  });
});
