/**
 * Workflows: the checks every function shares, written once in test/helpers/behaviours.ts and applied here to
 * every function they concern: unknown execution, workflow and listing ids; the emergency stop (every
 * state-changing function); the action each function charges to an agent's constitution; and expireExecution as
 * upkeep, charged to a calling agent only. Tests check that the tables cover the contract's ABI. The fixture and
 * its states are in test/helpers/workflows.ts.
 */
import { expect } from "chai";
import { MaxUint256, ZeroHash } from "ethers";
import { network } from "hardhat";

import { fieldToBytes32 } from "../../circuits/lib/field.js";
import { Prover } from "../../circuits/lib/prover.js";
import { buildTranscript } from "../../circuits/lib/workflow.js";
import { proveChunk } from "../../protocol/proofs.js";
import type { IWorkflows } from "../../typechain-types/index.js";
import {
  AITBC,
  DECLARED_VOLUME,
  mintAitbc,
  registerAndStake,
  requiredStakeFor,
  type Signer,
} from "../helpers/agents.js";
import {
  shouldBeChargedAsAgentAction,
  shouldBeRefusedWhileStopped,
  shouldChargeUpkeepToCallingAgent,
  shouldRevertForUnknownId,
} from "../helpers/behaviours.js";
import {
  type Base,
  BUDGET,
  DIAMOND,
  diamondWork,
  executionRequest,
  expectHeld,
  FIELD_INPUTS,
  INPUTS,
  loadBase,
  loadListed,
  loadPending,
  loadRunning,
  MAX_TIME,
  PUBLIC_LISTING,
  REASON,
  record,
  RESTRICTED_LISTING,
  RESULT,
  runDiamond,
  sign,
  signedRecords,
  UNKNOWN,
  VERIFICATION,
} from "../helpers/workflows.js";

const { networkHelpers, ethers } = await network.getOrCreate();
const { time } = networkHelpers;

/** The WorkflowLedger's own account: settleCommitted answers only the ledger, before it reads anything else. */
async function asLedger(f: Base) {
  const address = await f.ledger.getAddress();
  await networkHelpers.impersonateAccount(address);
  await networkHelpers.setBalance(address, AITBC);
  return ethers.getSigner(address);
}

/** A committed settlement of execution `id` by `keeper`, nothing spent. */
const settle = async (f: Base, id: bigint) =>
  f.workflows.connect(await asLedger(f)).settleCommitted(id, f.keeper.address, 0n, ZeroHash, RESULT, 0n);

/** A transcript proof of nothing: the unknown id is checked before any proof is. */
const NO_TRANSCRIPT: IWorkflows.TranscriptProofStruct = {
  outputsRoot: ZeroHash,
  resultHash: ZeroHash,
  proof: {
    a: [0n, 0n],
    b: [
      [0n, 0n],
      [0n, 0n],
    ],
    c: [0n, 0n],
  },
};

/**
 * Each state-changing function, with a setup that brings the base fixture to a state where the call succeeds and
 * returns the call.
 */
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
    "settleCommitted",
    async (f) => {
      await w(f)
        .connect(f.owner)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      await w(f).connect(f.keeper).claimExecution(1n);
      return () => settle(f, 1n);
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
      return () => w(f).connect(f.keeper).completeExecution(1n, RESULT, 0n);
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
  [
    "moveCredits",
    async (f) => {
      // p1 earns credits, then its operator rotates it to a new key: the old key's credits move to the new one.
      await runDiamond(f, f.owner);
      await f.registry.connect(f.operator).rotateKey(await f.registry.agentIdOf(f.p1.address), f.outsider.address);
      return () => w(f).connect(f.outsider).moveCredits(f.p1.address);
    },
  ],
  [
    "sweepExcess",
    async (f) => {
      await mintAitbc(f, f.outsider.address, 1n);
      await f.token.connect(f.outsider).transfer(await f.workflows.getAddress(), AITBC);
      return () => w(f).connect(f.outsider).sweepExcess();
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

/** The state a STOPPABLE setup builds, with its call. */
type Prepared = Base & { call: () => Promise<unknown> };

function prepared(setup: Setup, state: () => Promise<Base> = loadBase): () => Promise<Prepared> {
  return async () => {
    const f = await state();
    return { ...f, call: await setup(f) };
  };
}

function stoppable(name: string): Setup {
  const entry = STOPPABLE.find(([n]) => n === name);
  if (!entry) throw new Error(`no STOPPABLE entry for ${name}`);
  return entry[1];
}

/** `state`, with `who` (a human so far) registered as an agent: its later actions are charged to a constitution. */
function asAgent(who: (f: Base) => Signer, state: () => Promise<Base>): () => Promise<Base> {
  return async () => {
    const f = await state();
    await registerAndStake(f, who(f), f.operator, requiredStakeFor(DECLARED_VOLUME), {
      expectedDailyVolume: DECLARED_VOLUME,
    });
    return f;
  };
}

/** The names of `f.workflows`' functions with an input named `name`. */
function functionsTaking(f: Base, name: string): string[] {
  const names: string[] = [];
  f.workflows.interface.forEachFunction((fn) => {
    if (fn.inputs.some((input) => input.name === name)) names.push(fn.name);
  });
  return names;
}

interface IdCase {
  fn: string;
  setup: () => Promise<Base>;
  call: (f: Base, id: bigint) => Promise<unknown>;
}

/** Workflows' books hold, leaving aside the sweepExcess case's 1 AITBC donation while it is not swept yet. */
async function expectHeldOrDonation(f: Base): Promise<void> {
  const excess = (await f.token.balanceOf(await f.workflows.getAddress())) - (await f.workflows.totalHeld());
  expect([0n, AITBC]).to.include(excess);
}

describe("Workflows: guards", function () {
  describe("unknown execution ids", function () {
    const cases: IdCase[] = [
      { fn: "getExecution", setup: loadPending, call: (f, id) => f.workflows.getExecution(id) },
      { fn: "getExecutionStatus", setup: loadPending, call: (f, id) => f.workflows.getExecutionStatus(id) },
      { fn: "cancelExecution", setup: loadPending, call: (f, id) => f.workflows.connect(f.owner).cancelExecution(id) },
      { fn: "claimExecution", setup: loadPending, call: (f, id) => f.workflows.connect(f.keeper).claimExecution(id) },
      {
        fn: "recordSteps",
        setup: loadRunning,
        call: async (f, id) => f.workflows.connect(f.keeper).recordSteps(id, await sign(f, 1n, [[0, f.p1, 1n]])),
      },
      {
        fn: "recordProvenSteps",
        setup: loadRunning,
        call: (f, id) => f.workflows.connect(f.keeper).recordProvenSteps(id, [], NO_TRANSCRIPT, []),
      },
      {
        fn: "completeExecution",
        setup: loadRunning,
        call: (f, id) => f.workflows.connect(f.keeper).completeExecution(id, RESULT, 0n),
      },
      {
        fn: "failExecution",
        setup: loadRunning,
        call: (f, id) => f.workflows.connect(f.keeper).failExecution(id, REASON),
      },
      { fn: "expireExecution", setup: loadRunning, call: (f, id) => f.workflows.connect(f.keeper).expireExecution(id) },
      { fn: "settleCommitted", setup: loadRunning, call: settle },
      { fn: "rateExecution", setup: loadPending, call: (f, id) => f.workflows.connect(f.owner).rateExecution(id, 5) },
    ];

    it("cover every function that takes an execution id (but hashStepResult, a pure digest)", async function () {
      const f = await loadBase();
      const takesId = functionsTaking(f, "executionId").filter((fn) => fn !== "hashStepResult");
      expect(takesId.sort()).to.deep.equal(cases.map((c) => c.fn).sort());
    });

    for (const c of cases) {
      shouldRevertForUnknownId({
        ...c,
        error: "WorkflowsUnknownExecution",
        ids: [0n, 2n, UNKNOWN],
        contract: (f) => f.workflows,
      });
    }
  });

  describe("unknown workflow ids", function () {
    const cases: IdCase[] = [
      { fn: "getWorkflow", setup: loadBase, call: (f, id) => f.workflows.getWorkflow(id) },
      { fn: "dependenciesOf", setup: loadBase, call: (f, id) => f.workflows.dependenciesOf(id, 0n) },
      {
        fn: "requestExecution",
        setup: loadBase,
        call: (f, id) => f.workflows.connect(f.owner).requestExecution(executionRequest(id, INPUTS, BUDGET, 0n)),
      },
      {
        fn: "createListing",
        setup: loadBase,
        call: (f, id) => f.workflows.connect(f.owner).createListing(id, PUBLIC_LISTING),
      },
    ];

    it("cover every function that takes a workflow id (requestExecution in its request) but provenDependencies", async function () {
      const f = await loadBase();
      // provenDependencies is a raw view of the packed proven dependencies: all zero for an unknown workflow.
      const takesId = [...functionsTaking(f, "workflowId"), "requestExecution"].filter(
        (fn) => fn !== "provenDependencies",
      );
      expect(takesId.sort()).to.deep.equal(cases.map((c) => c.fn).sort());
    });

    for (const c of cases) {
      shouldRevertForUnknownId({
        ...c,
        error: "WorkflowsUnknownWorkflow",
        ids: [0n, 2n, UNKNOWN],
        contract: (f) => f.workflows,
      });
    }
  });

  describe("unknown listing ids", function () {
    const cases: IdCase[] = [
      { fn: "getListing", setup: loadListed, call: (f, id) => f.workflows.getListing(id) },
      { fn: "ratingOf", setup: loadListed, call: (f, id) => f.workflows.ratingOf(id) },
      { fn: "hasAccess", setup: loadListed, call: (f, id) => f.workflows.hasAccess(id, f.client.address) },
      {
        fn: "subscribe",
        setup: loadListed,
        call: (f, id) => f.workflows.connect(f.client).subscribe(id, MaxUint256),
      },
      {
        fn: "updateListing",
        setup: loadListed,
        call: (f, id) => f.workflows.connect(f.owner).updateListing(id, PUBLIC_LISTING, true),
      },
      {
        fn: "setAccess",
        setup: loadListed,
        call: (f, id) => f.workflows.connect(f.owner).setAccess(id, f.client.address, true),
      },
    ];

    it("cover every function that takes a listing id (requestExecution's below: 0 there means no listing)", async function () {
      const f = await loadBase();
      expect(functionsTaking(f, "listingId").sort()).to.deep.equal(cases.map((c) => c.fn).sort());
    });

    for (const c of cases) {
      shouldRevertForUnknownId({
        ...c,
        error: "WorkflowsUnknownListing",
        ids: [0n, 3n, UNKNOWN],
        contract: (f) => f.workflows,
      });
    }
    shouldRevertForUnknownId({
      fn: "requestExecution (through a listing)",
      error: "WorkflowsUnknownListing",
      ids: [3n, UNKNOWN],
      setup: loadListed,
      contract: (f) => f.workflows,
      call: (f, id) => f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, id)),
    });
  });

  describe("emergency stop", function () {
    it("covers every state-changing function of Workflows", async function () {
      const f = await loadBase();
      const mutating: string[] = [];
      f.workflows.interface.forEachFunction((fn) => {
        if (fn.stateMutability !== "view" && fn.stateMutability !== "pure") mutating.push(fn.name);
      });
      expect([...mutating].sort()).to.deep.equal(STOPPABLE.map(([name]) => name).sort());
    });

    for (const [name, setup] of STOPPABLE) {
      shouldBeRefusedWhileStopped({
        fn: name,
        setup: prepared(setup),
        call: (f) => f.call(),
        // expireExecution: its max time ran out before the stop, so the stop does not revive it: it works at once.
        invariant: name === "sweepExcess" ? expectHeldOrDonation : expectHeld,
      });
    }
  });

  describe("agent actions", function () {
    const owner = (f: Base) => f.owner;
    const client = (f: Base) => f.client;
    const keeper = (f: Base) => f.keeper;
    // The owner's definition and listing management: its DEFINE_WORKFLOW.
    for (const fn of ["defineWorkflow", "createListing"]) {
      shouldBeChargedAsAgentAction({
        fn,
        action: "define-workflow",
        setup: prepared(stoppable(fn), asAgent(owner, loadBase)),
        agent: owner,
        call: (f) => f.call(),
      });
    }
    for (const fn of ["updateListing", "setAccess"]) {
      shouldBeChargedAsAgentAction({
        fn,
        action: "define-workflow",
        setup: prepared(stoppable(fn), asAgent(owner, loadBase)),
        agent: owner,
        call: (f) => f.call(),
      });
    }
    // A client agent's request, subscription and rating: its POST_WORKLOAD.
    shouldBeChargedAsAgentAction({
      fn: "requestExecution",
      action: "post-workload",
      setup: prepared(stoppable("requestExecution"), asAgent(owner, loadBase)),
      agent: owner,
      call: (f) => f.call(),
    });
    shouldBeChargedAsAgentAction({
      fn: "subscribe",
      action: "post-workload",
      setup: prepared(stoppable("subscribe"), asAgent(client, loadBase)),
      agent: client,
      call: (f) => f.call(),
    });
    shouldBeChargedAsAgentAction({
      fn: "rateExecution",
      action: "post-workload",
      setup: async () => {
        const f = await loadListed();
        const { executionId } = await runDiamond(f, f.client, 1n);
        await registerAndStake(f, f.client, f.operator, requiredStakeFor(DECLARED_VOLUME), {
          expectedDailyVolume: DECLARED_VOLUME,
        });
        return { ...f, executionId };
      },
      agent: client,
      call: (f) => f.workflows.connect(f.client).rateExecution(f.executionId, 5),
    });
    // The keeper's claim, records, completion and failure: its RUN_WORKFLOW.
    for (const fn of ["claimExecution", "recordSteps", "recordProvenSteps", "completeExecution", "failExecution"]) {
      shouldBeChargedAsAgentAction({
        fn,
        action: "run-workflow",
        setup: prepared(stoppable(fn)),
        agent: keeper,
        call: (f) => f.call(),
      });
    }
    // Expiry by an agent: its UPKEEP.
    shouldBeChargedAsAgentAction({
      fn: "expireExecution",
      action: "upkeep",
      setup: expired,
      agent: (f) => f.p1,
      call: (f) => f.workflows.connect(f.p1).expireExecution(1n),
    });
  });

  describe("upkeep by agents", function () {
    shouldChargeUpkeepToCallingAgent({
      fn: "expireExecution",
      setup: expired,
      agent: (f) => f.p1,
      nonAgent: (f) => f.outsider,
      call: (f, caller) => f.workflows.connect(caller).expireExecution(1n),
    });
  });
});

/** Execution 1, claimed by `keeper`, past its maxExecutionTime: anyone may expire it. */
async function expired(): Promise<Base> {
  const f = await loadRunning();
  const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
  await time.increaseTo(expiresAt + 1n);
  return f;
}
