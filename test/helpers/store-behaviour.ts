/**
 * The keeper's store (keepers/common/store.ts), the same on SQLite (test/keepers/common/store.test.ts) and on
 * PostgreSQL (test/e2e/keeper-replicas.test.ts): executions and steps (bigints, JSON), open executions,
 * dropping and forgetting steps, transactions (one live transaction per key, retiring frees it), duties, inputs,
 * flags, a reopened database that keeps everything.
 */
import type { Hex } from "viem";
import { expect } from "chai";

import type { Json } from "../../protocol/values.js";
import { Store, type GrantRow, type StepRow, type TxRow } from "../../keepers/common/store.js";

const BIG = 2n ** 200n + 7n; // beyond 2^64: stored as text, read back exactly
const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

function execution(executionId: bigint, state: "claimed" | "running" | "done" | "failed" = "claimed") {
  return { executionId, workflowId: BIG, level: 2, inputsHash: hash(1), state };
}

function step(executionId: bigint, index: number, result: Json): Omit<StepRow, "updatedAt"> {
  return {
    executionId,
    step: index,
    state: "done",
    attempts: 2,
    provider: `0x${"ab".repeat(20)}`,
    result,
    providerMillis: 12,
    totalMillis: 30,
  };
}

function tx(
  key: string,
  n: number,
  state: TxRow["state"] = "sent",
): Omit<TxRow, "createdAt" | "updatedAt" | "blockNumber" | "gasUsed"> {
  return { key, hash: hash(1000 + n), nonce: n, raw: `0x${"f".repeat(n + 1)}`, state };
}

/** A database the behaviour runs on: a fresh, empty one per test. */
export interface StoreBackend {
  name: string;
  /** The location of a new empty database (a SQLite file, a postgres:// URL). */
  fresh(): Promise<string>;
  /** Removes what `fresh` made, after the test closed its store. */
  cleanup?(): Promise<void>;
  /** What the database says when a second live transaction takes a key. */
  uniqueKeyError: RegExp;
}

/** The store's behaviour, the same on every database (keepers/common/store-sql.ts). */
export function shouldBehaveLikeAStore(backend: StoreBackend): void {
  describe(`keepers: Store on ${backend.name}`, function () {
    let location: string;
    let store: Store;

    beforeEach(async function () {
      location = await backend.fresh();
      store = new Store(location);
    });
    afterEach(async function () {
      store.close();
      await backend.cleanup?.();
    });

    describe("executions and steps", function () {
      it("round-trips an execution (bigint ids) and keeps the first insert", function () {
        const before = Date.now();
        const row = store.addExecution(execution(BIG));
        expect(row).to.deep.include({ ...execution(BIG), reason: null });
        expect(row.createdAt).to.be.within(before, Date.now());
        expect(row.updatedAt).to.equal(row.createdAt);
        expect(store.addExecution({ ...execution(BIG, "running"), level: 0 })).to.deep.equal(row);
        expect(store.execution(BIG)).to.deep.equal(row);
        expect(store.execution(BIG + 1n)).to.equal(undefined);

        store.setExecutionState(BIG, "failed", "step 2: budget exhausted");
        expect(store.execution(BIG)).to.deep.include({ state: "failed", reason: "step 2: budget exhausted" });
        store.setExecutionState(BIG, "running");
        expect(store.execution(BIG)?.reason).to.equal(null);
      });

      it("lists open executions (not done nor failed) oldest first, and executions by state", async function () {
        store.addExecution(execution(3n, "running"));
        await new Promise((r) => setTimeout(r, 3));
        store.addExecution(execution(1n, "done"));
        store.addExecution(execution(2n, "failed"));
        await new Promise((r) => setTimeout(r, 3));
        store.addExecution(execution(4n, "claimed"));
        expect(store.openExecutions().map((e) => e.executionId)).to.deep.equal([3n, 4n]);
        store.setExecutionState(3n, "done");
        expect(store.openExecutions().map((e) => e.executionId)).to.deep.equal([4n]);
        expect(store.executionsIn("done").map((e) => e.executionId)).to.deep.equal([3n, 1n]);
        expect(store.executionsIn("recording")).to.deep.equal([]);
      });

      it("round-trips steps (JSON results), overwrites a step, forgets steps and drops an execution", function () {
        store.addExecution(execution(7n));
        store.addExecution(execution(8n));
        const answer: Json = { output: { scores: ["-1", "2"], nested: [null, true, 1.5] }, record: { cost: "10" } };
        store.saveStep(step(7n, 2, answer));
        store.saveStep(step(7n, 0, "first"));
        store.saveStep({ ...step(7n, 1, "step 1: failed"), state: "failed", provider: null, attempts: 3 });
        store.saveStep(step(8n, 0, 42));
        const steps = store.steps(7n);
        expect(steps.map((s) => ({ ...s, updatedAt: 0 }))).to.deep.equal([
          { ...step(7n, 0, "first"), updatedAt: 0 },
          { ...step(7n, 1, "step 1: failed"), state: "failed", provider: null, attempts: 3, updatedAt: 0 },
          { ...step(7n, 2, answer), updatedAt: 0 },
        ]);
        store.saveStep({ ...step(7n, 1, { ok: 1 }), attempts: 4 });
        expect(store.steps(7n)[1]).to.deep.include({ state: "done", attempts: 4, result: { ok: 1 } });

        store.deleteSteps(7n, [0, 2, 5]);
        expect(store.steps(7n).map((s) => s.step)).to.deep.equal([1]);

        store.dropExecution(7n);
        expect(store.execution(7n)).to.equal(undefined);
        expect(store.steps(7n)).to.deep.equal([]);
        expect(store.steps(8n).map((s) => s.result)).to.deep.equal([42]); // others untouched
        expect(store.execution(8n)?.executionId).to.equal(8n);
      });

      it("rolls back a transaction that throws", function () {
        expect(() =>
          store.transaction(() => {
            store.addExecution(execution(5n));
            throw new Error("abort");
          }),
        ).to.throw("abort");
        expect(store.execution(5n)).to.equal(undefined);
        expect(store.transaction(() => store.addExecution(execution(5n)).executionId)).to.equal(5n);
      });
    });

    describe("transactions", function () {
      it("keeps one live transaction per key; retiring frees the key and revive puts it back", function () {
        store.addTx(tx("claim:7", 0));
        expect(() => {
          store.addTx(tx("claim:7", 1));
        }).to.throw(backend.uniqueKeyError);
        const stored = store.tx("claim:7");
        expect(stored).to.deep.include({ ...tx("claim:7", 0), blockNumber: null, gasUsed: null });

        store.retireTx(hash(1000));
        expect(store.tx("claim:7")).to.equal(undefined);
        expect(store.allTxs()[0]).to.deep.include({ key: `claim:7#retired:${hash(1000)}`, state: "dropped" });
        store.addTx(tx("claim:7", 1)); // the key is free again
        expect(store.tx("claim:7")?.hash).to.equal(hash(1001));

        expect(store.reviveTx(hash(1000), "claim:7-again")).to.equal(true);
        expect(store.tx("claim:7-again")).to.deep.include({ hash: hash(1000), state: "signed" });
        expect(store.reviveTx(hash(1001), "x")).to.equal(false); // not a retired one
        expect(store.reviveTx(hash(9999), "y")).to.equal(false);
      });

      it("updates, lists by state (by nonce) and finds mined ones from a block", function () {
        store.addTx(tx("c", 2));
        store.addTx(tx("a", 0, "signed"));
        store.addTx(tx("b", 1));
        store.addTx(tx("d", 3));
        store.updateTx(hash(1001), "mined", { blockNumber: 20n, gasUsed: BIG });
        store.updateTx(hash(1003), "reverted", { blockNumber: 10n, gasUsed: 50_000n });
        expect(store.tx("b")).to.deep.include({ state: "mined", blockNumber: 20n, gasUsed: BIG });
        expect(store.txsIn("sent").map((t) => t.key)).to.deep.equal(["c"]);
        expect(store.txsIn("signed", "sent").map((t) => t.key)).to.deep.equal(["a", "c"]);
        expect(store.txsIn("mined", "reverted").map((t) => t.nonce)).to.deep.equal([1, 3]);
        expect(store.maxTxNonce("signed", "sent")).to.equal(2);
        expect(store.maxTxNonce("dropped")).to.equal(undefined);
        expect(store.txsMinedFrom(21n).map((t) => t.key)).to.deep.equal([]);
        expect(store.txsMinedFrom(11n).map((t) => t.key)).to.deep.equal(["b"]);
        expect(store.txsMinedFrom(10n).map((t) => t.key)).to.deep.equal(["b", "d"]);
      });
    });

    describe("duties, inputs and flags", function () {
      it("returns the duties due by a time, earliest first; re-adding moves one; removing forgets it", function () {
        store.addDuty("expire", 1n, 300);
        store.addDuty("finalize", BIG, 100);
        store.addDuty("expire", 2n, 200);
        expect(store.dueDuties(250)).to.deep.equal([
          { kind: "finalize", id: BIG, dueAt: 100 },
          { kind: "expire", id: 2n, dueAt: 200 },
        ]);
        store.addDuty("expire", 2n, 400);
        expect(store.dueDuties(300).map((d) => [d.kind, d.id])).to.deep.equal([
          ["finalize", BIG],
          ["expire", 1n],
        ]);
        store.removeDuty("finalize", BIG);
        store.removeDuty("expire", 9n);
        expect(store.dueDuties(1000).map((d) => d.id)).to.deep.equal([1n, 2n]);
      });

      it("stores inputs by hash (case-insensitive, first write wins) with their signers, and flags", function () {
        const h: Hex = `0x${"AB".repeat(32)}`;
        const client: Hex = `0x${"C1".repeat(20)}`;
        const other: Hex = `0x${"0e".repeat(20)}`;
        store.putInputs(h, { cm: [5.1, 3.5, 1.4, 0.2] }, other);
        store.putInputs(h.toLowerCase() as Hex, { cm: [] }, client);
        expect(store.inputsFrom(h.toLowerCase() as Hex, client)).to.deep.equal({ cm: [5.1, 3.5, 1.4, 0.2] });
        expect(store.inputsFrom(h, other.toUpperCase().replace("0X", "0x") as Hex)).to.deep.equal({
          cm: [5.1, 3.5, 1.4, 0.2],
        });
        expect(store.inputSigners(h)).to.deep.equal([other, client.toLowerCase()]);
        expect(store.inputsFrom(h, `0x${"99".repeat(20)}`), "not a signer").to.equal(undefined);
        expect(store.inputsFrom(hash(5), client)).to.equal(undefined);
        expect(store.inputSigners(hash(5))).to.deep.equal([]);

        expect(store.flag("safe-mode")).to.equal(undefined);
        store.setFlag("safe-mode", "on");
        store.setFlag("safe-mode", "since 12:00");
        expect(store.flag("safe-mode")).to.equal("since 12:00");
        store.setFlag("safe-mode", undefined);
        expect(store.flag("safe-mode")).to.equal(undefined);
      });

      it("keeps grants per (execution, reader, signer, issuedAt) with the later expiry; dropping the execution drops them", function () {
        const reader: Hex = `0x${"Ab".repeat(20)}`;
        const client: Hex = `0x${"c1".repeat(20)}`;
        const grant = (expiry: number, signer = client): GrantRow => ({
          executionId: BIG,
          reader,
          signer,
          expiry,
          issuedAt: 1_000,
          signature: `0x${expiry.toString(16).padStart(130, "0")}`,
        });
        store.addGrant(grant(500));
        store.addGrant(grant(300));
        store.addGrant(grant(400, `0x${"0e".repeat(20)}`));
        expect(store.grants(BIG, reader, 0).map((g) => [g.signer, g.expiry])).to.deep.equal([
          [client, 500],
          [`0x${"0e".repeat(20)}`, 400],
        ]);
        expect(store.grants(BIG, reader, 0)[0]?.signature).to.equal(grant(500).signature);
        expect(store.grants(BIG, reader, 450).map((g) => g.expiry)).to.deep.equal([500]);
        expect(store.grants(BIG, reader, 500)).to.deep.equal([]);
        expect(store.grants(BIG + 1n, reader, 0)).to.deep.equal([]);
        expect(store.grants(BIG, client, 0)).to.deep.equal([]);
        store.addExecution(execution(BIG, "running"));
        store.dropExecution(BIG);
        expect(store.grants(BIG, reader, 0)).to.deep.equal([]);
      });

      it("a revocation voids its signer's grants issued until its issuedAt, at once and for good; later grants hold", function () {
        const reader: Hex = `0x${"ab".repeat(20)}`;
        const client: Hex = `0x${"c1".repeat(20)}`;
        const other: Hex = `0x${"0e".repeat(20)}`;
        const grant = (issuedAt: number, signer = client): GrantRow => ({
          executionId: BIG,
          reader,
          signer,
          expiry: 900,
          issuedAt,
          signature: `0x${issuedAt.toString(16).padStart(130, "0")}`,
        });
        const revoke = (issuedAt: number, signer = client) =>
          store.addRevocation({ executionId: BIG, reader, signer, issuedAt, signature: `0x${"05".repeat(65)}` });
        const issued = () => store.grants(BIG, reader, 0).map((g) => [g.signer, g.issuedAt]);
        expect([
          store.addGrant(grant(100)),
          store.addGrant(grant(200)),
          store.addGrant(grant(150, other)),
        ]).to.deep.equal([true, true, true]);
        expect(store.revokedThrough(BIG, reader, client)).to.equal(undefined);
        expect(revoke(200)).to.equal(200);
        // The client's grants up to 200 are void (200 included); another signer's are its own affair.
        expect(issued()).to.deep.equal([[other, 150]]);
        expect(store.revokedThrough(BIG, reader, client)).to.equal(200);
        // The old grants posted again stay void (nothing stored); an older revocation changes nothing.
        expect([store.addGrant(grant(100)), store.addGrant(grant(200))]).to.deep.equal([false, false]);
        expect(revoke(50)).to.equal(200);
        expect(issued()).to.deep.equal([[other, 150]]);
        // A grant issued after the revocation holds, until a later revocation.
        expect(store.addGrant(grant(201))).to.equal(true);
        expect(issued()).to.deep.equal([
          [client, 201],
          [other, 150],
        ]);
        expect(revoke(300)).to.equal(300);
        expect(issued()).to.deep.equal([[other, 150]]);
        // Another reader or execution is untouched; dropping the execution forgets the revocations.
        expect(store.revokedThrough(BIG + 1n, reader, client)).to.equal(undefined);
        expect(store.revokedThrough(BIG, client, client)).to.equal(undefined);
        store.dropExecution(BIG);
        expect(store.revokedThrough(BIG, reader, client)).to.equal(undefined);
      });
    });

    it("keeps everything in a reopened database", function () {
      store.addExecution(execution(BIG, "running"));
      store.saveStep(step(BIG, 0, { v: [1, "2"] }));
      store.addTx(tx("record:7:0-3", 4));
      store.updateTx(hash(1004), "mined", { blockNumber: 99n, gasUsed: 1n });
      store.addDuty("expire", BIG, 5);
      store.putInputs(hash(1), { a: null }, `0x${"c1".repeat(20)}`);
      store.addGrant({
        executionId: BIG,
        reader: `0x${"ab".repeat(20)}`,
        signer: `0x${"c1".repeat(20)}`,
        expiry: 9,
        issuedAt: 1,
        signature: "0x01",
      });
      store.addRevocation({
        executionId: BIG,
        reader: `0x${"cd".repeat(20)}`,
        signer: `0x${"c1".repeat(20)}`,
        issuedAt: 7,
        signature: "0x02",
      });
      store.setFlag("safe-mode", "on");
      store.setCheckpoint("workflows", BIG);
      store.recordAction({ actionType: 9, value: BIG, at: 1234 });
      store.addReport({ provider: `0x${"cd".repeat(20)}`, executionId: BIG, step: 3, reason: "bad", evidence: [1] });
      const snapshot = () => ({
        execution: store.execution(BIG),
        steps: store.steps(BIG),
        txs: store.allTxs(),
        duties: store.dueDuties(10),
        inputs: store.inputsFrom(hash(1), `0x${"c1".repeat(20)}`),
        signers: store.inputSigners(hash(1)),
        grants: store.grants(BIG, `0x${"ab".repeat(20)}`, 0),
        revoked: store.revokedThrough(BIG, `0x${"cd".repeat(20)}`, `0x${"c1".repeat(20)}`),
        flag: store.flag("safe-mode"),
        checkpoint: store.checkpoint("workflows"),
        actions: store.actionsSince(0),
        reports: store.reports(),
      });
      const saved = snapshot();
      store.close();
      store = new Store(location);
      expect(snapshot()).to.deep.equal(saved);
      expect(saved.execution?.state).to.equal("running");
      expect(saved.txs[0]?.blockNumber).to.equal(99n);
      expect(saved.checkpoint).to.equal(BIG);
      expect(saved.inputs).to.deep.equal({ a: null });
      expect(saved.grants.map((g) => g.expiry)).to.deep.equal([9]);
    });
  });
}
