/**
 * JS reference of circuits/src/inference.circom: the quantized Iris MLP (4 -> 8 ReLU -> 3) evaluated in integer
 * arithmetic exactly as the circuit does, with the same bounds, plus the commitments the circuit makes public.
 *
 * Quantization (all integers, no rescaling anywhere: the 254-bit field holds every intermediate value exactly):
 *   x      = round(10 * cm)                                   features, 8-bit unsigned [0, 255]
 *   W1q    = round(W1 * 2^shift1 / 10), b1q = round(b1 * 2^shift1)            W1q 8-bit signed, b1q 16-bit signed
 *   a      = W1q . x + b1q   ~ 2^shift1 * (W1 . cm + b1)       ReLU input, checked in [-2^18, 2^18)
 *   h      = max(a, 0)                                        ~ 2^shift1 * hidden
 *   W2q    = round(W2 * 2^shift2),      b2q = round(b2 * 2^(shift1 + shift2))  W2q 8-bit signed, b2q 24-bit signed
 *   score  = W2q . h + b2q   ~ 2^(shift1 + shift2) * logit    checked in [-2^29, 2^29)
 *   class  = argmax(score), ties to the lowest index
 * With weights and features inside their bounds the ReLU input and score bounds always hold
 * (|a| <= 4 * 128 * 255 + 2^15 < 2^18, |score| <= 8 * 128 * 2^18 + 2^23 < 2^29); both are still checked here and
 * range-checked in the circuit, where they make the sign decomposition and the comparisons sound.
 *
 * Commitments (Poseidon, circomlib parameters; negative integers enter as field elements p - |v|):
 *   modelHash  = poseidonHash([4, 8, 3, 10, 8, 16, 24, shift1, shift2, word0, word1, word2])       (12 elements)
 *                the header is inputs, hidden, classes, feature scale (x10), weight bits, b1 bits, b2 bits and
 *                the two shifts; the words pack the 73 weights and biases (irisModelPreimage):
 *                - each value v of a b-bit signed slot is stored as u = v + 2^(b-1) in [0, 2^b), b bits
 *                  little-endian (the bits the circuit's range check on v produces);
 *                - the slots, in the order W1 row-major (w1[j][i], j hidden, i input), b1[0..7], W2 row-major
 *                  (w2[k][j], k class, j hidden), b2[0..2], concatenate into a 648-bit string
 *                  (32 x 8 + 8 x 16 + 24 x 8 + 3 x 24), first slot at bit 0;
 *                - bit n of the string is bit n % 252 of word n / 252 (rounded down; a slot may straddle two
 *                  words): word0 and word1 hold 252 bits, word2 the last 144.
 *                Every word is below 2^252 < p, so the words are the bit string itself and the packing is
 *                injective: one model, one preimage.
 *   inputHash  = poseidonHash([features[0..3], blind])
 *   outputHash = poseidonHash([predictedClass, score0, score1, score2, blind])
 *                blind: the workload's or execution's secret random field element (field.ts randomBlind), so that
 *                the 2^32 feature vectors cannot be enumerated against the chain's commitments
 *   leaf       = poseidonHash([inputHash, 0, outputHash])  (the transcript leaf of a step that reads the features)
 */
import { readFileSync } from "node:fs";

import { fieldElement, poseidonHash, signedToField, uintBits } from "./field.js";
import { stepLeaf } from "./workflow.js";

export const IRIS_INPUTS = 4;
export const IRIS_HIDDEN = 8;
export const IRIS_CLASSES = 3;
/** Features are centimetres x10 (the data set has one decimal). */
export const FEATURE_SCALE = 10;
/** Features are unsigned 8-bit: [0, 255], i.e. 0.0 .. 25.5 cm. */
export const FEATURE_BITS = 8;
/** W1 and W2 entries are signed 8-bit: [-128, 127]. */
export const WEIGHT_BITS = 8;
/** b1 entries are signed 16-bit, b2 entries signed 24-bit. */
export const B1_BITS = 16;
export const B2_BITS = 24;
/** The power-of-two scale exponents shift1, shift2 are in [0, 31]. */
export const SHIFT_BITS = 5;
/** ReLU inputs (hidden pre-activations) are signed 19-bit: [-2^18, 2^18). */
export const HIDDEN_BITS = 19;
/** Scores are signed 30-bit: [-2^29, 2^29). */
export const SCORE_BITS = 30;

/** The quantized model, as the circuit takes it. */
export interface IrisModel {
  readonly shift1: number;
  readonly shift2: number;
  /** [IRIS_HIDDEN][IRIS_INPUTS] */
  readonly w1: readonly (readonly bigint[])[];
  readonly b1: readonly bigint[];
  /** [IRIS_CLASSES][IRIS_HIDDEN] */
  readonly w2: readonly (readonly bigint[])[];
  readonly b2: readonly bigint[];
}

/** The float model (on centimetre inputs) the quantized one approximates: logits = W2 relu(W1 cm + b1) + b2. */
export interface IrisFloatModel {
  readonly w1: readonly (readonly number[])[];
  readonly b1: readonly number[];
  readonly w2: readonly (readonly number[])[];
  readonly b2: readonly number[];
}

export interface IrisResult {
  /** Signed integer scores, one per class (scale 2^(shift1 + shift2) relative to the float logits). */
  readonly scores: readonly bigint[];
  readonly predictedClass: number;
}

export interface AccuracyFigure {
  readonly correct: number;
  readonly total: number;
  readonly rate: number;
}

/** circuits/models/iris/weights.json, as train.ts writes it. */
export interface IrisWeightsFile {
  readonly description: string;
  readonly classes: readonly string[];
  readonly training: {
    readonly seed: number;
    readonly epochs: number;
    readonly learningRate: number;
    readonly l2: number;
    readonly heldOutIndices: readonly number[];
  };
  readonly float: IrisFloatModel;
  readonly quantization: {
    readonly featureScale: number;
    readonly weightBits: number;
    readonly b1Bits: number;
    readonly b2Bits: number;
    readonly shift1: number;
    readonly shift2: number;
  };
  readonly quantized: {
    readonly w1: readonly (readonly number[])[];
    readonly b1: readonly number[];
    readonly w2: readonly (readonly number[])[];
    readonly b2: readonly number[];
  };
  readonly accuracy: {
    readonly float: { readonly heldOut: AccuracyFigure; readonly all: AccuracyFigure };
    readonly quantized: { readonly heldOut: AccuracyFigure; readonly all: AccuracyFigure };
    /** Rows where the quantized model predicts the same class as the float model. */
    readonly agreement: { readonly heldOut: AccuracyFigure; readonly all: AccuracyFigure };
  };
  readonly modelHash: string;
}

/** The complete input of IrisInference(): signal name -> decimal field element(s). */
// A type alias (not an interface) so that it is assignable to snarkjs's CircuitSignals.
export type IrisCircuitInput = {
  modelHash: string;
  inputHash: string;
  outputHash: string;
  leaf: string;
  features: string[];
  shifts: string[];
  w1: string[][];
  b1: string[];
  w2: string[][];
  b2: string[];
  scores: string[];
  predictedClass: string;
  blind: string;
};

export const IRIS_WEIGHTS_URL = new URL("../models/iris/weights.json", import.meta.url);

/** Reads circuits/models/iris/weights.json. */
export function readIrisWeightsFile(): IrisWeightsFile {
  return JSON.parse(readFileSync(IRIS_WEIGHTS_URL, "utf8")) as IrisWeightsFile;
}

/** The committed quantized model (checked against its bounds and its recorded modelHash). */
export function loadIrisModel(): IrisModel {
  const file = readIrisWeightsFile();
  const toBig = (rows: readonly (readonly number[])[]) => rows.map((row) => row.map((v) => BigInt(v)));
  const model = irisModelFromFile(file.quantization, {
    w1: toBig(file.quantized.w1),
    b1: file.quantized.b1.map((v) => BigInt(v)),
    w2: toBig(file.quantized.w2),
    b2: file.quantized.b2.map((v) => BigInt(v)),
  });
  const hash = irisModelHash(model);
  if (hash.toString() !== file.modelHash) {
    throw new Error(`weights.json: modelHash ${file.modelHash} does not match the weights (${hash})`);
  }
  return model;
}

function irisModelFromFile(
  q: IrisWeightsFile["quantization"],
  weights: Omit<IrisModel, "shift1" | "shift2">,
): IrisModel {
  const expect = (field: string, got: number, want: number) => {
    if (got !== want) throw new Error(`weights.json: quantization.${field} is ${got}, the circuit uses ${want}`);
  };
  expect("featureScale", q.featureScale, FEATURE_SCALE);
  expect("weightBits", q.weightBits, WEIGHT_BITS);
  expect("b1Bits", q.b1Bits, B1_BITS);
  expect("b2Bits", q.b2Bits, B2_BITS);
  return checkIrisModel({ shift1: q.shift1, shift2: q.shift2, ...weights });
}

/** Throws a message naming the field unless `v` is an integer in [-2^(bits-1), 2^(bits-1)). */
export function signedBits(field: string, v: bigint, bits: number): bigint {
  const half = 1n << BigInt(bits - 1);
  if (v < -half || v >= half)
    throw new Error(`${field}: ${v} is outside the signed ${bits}-bit range [-2^${bits - 1}, 2^${bits - 1})`);
  return v;
}

function checkMatrix(name: string, m: readonly (readonly bigint[])[], rows: number, cols: number, bits: number): void {
  if (m.length !== rows) throw new Error(`${name}: expected ${rows} rows, got ${m.length}`);
  m.forEach((row, r) => {
    checkVector(`${name}[${r}]`, row, cols, bits);
  });
}

function checkVector(name: string, v: readonly bigint[], length: number, bits: number): void {
  if (v.length !== length) throw new Error(`${name}: expected ${length} values, got ${v.length}`);
  v.forEach((x, i) => signedBits(`${name}[${i}]`, x, bits));
}

/** Throws a message naming the offending field unless the model has the circuit's shapes and bounds. */
export function checkIrisModel(model: IrisModel): IrisModel {
  for (const name of ["shift1", "shift2"] as const) {
    const s = model[name];
    if (!Number.isInteger(s)) throw new Error(`${name}: not an integer (${s})`);
    uintBits(name, s, SHIFT_BITS);
  }
  checkMatrix("w1", model.w1, IRIS_HIDDEN, IRIS_INPUTS, WEIGHT_BITS);
  checkVector("b1", model.b1, IRIS_HIDDEN, B1_BITS);
  checkMatrix("w2", model.w2, IRIS_CLASSES, IRIS_HIDDEN, WEIGHT_BITS);
  checkVector("b2", model.b2, IRIS_CLASSES, B2_BITS);
  return model;
}

/**
 * Iris measurements in centimetres (sepal length, sepal width, petal length, petal width; one decimal) as the
 * circuit's 8-bit features: round(10 * cm). Throws a message naming the feature otherwise.
 */
export function quantizeFeatures(cm: readonly number[]): bigint[] {
  if (cm.length !== IRIS_INPUTS) throw new Error(`features: expected ${IRIS_INPUTS} values, got ${cm.length}`);
  return cm.map((x, i) => {
    const field = `features[${i}]`;
    if (!Number.isFinite(x)) throw new Error(`${field}: ${x} is not a finite number`);
    const scaled = Math.round(x * FEATURE_SCALE);
    if (Math.abs(x * FEATURE_SCALE - scaled) > 1e-9) throw new Error(`${field}: ${x} cm has more than one decimal`);
    const max = ((1 << FEATURE_BITS) - 1) / FEATURE_SCALE;
    if (scaled < 0 || scaled >= 1 << FEATURE_BITS) throw new Error(`${field}: ${x} cm is outside [0, ${max}] cm`);
    return uintBits(field, scaled, FEATURE_BITS);
  });
}

/** Throws a message naming the feature unless there are 4 features, each in [0, 255]. */
export function checkFeatures(features: readonly bigint[]): readonly bigint[] {
  if (features.length !== IRIS_INPUTS)
    throw new Error(`features: expected ${IRIS_INPUTS} values, got ${features.length}`);
  features.forEach((f, i) => uintBits(`features[${i}]`, f, FEATURE_BITS));
  return features;
}

/** Index of the largest value; ties go to the lowest index (the circuit's rule). */
export function argmax(values: readonly bigint[] | readonly number[]): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) {
    if ((values[k] ?? 0) > (values[best] ?? 0)) best = k;
  }
  return best;
}

/** The model on `features` (round(10 cm) each), in the circuit's integer arithmetic and bounds. */
export function irisInfer(model: IrisModel, features: readonly bigint[]): IrisResult {
  checkIrisModel(model);
  checkFeatures(features);
  const hidden = model.w1.map((row, j) => {
    let a = model.b1[j] ?? 0n;
    row.forEach((w, i) => (a += w * (features[i] ?? 0n)));
    signedBits(`hidden[${j}] (ReLU input)`, a, HIDDEN_BITS);
    return a > 0n ? a : 0n;
  });
  const scores = model.w2.map((row, k) => {
    let s = model.b2[k] ?? 0n;
    row.forEach((w, j) => (s += w * (hidden[j] ?? 0n)));
    return signedBits(`scores[${k}]`, s, SCORE_BITS);
  });
  return { scores, predictedClass: argmax(scores) };
}

/** The float model's predicted class for measurements in cm (what the quantized model approximates). */
export function irisFloatPredict(model: IrisFloatModel, cm: readonly number[]): number {
  const hidden = model.w1.map((row, j) =>
    Math.max(
      0,
      row.reduce((a, w, i) => a + w * (cm[i] ?? 0), model.b1[j] ?? 0),
    ),
  );
  const logits = model.w2.map((row, k) => row.reduce((s, w, j) => s + w * (hidden[j] ?? 0), model.b2[k] ?? 0));
  return argmax(logits);
}

/** Bits per packed word of the modelHash preimage: below 253, so every word is an integer below the field size. */
export const PACKED_WORD_BITS = 252;

/** One signed parameter of the packed model: `value` must lie in [-2^(bits-1), 2^(bits-1)). */
export interface PackedSlot {
  readonly field: string;
  readonly value: bigint;
  readonly bits: number;
}

/**
 * Packs signed slots into words of PACKED_WORD_BITS bits (see the header): slot values offset to u = v + 2^(bits-1),
 * concatenated little-endian from bit 0, bit n of the string going to bit n % 252 of word floor(n / 252). Throws a
 * message naming the slot unless its value fits, so no slot can spill into its neighbour.
 */
export function packSignedSlots(slots: readonly PackedSlot[]): bigint[] {
  const bits: number[] = [];
  for (const { field, value, bits: width } of slots) {
    if (!Number.isInteger(width) || width < 1 || width > PACKED_WORD_BITS)
      throw new Error(`${field}: slot width ${width} is not in 1..${PACKED_WORD_BITS}`);
    const u = signedBits(field, value, width) + (1n << BigInt(width - 1));
    for (let b = 0; b < width; b++) bits.push(Number((u >> BigInt(b)) & 1n));
  }
  const words = new Array<bigint>(Math.ceil(bits.length / PACKED_WORD_BITS)).fill(0n);
  bits.forEach((bit, n) => {
    const w = Math.floor(n / PACKED_WORD_BITS);
    words[w] = (words[w] ?? 0n) | (BigInt(bit) << BigInt(n % PACKED_WORD_BITS));
  });
  return words;
}

/** The model's weights and biases as packed slots, in preimage order: W1 row-major, b1, W2 row-major, b2. */
export function irisModelSlots(model: IrisModel): PackedSlot[] {
  const slot = (field: string, value: bigint, bits: number): PackedSlot => ({ field, value, bits });
  return [
    ...model.w1.flatMap((row, j) => row.map((v, i) => slot(`w1[${j}][${i}]`, v, WEIGHT_BITS))),
    ...model.b1.map((v, j) => slot(`b1[${j}]`, v, B1_BITS)),
    ...model.w2.flatMap((row, k) => row.map((v, j) => slot(`w2[${k}][${j}]`, v, WEIGHT_BITS))),
    ...model.b2.map((v, k) => slot(`b2[${k}]`, v, B2_BITS)),
  ];
}

/** The header fields of the modelHash preimage: architecture, quantization widths and the two shifts. */
export function irisModelHeader(model: Pick<IrisModel, "shift1" | "shift2">): bigint[] {
  return [
    IRIS_INPUTS,
    IRIS_HIDDEN,
    IRIS_CLASSES,
    FEATURE_SCALE,
    WEIGHT_BITS,
    B1_BITS,
    B2_BITS,
    model.shift1,
    model.shift2,
  ].map((v) => BigInt(v));
}

/**
 * The modelHash preimage (see the header), the single definition that irisModelHash and irisProofInput use:
 * [4, 8, 3, 10, 8, 16, 24, shift1, shift2, word0, word1, word2], 12 field elements.
 */
export function irisModelPreimage(model: IrisModel): bigint[] {
  checkIrisModel(model);
  return [...irisModelHeader(model), ...packSignedSlots(irisModelSlots(model))];
}

/** Poseidon over irisModelPreimage: one permutation of width 13. */
export function irisModelHash(model: IrisModel): bigint {
  return poseidonHash(irisModelPreimage(model));
}

/** The blinded commitment to the features: Poseidon(features, blind). */
export function irisInputHash(features: readonly bigint[], blind: bigint): bigint {
  return poseidonHash([...checkFeatures(features), fieldElement("blind", blind)]);
}

/** The blinded commitment to the result: Poseidon(predictedClass, scores, blind). */
export function irisOutputHash(result: IrisResult, blind: bigint): bigint {
  if (result.scores.length !== IRIS_CLASSES)
    throw new Error(`scores: expected ${IRIS_CLASSES} values, got ${result.scores.length}`);
  if (!Number.isInteger(result.predictedClass) || result.predictedClass < 0 || result.predictedClass >= IRIS_CLASSES) {
    throw new Error(`predictedClass: ${result.predictedClass} is not a class index`);
  }
  result.scores.forEach((s, k) => signedBits(`scores[${k}]`, s, SCORE_BITS));
  return poseidonHash([
    BigInt(result.predictedClass),
    ...result.scores.map(signedToField),
    fieldElement("blind", blind),
  ]);
}

/**
 * The transcript leaf of a workflow step that reads one source (its features, hash `inputHash`) and writes
 * `outputHash`: what the inference proof exposes, so a proven step's record can be checked against it.
 */
export function irisLeaf(inputHash: bigint, outputHash: bigint): bigint {
  return stepLeaf(inputHash, [], outputHash);
}

/** The complete input of IrisInference() for `model` on `features` under `blind`, public signals included. */
export function irisProofInput(model: IrisModel, features: readonly bigint[], blind: bigint): IrisCircuitInput {
  const result = irisInfer(model, features);
  const inputHash = irisInputHash(features, blind);
  const outputHash = irisOutputHash(result, blind);
  const dec = (v: bigint) => signedToField(v).toString();
  return {
    modelHash: irisModelHash(model).toString(),
    inputHash: inputHash.toString(),
    outputHash: outputHash.toString(),
    leaf: irisLeaf(inputHash, outputHash).toString(),
    features: features.map(dec),
    shifts: [model.shift1, model.shift2].map((s) => s.toString()),
    w1: model.w1.map((row) => row.map(dec)),
    b1: model.b1.map(dec),
    w2: model.w2.map((row) => row.map(dec)),
    b2: model.b2.map(dec),
    scores: result.scores.map(dec),
    predictedClass: result.predictedClass.toString(),
    blind: blind.toString(),
  };
}
