/**
 * The receipt note mint circuit (circuits/src/receipt.circom, ReceiptNoteMint(16)) against its JS reference
 * (circuits/lib/receipt.ts): a receipt mints one note of 2^k units per set bit k of its units. Witnesses use the pipeline's compiled circuit (or a temporary compile); the one
 * Groth16 proof needs the pipeline's proving key (circuits/build/receipt/receipt.zkey) and is skipped without it.
 */
import { existsSync } from "node:fs";

import { expect } from "chai";

import { RECEIPT_NOTE_BITS, RECEIPT_TREE_DEPTH } from "../../circuits/circuits.js";
import { FIELD_MODULUS, poseidonHash } from "../../circuits/lib/field.js";
import {
  ReceiptTree,
  checkDenomination,
  checkReceipt,
  noteNullifier,
  noteUnits,
  receiptCommitment,
  receiptNoteProofInput,
  receiptNotes,
} from "../../circuits/lib/receipt.js";
import type { PrivateReceipt, ReceiptMintStatement } from "../../circuits/lib/receipt.js";
import { Prover, artifactsOf } from "../../circuits/lib/prover.js";
import { BN254_PRIME, CircuitUnderTest, prng, randomBelow, randomInt } from "../helpers/zk.js";

/** The field's prime, independent of circuits/lib/field.ts (checked against the compiled circuit below). */
const P = BN254_PRIME;
const PUBLIC_COUNT = 5;
const MAX_UNITS = (1n << 64n) - 1n;
const MAX_128 = (1n << 128n) - 1n;
const MAX_ADDRESS = (1n << 160n) - 1n;

/** The circuit's input signals (receiptNoteProofInput's input, typed). */
interface ReceiptInput {
  root: bigint;
  nullifier: bigint;
  recipient: bigint;
  rate: bigint;
  denomination: bigint;
  job: bigint;
  provider: bigint;
  units: bigint;
  price: bigint;
  resultHash: bigint;
  salt: bigint;
  pathElements: bigint[];
  pathIndices: number[];
}

interface Built {
  readonly statement: ReceiptMintStatement;
  readonly input: ReceiptInput;
}

const publicOf = (s: ReceiptMintStatement): bigint[] => [s.root, s.nullifier, s.recipient, s.rate, s.denomination];

/** The lowest set bit of `units` (its smallest note), 0 for units without one (0, or out of range). */
function lowestNote(units: bigint): number {
  for (let k = 0; k < RECEIPT_NOTE_BITS; k++) if ((units >> BigInt(k)) & 1n) return k;
  return 0;
}

function randomReceipt(rand: () => number): PrivateReceipt {
  return {
    job: randomBelow(rand, P),
    provider: randomBelow(rand, 1n << 160n),
    units: 1n + randomBelow(rand, MAX_UNITS),
    price: randomBelow(rand, 1n << 128n),
    resultHash: randomBelow(rand, P),
    salt: randomBelow(rand, P),
  };
}

/**
 * The circuit input for any field values, without the reference's range checks: `receipt`'s commitment (Poseidon
 * over the six fields) is appended to a tree holding `others`, and every public value is consistent with it (the
 * note `denomination`, by default the receipt's lowest, and its nullifier Poseidon(job, salt, denomination)). A
 * negative test built with it fails only on the constraint under test.
 */
function forgeInput(
  receipt: PrivateReceipt,
  others: readonly PrivateReceipt[],
  recipient: bigint,
  rate: bigint,
  denomination: bigint = BigInt(lowestNote(receipt.units)),
): Built {
  const tree = new ReceiptTree();
  for (const r of others) tree.insert(receiptCommitment(r));
  const { job, provider, units, price, resultHash, salt } = receipt;
  const index = tree.insert(poseidonHash([job, provider, units, price, resultHash, salt]));
  const statement = {
    root: tree.root,
    nullifier: poseidonHash([job, salt, denomination]),
    recipient,
    rate,
    denomination,
  };
  const { pathElements, pathIndices } = tree.path(index);
  return { statement, input: { ...statement, ...receipt, pathElements, pathIndices } };
}

describe("zk: receipt note mint circuit", function () {
  const rand = prng(2024);
  const receipts = Array.from({ length: 7 }, () => randomReceipt(rand));
  const tree = new ReceiptTree();
  for (const r of receipts) tree.insert(receiptCommitment(r));
  const recipient = randomBelow(rand, 1n << 160n);
  const rate = 1n + randomBelow(rand, MAX_128);
  const at = (index: number): PrivateReceipt => {
    const r = receipts[index];
    if (r === undefined) throw new Error(`no receipt ${index}`);
    return r;
  };
  /** The reference's input for leaf `index`'s note `denomination` (its lowest by default), typed and checked. */
  const reference = (index: number, denomination = lowestNote(at(index).units)): Built => {
    const r = at(index);
    const { statement, input } = receiptNoteProofInput(r, denomination, tree, recipient, rate);
    const typed: ReceiptInput = { ...statement, ...r, ...tree.path(index) };
    expect(typed).to.deep.equal(input);
    return { statement, input: typed };
  };
  /** The reference input of receipt 3 (a middle leaf): the base of the negative tests. */
  const base = () => reference(3);

  describe("JS reference", function () {
    it("each leaf's path folds to the tree's root (Poseidon(left, right), the index's bits choosing the side)", function () {
      expect(tree.size).to.equal(receipts.length);
      receipts.forEach((r, index) => {
        const { pathElements, pathIndices } = tree.path(index);
        expect(pathElements).to.have.length(RECEIPT_TREE_DEPTH);
        expect(pathIndices).to.deep.equal(
          Array.from({ length: RECEIPT_TREE_DEPTH }, (_, level) => Math.floor(index / 2 ** level) % 2),
        );
        const root = pathElements.reduce(
          (node, sibling, level) =>
            pathIndices[level] === 1 ? poseidonHash([sibling, node]) : poseidonHash([node, sibling]),
          receiptCommitment(r),
        );
        expect(root, `leaf ${index}`).to.equal(tree.root);
      });
      // The empty tree's root is the chain of zero subtrees.
      let zero = 0n;
      for (let level = 0; level < RECEIPT_TREE_DEPTH; level++) zero = poseidonHash([zero, zero]);
      expect(new ReceiptTree().root).to.equal(zero);
    });

    it("receiptNoteProofInput: commitment Poseidon(job, provider, units, price, resultHash, salt), note nullifier Poseidon(job, salt, denomination), one per note", function () {
      const r = at(6);
      const notes = receiptNotes(r.units);
      expect(notes.length).to.be.greaterThan(1);
      const nullifiers = new Set<bigint>();
      for (const k of notes) {
        const { statement, input } = receiptNoteProofInput(r, k, tree, recipient, rate);
        expect(receiptCommitment(r)).to.equal(
          poseidonHash([r.job, r.provider, r.units, r.price, r.resultHash, r.salt]),
        );
        expect(statement).to.deep.equal({
          root: tree.root,
          nullifier: poseidonHash([r.job, r.salt, BigInt(k)]),
          recipient,
          rate,
          denomination: BigInt(k),
        });
        expect(noteNullifier(r, k)).to.equal(statement.nullifier);
        nullifiers.add(statement.nullifier);
        expect(input).to.deep.equal({ ...statement, ...r, ...tree.path(6) });
        // The negative tests' forger builds the same input for a valid receipt.
        expect(forgeInput(r, receipts.slice(0, 6), recipient, rate, BigInt(k))).to.deep.equal(
          receiptNoteProofInput(r, k, tree, recipient, rate),
        );
      }
      expect(nullifiers.size, "one nullifier per note").to.equal(notes.length);
    });

    it("fuzz: receiptNotes splits 500 random unit counts (and 1, 2^63, 2^64 - 1) into distinct powers of two that add up to them", function () {
      const fuzz = prng(77);
      const samples = [
        1n,
        1n << 63n,
        MAX_UNITS,
        ...Array.from({ length: 500 }, () => 1n + randomBelow(fuzz, MAX_UNITS)),
      ];
      for (const units of samples) {
        const notes = receiptNotes(units);
        expect(
          notes.reduce((sum, k) => sum + noteUnits(k), 0n),
          `${units}`,
        ).to.equal(units);
        expect(new Set(notes).size).to.equal(notes.length);
        expect([...notes].sort((a, b) => a - b)).to.deep.equal(notes);
        for (const k of notes) expect(checkDenomination({ ...at(0), units }, k)).to.equal(k);
      }
      expect(receiptNotes(MAX_UNITS)).to.have.length(RECEIPT_NOTE_BITS);
      expect(receiptNotes(10n)).to.deep.equal([1, 3]);
    });

    it("receiptNotes / checkDenomination / noteNullifier / receiptNoteProofInput reject bad denominations and units, naming the field", function () {
      const r = { ...at(0), units: 10n };
      expect(() => receiptNotes(0n)).to.throw(/^units: must be at least 1/);
      expect(() => receiptNotes(1n << 64n)).to.throw(/^units: \d+ does not fit in 64 bits/);
      for (const k of [-1, 64, 1.5, Number.NaN]) {
        expect(() => checkDenomination(r, k)).to.throw(/^denomination: \S+ is not an integer in 0\.\.63/);
        expect(() => noteNullifier(r, k)).to.throw(/^denomination: /);
      }
      for (const k of [0, 2, 4, 63]) {
        const message = /^denomination: the receipt's 10 units hold no note of 2\^\d+ units \(its notes: 2\^1, 2\^3\)/;
        expect(() => checkDenomination(r, k)).to.throw(message);
        expect(() => noteNullifier(r, k)).to.throw(message);
      }
      const t = new ReceiptTree();
      t.insert(receiptCommitment(r));
      expect(() => receiptNoteProofInput(r, 2, t, recipient, rate)).to.throw(/^denomination: the receipt's 10 units/);
      expect(() => receiptNoteProofInput(r, 64, t, recipient, rate)).to.throw(/^denomination: 64 is not an integer/);
    });

    it("checkReceipt / receiptCommitment / receiptNoteProofInput reject out-of-range values, naming the field", function () {
      const r = at(0);
      const cases: [Partial<PrivateReceipt>, RegExp][] = [
        [{ units: 0n }, /^units: must be at least 1/],
        [{ units: 1n << 64n }, /^units: \d+ does not fit in 64 bits/],
        [{ units: -1n }, /^units: -1 is outside the field/],
        [{ price: 1n << 128n }, /^price: \d+ does not fit in 128 bits/],
        [{ provider: 1n << 160n }, /^provider: \d+ does not fit in 160 bits/],
      ];
      for (const [edit, message] of cases) {
        expect(() => checkReceipt({ ...r, ...edit })).to.throw(message);
        expect(() => receiptCommitment({ ...r, ...edit })).to.throw(message);
        expect(() => receiptNoteProofInput({ ...r, ...edit }, 0, tree, recipient, rate)).to.throw(message);
      }
      // The largest in-range values pass.
      const max = { ...r, units: MAX_UNITS, price: MAX_128, provider: MAX_ADDRESS, job: P - 1n, salt: P - 1n };
      expect(checkReceipt(max)).to.deep.equal(max);
    });

    it("receiptNoteProofInput rejects rate 0, rate >= 2^128, recipient >= 2^160, and a receipt whose commitment is not in the tree", function () {
      const r = at(1);
      const k = lowestNote(r.units);
      expect(() => receiptNoteProofInput(r, k, tree, recipient, 0n)).to.throw(/^rate: must be positive/);
      expect(() => receiptNoteProofInput(r, k, tree, recipient, 1n << 128n)).to.throw(
        /^rate: \d+ does not fit in 128 bits/,
      );
      expect(() => receiptNoteProofInput(r, k, tree, 1n << 160n, rate)).to.throw(
        /^recipient: \d+ does not fit in 160 bits/,
      );
      expect(() => receiptNoteProofInput({ ...r, salt: r.salt + 1n }, k, tree, recipient, rate)).to.throw(
        /^receipt: its commitment is not in the tree/,
      );
    });

    it("checkReceipt / receiptNoteProofInput / ReceiptTree reject values >= p (BN254's r, r + 1), naming the field", function () {
      const r = at(2);
      const cases: [Partial<PrivateReceipt>, RegExp][] = [
        [{ job: P }, /^job: \d+ is outside the field/],
        [{ resultHash: P + 1n }, /^resultHash: \d+ is outside the field/],
        [{ salt: P }, /^salt: \d+ is outside the field/],
      ];
      for (const [edit, message] of cases) {
        expect(() => checkReceipt({ ...r, ...edit })).to.throw(message);
        expect(() => receiptNoteProofInput({ ...r, ...edit }, 0, tree, recipient, rate)).to.throw(message);
      }
      const k = lowestNote(r.units);
      expect(() => receiptNoteProofInput(r, k, tree, recipient, P + 1n)).to.throw(/^rate: \d+ is outside the field/);
      expect(() => receiptNoteProofInput(r, k, tree, P, rate)).to.throw(/^recipient: \d+ is outside the field/);
      expect(() => new ReceiptTree().insert(P)).to.throw(/^commitment: \d+ is outside the field/);
    });

    it("ReceiptTree refuses a duplicate commitment, leaving the tree unchanged, and insertReceipt a second commitment to a job", function () {
      const t = new ReceiptTree();
      const c = receiptCommitment(at(0));
      expect(t.insert(c)).to.equal(0);
      const root = t.root;
      expect(() => t.insert(c)).to.throw(/^commitment: already in the tree/);
      // insertReceipt: one commitment per job, whatever the salt (each salt would give another nullifier).
      const byJob = new ReceiptTree();
      const first = at(0);
      expect(byJob.insertReceipt(first)).to.equal(0);
      expect(() => byJob.insertReceipt({ ...first, salt: first.salt + 1n })).to.throw(
        /^job: \d+ already has a commitment/,
      );
      expect(byJob.size).to.equal(1);
      expect(t.size).to.equal(1);
      expect(t.root).to.equal(root);
      expect(() => t.path(1)).to.throw(/^index: no leaf 1/);
    });
  });

  describe("circuit", function () {
    let circuit: CircuitUnderTest | undefined;
    const prover = new Prover();

    before(function () {
      this.timeout(120_000);
      circuit = CircuitUnderTest.open("receipt");
    });

    after(async function () {
      await prover.close();
      circuit?.close();
    });

    const c = (): CircuitUnderTest => {
      if (circuit === undefined) throw new Error("circuit not loaded");
      return circuit;
    };
    const witness = (input: ReceiptInput) => c().witness(input, PUBLIC_COUNT);
    const expectNoWitness = (input: ReceiptInput, constraint: string) => c().expectNoWitness(input, constraint);

    it("works in BN254's scalar field, and FIELD_MODULUS (circuits/lib/field.ts) is that prime", async function () {
      expect(await c().prime(base().input)).to.equal(BN254_PRIME);
      expect(FIELD_MODULUS).to.equal(BN254_PRIME);
    });

    it("random receipts at leaves 0, 3 and 6 (first, middle, last of 7): the reference's input for their notes has a witness with public signals [root, nullifier, recipient, rate, denomination]", async function () {
      for (const index of [0, 3, 6]) {
        const notes = receiptNotes(at(index).units);
        // every note of the middle leaf; the smallest and the largest of the others
        for (const k of index === 3 ? notes : [notes[0] ?? 0, notes[notes.length - 1] ?? 0]) {
          const { statement, input } = receiptNoteProofInput(at(index), k, tree, recipient, rate);
          expect(await c().witness(input, PUBLIC_COUNT), `leaf ${index}, note ${k}`).to.deep.equal(publicOf(statement));
        }
      }
      // A receipt alone in its own tree, with a random recipient and rate.
      const lone = new ReceiptTree();
      const r = randomReceipt(rand);
      lone.insert(receiptCommitment(r));
      const other = receiptNoteProofInput(
        r,
        lowestNote(r.units),
        lone,
        randomBelow(rand, 1n << 160n),
        BigInt(randomInt(rand, 1, 1000)),
      );
      expect(await c().witness(other.input, PUBLIC_COUNT)).to.deep.equal(publicOf(other.statement));
    });

    it("the largest in-range values (units 2^64 - 1, price and rate 2^128 - 1, provider and recipient 2^160 - 1) have a witness for notes 2^0 and 2^63", async function () {
      const r = { ...at(2), units: MAX_UNITS, price: MAX_128, provider: MAX_ADDRESS };
      for (const k of [0n, 63n]) {
        const { statement, input } = forgeInput(r, receipts, MAX_ADDRESS, MAX_128, k);
        expect(await witness(input), `note ${k}`).to.deep.equal(publicOf(statement));
      }
    });

    it("no witness for a wrong root (+1, and the root of a tree without the receipt)", async function () {
      const { input } = base();
      await expectNoWitness({ ...input, root: input.root + 1n }, "root === nodes[depth];");
      const without = new ReceiptTree();
      for (const r of receipts.slice(0, 3)) without.insert(receiptCommitment(r));
      await expectNoWitness({ ...input, root: without.root }, "root === nodes[depth];");
    });

    it("no witness for a wrong nullifier: another salt or job, another note's, the whole receipt's Poseidon(job, salt), +1", async function () {
      const { input } = base();
      const r = at(3);
      const [k, other] = receiptNotes(r.units);
      if (k === undefined || other === undefined) throw new Error("receipt 3 needs two notes");
      for (const nullifier of [
        poseidonHash([r.job, r.salt + 1n, BigInt(k)]),
        poseidonHash([r.job + 1n, r.salt, BigInt(k)]),
        noteNullifier(r, other),
        poseidonHash([r.job, r.salt]),
        input.nullifier + 1n,
      ]) {
        await expectNoWitness({ ...input, nullifier }, "nullifier === expectedNullifier;");
      }
    });

    it("no witness for a note the receipt does not hold (units 10: 2^0, 2^2, 2^4, 2^63), nullifier and tree consistent: no over-mint", async function () {
      const r = { ...at(4), units: 10n };
      for (const k of [0n, 2n, 4n, 63n]) {
        await expectNoWitness(forgeInput(r, receipts.slice(0, 4), recipient, rate, k).input, "held === 1;");
      }
      for (const k of [1n, 3n]) {
        const held = forgeInput(r, receipts.slice(0, 4), recipient, rate, k);
        expect(await witness(held.input), `note ${k}`).to.deep.equal(publicOf(held.statement));
      }
    });

    it("no witness for a denomination outside 0..63 (64, 2^64, p - 1), nullifier and tree consistent", async function () {
      const r = { ...at(4), units: MAX_UNITS };
      for (const k of [64n, 1n << 64n, P - 1n]) {
        await expectNoWitness(forgeInput(r, receipts.slice(0, 4), recipient, rate, k).input, "selectors === 1;");
      }
    });

    it("no witness for units = 0, even with a tree and nullifier consistent with it", async function () {
      const { input } = forgeInput({ ...at(4), units: 0n }, receipts.slice(0, 4), recipient, rate, 0n);
      await expectNoWitness(input, "held === 1;");
    });

    it("fuzz: 24 random (units, denomination) pairs have a witness exactly when the denomination is a set bit of the units", async function () {
      const fuzz = prng(4096);
      let held = 0;
      for (let i = 0; i < 24; i++) {
        // few set bits, so that both outcomes come up
        const units = (1n << BigInt(randomInt(fuzz, 0, 63))) | (1n << BigInt(randomInt(fuzz, 0, 63)));
        const k = BigInt(randomInt(fuzz, 0, 63));
        const built = forgeInput({ ...at(5), units }, receipts.slice(0, 2), recipient, rate, k);
        if (((units >> k) & 1n) === 1n) {
          held++;
          expect(await witness(built.input), `units ${units}, note ${k}`).to.deep.equal(publicOf(built.statement));
        } else {
          await expectNoWitness(built.input, "held === 1;");
        }
      }
      expect(held, "some pairs hold their note").to.be.greaterThan(0);
      expect(held, "some pairs do not").to.be.lessThan(24);
    });

    it("no witness for units, price, rate, provider or recipient one past its range (2^64, 2^128, 2^128, 2^160, 2^160) or at p - 1, with everything else consistent", async function () {
      const r = at(4);
      const others = [at(0), at(1), at(2)]; // the tree's other leaves (the forged leaf is index 3)
      const cases: [string, (value: bigint) => Built, bigint][] = [
        ["Num2Bits(64)(units)", (v) => forgeInput({ ...r, units: v }, others, recipient, rate), 1n << 64n],
        ["Num2Bits(128)(price)", (v) => forgeInput({ ...r, price: v }, others, recipient, rate), 1n << 128n],
        ["Num2Bits(128)(rate)", (v) => forgeInput(r, others, recipient, v), 1n << 128n],
        ["Num2Bits(160)(provider)", (v) => forgeInput({ ...r, provider: v }, others, recipient, rate), 1n << 160n],
        ["Num2Bits(160)(recipient)", (v) => forgeInput(r, others, v, rate), 1n << 160n],
      ];
      for (const [constraint, forge, bound] of cases) {
        await expectNoWitness(forge(bound).input, constraint);
        // p - 1 is -1 in the field: a units x rate product would wrap around.
        await expectNoWitness(forge(P - 1n).input, constraint);
        const control = forge(bound - 1n);
        expect(await witness(control.input), `${constraint} at bound - 1`).to.deep.equal(publicOf(control.statement));
      }
    });

    it("no witness for a path index of 2 (non-boolean), at the first and the last level", async function () {
      const { input } = base();
      for (const level of [0, RECEIPT_TREE_DEPTH - 1]) {
        const pathIndices = input.pathIndices.map((b, i) => (i === level ? 2 : b));
        await expectNoWitness({ ...input, pathIndices }, "isRight * (1 - isRight) === 0;");
      }
    });

    it("no witness with a sibling changed (levels 0, 7, 15), or a flipped path index", async function () {
      const { input } = base();
      for (const level of [0, 7, RECEIPT_TREE_DEPTH - 1]) {
        const pathElements = input.pathElements.map((s, i) => (i === level ? s + 1n : s));
        await expectNoWitness({ ...input, pathElements }, "root === nodes[depth];");
      }
      const pathIndices = input.pathIndices.map((b, i) => (i === 0 ? 1 - b : b));
      await expectNoWitness({ ...input, pathIndices }, "root === nodes[depth];");
    });

    it("no witness for a commitment not in the tree: another salt (nullifier consistent), other units holding the note, price +1", async function () {
      const { input } = base();
      const r = at(3);
      const salt = r.salt + 1n;
      const k = Number(input.denomination);
      await expectNoWitness({ ...input, salt, nullifier: noteNullifier({ ...r, salt }, k) }, "root === nodes[depth];");
      // other units that still hold note k (another bit flipped)
      const units = r.units ^ noteUnits(k === 63 ? 62 : k + 1);
      await expectNoWitness({ ...input, units }, "root === nodes[depth];");
      await expectNoWitness({ ...input, price: r.price + 1n }, "root === nodes[depth];");
      // Another receipt's path.
      await expectNoWitness({ ...input, ...tree.path(4) }, "root === nodes[depth];");
    });

    it("one Groth16 proof verifies with exactly the reference's public signals, and not with a tampered signal or a signal + p", async function () {
      if (!existsSync(artifactsOf("receipt").zkey)) this.skip();
      const { statement, input } = receiptNoteProofInput(at(6), lowestNote(at(6).units), tree, recipient, rate);
      const { proof, publicSignals } = await prover.prove("receipt", input);
      expect(publicSignals).to.deep.equal(publicOf(statement));
      expect(await prover.verify("receipt", proof, publicSignals)).to.equal(true);
      for (let i = 0; i < PUBLIC_COUNT; i++) {
        for (const delta of [1n, P]) {
          const tampered = publicSignals.map((s, j) => (j === i ? s + delta : s));
          expect(await prover.verify("receipt", proof, tampered), `signal ${i} + ${delta}`).to.equal(false);
        }
      }
      // Another receipt's statement (same root and recipient), and this receipt's other note, do not verify with it.
      const other = reference(0).statement;
      expect(await prover.verify("receipt", proof, publicOf(other))).to.equal(false);
      const [, second] = receiptNotes(at(6).units);
      if (second === undefined) throw new Error("receipt 6 needs two notes");
      expect(await prover.verify("receipt", proof, publicOf(reference(6, second).statement))).to.equal(false);
    });
  });
});
