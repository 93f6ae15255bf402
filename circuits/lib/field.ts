/**
 * The BN254 scalar field that every circuit works in, and the Poseidon hashes (circomlib's parameters, via
 * poseidon-lite) that the circuits compute. One convention for hashing more than 16 values lives here and in
 * circuits/src/lib/hash.circom (`PoseidonMany`): keep them in step.
 */
import { createHash } from "node:crypto";

import * as poseidon from "poseidon-lite";

/** The BN254 (alt_bn128) scalar field modulus: every signal, public input and hash lives below it. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const ARITIES = [
  poseidon.poseidon1,
  poseidon.poseidon2,
  poseidon.poseidon3,
  poseidon.poseidon4,
  poseidon.poseidon5,
  poseidon.poseidon6,
  poseidon.poseidon7,
  poseidon.poseidon8,
  poseidon.poseidon9,
  poseidon.poseidon10,
  poseidon.poseidon11,
  poseidon.poseidon12,
  poseidon.poseidon13,
  poseidon.poseidon14,
  poseidon.poseidon15,
  poseidon.poseidon16,
] as const;

/** Throws a message naming `field` unless `value` is an integer in [0, FIELD_MODULUS). */
export function fieldElement(field: string, value: bigint | number | string): bigint {
  let v: bigint;
  try {
    v = BigInt(value);
  } catch {
    throw new Error(`${field}: not an integer (${String(value)})`);
  }
  if (v < 0n || v >= FIELD_MODULUS) throw new Error(`${field}: ${v} is outside the field [0, 2^254)`);
  return v;
}

/** Throws a message naming `field` unless `value` fits in `bits` unsigned bits. */
export function uintBits(field: string, value: bigint | number | string, bits: number): bigint {
  const v = fieldElement(field, value);
  if (v >= 1n << BigInt(bits)) throw new Error(`${field}: ${v} does not fit in ${bits} bits`);
  return v;
}

/** Maps a signed integer into the field (negative x becomes p + x), as circuits see it. */
export function signedToField(x: bigint): bigint {
  return ((x % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
}

/** Poseidon over 1..16 field elements (circomlib's `Poseidon(n)`). */
export function poseidonHash(values: readonly bigint[]): bigint {
  const fn = ARITIES[values.length - 1];
  if (fn === undefined) throw new Error(`poseidonHash: ${values.length} inputs (1..16 supported)`);
  return fn(values.map((v) => fieldElement("poseidon input", v)));
}

/**
 * Poseidon over any number of elements: up to 16 hash at once; beyond that the first 16 hash, then each further
 * group of up to 15 hashes together with the running value (`PoseidonMany(n)` in hash.circom).
 */
export function poseidonMany(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new Error("poseidonMany: no inputs");
  if (values.length <= 16) return poseidonHash(values);
  let acc = poseidonHash(values.slice(0, 16));
  for (let i = 16; i < values.length; i += 15) acc = poseidonHash([acc, ...values.slice(i, i + 15)]);
  return acc;
}

/** A bytes32 hex string as a field element (must already be below the modulus). */
export function bytes32ToField(field: string, hex: string): bigint {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${field}: expected a 0x-prefixed 32-byte hex string`);
  return fieldElement(field, BigInt(hex));
}

/** A field element as a bytes32 hex string. */
export function fieldToBytes32(value: bigint): `0x${string}` {
  return `0x${fieldElement("value", value).toString(16).padStart(64, "0")}`;
}

/** Bytes of a blind: 248 bits, always below the field modulus. */
export const BLIND_BYTES = 31;

/**
 * A fresh secret blind for the commitments of one workload or execution (protocol/values.ts valueHash): 31 random
 * bytes from the OS generator, never derived from the data, so no enumeration of the data opens a commitment.
 */
export function randomBlind(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(BLIND_BYTES));
  return BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}

/** Throws a message naming `field` unless `value` is a blind: a non-zero integer below 2^248 (31 bytes). */
export function blindElement(field: string, value: bigint | number | string): bigint {
  const v = fieldElement(field, value);
  if (v === 0n) throw new Error(`${field}: a blind must not be 0 (make one with randomBlind)`);
  if (v >= 1n << BigInt(8 * BLIND_BYTES)) throw new Error(`${field}: a blind is at most ${BLIND_BYTES} bytes`);
  return v;
}

/** A blind as 0x-prefixed hex of BLIND_BYTES bytes, how the JSON payloads carry it. */
export function blindToHex(blind: bigint): `0x${string}` {
  return `0x${blindElement("blind", blind)
    .toString(16)
    .padStart(2 * BLIND_BYTES, "0")}`;
}

/** A field element committing to arbitrary content (SHA-256 reduced mod p): how step inputs and outputs are hashed. */
export function contentHash(content: string | Uint8Array): bigint {
  return BigInt(`0x${createHash("sha256").update(content).digest("hex")}`) % FIELD_MODULUS;
}
