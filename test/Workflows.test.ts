import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { id, MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { FIELD_MODULUS, fieldToBytes32 } from "../circuits/lib/field.js";
import { Prover } from "../circuits/lib/prover.js";
import { buildTranscript } from "../circuits/lib/workflow.js";
import { proveChunk } from "../protocol/proofs.js";
import { toWorkflowSpec } from "../protocol/workflow-spec.js";
import type { IWorkflows } from "../typechain-types/index.js";
import { AITBC, MIN_STAKE, mintAitbc, registerAgent, registerAndStake, type Signer } from "./helpers/agents.js";
import { deployProtocol } from "../scripts/lib/deploy.js";
import {
  allSteps,
  Books,
  chainSpec,
  costsByProvider,
  EXECUTION,
  executionRequest,
  mask,
  MAX_STEPS,
  MAX_UINT128,
  MAX_EXECUTION_TIME,
  MAX_UINT64,
  randomDag,
  receiptChain,
  receiptSeed,
  levelBatches,
  signedRecords,
  specHash,
  stepDigest,
  stepSpec,
  type StepRecord,
  SUBSCRIPTION_PERIOD,
  sum,
  VERIFICATION,
  workflowSpec,
} from "./helpers/workflows.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

/** Each funded human (owner, clients) holds this much. */
const FUNDS = 100_000n * AITBC;
const BUDGET = 100n * AITBC;
const MAX_BUDGET = 1_000n * AITBC;
const MAX_TIME = 3_600n;
const INPUTS = id("inputs: iris.csv");
const RESULT = id("result: predictions.csv");
const REASON = id("provider unreachable");
/** Inputs a Full or Zk execution can take: a field element (INPUTS, a keccak hash, is above the field). */
const FIELD_INPUTS = fieldToBytes32(BigInt(INPUTS) % FIELD_MODULUS);
const UNKNOWN = 99n;
/** For calls that must land in a block of a chosen timestamp (no gas estimation at another time). */
const GAS = { gasLimit: 3_000_000n };

/** The diamond every fixture defines as workflow 1: load -> (left | right) -> merge. */
const DIAMOND = toWorkflowSpec(
  {
    name: "iris-diamond",
    maxExecutionTime: "1h",
    maxBudget: "1000",
    verification: "basic",
    steps: [
      { id: "load", type: "data-processing", output: "rows" },
      {
        id: "left",
        type: "inference",
        model: "iris-mlp-v1",
        dependsOn: ["load"],
        input: "load.rows",
        output: "a",
        timeout: 30,
        maxRetries: 2,
        retryBackoff: 5,
      },
      {
        id: "right",
        type: "inference",
        model: "iris-tree-v2",
        dependsOn: ["load"],
        input: "load.rows",
        output: "b",
      },
      { id: "merge", type: "training", dependsOn: ["left", "right"], input: "left.a,right.b" },
    ],
  },
  "diamond",
);

/** DIAMOND at the Zk level, its two inference steps on field-element models (what requiresProof needs). */
const PROOF_MODEL_DIAMOND: IWorkflows.WorkflowSpecStruct = {
  ...DIAMOND,
  verification: VERIFICATION.zk,
  steps: DIAMOND.steps.map((s, i) => (i === 1 || i === 2 ? { ...s, model: fieldToBytes32(BigInt(i)) } : s)),
};

const PUBLIC_LISTING: IWorkflows.ListingInputStruct = {
  title: "Iris classifier",
  description: "Two models, merged",
  tags: ["iris", "classification"],
  executionPrice: 5n * AITBC,
  subscriptionPrice: 20n * AITBC,
  isPublic: true,
};
const RESTRICTED_LISTING: IWorkflows.ListingInputStruct = {
  title: "Iris classifier (private beta)",
  description: "",
  tags: [],
  executionPrice: 3n * AITBC,
  subscriptionPrice: 10n * AITBC,
  isPublic: false,
};

/**
 * The protocol, plus: active agents `keeper` (agent), `keeper2`, and providers `p1` (agent2), `p2`, `p3` (each
 * staked MIN_STAKE, no declared volume); `idle` registered but unstaked (inactive); `owner`, `client` and
 * `client2` (humans) funded with FUNDS and approving Workflows; workflow 1 = DIAMOND, defined by `owner`.
 */
async function baseFixture() {
  const core = await deployProtocol(connection);
  const { token, workflows, registry, operator, agent: keeper, agent2: p1, client, outsider } = core;
  const [p2, p3, owner, client2, idle, keeper2] = (await ethers.getSigners()).slice(9, 15);
  if (!p2 || !p3 || !owner || !client2 || !idle || !keeper2) throw new Error("the test network needs 15 accounts");
  for (const a of [keeper, keeper2, p1, p2, p3]) await registerAndStake(core, a, operator, MIN_STAKE);
  await registerAgent(core, idle, operator);
  for (const a of [owner, client, client2]) {
    await mintAitbc(core, a.address, FUNDS / AITBC);
    await token.connect(a).approve(await workflows.getAddress(), MaxUint256);
  }
  await workflows.connect(owner).defineWorkflow(DIAMOND);
  const keeperId = await registry.agentIdOf(keeper.address);
  const accounts = [owner, client, client2, keeper, keeper2, p1, p2, p3, idle, outsider].map((s) => s.address);
  return { ...core, keeper, keeper2, keeperId, p1, p2, p3, idle, owner, client2, accounts };
}
type Base = Awaited<ReturnType<typeof baseFixture>>;

/**
 * The only fixture loaded through loadFixture (Hardhat 3's snapshots break when fixtures nest); the later states
 * below are plain helpers on top of it.
 */
const loadBase = () => networkHelpers.loadFixture(baseFixture);

/** Base, plus execution 1 of workflow 1 requested by its owner (BUDGET, no listing, any keeper). */
async function loadPending() {
  const f = await loadBase();
  await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
  return f;
}

/** Pending, plus execution 1 claimed by `keeper`. */
async function loadRunning() {
  const f = await loadPending();
  await f.workflows.connect(f.keeper).claimExecution(1n);
  return f;
}

/** Base, plus listing 1 (PUBLIC_LISTING) and listing 2 (RESTRICTED_LISTING) of workflow 1. */
async function loadListed() {
  const f = await loadBase();
  await f.workflows.connect(f.owner).createListing(1n, PUBLIC_LISTING);
  await f.workflows.connect(f.owner).createListing(1n, RESTRICTED_LISTING);
  return f;
}

/** One step: [step, signing provider, cost]. */
type Work = [number, Signer, bigint];

/** The diamond's work: p1 runs load and left, p2 right, p3 merge; 70 AITBC in all. */
function diamondWork(f: Base): Work[][] {
  return [
    [[0, f.p1, 10n * AITBC]],
    [
      [1, f.p1, 20n * AITBC],
      [2, f.p2, 15n * AITBC],
    ],
    [[3, f.p3, 25n * AITBC]],
  ];
}

async function sign(f: Base, executionId: bigint, work: Work[]): Promise<StepRecord[]> {
  return signedRecords(
    f.workflows,
    executionId,
    work.map(([step, signer, cost]) => ({ step, signer, cost })),
  );
}

/** Signs `work` and records it as one batch by `keeper`. */
async function record(f: Base, executionId: bigint, work: Work[], keeper: Signer = f.keeper) {
  const records = await sign(f, executionId, work);
  await f.workflows.connect(keeper).recordSteps(executionId, records);
  return records;
}

/** Requests (by `client`, through `listingId`), claims, records the whole diamond and completes. */
async function runDiamond(f: Base, client: Signer, listingId = 0n, budget = BUDGET) {
  const executionId = await nextExecutionId(f, client, executionRequest(1n, INPUTS, budget, listingId));
  await f.workflows.connect(f.keeper).claimExecution(executionId);
  const records: StepRecord[] = [];
  for (const batch of diamondWork(f)) records.push(...(await record(f, executionId, batch)));
  await f.workflows.connect(f.keeper).completeExecution(executionId, RESULT);
  return { executionId, records };
}

/** Sends `request` as `client` and returns the new execution's id. */
async function nextExecutionId(f: Base, client: Signer, request: IWorkflows.ExecutionRequestStruct): Promise<bigint> {
  const tx = await f.workflows.connect(client).requestExecution(request);
  const receipt = await tx.wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = f.workflows.interface.parseLog(log);
    if (parsed?.name === "ExecutionRequested") return parsed.args[0] as bigint;
  }
  throw new Error("no ExecutionRequested event");
}

async function expectHeld(f: Base) {
  expect(await f.token.balanceOf(await f.workflows.getAddress())).to.equal(await f.workflows.totalHeld());
}

/**
 * Checks what moved since `books` opened: each tracked account's balance and credits changed exactly as
 * expected (0 when not listed); the Workflows balance changed by the new credits plus `open` (the change of
 * the escrow held for open executions); deposits = provider credits + refunds + owner fees (tokens are conserved); and the
 * Workflows balance equals totalHeld().
 */
async function expectBooks(
  f: Base,
  books: Books,
  expected: { balances?: Record<string, bigint>; credits?: Record<string, bigint>; open?: bigint },
) {
  const d = await books.deltas();
  for (const a of f.accounts) {
    expect(d.balance.get(a), `balance change of ${a}`).to.equal(expected.balances?.[a] ?? 0n);
    expect(d.credits.get(a), `credit change of ${a}`).to.equal(expected.credits?.[a] ?? 0n);
  }
  const credited = sum(d.credits.values());
  expect(d.held).to.equal(credited + (expected.open ?? 0n));
  const paidIn = -sum(d.balance.values());
  expect(paidIn).to.equal(d.held); // what clients paid = credits + still-open escrow; refunds net out
  await expectHeld(f);
}

async function books(f: Base) {
  return Books.open(f.workflows, f.token, f.accounts);
}

async function stop(f: Base) {
  await f.humanOverride.connect(f.guardian).emergencyStop("incident");
}

describe("Workflows", function () {
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

    it("reverts WorkflowsUnknownWorkflow for getWorkflow and dependenciesOf of an unknown workflow", async function () {
      const f = await loadBase();
      for (const wid of [0n, 2n, UNKNOWN]) {
        await expect(f.workflows.getWorkflow(wid))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownWorkflow")
          .withArgs(wid);
        await expect(f.workflows.dependenciesOf(wid, 0n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownWorkflow")
          .withArgs(wid);
      }
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
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT);
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

  describe("requestExecution", function () {
    it("escrows the budget, stores the request and emits ExecutionRequested", async function () {
      const f = await loadBase();
      const b = await books(f);
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.owner.address, INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      const requestedAt = BigInt(await time.latest());
      const e = await f.workflows.getExecution(1n);
      expect(e.client).to.equal(f.owner.address);
      expect(e.status).to.equal(EXECUTION.pending);
      expect(e.stepsDone).to.equal(0n);
      expect(e.requestedAt).to.equal(requestedAt);
      expect(e.workflowId).to.equal(1n);
      expect(e.keeperId).to.equal(0n);
      expect(e.startedAt).to.equal(0n);
      expect(e.finishedAt).to.equal(0n);
      expect(e.budget).to.equal(BUDGET);
      expect(e.spent).to.equal(0n);
      expect(e.doneMask).to.equal(0n);
      expect(e.inputsHash).to.equal(INPUTS);
      expect(e.receipt).to.equal(receiptSeed(1n, 1n, INPUTS)); // receipt_0 commits to the execution
      expect(e.resultHash).to.equal(ZeroHash);
      expect(e.listingId).to.equal(0n);
      expect(e.listingFee).to.equal(0n);
      expect(e.rated).to.equal(false);
      expect(e.keeper).to.equal(ZeroAddress); // any active agent may claim it
      expect(await f.workflows.totalHeld()).to.equal(BUDGET);
      await expectBooks(f, b, { balances: { [f.owner.address]: -BUDGET }, open: BUDGET });
    });

    it("accepts a budget of exactly maxBudget", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, MAX_BUDGET, 0n));
      expect((await f.workflows.getExecution(1n)).budget).to.equal(MAX_BUDGET);
      await expectHeld(f);
    });

    it("reverts WorkflowsInvalidBudget for a zero budget or one above maxBudget", async function () {
      const f = await loadBase();
      for (const budget of [0n, MAX_BUDGET + 1n]) {
        await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, budget, 0n)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidBudget")
          .withArgs(budget, MAX_BUDGET);
      }
    });

    it("accepts Full and Zk workflows' requests only with inputs in the field (WorkflowsNotFieldElement); they then need proofs (WorkflowsProofRequired)", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).defineWorkflow({ ...DIAMOND, verification: VERIFICATION.full });
      await f.workflows.connect(f.owner).defineWorkflow({ ...DIAMOND, verification: VERIFICATION.zk });
      for (const workflowId of [2n, 3n]) {
        await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(workflowId, INPUTS, BUDGET, 0n)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
          .withArgs("inputsHash", INPUTS);
      }
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(2n, FIELD_INPUTS, BUDGET, 0n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 2n, f.owner.address, FIELD_INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(3n, FIELD_INPUTS, BUDGET, 0n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 3n, f.owner.address, FIELD_INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      for (const executionId of [1n, 2n]) {
        await f.workflows.connect(f.keeper).claimExecution(executionId);
        await expect(
          f.workflows.connect(f.keeper).recordSteps(executionId, await sign(f, executionId, [[0, f.p1, 1n]])),
        )
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsProofRequired")
          .withArgs(executionId);
      }
    });

    it("reverts WorkflowsNotWorkflowOwner when a non-owner executes without a listing", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
    });

    it("reverts WorkflowsUnknownWorkflow for an unknown workflow", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(UNKNOWN, INPUTS, BUDGET, 0n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownWorkflow")
        .withArgs(UNKNOWN);
    });
  });

  describe("cancelExecution", function () {
    it("refunds the whole budget to the client while Pending", async function () {
      const f = await loadPending();
      const b = await books(f);
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, id("cancelled by client"), 0n, BUDGET);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.failed);
      expect(e.finishedAt).to.equal(BigInt(await time.latest()));
      expect(await f.workflows.totalHeld()).to.equal(0n);
      await expectBooks(f, b, { balances: { [f.owner.address]: BUDGET }, open: -BUDGET });
      await expect(f.workflows.connect(f.keeper).claimExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });

    it("reverts WorkflowsNotClient for anyone but the client", async function () {
      const f = await loadPending();
      for (const s of [f.client, f.keeper, f.outsider]) {
        await expect(f.workflows.connect(s).cancelExecution(1n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotClient")
          .withArgs(1n, s.address);
      }
    });

    it("reverts WorkflowsWrongStatus once a keeper has claimed it", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.running);
    });
  });

  describe("claimExecution", function () {
    it("lets any active agent become the keeper when the client named none", async function () {
      const f = await loadPending();
      await expect(f.workflows.connect(f.keeper).claimExecution(1n))
        .to.emit(f.workflows, "ExecutionClaimed")
        .withArgs(1n, f.keeperId);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.running);
      expect(e.keeperId).to.equal(f.keeperId);
      expect(e.keeper).to.equal(ZeroAddress);
      expect(e.startedAt).to.equal(BigInt(await time.latest()));
      // another agent (here a step provider) may claim the next one just as well
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      await expect(f.workflows.connect(f.p1).claimExecution(2n))
        .to.emit(f.workflows, "ExecutionClaimed")
        .withArgs(2n, await f.registry.agentIdOf(f.p1.address));
      await expectHeld(f);
    });

    it("with a named keeper, only that agent claims: others revert WorkflowsNotKeeper, active agents included", async function () {
      const f = await loadListed();
      const request = executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.keeper2.address });
      await expect(f.workflows.connect(f.client).requestExecution(request))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, 5n * AITBC, f.keeper2.address);
      expect((await f.workflows.getExecution(1n)).keeper).to.equal(f.keeper2.address);
      // active agents, the client, the workflow owner, an unregistered and an inactive account
      for (const s of [f.keeper, f.p1, f.p2, f.client, f.owner, f.outsider, f.idle]) {
        await expect(f.workflows.connect(s).claimExecution(1n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
      const keeper2Id = await f.registry.agentIdOf(f.keeper2.address);
      await expect(f.workflows.connect(f.keeper2).claimExecution(1n))
        .to.emit(f.workflows, "ExecutionClaimed")
        .withArgs(1n, keeper2Id);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.running);
      expect(e.keeperId).to.equal(keeper2Id);
      expect(e.keeper).to.equal(f.keeper2.address);
      // and it alone runs it
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(1n, f.keeper.address);
      for (const batch of diamondWork(f)) await record(f, 1n, batch, f.keeper2);
      await expect(f.workflows.connect(f.keeper2).completeExecution(1n, RESULT)).to.emit(
        f.workflows,
        "ExecutionCompleted",
      );
      expect((await f.workflows.getExecution(1n)).keeper).to.equal(f.keeper2.address);
      await expectHeld(f);
    });

    it("a named keeper that is not an active agent cannot claim (WorkflowsNotActiveAgent); the client cancels for a full refund", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const b = await books(f);
      await f.workflows
        .connect(f.client)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.idle.address }));
      await f.workflows
        .connect(f.client)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.outsider.address }));
      for (const [executionId, named] of [
        [1n, f.idle],
        [2n, f.outsider],
      ] as const) {
        await expect(f.workflows.connect(named).claimExecution(executionId))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotActiveAgent")
          .withArgs(named.address);
        await expect(f.workflows.connect(f.keeper).claimExecution(executionId))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(executionId, f.keeper.address);
        await expect(f.workflows.connect(f.client).cancelExecution(executionId))
          .to.emit(f.workflows, "ExecutionFailed")
          .withArgs(executionId, id("cancelled by client"), 0n, BUDGET + price);
      }
      await expectBooks(f, b, {});
    });

    it("a client that names its keeper is safe from a stranger agent claiming and spending its budget", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      // The attack, without a named keeper: a stranger agent (keeper2) claims first and records the budget as the
      // cost of a step it "ran" itself; failing the execution then refunds the client nothing of the budget.
      let b = await books(f);
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper2).claimExecution(1n);
      await record(f, 1n, [[0, f.keeper2, BUDGET]], f.keeper2);
      await f.workflows.connect(f.keeper2).failExecution(1n, REASON);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -BUDGET },
        credits: { [f.keeper2.address]: BUDGET },
      });

      // The same client names its keeper: the stranger can neither claim nor record, and is paid nothing.
      b = await books(f);
      await f.workflows
        .connect(f.client)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.keeper.address }));
      await expect(f.workflows.connect(f.keeper2).claimExecution(2n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(2n, f.keeper2.address);
      const theft = await sign(f, 2n, [[0, f.keeper2, BUDGET]]);
      await expect(f.workflows.connect(f.keeper2).recordSteps(2n, theft))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(2n, EXECUTION.pending);
      await expect(f.workflows.connect(f.keeper2).failExecution(2n, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(2n, EXECUTION.pending);
      // the named keeper runs it; the stranger still cannot touch it
      await f.workflows.connect(f.keeper).claimExecution(2n);
      await expect(f.workflows.connect(f.keeper2).recordSteps(2n, theft))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(2n, f.keeper2.address);
      const records: StepRecord[] = [];
      for (const batch of diamondWork(f)) records.push(...(await record(f, 2n, batch)));
      const spent = sum(records.map((r) => r.cost));
      await expect(f.workflows.connect(f.keeper).completeExecution(2n, RESULT))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(2n, RESULT, anyValue, spent, BUDGET - spent);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -(spent + price) },
        credits: { ...Object.fromEntries(costsByProvider(records)), [f.owner.address]: price },
      });
      expect(await f.workflows.creditsOf(f.keeper2.address)).to.equal(BUDGET); // from the first execution only
    });

    it("reverts WorkflowsNotActiveAgent for unregistered and unstaked callers", async function () {
      const f = await loadPending();
      for (const s of [f.outsider, f.owner, f.idle]) {
        await expect(f.workflows.connect(s).claimExecution(1n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotActiveAgent")
          .withArgs(s.address);
      }
    });

    it("reverts WorkflowsWrongStatus when already claimed", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper2).claimExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.running);
    });
  });

  describe("recordSteps", function () {
    it("records a diamond in batches (parallel branches together), crediting only each signing provider", async function () {
      const f = await loadRunning();
      const b = await books(f);
      const all: StepRecord[] = [];
      let spent = 0n;
      for (const batch of diamondWork(f)) {
        const records = await sign(f, 1n, batch);
        const tx = f.workflows.connect(f.keeper).recordSteps(1n, records);
        for (const r of records) {
          await expect(tx)
            .to.emit(f.workflows, "StepRecorded")
            .withArgs(1n, BigInt(r.step), r.provider, r.inputHash, r.outputHash, r.cost);
        }
        all.push(...records);
        spent += sum(records.map((r) => r.cost));
        const e = await f.workflows.getExecution(1n);
        expect(e.stepsDone).to.equal(BigInt(all.length));
        expect(e.doneMask).to.equal(mask(...all.map((r) => r.step)));
        expect(e.spent).to.equal(spent);
        expect(e.receipt).to.equal(receiptChain(receiptSeed(1n, 1n, INPUTS), all));
        await expectHeld(f);
      }
      expect(spent).to.equal(70n * AITBC);
      await expectBooks(f, b, {
        credits: { [f.p1.address]: 30n * AITBC, [f.p2.address]: 15n * AITBC, [f.p3.address]: 25n * AITBC },
        open: -spent, // moved from the execution's escrow to the providers' credits
      });
    });

    it("counts dependencies recorded earlier in the same batch", async function () {
      const f = await loadRunning();
      const records = await record(f, 1n, [
        [0, f.p1, 1n],
        [2, f.p2, 2n],
        [1, f.p3, 3n],
        [3, f.p1, 4n],
      ]);
      const e = await f.workflows.getExecution(1n);
      expect(e.doneMask).to.equal(allSteps(4));
      expect(e.stepsDone).to.equal(4n);
      expect(e.receipt).to.equal(receiptChain(receiptSeed(1n, 1n, INPUTS), records));
      const [r0, r2, r1, r3] = records;
      if (!r0 || !r1 || !r2 || !r3) throw new Error("records");
      // the receipt commits to the submission order
      expect(receiptChain(receiptSeed(1n, 1n, INPUTS), [r0, r1, r2, r3])).to.not.equal(e.receipt);
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(5n);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(2n);
      expect(await f.workflows.creditsOf(f.p3.address)).to.equal(3n);
      await expectHeld(f);
    });

    it("reverts WorkflowsDependencyPending with the mask of the missing dependencies", async function () {
      const f = await loadRunning();
      const cases: Array<[Work[], number, bigint]> = [
        [[[1, f.p1, 1n]], 1, mask(0)],
        [[[3, f.p1, 1n]], 3, mask(1, 2)],
        [
          [
            [0, f.p1, 1n],
            [3, f.p1, 1n],
          ],
          3,
          mask(1, 2),
        ],
        [
          [
            [2, f.p1, 1n],
            [0, f.p1, 1n],
          ],
          2,
          mask(0),
        ],
      ];
      for (const [work, step, missing] of cases) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, work)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsDependencyPending")
          .withArgs(1n, BigInt(step), missing);
      }
      await record(f, 1n, [
        [0, f.p1, 1n],
        [1, f.p1, 1n],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[3, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsDependencyPending")
        .withArgs(1n, 3n, mask(2));
    });

    it("reverts WorkflowsStepAlreadyRecorded across batches and within one batch, so a step is paid once", async function () {
      const f = await loadRunning();
      await record(f, 1n, [[0, f.p1, 10n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, 10n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 0n);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p2, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 0n);
      const twice = await sign(f, 1n, [
        [1, f.p1, 10n],
        [1, f.p2, 10n],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, twice))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 1n);
      const same = await sign(f, 1n, [[2, f.p1, 10n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, [...same, ...same]))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 2n);
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(10n);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(0n);
      expect((await f.workflows.getExecution(1n)).spent).to.equal(10n);
      await expectHeld(f);
    });

    it("reverts WorkflowsUnknownStep for a step past the workflow's steps", async function () {
      const f = await loadRunning();
      for (const step of [4, 255, 65_535]) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[step, f.p1, 1n]])))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownStep")
          .withArgs(1n, BigInt(step));
      }
    });

    it("reverts WorkflowsInvalidStepSignature for a wrong signer, tampered fields, another execution or junk", async function () {
      const f = await loadRunning();
      const [good] = await sign(f, 1n, [[0, f.p1, 10n]]);
      if (!good) throw new Error("no record");
      const [byP2] = await signedRecords(f.workflows, 1n, [
        { step: 0, signer: f.p2, cost: 10n, provider: f.p1.address },
      ]);
      const [otherExecution] = await signedRecords(f.workflows, 2n, [
        { step: 0, signer: f.p1, cost: 10n, inputHash: good.inputHash, outputHash: good.outputHash },
      ]);
      if (!byP2 || !otherExecution) throw new Error("no record");
      const bad: StepRecord[] = [
        byP2, // signed by p2, naming p1
        { ...good, provider: f.p2.address }, // p1's signature, naming p2
        { ...good, cost: 11n },
        { ...good, outputHash: id("forged output") },
        { ...good, inputHash: id("forged input") },
        otherExecution, // signed for execution 2, same fields
        { ...good, signature: "0x" },
        { ...good, signature: "0x" + "00".repeat(65) },
      ];
      for (const r of bad) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, [r]))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidStepSignature")
          .withArgs(1n, 0n);
      }
      // the good record still goes through, and only its signer is credited
      await f.workflows.connect(f.keeper).recordSteps(1n, [good]);
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(10n);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(0n);
      expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(0n);
    });

    it("reverts WorkflowsProviderNotActive for an unregistered or unstaked provider", async function () {
      const f = await loadRunning();
      for (const s of [f.outsider, f.owner, f.idle]) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, s, 1n]])))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsProviderNotActive")
          .withArgs(1n, s.address);
      }
      // also when a later record of the batch names it
      const batch = await sign(f, 1n, [
        [0, f.p1, 1n],
        [1, f.idle, 1n],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, batch))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsProviderNotActive")
        .withArgs(1n, f.idle.address);
    });

    it("reverts WorkflowsBudgetExceeded when the steps cost more than the budget, and accepts exactly the budget", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, BUDGET + 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsBudgetExceeded")
        .withArgs(1n, BUDGET + 1n, BUDGET);
      await record(f, 1n, [[0, f.p1, 60n * AITBC]]);
      const over = await sign(f, 1n, [
        [1, f.p1, 30n * AITBC],
        [2, f.p2, 20n * AITBC],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, over))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsBudgetExceeded")
        .withArgs(1n, 110n * AITBC, BUDGET);
      const b = await books(f);
      await record(f, 1n, [
        [1, f.p1, 30n * AITBC],
        [2, f.p2, 10n * AITBC],
        [3, f.p3, 0n],
      ]);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, anyValue, BUDGET, 0n);
      await expectBooks(f, b, {
        credits: { [f.p1.address]: 30n * AITBC, [f.p2.address]: 10n * AITBC },
        open: -40n * AITBC, // the execution's remaining escrow, all spent
      });
    });

    it("records at the last second of maxExecutionTime and reverts WorkflowsExpired one second later, moving nothing", async function () {
      const f = await loadRunning();
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      const records = await sign(f, 1n, [[0, f.p1, 10n * AITBC]]);
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records, GAS))
        .to.emit(f.workflows, "StepRecorded")
        .withArgs(1n, 0n, f.p1.address, anyValue, anyValue, 10n * AITBC);
      expect((await f.workflows.getExecution(1n)).spent).to.equal(10n * AITBC);
      await snapshot.restore();

      const b = await books(f);
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records, GAS))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsExpired")
        .withArgs(1n, expiresAt);
      await time.increase(MAX_TIME);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsExpired")
        .withArgs(1n, expiresAt);
      const e = await f.workflows.getExecution(1n);
      expect(e.doneMask).to.equal(0n);
      expect(e.stepsDone).to.equal(0n);
      expect(e.spent).to.equal(0n);
      expect(e.receipt).to.equal(receiptSeed(1n, 1n, INPUTS));
      await expectBooks(f, b, {});
      // what expiry refunds is the whole budget: a late keeper cannot pay its providers out of it first
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, id("max execution time exceeded"), 0n, BUDGET);
      await expectBooks(f, b, { balances: { [f.owner.address]: BUDGET }, open: -BUDGET });
    });

    it("reverts WorkflowsEmptyBatch for no records", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, [])).to.be.revertedWithCustomError(
        f.workflows,
        "WorkflowsEmptyBatch",
      );
    });

    it("reverts WorkflowsNotKeeper for anyone but the keeper (other agents included)", async function () {
      const f = await loadRunning();
      const records = await sign(f, 1n, [[0, f.p1, 1n]]);
      for (const s of [f.keeper2, f.p1, f.owner, f.outsider]) {
        await expect(f.workflows.connect(s).recordSteps(1n, records))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
    });

    it("reverts WorkflowsWrongStatus unless Running, and WorkflowsUnknownExecution for an unknown one", async function () {
      const f = await loadPending();
      const records = await sign(f, 1n, [[0, f.p1, 1n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await expect(f.workflows.connect(f.keeper).recordSteps(UNKNOWN, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownExecution")
        .withArgs(UNKNOWN);
      const { executionId } = await runDiamond(f, f.owner);
      await expect(f.workflows.connect(f.keeper).recordSteps(executionId, await sign(f, executionId, [[0, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(executionId, EXECUTION.completed);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await f.workflows.connect(f.keeper).failExecution(1n, REASON);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });
  });

  describe("completeExecution", function () {
    it("runs the full lifecycle: refund, receipt chain, result, credits claimed once each", async function () {
      const f = await loadBase();
      const b = await books(f);
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      const records: StepRecord[] = [];
      for (const batch of diamondWork(f)) records.push(...(await record(f, 1n, batch)));
      const spent = sum(records.map((r) => r.cost));
      const receipt = receiptChain(receiptSeed(1n, 1n, INPUTS), records);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, receipt, spent, BUDGET - spent);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.completed);
      expect(e.finishedAt).to.equal(BigInt(await time.latest()));
      expect(e.resultHash).to.equal(RESULT);
      expect(e.receipt).to.equal(receipt);
      expect(e.spent).to.equal(spent);
      const owed = costsByProvider(records);
      await expectBooks(f, b, {
        balances: { [f.owner.address]: -spent },
        credits: Object.fromEntries(owed),
      });

      for (const p of [f.p1, f.p2, f.p3]) {
        const amount = owed.get(p.address) ?? 0n;
        const before = await f.token.balanceOf(p.address);
        await expect(f.workflows.connect(p).claimCredits())
          .to.emit(f.workflows, "CreditsClaimed")
          .withArgs(p.address, amount);
        expect((await f.token.balanceOf(p.address)) - before).to.equal(amount);
        expect(await f.workflows.creditsOf(p.address)).to.equal(0n);
        await expect(f.workflows.connect(p).claimCredits())
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNothingToClaim")
          .withArgs(p.address);
        await expectHeld(f);
      }
      for (const s of [f.keeper, f.owner, f.outsider]) {
        await expect(f.workflows.connect(s).claimCredits())
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNothingToClaim")
          .withArgs(s.address);
      }
      expect(await f.workflows.totalHeld()).to.equal(0n);
      // the client paid exactly what the providers were paid
      await expectBooks(f, b, {
        balances: {
          [f.owner.address]: -spent,
          [f.p1.address]: owed.get(f.p1.address) ?? 0n,
          [f.p2.address]: owed.get(f.p2.address) ?? 0n,
          [f.p3.address]: owed.get(f.p3.address) ?? 0n,
        },
      });
    });

    it("reverts WorkflowsStepsMissing with the mask of the unrecorded steps", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepsMissing")
        .withArgs(1n, allSteps(4));
      await record(f, 1n, [
        [0, f.p1, 1n],
        [1, f.p1, 1n],
      ]);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepsMissing")
        .withArgs(1n, mask(2, 3));
    });

    it("completes at the last second of maxExecutionTime and reverts WorkflowsExpired one second later", async function () {
      const f = await loadRunning();
      for (const batch of diamondWork(f)) await record(f, 1n, batch);
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT, GAS);
      expect((await f.workflows.getExecution(1n)).finishedAt).to.equal(expiresAt);
      await snapshot.restore();
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, GAS))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsExpired")
        .withArgs(1n, expiresAt);
    });

    it("reverts WorkflowsNotKeeper for others and WorkflowsWrongStatus when not Running", async function () {
      const f = await loadPending();
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      for (const batch of diamondWork(f)) await record(f, 1n, batch);
      for (const s of [f.keeper2, f.owner, f.p1]) {
        await expect(f.workflows.connect(s).completeExecution(1n, RESULT))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.completed);
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.completed);
    });
  });

  describe("failExecution and expireExecution", function () {
    it("the keeper fails a partly run execution: unspent budget refunded, providers keep their credits", async function () {
      const f = await loadRunning();
      const b = await books(f);
      const done = await record(f, 1n, [
        [0, f.p1, 10n * AITBC],
        [2, f.p2, 15n * AITBC],
      ]);
      const spent = sum(done.map((r) => r.cost));
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, REASON, spent, BUDGET - spent);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.failed);
      expect(e.finishedAt).to.equal(BigInt(await time.latest()));
      await expectBooks(f, b, {
        balances: { [f.owner.address]: BUDGET - spent },
        credits: { [f.p1.address]: 10n * AITBC, [f.p2.address]: 15n * AITBC },
        open: -BUDGET,
      });
      await f.workflows.connect(f.p1).claimCredits();
      await f.workflows.connect(f.p2).claimCredits();
      expect(await f.workflows.totalHeld()).to.equal(0n);
      await expectHeld(f);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });

    it("reverts failExecution for a non-keeper (WorkflowsNotKeeper) and when Pending (WorkflowsWrongStatus)", async function () {
      const f = await loadPending();
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      for (const s of [f.keeper2, f.owner, f.outsider]) {
        await expect(f.workflows.connect(s).failExecution(1n, REASON))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
      await expect(f.workflows.connect(f.keeper).failExecution(UNKNOWN, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownExecution")
        .withArgs(UNKNOWN);
    });

    it("anyone expires a running execution after maxExecutionTime (WorkflowsNotExpired before), with a refund", async function () {
      const f = await loadRunning();
      const b = await books(f);
      const done = await record(f, 1n, [[0, f.p1, 10n * AITBC]]);
      const spent = sum(done.map((r) => r.cost));
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotExpired")
        .withArgs(1n, expiresAt);
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.workflows.connect(f.outsider).expireExecution(1n, GAS))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotExpired")
        .withArgs(1n, expiresAt);
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.workflows.connect(f.outsider).expireExecution(1n, GAS))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, id("max execution time exceeded"), spent, BUDGET - spent);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.failed);
      expect(e.finishedAt).to.equal(expiresAt + 1n);
      await expectBooks(f, b, {
        balances: { [f.owner.address]: BUDGET - spent },
        credits: { [f.p1.address]: spent },
        open: -BUDGET,
      });
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });

    it("charges expireExecution to a calling agent's constitution (UPKEEP): a frozen agent is refused", async function () {
      const f = await loadRunning();
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      await time.increaseTo(expiresAt + 1n);
      await f.humanOverride.connect(f.guardian).freeze(f.p1.address, "suspicious");
      await expect(f.workflows.connect(f.p1).expireExecution(1n))
        .to.be.revertedWithCustomError(f.constitution, "AgentConstitutionAgentFrozen")
        .withArgs(f.p1.address);
      await f.workflows.connect(f.outsider).expireExecution(1n);
    });

    it("reverts expireExecution for Pending and Completed executions", async function () {
      const f = await loadPending();
      await time.increase(MAX_TIME * 2n);
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      const { executionId } = await runDiamond(f, f.owner);
      await time.increase(MAX_TIME * 2n);
      await expect(f.workflows.connect(f.outsider).expireExecution(executionId))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(executionId, EXECUTION.completed);
    });

    it("a workflow with the longest maxExecutionTime (30 days) completes at its limit and expires after it", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[]], { maxExecutionTime: MAX_EXECUTION_TIME }));
      await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await f.workflows.connect(f.keeper).claimExecution(2n);
      await record(f, 1n, [[0, f.p1, 1n]]);
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_EXECUTION_TIME;
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, GAS))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, anyValue, 1n, BUDGET - 1n);
      await time.setNextBlockTimestamp((await f.workflows.getExecution(2n)).startedAt + MAX_EXECUTION_TIME + 1n);
      await expect(f.workflows.connect(f.outsider).expireExecution(2n, GAS)).to.emit(f.workflows, "ExecutionFailed");
      await expectHeld(f);
    });
  });

  describe("getExecutionStatus", function () {
    it("reports status, steps done (the current step), step count, timings, spent and budget", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.pending,
        0n,
        4n,
        0n,
        0n,
        0n,
        BUDGET,
      ]);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      const startedAt = BigInt(await time.latest());
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.running,
        0n,
        4n,
        startedAt,
        0n,
        0n,
        BUDGET,
      ]);
      const [first, second, third] = diamondWork(f);
      if (!first || !second || !third) throw new Error("diamond");
      await record(f, 1n, first);
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.running,
        1n,
        4n,
        startedAt,
        0n,
        10n * AITBC,
        BUDGET,
      ]);
      await record(f, 1n, second);
      expect((await f.workflows.getExecutionStatus(1n)).stepsDone).to.equal(3n);
      await record(f, 1n, third);
      await time.increase(60);
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT);
      const finishedAt = BigInt(await time.latest());
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.completed,
        4n,
        4n,
        startedAt,
        finishedAt,
        70n * AITBC,
        BUDGET,
      ]);
    });

    it("reverts WorkflowsUnknownExecution for unknown executions in every execution entry point", async function () {
      const f = await loadBase();
      const w = f.workflows;
      const calls: Array<() => Promise<unknown>> = [
        () => w.getExecution(UNKNOWN),
        () => w.getExecutionStatus(UNKNOWN),
        () => w.connect(f.owner).cancelExecution(UNKNOWN),
        () => w.connect(f.keeper).claimExecution(UNKNOWN),
        () => w.connect(f.keeper).completeExecution(UNKNOWN, RESULT),
        () => w.connect(f.keeper).failExecution(UNKNOWN, REASON),
        () => w.connect(f.keeper).expireExecution(UNKNOWN),
        () => w.connect(f.owner).rateExecution(UNKNOWN, 5),
        () => w.getExecution(0n),
      ];
      for (const call of calls) {
        await expect(call()).to.be.revertedWithCustomError(w, "WorkflowsUnknownExecution");
      }
      await expect(w.getExecution(UNKNOWN))
        .to.be.revertedWithCustomError(w, "WorkflowsUnknownExecution")
        .withArgs(UNKNOWN);
    });
  });

  describe("large executions", function () {
    for (const [count, seed, batchSize] of [
      [50, 11, 9],
      [64, 5, 16],
    ] as const) {
      it(`records a ${count}-step DAG in batches with several providers and completes it`, async function () {
        const f = await loadBase();
        const deps = randomDag(count, seed);
        await f.workflows.connect(f.owner).defineWorkflow(workflowSpec(deps, { name: `dag-${count}` }));
        const budget = 500n * AITBC;
        const b = await books(f);
        await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, budget, 0n));
        await f.workflows.connect(f.keeper).claimExecution(1n);
        const providers = [f.p1, f.p2, f.p3, f.keeper2];
        const all: StepRecord[] = [];
        const batches = levelBatches(deps, batchSize);
        expect(batches.length).to.be.greaterThan(3);
        for (const batch of batches) {
          const work: Work[] = batch.map((s) => [
            s,
            providers[s % providers.length] ?? f.p1,
            AITBC + BigInt(s) * 10n ** 17n,
          ]);
          all.push(...(await record(f, 1n, work)));
          expect((await f.workflows.getExecution(1n)).stepsDone).to.equal(BigInt(all.length));
        }
        expect(all.length).to.equal(count);
        const spent = sum(all.map((r) => r.cost));
        await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
          .to.emit(f.workflows, "ExecutionCompleted")
          .withArgs(1n, RESULT, receiptChain(receiptSeed(1n, 2n, INPUTS), all), spent, budget - spent);
        const e = await f.workflows.getExecution(1n);
        expect(e.doneMask).to.equal(allSteps(count));
        expect(e.receipt).to.equal(receiptChain(receiptSeed(1n, 2n, INPUTS), all));
        const owed = costsByProvider(all);
        expect(owed.size).to.equal(providers.length);
        await expectBooks(f, b, { balances: { [f.owner.address]: -spent }, credits: Object.fromEntries(owed) });
        for (const p of providers) {
          await expect(f.workflows.connect(p).claimCredits())
            .to.emit(f.workflows, "CreditsClaimed")
            .withArgs(p.address, owed.get(p.address) ?? 0n);
        }
        expect(await f.workflows.totalHeld()).to.equal(0n);
        await expectHeld(f);
      });
    }
  });

  describe("listings", function () {
    it("createListing stores the listing and emits ListingCreated; owner only", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.client).createListing(1n, PUBLIC_LISTING))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
      await expect(f.workflows.connect(f.owner).createListing(UNKNOWN, PUBLIC_LISTING))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownWorkflow")
        .withArgs(UNKNOWN);
      await expect(f.workflows.connect(f.owner).createListing(1n, PUBLIC_LISTING))
        .to.emit(f.workflows, "ListingCreated")
        .withArgs(1n, 1n, [
          PUBLIC_LISTING.title,
          PUBLIC_LISTING.description,
          PUBLIC_LISTING.tags,
          PUBLIC_LISTING.executionPrice,
          PUBLIC_LISTING.subscriptionPrice,
          PUBLIC_LISTING.isPublic,
        ]);
      const l = await f.workflows.getListing(1n);
      expect(l.workflowId).to.equal(1n);
      expect(l.isPublic).to.equal(true);
      expect(l.active).to.equal(true);
      expect(l.executionPrice).to.equal(5n * AITBC);
      expect(l.subscriptionPrice).to.equal(20n * AITBC);
      expect(l.totalExecutions).to.equal(0n);
      expect(l.ratingCount).to.equal(0n);
      expect(l.ratingSum).to.equal(0n);
      expect(l.title).to.equal(PUBLIC_LISTING.title);
      expect(l.description).to.equal(PUBLIC_LISTING.description);
      expect([...l.tags]).to.deep.equal(PUBLIC_LISTING.tags);
      expect(await f.workflows.ratingOf(1n)).to.equal(0n);
    });

    it("createListing reverts WorkflowsInvalidSpec for a bad title, description or tag list", async function () {
      const f = await loadBase();
      const cases: Array<[Partial<IWorkflows.ListingInputStruct>, string]> = [
        [{ title: "" }, "title"],
        [{ title: "t".repeat(1025) }, "title"],
        [{ description: "d".repeat(1025) }, "description"],
        [{ tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, "tags"],
      ];
      for (const [override, field] of cases) {
        await expect(f.workflows.connect(f.owner).createListing(1n, { ...PUBLIC_LISTING, ...override }))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs(field);
      }
    });

    it("updateListing replaces the fields and the active flag; owner only; unknown listing reverts", async function () {
      const f = await loadListed();
      const input = { ...PUBLIC_LISTING, title: "v2", tags: ["x"], executionPrice: 7n, isPublic: false };
      await expect(f.workflows.connect(f.client).updateListing(1n, input, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
      await expect(f.workflows.connect(f.owner).updateListing(UNKNOWN, input, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(UNKNOWN);
      await expect(f.workflows.connect(f.owner).updateListing(1n, input, false))
        .to.emit(f.workflows, "ListingUpdated")
        .withArgs(1n, anyValue, false);
      const l = await f.workflows.getListing(1n);
      expect(l.title).to.equal("v2");
      expect([...l.tags]).to.deep.equal(["x"]);
      expect(l.executionPrice).to.equal(7n);
      expect(l.isPublic).to.equal(false);
      expect(l.active).to.equal(false);
      // an inactive listing denies everyone, the owner included
      for (const s of [f.client, f.owner]) {
        await expect(f.workflows.connect(s).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
          .withArgs(1n, s.address);
      }
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(1n, f.client.address);
      await f.workflows.connect(f.owner).updateListing(1n, { ...input, isPublic: true }, true);
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      expect((await f.workflows.getExecution(1n)).listingFee).to.equal(7n);
    });

    it("a restricted listing denies others (WorkflowsAccessDenied) until setAccess authorises them", async function () {
      const f = await loadListed();
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(false);
      expect(await f.workflows.hasAccess(2n, f.owner.address)).to.equal(true);
      expect(await f.workflows.hasAccess(1n, f.client.address)).to.equal(true);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expect(f.workflows.connect(f.client).subscribe(2n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expect(f.workflows.connect(f.client).setAccess(2n, f.client.address, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
      await expect(f.workflows.connect(f.owner).setAccess(2n, ZeroAddress, true)).to.be.revertedWithCustomError(
        f.workflows,
        "WorkflowsZeroAddress",
      );
      await expect(f.workflows.connect(f.owner).setAccess(UNKNOWN, f.client.address, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(UNKNOWN);

      await expect(f.workflows.connect(f.owner).setAccess(2n, f.client.address, true))
        .to.emit(f.workflows, "AccessSet")
        .withArgs(2n, f.client.address, true);
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(true);
      expect(await f.workflows.hasAccess(2n, f.client2.address)).to.equal(false);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 2n, 3n * AITBC, ZeroAddress);
      await expect(f.workflows.connect(f.client2).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client2.address);

      await expect(f.workflows.connect(f.owner).setAccess(2n, f.client.address, false))
        .to.emit(f.workflows, "AccessSet")
        .withArgs(2n, f.client.address, false);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expectHeld(f);
    });

    it("escrows the execution price with the budget and credits it to the owner at completion", async function () {
      const f = await loadListed();
      const b = await books(f);
      const price = 5n * AITBC;
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, price, ZeroAddress);
      const e = await f.workflows.getExecution(1n);
      expect(e.listingId).to.equal(1n);
      expect(e.listingFee).to.equal(price);
      expect(await f.workflows.totalHeld()).to.equal(BUDGET + price);
      await expectBooks(f, b, { balances: { [f.client.address]: -(BUDGET + price) }, open: BUDGET + price });

      await f.workflows.connect(f.keeper).claimExecution(1n);
      const records: StepRecord[] = [];
      for (const batch of diamondWork(f)) records.push(...(await record(f, 1n, batch)));
      const spent = sum(records.map((r) => r.cost));
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, receiptChain(receiptSeed(1n, 1n, INPUTS), records), spent, BUDGET - spent);
      expect((await f.workflows.getListing(1n)).totalExecutions).to.equal(1n);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -(spent + price) },
        credits: { ...Object.fromEntries(costsByProvider(records)), [f.owner.address]: price },
      });
      await expect(f.workflows.connect(f.owner).claimCredits())
        .to.emit(f.workflows, "CreditsClaimed")
        .withArgs(f.owner.address, price);
      await expectHeld(f);
    });

    it("refunds the execution price with the unspent budget on failure, cancellation and expiry", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const b = await books(f);
      // failed by the keeper after one step
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await record(f, 1n, [[0, f.p1, 10n * AITBC]]);
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, REASON, 10n * AITBC, BUDGET - 10n * AITBC + price);
      // cancelled while pending
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await expect(f.workflows.connect(f.client).cancelExecution(2n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(2n, id("cancelled by client"), 0n, BUDGET + price);
      // expired after one step
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper).claimExecution(3n);
      await record(f, 3n, [[0, f.p2, 4n * AITBC]]);
      await time.increase(MAX_TIME + 1n);
      await expect(f.workflows.connect(f.outsider).expireExecution(3n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(3n, anyValue, 4n * AITBC, BUDGET - 4n * AITBC + price);
      expect((await f.workflows.getListing(1n)).totalExecutions).to.equal(0n);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -14n * AITBC },
        credits: { [f.p1.address]: 10n * AITBC, [f.p2.address]: 4n * AITBC },
      });
    });

    it("subscribe pays the owner, waives the execution price for 30 days and extends when renewed", async function () {
      const f = await loadListed();
      const b = await books(f);
      const subscription = 20n * AITBC;
      const price = 5n * AITBC;
      const t0 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t0);
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.emit(f.workflows, "Subscribed")
        .withArgs(1n, f.client.address, t0 + SUBSCRIPTION_PERIOD, subscription);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -subscription },
        credits: { [f.owner.address]: subscription },
      });

      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      // others still pay
      await expect(f.workflows.connect(f.client2).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 1n, f.client2.address, INPUTS, BUDGET, 1n, price, ZeroAddress);

      // renewed on day 10: the 30 days are added to the current end
      await time.setNextBlockTimestamp(t0 + 10n * 86_400n);
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.emit(f.workflows, "Subscribed")
        .withArgs(1n, f.client.address, t0 + 2n * SUBSCRIPTION_PERIOD, subscription);
      const until = t0 + 2n * SUBSCRIPTION_PERIOD;
      await time.setNextBlockTimestamp(until - 1n);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n), GAS))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(3n, 1n, f.client.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      // from `until` on, the price is due again
      await time.setNextBlockTimestamp(until);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n), GAS))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(4n, 1n, f.client.address, INPUTS, BUDGET, 1n, price, ZeroAddress);

      // a lapsed subscription restarts from now
      const t1 = until + 5n * 86_400n;
      await time.setNextBlockTimestamp(t1);
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.emit(f.workflows, "Subscribed")
        .withArgs(1n, f.client.address, t1 + SUBSCRIPTION_PERIOD, subscription);

      await expectBooks(f, b, {
        balances: {
          [f.client.address]: -(3n * subscription + 3n * BUDGET + price),
          [f.client2.address]: -(BUDGET + price),
        },
        credits: { [f.owner.address]: 3n * subscription },
        open: 4n * BUDGET + 2n * price,
      });
      await expect(f.workflows.connect(f.owner).claimCredits())
        .to.emit(f.workflows, "CreditsClaimed")
        .withArgs(f.owner.address, 3n * subscription);
      await expectHeld(f);
    });

    it("reverts WorkflowsListingFeeAboveMax when the owner front-runs a request with a price rise", async function () {
      const f = await loadListed();
      const quoted = (await f.workflows.getListing(1n)).executionPrice; // what the client saw: 5 AITBC
      const raised = 50n * AITBC;
      const request = executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: quoted });
      const b = await books(f);
      // the owner sees the pending request and gets a price rise mined ahead of it, in the same block
      await ethers.provider.send("evm_setAutomine", [false]);
      let requestHash: string;
      let raiseHash: string;
      try {
        const requestTx = await f.workflows.connect(f.client).requestExecution(request, GAS);
        const raiseTx = await f.workflows
          .connect(f.owner)
          .updateListing(1n, { ...PUBLIC_LISTING, executionPrice: raised }, true, {
            ...GAS,
            maxPriorityFeePerGas: (requestTx.maxPriorityFeePerGas ?? 1n) * 10n,
            maxFeePerGas: (requestTx.maxFeePerGas ?? 1n) * 10n,
          });
        requestHash = requestTx.hash;
        raiseHash = raiseTx.hash;
        await ethers.provider.send("evm_mine", []);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      const raise = await ethers.provider.getTransactionReceipt(raiseHash);
      const requested = await ethers.provider.getTransactionReceipt(requestHash);
      if (raise === null || requested === null) throw new Error("not mined");
      expect(raise.blockNumber).to.equal(requested.blockNumber);
      expect(raise.index).to.be.lessThan(requested.index); // the price rise went first
      expect(raise.status).to.equal(1);
      expect(requested.status).to.equal(0); // and the request was refused rather than charged 50
      expect((await f.workflows.getListing(1n)).executionPrice).to.equal(raised);
      await expect(f.workflows.connect(f.client).requestExecution(request))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingFeeAboveMax")
        .withArgs(1n, raised, quoted);
      await expectBooks(f, b, {}); // no token moved
      // without a cap (the default) the same request pays whatever the price has become
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, raised, ZeroAddress);
      await expectBooks(f, b, { balances: { [f.client.address]: -(BUDGET + raised) }, open: BUDGET + raised });
    });

    it("maxListingFee: the exact price passes and the current price is charged; subscribers and direct requests pay 0 whatever the cap", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const cut = 2n * AITBC;
      const b = await books(f);
      for (const maxListingFee of [price - 1n, 0n]) {
        await expect(
          f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee })),
        )
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingFeeAboveMax")
          .withArgs(1n, price, maxListingFee);
      }
      // access is checked first
      await expect(
        f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n, { maxListingFee: 0n })),
      )
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expect(
        f.workflows
          .connect(f.client)
          .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: price })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, price, ZeroAddress);
      // a price cut is passed on: the fee is the current price, not the cap
      await f.workflows.connect(f.owner).updateListing(1n, { ...PUBLIC_LISTING, executionPrice: cut }, true);
      await expect(
        f.workflows
          .connect(f.client)
          .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: price })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 1n, f.client.address, INPUTS, BUDGET, 1n, cut, ZeroAddress);
      // a subscriber owes no fee, so no cap can refuse it
      await f.workflows.connect(f.client2).subscribe(1n, MaxUint256);
      await expect(
        f.workflows
          .connect(f.client2)
          .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: 0n })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(3n, 1n, f.client2.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      // nor a direct request by the owner
      await expect(
        f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n, { maxListingFee: 0n })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(4n, 1n, f.owner.address, INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      expect((await f.workflows.getExecution(1n)).listingFee).to.equal(price);
      expect((await f.workflows.getExecution(2n)).listingFee).to.equal(cut);
      expect((await f.workflows.getExecution(3n)).listingFee).to.equal(0n);
      const subscription = 20n * AITBC;
      await expectBooks(f, b, {
        balances: {
          [f.client.address]: -(2n * BUDGET + price + cut),
          [f.client2.address]: -(BUDGET + subscription),
          [f.owner.address]: -BUDGET,
        },
        credits: { [f.owner.address]: subscription },
        open: 4n * BUDGET + price + cut,
      });
    });

    it("subscribe reverts WorkflowsListingFeeAboveMax when the owner raises the subscription price first", async function () {
      const f = await loadListed();
      const listing = await f.workflows.getListing(1n);
      const quoted = listing.subscriptionPrice;
      // The owner front-runs: the price doubles before the client's subscription lands.
      await f.workflows.connect(f.owner).updateListing(
        1n,
        {
          title: listing.title,
          description: listing.description,
          tags: [...listing.tags],
          executionPrice: listing.executionPrice,
          subscriptionPrice: quoted * 2n,
          isPublic: listing.isPublic,
        },
        true,
      );
      const b = await books(f);
      await expect(f.workflows.connect(f.client).subscribe(1n, quoted))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingFeeAboveMax")
        .withArgs(1n, quoted * 2n, quoted);
      await expectBooks(f, b, {}); // nothing moved
      await f.workflows.connect(f.client).subscribe(1n, quoted * 2n); // the client accepts the new price
    });

    it("subscribe reverts WorkflowsNoSubscription for a listing whose subscription price is 0 (after the access check)", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const subscription = 20n * AITBC;
      await f.workflows.connect(f.owner).createListing(1n, { ...PUBLIC_LISTING, subscriptionPrice: 0n }); // 3
      await f.workflows.connect(f.owner).createListing(1n, { ...RESTRICTED_LISTING, subscriptionPrice: 0n }); // 4
      const b = await books(f);
      for (const s of [f.client, f.owner]) {
        await expect(f.workflows.connect(s).subscribe(3n, MaxUint256))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNoSubscription")
          .withArgs(3n);
      }
      await expect(f.workflows.connect(f.client).subscribe(4n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(4n, f.client.address);
      await f.workflows.connect(f.owner).setAccess(4n, f.client.address, true);
      await expect(f.workflows.connect(f.client).subscribe(4n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNoSubscription")
        .withArgs(4n);
      // no free subscription: the execution price stays due
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 3n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 3n, price, ZeroAddress);
      // a listing that drops its subscription price stops selling and renewing subscriptions; running ones last
      await f.workflows.connect(f.client).subscribe(1n, MaxUint256);
      await f.workflows.connect(f.owner).updateListing(1n, { ...PUBLIC_LISTING, subscriptionPrice: 0n }, true);
      for (const s of [f.client, f.client2]) {
        await expect(f.workflows.connect(s).subscribe(1n, MaxUint256))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNoSubscription")
          .withArgs(1n);
      }
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 1n, f.client.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -(subscription + 2n * BUDGET + price) },
        credits: { [f.owner.address]: subscription },
        open: 2n * BUDGET + price,
      });
    });

    it("a subscription to a restricted listing needs access first, then grants access while it lasts", async function () {
      const f = await loadListed();
      await f.workflows.connect(f.owner).setAccess(2n, f.client.address, true);
      await f.workflows.connect(f.client).subscribe(2n, MaxUint256);
      await f.workflows.connect(f.owner).setAccess(2n, f.client.address, false);
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(true);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 2n, 0n, ZeroAddress);
      await time.increase(SUBSCRIPTION_PERIOD);
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(false);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      expect(await f.workflows.creditsOf(f.owner.address)).to.equal(10n * AITBC);
      await expectHeld(f);
    });

    it("reverts WorkflowsListingMismatch and WorkflowsUnknownListing", async function () {
      const f = await loadListed();
      await f.workflows.connect(f.owner).defineWorkflow(chainSpec(2));
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(2n, INPUTS, BUDGET, 1n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingMismatch")
        .withArgs(1n, 2n);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, UNKNOWN)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(UNKNOWN);
      const w = f.workflows;
      for (const call of [
        () => w.getListing(UNKNOWN),
        () => w.ratingOf(UNKNOWN),
        () => w.hasAccess(UNKNOWN, f.client.address),
        () => w.connect(f.client).subscribe(UNKNOWN, MaxUint256),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(w, "WorkflowsUnknownListing").withArgs(UNKNOWN);
      }
    });

    it("rateExecution: once per completed listed execution by its client; ratingOf is the average × 100", async function () {
      const f = await loadListed();
      const { executionId: first } = await runDiamond(f, f.client, 1n);
      for (const rating of [0, 6, 255]) {
        await expect(f.workflows.connect(f.client).rateExecution(first, rating))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidRating")
          .withArgs(rating);
      }
      for (const s of [f.owner, f.keeper, f.client2]) {
        await expect(f.workflows.connect(s).rateExecution(first, 5))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotClient")
          .withArgs(first, s.address);
      }
      await expect(f.workflows.connect(f.client).rateExecution(first, 4))
        .to.emit(f.workflows, "ExecutionRated")
        .withArgs(first, 1n, 4);
      expect((await f.workflows.getExecution(first)).rated).to.equal(true);
      await expect(f.workflows.connect(f.client).rateExecution(first, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAlreadyRated")
        .withArgs(first);
      expect(await f.workflows.ratingOf(1n)).to.equal(400n);

      const { executionId: second } = await runDiamond(f, f.client2, 1n);
      await f.workflows.connect(f.client2).rateExecution(second, 5);
      expect(await f.workflows.ratingOf(1n)).to.equal(450n);
      const { executionId: third } = await runDiamond(f, f.client, 1n);
      await f.workflows.connect(f.client).rateExecution(third, 2);
      expect(await f.workflows.ratingOf(1n)).to.equal(366n); // 1100 / 3
      const l = await f.workflows.getListing(1n);
      expect(l.ratingCount).to.equal(3n);
      expect(l.ratingSum).to.equal(11n);
      expect(l.totalExecutions).to.equal(3n);
      expect(await f.workflows.ratingOf(2n)).to.equal(0n);
      expect(await f.workflows.creditsOf(f.owner.address)).to.equal(15n * AITBC);
      await expectHeld(f);
    });

    it("rateExecution reverts for executions not completed, and for direct (unlisted) ones", async function () {
      const f = await loadListed();
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await expect(f.workflows.connect(f.client).rateExecution(1n, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await expect(f.workflows.connect(f.client).rateExecution(1n, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.running);
      await f.workflows.connect(f.keeper).failExecution(1n, REASON);
      await expect(f.workflows.connect(f.client).rateExecution(1n, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
      const { executionId } = await runDiamond(f, f.owner, 0n);
      await expect(f.workflows.connect(f.owner).rateExecution(executionId, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(0n);
      expect((await f.workflows.getListing(1n)).ratingCount).to.equal(0n);
    });
  });

  describe("emergency stop", function () {
    type Setup = (f: Base) => Promise<() => Promise<unknown>>;
    const w = (f: Base) => f.workflows;
    const STOPPABLE: Array<[string, Setup]> = [
      ["defineWorkflow", (f) => Promise.resolve(() => w(f).connect(f.owner).defineWorkflow(DIAMOND))],
      [
        "requestExecution",
        (f) =>
          Promise.resolve(() =>
            w(f)
              .connect(f.owner)
              .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n)),
          ),
      ],
      [
        "cancelExecution",
        async (f) => {
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
          return () => w(f).connect(f.owner).cancelExecution(1n);
        },
      ],
      [
        "claimExecution",
        async (f) => {
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
          return () => w(f).connect(f.keeper).claimExecution(1n);
        },
      ],
      [
        "recordSteps",
        async (f) => {
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
          await w(f).connect(f.keeper).claimExecution(1n);
          const records = await sign(f, 1n, [[0, f.p1, 1n]]);
          return () => w(f).connect(f.keeper).recordSteps(1n, records);
        },
      ],
      [
        "recordProvenSteps",
        async (f) => {
          // The diamond at the Full level (workflow 2), its whole transcript proven once (one chunk proof).
          await w(f)
            .connect(f.owner)
            .defineWorkflow({ ...DIAMOND, verification: VERIFICATION.full });
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(2n, FIELD_INPUTS, BUDGET, 0n));
          await w(f).connect(f.keeper).claimExecution(1n);
          const deps = DIAMOND.steps.map((step) => [...step.dependsOn].map(Number));
          const transcript = buildTranscript(
            BigInt(FIELD_INPUTS),
            deps.map((d, i) => ({ deps: d, outputHash: BigInt(i + 1) })),
          );
          const prover = new Prover();
          const proof = await proveChunk(prover, transcript, 0).finally(() => prover.close());
          const records = await signedRecords(
            w(f),
            1n,
            transcript.leaves.map((leaf, step) => ({
              step,
              signer: f.p1,
              cost: 1n,
              inputHash: ZeroHash,
              outputHash: fieldToBytes32(leaf),
            })),
          );
          return () => w(f).connect(f.keeper).recordProvenSteps(1n, records, proof.transcript, []);
        },
      ],
      [
        "completeExecution",
        async (f) => {
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
          await w(f).connect(f.keeper).claimExecution(1n);
          for (const batch of diamondWork(f)) await record(f, 1n, batch);
          return () => w(f).connect(f.keeper).completeExecution(1n, RESULT);
        },
      ],
      [
        "failExecution",
        async (f) => {
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
          await w(f).connect(f.keeper).claimExecution(1n);
          return () => w(f).connect(f.keeper).failExecution(1n, REASON);
        },
      ],
      [
        "expireExecution",
        async (f) => {
          await w(f)
            .connect(f.owner)
            .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
          await w(f).connect(f.keeper).claimExecution(1n);
          await time.increase(MAX_TIME + 1n);
          return () => w(f).connect(f.outsider).expireExecution(1n);
        },
      ],
      [
        "claimCredits",
        async (f) => {
          await runDiamond(f, f.owner);
          return () => w(f).connect(f.p1).claimCredits();
        },
      ],
      ["createListing", (f) => Promise.resolve(() => w(f).connect(f.owner).createListing(1n, PUBLIC_LISTING))],
      [
        "updateListing",
        async (f) => {
          await w(f).connect(f.owner).createListing(1n, PUBLIC_LISTING);
          return () => w(f).connect(f.owner).updateListing(1n, RESTRICTED_LISTING, true);
        },
      ],
      [
        "setAccess",
        async (f) => {
          await w(f).connect(f.owner).createListing(1n, RESTRICTED_LISTING);
          return () => w(f).connect(f.owner).setAccess(1n, f.client.address, true);
        },
      ],
      [
        "subscribe",
        async (f) => {
          await w(f).connect(f.owner).createListing(1n, PUBLIC_LISTING);
          return () => w(f).connect(f.client).subscribe(1n, MaxUint256);
        },
      ],
      [
        "rateExecution",
        async (f) => {
          await w(f).connect(f.owner).createListing(1n, PUBLIC_LISTING);
          const { executionId } = await runDiamond(f, f.client, 1n);
          return () => w(f).connect(f.client).rateExecution(executionId, 5);
        },
      ],
    ];

    it("covers every state-changing function of Workflows", async function () {
      const f = await loadBase();
      const mutating: string[] = [];
      f.workflows.interface.forEachFunction((fn) => {
        if (fn.stateMutability !== "view" && fn.stateMutability !== "pure") mutating.push(fn.name);
      });
      expect([...mutating].sort()).to.deep.equal(STOPPABLE.map(([name]) => name).sort());
    });

    for (const [name, setup] of STOPPABLE) {
      it(`${name} reverts HumanOverrideEmergencyStopped while stopped, and works after resume`, async function () {
        const f = await loadBase();
        const call = await setup(f);
        await stop(f);
        await expect(call()).to.be.revertedWithCustomError(f.humanOverride, "HumanOverrideEmergencyStopped");
        await f.humanOverride.connect(f.guardian).resume();
        // (expireExecution: its max time ran out before the stop, so the stop does not revive it: it works at once.)
        await expect(call()).to.not.revert(ethers);
        await expectHeld(f);
      });
    }
  });
});
