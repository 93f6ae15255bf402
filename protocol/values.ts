/**
 * Step inputs and outputs are JSON values. Each value has one field hash (a BN254 field element, as bytes32 on
 * chain) that providers sign, the chain records and the workflow circuit chains. Every hash is a blinded
 * commitment: it takes the execution's (or workload's) secret `blind`, so that nobody who sees only the chain can
 * open it by enumerating likely values (4 Iris features are only 2^32 vectors):
 *
 * - an Iris feature vector `{ "kind": "iris-features", "features": [4 quantized integers] }` hashes to
 *   Poseidon(features, blind) (circuits/lib/iris.ts irisInputHash), the inference proof's input;
 * - an Iris prediction `{ "kind": "iris-prediction", "predictedClass": k, "scores": ["..", "..", ".."] }` hashes
 *   to Poseidon(class, scores, blind) (irisOutputHash), the inference proof's output;
 * - any other value hashes to Poseidon(c, blind), c = SHA-256 of its canonical JSON (keys sorted, no spaces)
 *   reduced mod p (circuits/lib/field.ts contentHash).
 *
 * The blind: 31 random bytes (circuits/lib/field.ts randomBlind), one per execution or workload, made by the
 * client and never derived from the data. It travels with the values, sealed with them (protocol/sealed.ts), never
 * in clear nor on chain: the client seals it with its inputs to the keeper (protocol/keeper-api.ts), the keeper
 * seals it with every step input to the step's provider (protocol/steps.ts) so that the provider can commit to (and
 * prove) what it read and wrote, and with the result to each reader. Every party of the execution holds it; the
 * chain and everyone else see only the hashes. In JSON it is `0x` and 62 hex digits (blindToHex).
 *
 * Typed kinds exist so that a proven inference step's hashes are the ones its circuit opens; everything else is
 * content-addressed the plain way.
 */
import { blindElement, contentHash, fieldElement, fieldToBytes32, poseidonHash } from "../circuits/lib/field.js";
import { irisInputHash, irisOutputHash } from "../circuits/lib/iris.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`value: ${value} is not JSON`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  // JSON.parse keeps "__proto__" as a key but many parsers (and zod) drop it: two parties would hash differently.
  if (keys.includes("__proto__")) throw new Error('value: the key "__proto__" is not allowed');
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`).join(",")}}`;
}

export interface IrisFeatures {
  kind: "iris-features";
  features: number[];
}

export interface IrisPrediction {
  kind: "iris-prediction";
  predictedClass: number;
  /** Signed integer scores as decimal strings (they exceed 2^53). */
  scores: string[];
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isIrisFeatures(value: Json): boolean {
  return isObject(value) && value.kind === "iris-features";
}

export function isIrisPrediction(value: Json): boolean {
  return isObject(value) && value.kind === "iris-prediction";
}

/** Reads an `iris-features` value; throws naming the field. */
export function irisFeaturesOf(value: Json, where = "input"): bigint[] {
  if (!isObject(value) || value.kind !== "iris-features") throw new Error(`${where}.kind: must be "iris-features"`);
  exactKeys(value, ["kind", "features"], where);
  const features = value.features;
  if (!Array.isArray(features) || features.length !== 4)
    throw new Error(`${where}.features: must be 4 quantized integers`);
  return features.map((f, i) => {
    if (typeof f !== "number" || !Number.isSafeInteger(f))
      throw new Error(`${where}.features[${i}]: must be an integer`);
    return BigInt(f);
  });
}

/** Reads an `iris-prediction` value; throws naming the field. */
export function irisPredictionOf(value: Json, where = "output"): { predictedClass: number; scores: bigint[] } {
  if (!isObject(value) || value.kind !== "iris-prediction") throw new Error(`${where}.kind: must be "iris-prediction"`);
  exactKeys(value, ["kind", "predictedClass", "scores"], where);
  const { predictedClass, scores } = value;
  if (typeof predictedClass !== "number" || !Number.isInteger(predictedClass))
    throw new Error(`${where}.predictedClass: must be an integer`);
  if (!Array.isArray(scores)) throw new Error(`${where}.scores: must be an array of decimal strings`);
  return {
    predictedClass,
    scores: scores.map((s, i) => {
      if (typeof s !== "string" || !/^-?\d+$/.test(s))
        throw new Error(`${where}.scores[${i}]: must be a decimal string`);
      return BigInt(s);
    }),
  };
}

/** A typed value's hash covers only its typed fields, so it may have no other (they would go unsigned). */
function exactKeys(value: { [key: string]: Json }, keys: readonly string[], where: string): void {
  const extra = Object.keys(value).find((k) => !keys.includes(k));
  if (extra !== undefined)
    throw new Error(`${where}.${extra}: not a field of a "${typeof value.kind === "string" ? value.kind : ""}" value`);
}

/** The value's field hash under `blind` (see the file header). */
export function valueHash(value: Json, blind: bigint): bigint {
  if (isIrisFeatures(value)) return irisInputHash(irisFeaturesOf(value), blind);
  if (isIrisPrediction(value)) return irisOutputHash(irisPredictionOf(value), blind);
  return poseidonHash([contentHash(canonicalJson(value)), fieldElement("blind", blind)]);
}

/** valueHash as bytes32 hex. */
export function valueHashHex(value: Json, blind: bigint): `0x${string}` {
  return fieldToBytes32(valueHash(value, blind));
}

/** The `blind` of a JSON payload (0x and 62 hex digits, not zero); throws naming `field`. */
export function parseBlind(value: unknown, field = "blind"): bigint {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{62}$/.test(value))
    throw new Error(`${field}: must be 0x and 62 hex digits (31 random bytes)`);
  return blindElement(field, value);
}

/** Size in bytes of the value's canonical JSON. */
export function valueSize(value: Json): number {
  return Buffer.byteLength(canonicalJson(value));
}
