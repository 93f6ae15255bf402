/**
 * WorkflowLedger (contracts/workflows/WorkflowLedger.sol): cheap basic recording. The keeper commits one root over
 * the step records of one or many executions and completes them; providers claim with Merkle proofs after the
 * challenge window; challenges with each kind of evidence slash the party at fault, and a false challenge costs the
 * challenger its bond. The attack tests (a forged record, a double claim, a claim of a challenged record, a claim
 * in the window, a late challenge, a claim above what the execution spent) are here too.
 */
import { expect } from "chai";
import { MaxUint256, toBeHex, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { fieldToBytes32 } from "../../circuits/lib/field.js";
import { irisModelHash, loadIrisModel, quantizeFeatures } from "../../circuits/lib/iris.js";
import { Prover } from "../../circuits/lib/prover.js";
import { RecordTree, toLeaf, type LedgerRecord } from "../../protocol/merkle.js";
import type { IWorkflows } from "../../typechain-types/index.js";
import { AITBC, mintAitbc } from "../helpers/agents.js";
import { proveIris, type IrisProof } from "../helpers/proofs.js";
import {
  BUDGET,
  EXECUTION,
  executionRequest,
  INPUTS,
  loadBase,
  RESULT,
  signedRecords,
  STEP_TYPE,
  stepSpec,
  VERIFICATION,
  type Base,
  type StepWork,
} from "../helpers/workflows.js";

const { networkHelpers } = await network.getOrCreate();

const WINDOW = 24n * 3600n;
const KEEPER_BOND = 100n * AITBC;
const CHALLENGE_BOND = 10n * AITBC;

type Fixture = Base & { challenger: Base["outsider"] };

/**
 * Base, plus the keeper bonded (2 bonds, paid by its operator) and the outsider (the challenger) funded and
 * approving the ledger.
 */
async function loadLedger(): Promise<Fixture> {
  const f = await loadBase();
  const ledger = await f.ledger.getAddress();
  await mintAitbc(f, f.operator.address, 1_000n);
  await f.token.connect(f.operator).approve(ledger, MaxUint256);
  await expect(f.ledger.connect(f.operator).depositBond(f.keeper.address, 2n * KEEPER_BOND))
    .to.emit(f.ledger, "BondDeposited")
    .withArgs(f.keeper.address, f.operator.address, 2n * KEEPER_BOND, 2n * KEEPER_BOND);
  await mintAitbc(f, f.outsider.address, 1_000n);
  await f.token.connect(f.outsider).approve(ledger, MaxUint256);
  return { ...f, challenger: f.outsider };
}

/** Requests an execution of the diamond (workflow 1) as `owner`, claimed by the keeper; returns its id. */
async function running(f: Fixture, workflowId = 1n): Promise<bigint> {
  await f.workflows.connect(f.owner).requestExecution(executionRequest(workflowId, INPUTS, BUDGET, 0n));
  const id = await lastExecutionId(f);
  await f.workflows.connect(f.keeper).claimExecution(id);
  return id;
}

async function lastExecutionId(f: Fixture): Promise<bigint> {
  const events = await f.workflows.queryFilter(f.workflows.filters.ExecutionRequested());
  return (events.at(-1) as (typeof events)[number]).args.executionId;
}

/** The diamond's records of `executionId`: p1 steps 0 and 1, p2 step 2, p3 step 3; 70 AITBC. */
async function diamondRecords(f: Fixture, executionId: bigint, work?: StepWork[]): Promise<LedgerRecord[]> {
  const records = await signedRecords(
    f.workflows,
    executionId,
    work ?? [
      { step: 0, signer: f.p1, cost: 10n * AITBC },
      { step: 1, signer: f.p1, cost: 20n * AITBC },
      { step: 2, signer: f.p2, cost: 15n * AITBC },
      { step: 3, signer: f.p3, cost: 25n * AITBC },
    ],
  );
  return records.map((r) => ({ ...r, executionId, provider: r.provider as `0x${string}` })) as LedgerRecord[];
}

const total = (records: LedgerRecord[]) => records.reduce((s, r) => s + r.cost, 0n);

function settlement(executionId: bigint, records: LedgerRecord[], keeperFee = 0n) {
  return { executionId, spent: total(records), resultHash: RESULT, keeperFee };
}

/** A claim of `provider`'s records in `tree` (all, or of one execution) against `commitmentId`. */
function claimOf(tree: RecordTree, commitmentId: bigint, provider: string, executionId?: bigint) {
  const mp = tree.multiProof(tree.positionsOf(provider as `0x${string}`, executionId));
  return { commitmentId, leaves: mp.leaves.map(toLeaf), proof: mp.proof, proofFlags: mp.proofFlags };
}

function recordArg(r: LedgerRecord) {
  return { ...r };
}

async function afterWindow() {
  await networkHelpers.time.increase(WINDOW + 1n);
}

describe("WorkflowLedger", function () {
  describe("deployment", function () {
    it("is bound to Workflows once, by its deployer, and Workflows names it", async function () {
      const f = await loadLedger();
      expect(await f.ledger.workflows()).to.equal(await f.workflows.getAddress());
      expect(await f.workflows.ledger()).to.equal(await f.ledger.getAddress());
      expect(await f.ledger.challengeWindow()).to.equal(WINDOW);
      expect(await f.ledger.keeperBond()).to.equal(KEEPER_BOND);
      expect(await f.ledger.challengeBond()).to.equal(CHALLENGE_BOND);
      await expect(f.ledger.connect(f.outsider).bind(await f.workflows.getAddress()))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerNotDeployer")
        .withArgs(f.outsider.address);
      await expect(f.ledger.connect(f.deployer).bind(await f.workflows.getAddress())).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerAlreadyBound",
      );
    });

    it("refuses a zero address or amount at deployment, a zero bond and an empty claim", async function () {
      const f = await loadLedger();
      const { ethers } = await network.getOrCreate();
      const args: [string, string, string, string, string, bigint, bigint, bigint] = [
        await f.token.getAddress(),
        await f.registry.getAddress(),
        await f.humanOverride.getAddress(),
        await f.constitution.getAddress(),
        await f.inferenceVerifier.getAddress(),
        WINDOW,
        KEEPER_BOND,
        CHALLENGE_BOND,
      ];
      for (let i = 0; i < args.length; ++i) {
        const bad: unknown[] = [...args];
        bad[i] = i < 5 ? ZeroAddress : 0n;
        await expect(ethers.deployContract("WorkflowLedger", bad)).to.be.revertedWithCustomError(
          f.ledger,
          i < 5 ? "WorkflowLedgerZeroAddress" : "WorkflowLedgerZeroAmount",
        );
      }
      await expect(f.ledger.connect(f.operator).depositBond(f.keeper.address, 0n)).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerZeroAmount",
      );
      await expect(f.ledger.connect(f.operator).depositBond(ZeroAddress, 1n)).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerZeroAddress",
      );
      await expect(f.ledger.claim(f.p1.address, [])).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerEmptyClaim",
      );
      await expect(f.ledger.connect(f.keeper).withdrawBond(0n)).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerZeroAmount",
      );
    });

    it("Workflows settles committed executions only through the ledger (WorkflowsNotLedger)", async function () {
      const f = await loadLedger();
      const id = await running(f);
      await expect(f.workflows.connect(f.keeper).settleCommitted(id, f.keeper.address, 0n, RESULT, RESULT, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotLedger")
        .withArgs(f.keeper.address);
    });
  });

  describe("commit, complete and claim", function () {
    it("completes an execution with one root, and pays each provider once, on claims after the window", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      const clientBefore = await f.token.balanceOf(f.owner.address);
      await expect(f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root))
        .to.emit(f.ledger, "Committed")
        .withArgs(1n, f.keeper.address, tree.root, 1n)
        .and.to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(id, RESULT, tree.root, 70n * AITBC, BUDGET - 70n * AITBC);
      const e = await f.workflows.getExecution(id);
      expect(e.status).to.equal(EXECUTION.completed);
      expect(e.stepsDone).to.equal(4n);
      expect(e.doneMask).to.equal(15n);
      expect(e.receipt).to.equal(tree.root);
      expect((await f.token.balanceOf(f.owner.address)) - clientBefore).to.equal(BUDGET - 70n * AITBC);
      expect(await f.token.balanceOf(await f.ledger.getAddress())).to.equal(2n * KEEPER_BOND + 70n * AITBC);
      expect((await f.ledger.entryOf(id)).remaining).to.equal(70n * AITBC);

      // In the window: too early.
      const endsAt = await f.ledger.windowEndsAt(1n);
      await expect(f.ledger.claim(f.p1.address, [claimOf(tree, 1n, f.p1.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerWindowOpen")
        .withArgs(1n, endsAt);

      await afterWindow();
      for (const [p, owed] of [
        [f.p1, 30n * AITBC],
        [f.p2, 15n * AITBC],
        [f.p3, 25n * AITBC],
      ] as const) {
        const before = await f.token.balanceOf(p.address);
        await expect(f.ledger.connect(p).claim(p.address, [claimOf(tree, 1n, p.address)]))
          .to.emit(f.ledger, "Claimed")
          .withArgs(p.address, p.address, p === f.p1 ? 2n : 1n, owed);
        expect((await f.token.balanceOf(p.address)) - before).to.equal(owed);
      }
      expect((await f.ledger.entryOf(id)).remaining).to.equal(0n);
      expect(await f.ledger.settledMask(id)).to.equal(15n);
      expect(await f.token.balanceOf(await f.ledger.getAddress())).to.equal(2n * KEEPER_BOND);
    });

    it("one root settles many executions, and one claim pays a provider's steps across them", async function () {
      const f = await loadLedger();
      const a = await running(f);
      const b = await running(f);
      const records = [...(await diamondRecords(f, a)), ...(await diamondRecords(f, b))];
      const tree = new RecordTree(records);
      const ra = records.filter((r) => r.executionId === a);
      const rb = records.filter((r) => r.executionId === b);
      await f.ledger.connect(f.keeper).commit([settlement(a, ra), settlement(b, rb)], tree.root);
      await afterWindow();
      const before = await f.token.balanceOf(f.p1.address);
      await expect(f.ledger.claim(f.p1.address, [claimOf(tree, 1n, f.p1.address)]))
        .to.emit(f.ledger, "Claimed")
        .withArgs(f.p1.address, f.p1.address, 4n, 60n * AITBC);
      expect((await f.token.balanceOf(f.p1.address)) - before).to.equal(60n * AITBC);
      expect(await f.ledger.settledMask(a)).to.equal(3n);
      expect(await f.ledger.settledMask(b)).to.equal(3n);
    });

    it("pays the keeper's fee as Workflows credit and refunds the rest", async function () {
      const f = await loadLedger();
      await f.workflows
        .connect(f.owner)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n, { maxKeeperFee: 5n * AITBC }));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      const records = await diamondRecords(f, 1n);
      const tree = new RecordTree(records);
      await expect(f.ledger.connect(f.keeper).commit([settlement(1n, records, 5n * AITBC)], tree.root))
        .to.emit(f.workflows, "KeeperPaid")
        .withArgs(1n, f.keeper.address, 5n * AITBC);
      expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(5n * AITBC);
    });

    it("refuses bad commitments with custom errors, and leaves the execution running", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await expect(f.ledger.connect(f.keeper).commit([], tree.root)).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerEmptyCommitment",
      );
      await expect(
        f.ledger.connect(f.keeper).commit([settlement(id, records)], ZeroHash),
      ).to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerZeroRoot");
      // Not this execution's keeper (keeper2 is bonded too).
      await expect(f.ledger.connect(f.keeper2).commit([settlement(id, records)], tree.root))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerBondTooLow")
        .withArgs(f.keeper2.address, 0n, KEEPER_BOND);
      await f.ledger.connect(f.operator).depositBond(f.keeper2.address, KEEPER_BOND);
      await expect(f.ledger.connect(f.keeper2).commit([settlement(id, records)], tree.root))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(id, f.keeper2.address);
      // Spent above the budget.
      await expect(
        f.ledger.connect(f.keeper).commit([{ ...settlement(id, records), spent: BUDGET + 1n }], tree.root),
      ).to.be.revertedWithCustomError(f.workflows, "WorkflowsBudgetExceeded");
      expect((await f.workflows.getExecution(id)).status).to.equal(EXECUTION.running);
      expect((await f.ledger.entryOf(id)).commitmentId).to.equal(0n);
    });

    it("refuses to settle an execution twice, or one whose records are stored on chain", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      await expect(f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(id, EXECUTION.completed);

      const id2 = await running(f);
      const stored = await signedRecords(f.workflows, id2, [{ step: 0, signer: f.p1, cost: AITBC }]);
      await f.workflows.connect(f.keeper).recordSteps(id2, stored);
      await expect(f.ledger.connect(f.keeper).commit([settlement(id2, records)], tree.root))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepsRecorded")
        .withArgs(id2);
    });

    it("locks the keeper's bond until its last commitment's window ends", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], new RecordTree(records).root);
      const lockedUntil = await f.ledger.windowEndsAt(1n);
      await expect(f.ledger.connect(f.keeper).withdrawBond(KEEPER_BOND))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerBondLocked")
        .withArgs(f.keeper.address, lockedUntil);
      await afterWindow();
      await expect(f.ledger.connect(f.keeper).withdrawBond(3n * KEEPER_BOND))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerBondInsufficient")
        .withArgs(f.keeper.address, 2n * KEEPER_BOND, 3n * KEEPER_BOND);
      await expect(f.ledger.connect(f.keeper).withdrawBond(KEEPER_BOND))
        .to.emit(f.ledger, "BondWithdrawn")
        .withArgs(f.keeper.address, KEEPER_BOND, KEEPER_BOND);
    });
  });

  describe("attacks on claims", function () {
    it("a provider claiming twice is refused (WorkflowLedgerStepSettled)", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      await afterWindow();
      const again = claimOf(tree, 1n, f.p1.address);
      await f.ledger.claim(f.p1.address, [again]);
      await expect(f.ledger.claim(f.p1.address, [again]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerStepSettled")
        .withArgs(id, again.leaves[0]?.step);
      // The same step twice in one claim.
      const one = claimOf(tree, 1n, f.p2.address);
      await expect(f.ledger.claim(f.p2.address, [one, one])).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerStepSettled",
      );
    });

    it("a claim of another provider's record, or of a record not in the root, is refused", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      await afterWindow();
      await expect(f.ledger.claim(f.p2.address, [claimOf(tree, 1n, f.p1.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerInvalidProof")
        .withArgs(1n);
      const inflated = claimOf(tree, 1n, f.p3.address);
      inflated.leaves = inflated.leaves.map((l) => ({ ...l, cost: l.cost + 1n }));
      await expect(f.ledger.claim(f.p3.address, [inflated])).to.be.revertedWithCustomError(
        f.ledger,
        "WorkflowLedgerInvalidProof",
      );
      await expect(f.ledger.claim(f.outsider.address, [claimOf(tree, 1n, f.p1.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerNotAgent")
        .withArgs(f.outsider.address);
      await expect(f.ledger.claim(f.p1.address, [claimOf(tree, 2n, f.p1.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerUnknownCommitment")
        .withArgs(2n);
    });

    it("records that cost more than the execution spent pay at most what it spent (WorkflowLedgerExceedsSpent)", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      // The keeper settles 40 AITBC for 70 AITBC of records.
      await f.ledger.connect(f.keeper).commit([{ ...settlement(id, records), spent: 40n * AITBC }], tree.root);
      await afterWindow();
      await f.ledger.claim(f.p1.address, [claimOf(tree, 1n, f.p1.address)]); // 30
      await expect(f.ledger.claim(f.p3.address, [claimOf(tree, 1n, f.p3.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerExceedsSpent")
        .withArgs(id, 25n * AITBC, 10n * AITBC);
    });
  });

  describe("challenge (a): a provider signature that does not recover", function () {
    /** The keeper commits a record for p2's step 2 that p2 never signed (the keeper signed it). */
    async function forged(f: Fixture) {
      const id = await running(f);
      const honest = await diamondRecords(f, id);
      const [fake] = await diamondRecords(f, id, [{ step: 2, signer: f.keeper, cost: 15n * AITBC }]);
      if (!fake) throw new Error("no record");
      const records = honest.map((r) => (r.step === 2 ? { ...fake, provider: f.p2.address as `0x${string}` } : r));
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      return { id, records, tree, position: 2 };
    }

    it("slashes the keeper's bond to the challenger, voids the record and refunds its cost to the client", async function () {
      const f = await loadLedger();
      const { id, records, tree, position } = await forged(f);
      const r = records[position] as LedgerRecord;
      const challengerBefore = await f.token.balanceOf(f.challenger.address);
      const clientBefore = await f.token.balanceOf(f.owner.address);
      await expect(f.ledger.connect(f.challenger).challengeSignature(recordArg(r), tree.proof(position)))
        .to.emit(f.ledger, "ChallengeUpheld")
        .withArgs(id, 2n, 1n, f.keeper.address, KEEPER_BOND, f.challenger.address, 15n * AITBC);
      expect((await f.token.balanceOf(f.challenger.address)) - challengerBefore).to.equal(KEEPER_BOND);
      expect((await f.token.balanceOf(f.owner.address)) - clientBefore).to.equal(15n * AITBC);
      expect(await f.ledger.bondOf(f.keeper.address)).to.equal(KEEPER_BOND);
      expect((await f.ledger.entryOf(id)).remaining).to.equal(55n * AITBC);

      // Attack: the forged record's provider claims it after the window: the challenge voided it.
      await afterWindow();
      await expect(f.ledger.claim(f.p2.address, [claimOf(tree, 1n, f.p2.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerStepSettled")
        .withArgs(id, 2n);
      // The honest records are still paid.
      await f.ledger.claim(f.p1.address, [claimOf(tree, 1n, f.p1.address)]);
      await f.ledger.claim(f.p3.address, [claimOf(tree, 1n, f.p3.address)]);
      expect((await f.ledger.entryOf(id)).remaining).to.equal(0n);
    });

    it("a false challenge (the signature recovers) costs the challenger its bond, to the keeper", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      const keeperBefore = await f.token.balanceOf(f.keeper.address);
      const challengerBefore = await f.token.balanceOf(f.challenger.address);
      await expect(
        f.ledger.connect(f.challenger).challengeSignature(recordArg(records[1] as LedgerRecord), tree.proof(1)),
      )
        .to.emit(f.ledger, "ChallengeRejected")
        .withArgs(id, 1n, 1n, f.keeper.address, f.challenger.address);
      expect((await f.token.balanceOf(f.keeper.address)) - keeperBefore).to.equal(CHALLENGE_BOND);
      expect(challengerBefore - (await f.token.balanceOf(f.challenger.address))).to.equal(CHALLENGE_BOND);
      expect(await f.ledger.bondOf(f.keeper.address)).to.equal(2n * KEEPER_BOND);
      expect(await f.ledger.settledMask(id)).to.equal(0n);
    });

    it("refuses a challenge after the window, of a record not in the root, or of a voided record", async function () {
      const f = await loadLedger();
      const { records, tree, position } = await forged(f);
      const r = records[position] as LedgerRecord;
      await expect(
        f.ledger.connect(f.challenger).challengeSignature({ ...r, cost: r.cost + 1n }, tree.proof(position)),
      ).to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerInvalidProof");
      await f.ledger.connect(f.challenger).challengeSignature(recordArg(r), tree.proof(position));
      await expect(f.ledger.connect(f.challenger).challengeSignature(recordArg(r), tree.proof(position)))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerStepSettled")
        .withArgs(r.executionId, 2n);
      const endsAt = await f.ledger.windowEndsAt(1n);
      await afterWindow();
      const other = records[0] as LedgerRecord;
      await expect(f.ledger.connect(f.challenger).challengeSignature(recordArg(other), tree.proof(0)))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerWindowClosed")
        .withArgs(1n, endsAt);
    });
  });

  describe("challenge (b): records that break the DAG or the budget", function () {
    const providersOf = (records: LedgerRecord[]) => records.map((r) => r.provider);

    async function challengeWith(f: Fixture, id: bigint, tree: RecordTree, positions: number[]) {
      const mp = tree.multiProof(positions);
      return f.ledger.connect(f.challenger).challengeRecords(id, {
        providers: providersOf(mp.leaves),
        leaves: mp.leaves.map(toLeaf),
        proof: mp.proof,
        proofFlags: mp.proofFlags,
      });
    }

    it("two records for one step: slashes the keeper and voids the execution's remainder to the client", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const honest = await diamondRecords(f, id);
      const [again] = await diamondRecords(f, id, [{ step: 3, signer: f.p1, cost: 1n * AITBC }]);
      const records = [...honest, again as LedgerRecord];
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, honest)], tree.root);
      const clientBefore = await f.token.balanceOf(f.owner.address);
      await expect(challengeWith(f, id, tree, [3, 4]))
        .to.emit(f.ledger, "ChallengeUpheld")
        .withArgs(id, 65_535n, 2n, f.keeper.address, KEEPER_BOND, f.challenger.address, 70n * AITBC);
      expect((await f.token.balanceOf(f.owner.address)) - clientBefore).to.equal(70n * AITBC);
      expect((await f.ledger.entryOf(id)).voided).to.equal(true);
      await afterWindow();
      await expect(f.ledger.claim(f.p3.address, [claimOf(tree, 1n, f.p3.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerExecutionVoided")
        .withArgs(id);
    });

    it("a step outside the workflow: slashes the keeper", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const honest = await diamondRecords(f, id);
      const [outside] = await diamondRecords(f, id, [{ step: 7, signer: f.p1, cost: 1n }]);
      const records = [...honest, outside as LedgerRecord];
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, honest)], tree.root);
      await expect(challengeWith(f, id, tree, [4])).to.emit(f.ledger, "ChallengeUpheld");
      expect(await f.ledger.bondOf(f.keeper.address)).to.equal(KEEPER_BOND);
    });

    it("records above what the execution spent: slashes the keeper", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([{ ...settlement(id, records), spent: 50n * AITBC }], tree.root);
      await expect(challengeWith(f, id, tree, [0, 1, 3]))
        .to.emit(f.ledger, "ChallengeUpheld")
        .withArgs(id, 65_535n, 2n, f.keeper.address, KEEPER_BOND, f.challenger.address, 50n * AITBC);
    });

    it("a false challenge (distinct steps within the budget) costs the challenger its bond", async function () {
      const f = await loadLedger();
      const id = await running(f);
      const records = await diamondRecords(f, id);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      const keeperBefore = await f.token.balanceOf(f.keeper.address);
      await expect(challengeWith(f, id, tree, [0, 1, 2, 3]))
        .to.emit(f.ledger, "ChallengeRejected")
        .withArgs(id, 65_535n, 2n, f.keeper.address, f.challenger.address);
      expect((await f.token.balanceOf(f.keeper.address)) - keeperBefore).to.equal(CHALLENGE_BOND);
      expect((await f.ledger.entryOf(id)).voided).to.equal(false);
    });
  });

  describe("challenge (c): a provable step's output differs from the model's proven output", function () {
    let iris: IrisProof;
    let spec: IWorkflows.WorkflowSpecStruct;

    const prover = new Prover();

    before(async function () {
      this.timeout(300_000);
      const model = loadIrisModel();
      iris = await proveIris(prover, model, quantizeFeatures([5.1, 3.5, 1.4, 0.2]));
      spec = {
        name: "iris-basic",
        steps: [
          stepSpec([], { stepType: STEP_TYPE.inference, model: fieldToBytes32(irisModelHash(model)) }),
          stepSpec([0], { stepType: STEP_TYPE.dataProcessing }),
        ],
        maxExecutionTime: 3600n,
        maxBudget: 1_000n * AITBC,
        verification: VERIFICATION.basic,
      };
    });

    after(async function () {
      await prover.close();
    });

    async function committed(f: Fixture, outputHash: bigint) {
      await f.workflows.connect(f.owner).defineWorkflow(spec);
      const id = await running(f, 2n);
      const records = await diamondRecords(f, id, [
        {
          step: 0,
          signer: f.p1,
          cost: 10n * AITBC,
          inputHash: fieldToBytes32(iris.inputHash),
          outputHash: fieldToBytes32(outputHash),
        },
        { step: 1, signer: f.p2, cost: 5n * AITBC },
      ]);
      const tree = new RecordTree(records);
      await f.ledger.connect(f.keeper).commit([settlement(id, records)], tree.root);
      return { id, records, tree };
    }

    const output = () => ({
      inputHash: iris.inputHash,
      outputHash: iris.outputHash,
      leaf: iris.leaf,
      proof: iris.proof,
    });

    it("slashes the provider's stake through the registry and refunds the record's cost", async function () {
      const f = await loadLedger();
      const { id, records, tree } = await committed(f, iris.outputHash + 1n);
      const p1Id = await f.registry.agentIdOf(f.p1.address);
      const maxSlash = (await f.registry.summaryOf(p1Id)).maxSlash;
      const stakeBefore = (await f.registry.summaryOf(p1Id)).stake;
      const clientBefore = await f.token.balanceOf(f.owner.address);
      await expect(
        f.ledger
          .connect(f.challenger)
          .challengeOutput(recordArg(records[0] as LedgerRecord), tree.proof(0), spec, output()),
      )
        .to.emit(f.ledger, "ChallengeUpheld")
        .withArgs(id, 0n, 3n, f.p1.address, maxSlash, f.challenger.address, 10n * AITBC)
        .and.to.emit(f.registry, "Slashed");
      expect(stakeBefore - (await f.registry.summaryOf(p1Id)).stake).to.equal(maxSlash);
      expect((await f.token.balanceOf(f.owner.address)) - clientBefore).to.equal(10n * AITBC);
      await afterWindow();
      await expect(f.ledger.claim(f.p1.address, [claimOf(tree, 1n, f.p1.address)]))
        .to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerStepSettled")
        .withArgs(id, 0n);
    });

    it("a false challenge (the output is the proven one) costs the challenger its bond, to the provider", async function () {
      const f = await loadLedger();
      const { id, records, tree } = await committed(f, iris.outputHash);
      const p1Before = await f.token.balanceOf(f.p1.address);
      await expect(
        f.ledger
          .connect(f.challenger)
          .challengeOutput(recordArg(records[0] as LedgerRecord), tree.proof(0), spec, output()),
      )
        .to.emit(f.ledger, "ChallengeRejected")
        .withArgs(id, 0n, 3n, f.p1.address, f.challenger.address);
      expect((await f.token.balanceOf(f.p1.address)) - p1Before).to.equal(CHALLENGE_BOND);
    });

    it("refuses evidence that does not bear on the record: another spec, input, a non-provable step, a bad proof", async function () {
      const f = await loadLedger();
      const { records, tree } = await committed(f, iris.outputHash + 1n);
      const r0 = recordArg(records[0] as LedgerRecord);
      await expect(
        f.ledger.connect(f.challenger).challengeOutput(r0, tree.proof(0), { ...spec, name: "other" }, output()),
      ).to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerSpecMismatch");
      await expect(
        f.ledger
          .connect(f.challenger)
          .challengeOutput(r0, tree.proof(0), spec, { ...output(), inputHash: iris.inputHash + 1n }),
      ).to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerInputMismatch");
      await expect(
        f.ledger
          .connect(f.challenger)
          .challengeOutput(recordArg(records[1] as LedgerRecord), tree.proof(1), spec, output()),
      ).to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerStepNotProvable");
      await expect(
        f.ledger
          .connect(f.challenger)
          .challengeOutput(r0, tree.proof(0), spec, { ...output(), outputHash: iris.outputHash + 2n }),
      ).to.be.revertedWithCustomError(f.ledger, "WorkflowLedgerInvalidOutputProof");
      expect(toBeHex(await f.ledger.settledMask(records[0]?.executionId ?? 0n))).to.equal("0x00");
    });
  });
});
