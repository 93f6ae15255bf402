/**
 * The workflow chunk circuit (circuits/src/workflow.circom, WorkflowChunk(32, 64, 2)) against its JS reference
 * (circuits/lib/workflow.ts). Witnesses use the pipeline's compiled circuit (or a temporary compile); the one
 * Groth16 proof needs the pipeline's proving key (circuits/build/workflow/workflow.zkey) and is skipped without it.
 */
import { existsSync } from "node:fs";

import { expect } from "chai";

import { WORKFLOW_CHUNK, WORKFLOW_MAX_DEPS, WORKFLOW_MAX_STEPS } from "../../circuits/circuits.js";
import { poseidonHash, poseidonMany } from "../../circuits/lib/field.js";
import { Prover, artifactsOf } from "../../circuits/lib/prover.js";
import {
  DEPS_WORDS,
  SLOT_BITS,
  STEPS_PER_DEPS_WORD,
  buildTranscript,
  checkProvenDeps,
  chunkCount,
  chunkProofInput,
  chunkPublicSignals,
  packDeps,
  stepLeaf,
} from "../../circuits/lib/workflow.js";
import type { ChunkStatement, Transcript } from "../../circuits/lib/workflow.js";
import { BN254_PRIME, CircuitUnderTest, prng, randomBelow, randomInt } from "../helpers/zk.js";

const P = BN254_PRIME;
const PUBLIC_COUNT = 5 + DEPS_WORDS + WORKFLOW_CHUNK;
/** The leaf constraint: every DAG / transcript violation ends here. */
const LEAF = "leaves[l] === active[l] * leafHash[l];";

/** The circuit's input signals (chunkProofInput's input, typed). */
interface ChunkInput {
  outputsRoot: bigint;
  inputsHash: bigint;
  start: number;
  stepCount: number;
  resultHash: bigint;
  deps: bigint[];
  leaves: bigint[];
  outs: bigint[];
}

interface Built {
  readonly statement: ChunkStatement;
  readonly input: ChunkInput;
}

/** n steps, step i with `count(i)` distinct earlier dependencies (ascending), chosen at random. */
function randomDeps(rand: () => number, n: number, count: (i: number) => number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const pool = Array.from({ length: i }, (_, j) => j);
    const k = count(i);
    for (let m = 0; m < k; m++) {
      const j = randomInt(rand, m, i - 1);
      [pool[m], pool[j]] = [pool[j] ?? 0, pool[m] ?? 0];
    }
    return pool.slice(0, k).sort((a, b) => a - b);
  });
}

const anyCount = (rand: () => number) => (i: number) => randomInt(rand, 0, Math.min(WORKFLOW_MAX_DEPS, i));
const fullCount = (i: number) => Math.min(WORKFLOW_MAX_DEPS, i);

/** A transcript of `deps` with random inputsHash and output hashes. */
function randomTranscript(rand: () => number, deps: readonly (readonly number[])[]): Transcript {
  return buildTranscript(
    randomBelow(rand, P),
    deps.map((d) => ({ deps: d, outputHash: randomBelow(rand, P) })),
  );
}

/** The slots of a chunk's packed deps words, read back bit by bit: per step, its dependencies. */
function unpackDeps(words: readonly bigint[]): number[][] {
  return Array.from({ length: WORKFLOW_CHUNK }, (_, l) => {
    const word = words[Math.floor(l / STEPS_PER_DEPS_WORD)] ?? 0n;
    const list: number[] = [];
    for (let s = 0; s < WORKFLOW_MAX_DEPS; s++) {
      const slot = Number((word >> BigInt(((l % STEPS_PER_DEPS_WORD) * WORKFLOW_MAX_DEPS + s) * SLOT_BITS)) & 127n);
      if (slot !== 0) list.push(slot - 1);
    }
    return list;
  });
}

/** A copy of `words` with step l's slot s set to `value`. */
function withSlot(words: readonly bigint[], l: number, s: number, value: number): bigint[] {
  const w = Math.floor(l / STEPS_PER_DEPS_WORD);
  const bit = BigInt(((l % STEPS_PER_DEPS_WORD) * WORKFLOW_MAX_DEPS + s) * SLOT_BITS);
  return words.map((word, i) => (i === w ? (word & ~(127n << bit)) | (BigInt(value) << bit) : word));
}

describe("zk: workflow chunk circuit", function () {
  const rand = prng(4242);
  const out = (t: Transcript, step: number): bigint => t.steps[step]?.outputHash ?? 0n;
  /** The leaf of `step` read from `depOutputs` (the honest ones give the reference's leaf). */
  const leafOf = (t: Transcript, step: number, depOutputs: readonly bigint[], inputsHash = t.inputsHash) =>
    stepLeaf(inputsHash, depOutputs, out(t, step));

  /** chunkProofInput, typed (checked equal to the reference's input). */
  const reference = (t: Transcript, chunk: number): Built => {
    const { statement, input } = chunkProofInput(t, chunk);
    const outs = Array.from({ length: WORKFLOW_MAX_STEPS }, (_, i) => out(t, i));
    const typed: ChunkInput = { ...statement, deps: [...statement.deps], leaves: [...statement.leaves], outs };
    expect(typed).to.deep.equal(input);
    return { statement, input: typed };
  };
  const withLeaf = (input: ChunkInput, l: number, leaf: bigint): ChunkInput => ({
    ...input,
    leaves: input.leaves.map((v, i) => (i === l ? leaf : v)),
  });

  // A diamond (0 -> 1, 2 -> 3) with a parallel branch from a second root (4 -> 5), joined by step 6.
  const diamond = randomTranscript(rand, [[], [0], [0], [1, 2], [], [4], [3, 5]]);
  const random = [1, 9, 31, 32, 33, 47, 64].map((n) => randomTranscript(rand, randomDeps(rand, n, anyCount(rand))));
  /** 64 steps, every step with as many dependencies as it can have (2 from step 2 on). */
  const dense = randomTranscript(rand, randomDeps(rand, WORKFLOW_MAX_STEPS, fullCount));
  /**
   * The negative tests' base: 40 steps; step 10 depends on [5, 9], step 20 on [7] alone, step 36 on [3, 33] (across
   * chunks).
   */
  const baseDeps = randomDeps(rand, 40, anyCount(rand));
  baseDeps[10] = [5, 9];
  baseDeps[20] = [7];
  baseDeps[36] = [3, 33];
  const base = randomTranscript(rand, baseDeps);

  describe("JS reference", function () {
    it("buildTranscript: leaf = Poseidon(x_0, x_1, out), x_k the k-th dependency's output (zero-padded), x_0 = inputsHash for a root; outputsRoot over 64 zero-padded outputs, resultHash the last output", function () {
      const t = diamond;
      const o = (i: number) => out(t, i);
      const h = t.inputsHash;
      expect(WORKFLOW_MAX_DEPS).to.equal(2);
      // What each step reads: [x_0, x_1].
      const reads = [
        [h, 0n],
        [o(0), 0n],
        [o(0), 0n],
        [o(1), o(2)],
        [h, 0n],
        [o(4), 0n],
        [o(3), o(5)],
      ];
      expect(t.leaves).to.deep.equal(reads.map((xs, i) => poseidonHash([...xs, o(i)])));
      expect(t).not.to.have.property("inputHashes");
      const padded = Array.from({ length: WORKFLOW_MAX_STEPS }, (_, i) => (i < 7 ? o(i) : 0n));
      expect(t.outputsRoot).to.equal(poseidonMany(padded));
      expect(t.resultHash).to.equal(o(6));
      // The tests' leaf helper gives the reference's leaves from the honest dependency outputs.
      expect(leafOf(t, 3, [o(1), o(2)])).to.equal(t.leaves[3]);
      expect(leafOf(t, 5, [o(4)])).to.equal(t.leaves[5]);
      expect(leafOf(t, 4, [])).to.equal(t.leaves[4]);
      // A root's leaf and a one-dependency step's differ only in x_0: inputsHash for the root, the output otherwise.
      expect(stepLeaf(o(0), [], o(1))).to.equal(t.leaves[1]);
      expect(() => stepLeaf(h, [o(0), o(1), o(2)], o(3))).to.throw(/^deps: at most 2/);
    });

    it("packDeps: step l's k-th dependency d is d + 1 in bits ((l mod 18) * 2 + k) * 7 of word floor(l / 18); chunkProofInput's statement", function () {
      expect([SLOT_BITS, STEPS_PER_DEPS_WORD, DEPS_WORDS]).to.deep.equal([7, 18, 2]);
      expect(PUBLIC_COUNT).to.equal(39);
      // Step 3's [1, 2] and step 35's [3, 33] (chunk 1, l = 3): 2 at bit 42 and 3 at bit 49 of word 0; step 17's
      // [0, 16] in word 0's last slots (bits 238 and 245); step 20's [19] (l = 20) at bit 28 of word 1.
      const deps: number[][] = Array.from({ length: 36 }, () => []);
      deps[3] = [1, 2];
      deps[17] = [0, 16];
      deps[20] = [19];
      deps[35] = [3, 33];
      expect(packDeps(deps, 0)).to.deep.equal([(2n << 42n) | (3n << 49n) | (1n << 238n) | (17n << 245n), 20n << 28n]);
      expect(packDeps(deps, 32)).to.deep.equal([(4n << 42n) | (34n << 49n), 0n]);
      for (const t of [...random, dense, base]) {
        const lists = t.steps.map((s) => [...s.deps]);
        for (let chunk = 0; chunk < chunkCount(t.steps.length); chunk++) {
          const start = chunk * WORKFLOW_CHUNK;
          const { statement } = reference(t, chunk);
          const words = packDeps(lists, start);
          expect(words.every((w) => w < 1n << 252n)).to.equal(true);
          expect(unpackDeps(words)).to.deep.equal(
            Array.from({ length: WORKFLOW_CHUNK }, (_, l) => lists[start + l] ?? []),
          );
          expect(statement).to.deep.equal({
            outputsRoot: t.outputsRoot,
            inputsHash: t.inputsHash,
            start,
            stepCount: t.steps.length,
            resultHash: t.resultHash,
            deps: words,
            leaves: Array.from({ length: WORKFLOW_CHUNK }, (_, l) => t.leaves[start + l] ?? 0n),
          });
        }
      }
      expect(() => chunkProofInput(random[3] ?? base, 1)).to.throw(/^chunk: 1 is not a chunk of a 32-step transcript/);
      expect(() => chunkProofInput(base, 2)).to.throw(/^chunk: 2 is not a chunk of a 40-step transcript/);
    });

    it("checkProvenDeps / buildTranscript reject 0 or 65 steps, more than 2 deps, non-ascending or repeated deps, a dependency on itself or a later step, naming the field", function () {
      const steps = (deps: number[][]) => deps.map((d) => ({ deps: d, outputHash: 1n }));
      const cases: [number[][], RegExp][] = [
        [[], /^steps: a proven workflow has 1\.\.64 steps \(got 0\)/],
        [Array.from({ length: 65 }, () => []), /^steps: a proven workflow has 1\.\.64 steps \(got 65\)/],
        [[[], [0], [0, 1], [0, 1, 2]], /^steps\[3\]\.deps: at most 2 dependencies \(got 3\)/],
        [[[], [0], [0], [2, 1]], /^steps\[3\]\.deps: must be strictly ascending/],
        [[[], [0], [0], [1, 1]], /^steps\[3\]\.deps: must be strictly ascending/],
        [[[], [0], [0], [3]], /^steps\[3\]\.deps\[0\]: 3 is not an earlier step/],
        [[[], [0], [0], [1, 4]], /^steps\[3\]\.deps\[1\]: 4 is not an earlier step/],
        [[[], [-1]], /^steps\[1\]\.deps\[0\]: -1 is not an earlier step/],
        [[[], [0.5]], /^steps\[1\]\.deps\[0\]: 0.5 is not an earlier step/],
      ];
      for (const [deps, message] of cases) {
        expect(() => {
          checkProvenDeps(deps);
        }).to.throw(message);
        expect(() => buildTranscript(1n, steps(deps))).to.throw(message);
      }
      // The largest valid shape passes.
      expect(() => {
        checkProvenDeps(dense.steps.map((s) => s.deps));
      }).not.to.throw();
    });

    it("buildTranscript rejects an output hash or inputsHash >= p (BN254's r, r + 1), naming the field", function () {
      const steps = [
        { deps: [], outputHash: 1n },
        { deps: [0], outputHash: 2n },
        { deps: [1], outputHash: P },
      ];
      expect(() => buildTranscript(1n, steps)).to.throw(/^steps\[2\]\.outputHash: \d+ is outside the field/);
      expect(() => buildTranscript(1n, [{ deps: [], outputHash: P + 1n }])).to.throw(
        /^steps\[0\]\.outputHash: \d+ is outside the field/,
      );
      expect(() => buildTranscript(1n, [{ deps: [], outputHash: -1n }])).to.throw(
        /^steps\[0\]\.outputHash: -1 is outside the field/,
      );
      expect(() => buildTranscript(P, [{ deps: [], outputHash: 1n }])).to.throw(
        /^inputsHash: \d+ is outside the field/,
      );
      expect(buildTranscript(P - 1n, [{ deps: [], outputHash: P - 1n }]).resultHash).to.equal(P - 1n);
    });
  });

  describe("circuit", function () {
    let circuit: CircuitUnderTest | undefined;
    const prover = new Prover();

    before(function () {
      this.timeout(120_000);
      circuit = CircuitUnderTest.open("workflow");
    });

    after(async function () {
      await prover.close();
      circuit?.close();
    });

    const c = (): CircuitUnderTest => {
      if (circuit === undefined) throw new Error("circuit not loaded");
      return circuit;
    };
    const witness = (input: ChunkInput) => c().witness(input, PUBLIC_COUNT);
    const expectNoWitness = (input: ChunkInput, constraint: string) => c().expectNoWitness(input, constraint);

    it("every chunk of random DAGs (1, 9, 31, 32, 33, 47, 64 steps; a diamond with a parallel branch; 64 steps with 2 deps each) has a witness whose public signals are chunkPublicSignals", async function () {
      const all = [...random, diamond, dense];
      // The shapes the test claims: 2-dependency steps, dependencies across chunks, roots after step 0.
      const deps = all.flatMap((t) => t.steps.map((s, i) => ({ i, deps: s.deps })));
      expect(deps.some((s) => s.deps.length === WORKFLOW_MAX_DEPS && s.i < WORKFLOW_CHUNK)).to.equal(true);
      expect(deps.some((s) => s.i >= WORKFLOW_CHUNK && s.deps.some((d) => d < WORKFLOW_CHUNK))).to.equal(true);
      expect(deps.some((s) => s.i > 0 && s.deps.length === 0)).to.equal(true);
      expect(dense.steps.every((s, i) => s.deps.length === Math.min(i, WORKFLOW_MAX_DEPS))).to.equal(true);
      let chunks = 0;
      for (const t of all) {
        for (let chunk = 0; chunk < chunkCount(t.steps.length); chunk++) {
          const { statement, input } = chunkProofInput(t, chunk);
          const signals = await c().witness(input, PUBLIC_COUNT);
          expect(signals, `${t.steps.length} steps, chunk ${chunk}`).to.deep.equal(chunkPublicSignals(statement));
          chunks++;
        }
      }
      expect(chunks).to.equal(13);
    });

    it("no witness when a leaf skips a dependency's output (either of step 10's [5, 9], or 5 zeroed; step 36's dependency 3 in chunk 0), public deps unchanged", async function () {
      const o = (i: number) => out(base, i);
      const chunk0 = reference(base, 0).input;
      expect(leafOf(base, 10, [o(5), o(9)])).to.equal(chunk0.leaves[10]); // control: the honest leaf
      for (const kept of [[o(9)], [o(5)], [0n, o(9)]]) {
        await expectNoWitness(withLeaf(chunk0, 10, leafOf(base, 10, kept)), LEAF);
      }
      const chunk1 = reference(base, 1).input;
      expect(leafOf(base, 36, [o(3), o(33)])).to.equal(chunk1.leaves[4]); // control: the honest leaf
      await expectNoWitness(withLeaf(chunk1, 4, leafOf(base, 36, [o(33)])), LEAF);
    });

    it("no witness when a leaf reads the dependencies' outputs in the other order (step 10's [9, 5]; step 36's [33, 3])", async function () {
      const o = (i: number) => out(base, i);
      const chunk0 = reference(base, 0).input;
      await expectNoWitness(withLeaf(chunk0, 10, leafOf(base, 10, [o(9), o(5)])), LEAF);
      const chunk1 = reference(base, 1).input;
      await expectNoWitness(withLeaf(chunk1, 4, leafOf(base, 36, [o(33), o(3)])), LEAF);
    });

    it("no witness when a leaf reads a non-dependency's output (6 for 5 at step 10, 8 added to step 20's [7], a root reading the previous step, alone or with inputsHash)", async function () {
      const o = (i: number) => out(base, i);
      const { input } = reference(base, 0);
      expect(leafOf(base, 20, [o(7)])).to.equal(input.leaves[20]); // control: the honest leaf
      await expectNoWitness(withLeaf(input, 10, leafOf(base, 10, [o(6), o(9)])), LEAF);
      await expectNoWitness(withLeaf(input, 20, leafOf(base, 20, [o(7), o(8)])), LEAF);
      const root = base.steps.findIndex((s, i) => i > 0 && i < WORKFLOW_CHUNK && s.deps.length === 0);
      expect(root).to.be.greaterThan(0);
      await expectNoWitness(withLeaf(input, root, leafOf(base, root, [o(root - 1)])), LEAF);
      const both = poseidonHash([base.inputsHash, o(root - 1), o(root)]);
      await expectNoWitness(withLeaf(input, root, both), LEAF);
    });

    it("no witness for a root whose leaf ignores inputsHash (zero) or uses another one, a changed public inputsHash, or a dependent step reading inputsHash (step 20 as a root, step 10 with it for 5)", async function () {
      const o = (i: number) => out(base, i);
      const { input } = reference(base, 0);
      expect(base.steps[0]?.deps).to.deep.equal([]);
      await expectNoWitness(withLeaf(input, 0, leafOf(base, 0, [], 0n)), LEAF);
      await expectNoWitness(withLeaf(input, 0, leafOf(base, 0, [], base.inputsHash + 1n)), LEAF);
      await expectNoWitness({ ...input, inputsHash: base.inputsHash + 1n }, LEAF);
      await expectNoWitness({ ...input, inputsHash: 0n }, LEAF);
      await expectNoWitness(withLeaf(input, 20, leafOf(base, 20, [])), LEAF);
      await expectNoWitness(withLeaf(input, 10, leafOf(base, 10, [base.inputsHash, o(9)])), LEAF);
    });

    it("no witness for a tampered leaf (+1 at steps 0, 31 and 39, the last one; a neighbour's leaf at step 11)", async function () {
      const chunk0 = reference(base, 0).input;
      const chunk1 = reference(base, 1).input;
      for (const [input, l] of [
        [chunk0, 0],
        [chunk0, 31],
        [chunk1, 7],
      ] as const) {
        await expectNoWitness(withLeaf(input, l, (input.leaves[l] ?? 0n) + 1n), LEAF);
      }
      await expectNoWitness(withLeaf(chunk0, 11, chunk0.leaves[12] ?? 0n), LEAF);
    });

    it("no witness for a non-zero leaf past stepCount (step 40's would-be root leaf, 1 at step 63), nor a zero leaf for the last step", async function () {
      const { input } = reference(base, 1); // steps 32..39 active, l = 8.. past stepCount
      expect(input.leaves.slice(8).every((v) => v === 0n)).to.equal(true);
      await expectNoWitness(withLeaf(input, 8, leafOf(base, 40, [])), LEAF);
      await expectNoWitness(withLeaf(input, 31, 1n), LEAF);
      await expectNoWitness(withLeaf(input, 7, 0n), LEAF);
    });

    it("no witness for a wrong outputsRoot (+1, over the 40 unpadded outputs) or an output past stepCount changed under it", async function () {
      const { input } = reference(base, 1);
      await expectNoWitness({ ...input, outputsRoot: input.outputsRoot + 1n }, "outputsRoot === root;");
      const unpadded = poseidonMany(base.steps.map((s) => s.outputHash));
      await expectNoWitness({ ...input, outputsRoot: unpadded }, "outputsRoot === root;");
      const outs = input.outs.map((v, i) => (i === 50 ? 1n : v));
      await expectNoWitness({ ...input, outs }, "outputsRoot === root;");
    });

    it("no witness for a resultHash other than the last step's output (the step before, the first past it, +1), in either chunk", async function () {
      const { input } = reference(base, 1);
      for (const resultHash of [out(base, 38), out(base, 40), base.resultHash + 1n]) {
        await expectNoWitness({ ...input, resultHash }, "resultHash === last;");
      }
      const chunk0 = reference(base, 0).input;
      await expectNoWitness({ ...chunk0, resultHash: out(base, 38) }, "resultHash === last;");
    });

    it("no witness for stepCount 0 or 65 (a 64-step chunk), nor one short of the recorded leaves", async function () {
      const full = reference(dense, 1).input;
      await expectNoWitness({ ...full, stepCount: 65 }, "Num2Bits(LOGN)(stepCount - 1)");
      await expectNoWitness({ ...full, stepCount: 0 }, "Num2Bits(LOGN)(stepCount - 1)");
      const { input } = reference(base, 1);
      await expectNoWitness({ ...input, stepCount: 39, resultHash: out(base, 38) }, LEAF);
    });

    it("no witness for start 1, 16 (not a multiple of 32) or 64 (past the last chunk); nor 32 with chunk 0's leaves", async function () {
      const { input } = reference(base, 0);
      for (const start of [1, 16, 64]) await expectNoWitness({ ...input, start }, "selSum === 1;");
      // start 32 is a chunk start, but not this chunk's.
      await expectNoWitness({ ...input, start: 32 }, LEAF);
    });

    it("no witness for a deps slot holding 65 or 127 (index 64 or 126, past the outputs) or a deps word >= 2^252; slot 64 reads outs[63]", async function () {
      const { input } = reference(dense, 1);
      // Step 63 (l = 31): its 2nd dependency's slot.
      const deps63 = dense.steps[63]?.deps ?? [];
      expect(deps63).to.have.length(WORKFLOW_MAX_DEPS);
      for (const slot of [65, 127]) {
        await expectNoWitness(
          { ...input, deps: withSlot(input.deps, 31, 1, slot) },
          "Num2Bits(LOGN)(slot - 1 + slotNone[l][s])",
        );
      }
      for (const w of [0, DEPS_WORDS - 1]) {
        const deps = input.deps.map((v, i) => (i === w ? v + (1n << 252n) : v));
        await expectNoWitness({ ...input, deps }, "Num2Bits(252)(deps[e])");
      }
      // Control: slot 64 is index 63, which the circuit reads (that a dependency is an earlier step is
      // Workflows.sol's check): with the leaf over outs[63], a witness exists.
      const self = withLeaf(
        { ...input, deps: withSlot(input.deps, 31, 1, 64) },
        31,
        leafOf(dense, 63, [out(dense, deps63[0] ?? 0), out(dense, 63)]),
      );
      expect(await witness(self)).to.have.length(PUBLIC_COUNT);
    });

    it("no witness for dependency slots out of order (slot 0 emptied before a filled slot 1), even with the leaf a root reading inputsHash and slot 1 would have; slot 1 emptied is a single dependency", async function () {
      const { input } = reference(dense, 1);
      const [d0, d1] = dense.steps[63]?.deps ?? [];
      if (d0 === undefined || d1 === undefined) throw new Error("step 63 has 2 dependencies");
      const swapped = { ...input, deps: withSlot(input.deps, 31, 0, 0) };
      const ORDER = "slotNone[l][s] * (1 - slotNone[l][s + 1]) === 0";
      await expectNoWitness(swapped, ORDER);
      // The leaf the rest of the circuit computes for [empty, d1]: only the order constraint rejects it.
      await expectNoWitness(
        withLeaf(swapped, 31, poseidonHash([dense.inputsHash, out(dense, d1), out(dense, 63)])),
        ORDER,
      );
      // Control: [d0, empty] is a single dependency; with its leaf, a witness exists.
      const single = withLeaf(
        { ...input, deps: withSlot(input.deps, 31, 1, 0) },
        31,
        leafOf(dense, 63, [out(dense, d0)]),
      );
      expect(await witness(single)).to.have.length(PUBLIC_COUNT);
    });

    it("one Groth16 proof (chunk 1 of 64 steps, 2 deps each) verifies with chunkPublicSignals, and not with a tampered leaf, deps word or stepCount, or a leaf + p", async function () {
      if (!existsSync(artifactsOf("workflow").zkey)) this.skip();
      const { statement, input } = chunkProofInput(dense, 1);
      const { proof, publicSignals } = await prover.prove("workflow", input);
      const expected = chunkPublicSignals(statement);
      expect(publicSignals).to.deep.equal(expected);
      expect(await prover.verify("workflow", proof, expected)).to.equal(true);
      const leaf0 = 5 + DEPS_WORDS;
      for (const [index, delta] of [
        [leaf0 + 9, 1n],
        [leaf0 + 31, 1n],
        [leaf0, P],
        [5, 1n],
        [3, 1n],
      ] as const) {
        const tampered = expected.map((s, i) => (i === index ? s + delta : s));
        expect(await prover.verify("workflow", proof, tampered), `signal ${index} + ${delta}`).to.equal(false);
      }
      // Chunk 0's statement with chunk 1's proof.
      expect(await prover.verify("workflow", proof, chunkPublicSignals(chunkProofInput(dense, 0).statement))).to.equal(
        false,
      );
    });
  });
});
