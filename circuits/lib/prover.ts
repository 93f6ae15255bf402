/**
 * Proof generation and verification for the circuits in circuits/circuits.ts, shared by tasks, keepers, tests and
 * benchmarks. A `Prover` keeps, per circuit, an instantiated witness calculator (the compiled wasm) and the proving
 * key in memory, and snarkjs keeps its BN254 curve (worker threads) alive between proofs: the first proof pays the
 * set-up, the next ones are warm. Call `close()` when done, or the curve's workers keep the process alive.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import type { CircuitSignals, Groth16Proof, PublicSignals } from "snarkjs";

import { circuitSpec } from "../circuits.js";
import { FIELD_MODULUS } from "./field.js";

/** circuits/build: one folder of committed artifacts per circuit. */
export const BUILD_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "build");

export interface CircuitArtifacts {
  readonly dir: string;
  readonly main: string;
  readonly wasm: string;
  readonly zkey: string;
  readonly vkey: string;
}

export function artifactsOf(name: string, buildDir: string = BUILD_DIR): CircuitArtifacts {
  const dir = path.join(buildDir, name);
  return {
    dir,
    main: path.join(dir, "main.circom"),
    wasm: path.join(dir, `${name}.wasm`),
    zkey: path.join(dir, `${name}.zkey`),
    vkey: path.join(dir, "verification_key.json"),
  };
}

/** A Groth16 proof as the generated Solidity verifiers take it (G2 coordinates already swapped). */
export interface SolidityProof {
  readonly a: readonly [bigint, bigint];
  readonly b: readonly [readonly [bigint, bigint], readonly [bigint, bigint]];
  readonly c: readonly [bigint, bigint];
}

export interface ProofResult {
  readonly proof: Groth16Proof;
  /** Public signals in the order of the circuit's spec. */
  readonly publicSignals: readonly bigint[];
  readonly calldata: SolidityProof;
  readonly millis: number;
}

type VerificationKey = Record<string, unknown>;

/** circom_runtime's witness calculator (the engine snarkjs's fullProve builds anew for every proof). */
interface WitnessCalculator {
  calculateWTNSBin(input: CircuitSignals, sanityCheck: boolean): Promise<Uint8Array>;
}
const { WitnessCalculatorBuilder } = createRequire(import.meta.url)("circom_runtime") as {
  WitnessCalculatorBuilder: (wasm: Uint8Array) => Promise<WitnessCalculator>;
};

interface Loaded {
  readonly witness: WitnessCalculator;
  readonly zkey: Uint8Array;
  readonly vkey: VerificationKey;
}

/** Encodes a snarkjs proof for the generated verifiers: `verifyProof(a, b, c, pubSignals)`. */
export function toSolidityProof(proof: Groth16Proof): SolidityProof {
  const n = (s: string | undefined): bigint => {
    if (s === undefined) throw new Error("malformed proof: missing coordinate");
    return BigInt(s);
  };
  const [a0, a1] = proof.pi_a;
  const [b0, b1] = proof.pi_b;
  const [c0, c1] = proof.pi_c;
  if (b0 === undefined || b1 === undefined) throw new Error("malformed proof: pi_b");
  return {
    a: [n(a0), n(a1)],
    b: [
      [n(b0[1]), n(b0[0])],
      [n(b1[1]), n(b1[0])],
    ],
    c: [n(c0), n(c1)],
  };
}

/** The inverse of toSolidityProof: a snarkjs proof to verify off-chain what a contract would be given. */
export function fromSolidityProof(proof: SolidityProof): Groth16Proof {
  const s = (v: bigint) => v.toString();
  return {
    pi_a: [s(proof.a[0]), s(proof.a[1]), "1"],
    pi_b: [
      [s(proof.b[0][1]), s(proof.b[0][0])],
      [s(proof.b[1][1]), s(proof.b[1][0])],
      ["1", "0"],
    ],
    pi_c: [s(proof.c[0]), s(proof.c[1]), "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}

export class Prover {
  readonly #loaded = new Map<string, Promise<Loaded>>();
  /** Per circuit, the last witness computation: one calculator instance computes one witness at a time. */
  readonly #witnessQueue = new Map<string, Promise<unknown>>();

  /** Loads a circuit's artifacts into memory (done on first use anyway; call it to keep it off the clock). */
  async load(name: string): Promise<void> {
    await this.#artifacts(name);
  }

  /** Proves `input` (the template's signal names) for circuit `name`. Throws if no valid witness exists. */
  async prove(name: string, input: CircuitSignals): Promise<ProofResult> {
    const { witness, zkey } = await this.#artifacts(name);
    const started = performance.now();
    let wtns: Uint8Array;
    try {
      const previous = this.#witnessQueue.get(name) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => witness.calculateWTNSBin(input, true));
      this.#witnessQueue.set(name, next);
      wtns = await next;
    } catch (error) {
      throw new Error(`${name}: no valid witness for these inputs (${firstLine(error)})`);
    }
    const out: { proof: Groth16Proof; publicSignals: PublicSignals } = await snarkjs.groth16.prove(zkey, wtns);
    const millis = performance.now() - started;
    return {
      proof: out.proof,
      publicSignals: out.publicSignals.map((s) => BigInt(s)),
      calldata: toSolidityProof(out.proof),
      millis,
    };
  }

  /** Checks a proof off-chain against the circuit's verification key. Signals at or above the field fail. */
  async verify(name: string, proof: Groth16Proof, publicSignals: readonly bigint[]): Promise<boolean> {
    const spec = circuitSpec(name);
    if (publicSignals.some((s) => s < 0n || s >= FIELD_MODULUS)) return false;
    const { vkey } = await this.#artifacts(name);
    const expected = Number(vkey.nPublic);
    if (expected !== publicSignals.length) {
      throw new Error(`${spec.name}: expected ${expected} public signals, got ${publicSignals.length}`);
    }
    return snarkjs.groth16.verify(
      vkey,
      publicSignals.map((s) => s.toString()),
      proof,
    );
  }

  /** Releases snarkjs's curve (its worker threads). */
  async close(): Promise<void> {
    await releaseCurve();
  }

  #artifacts(name: string): Promise<Loaded> {
    circuitSpec(name);
    let loaded = this.#loaded.get(name);
    if (loaded === undefined) {
      loaded = loadArtifacts(name);
      this.#loaded.set(name, loaded);
      loaded.catch(() => this.#loaded.delete(name));
    }
    return loaded;
  }
}

async function loadArtifacts(name: string): Promise<Loaded> {
  const files = artifactsOf(name);
  try {
    const [wasm, zkey, vkey] = await Promise.all([
      readFile(files.wasm),
      readFile(files.zkey),
      readFile(files.vkey, "utf8"),
    ]);
    return { witness: await WitnessCalculatorBuilder(wasm), zkey, vkey: JSON.parse(vkey) as VerificationKey };
  } catch (error) {
    throw new Error(
      `${name}: circuit artifacts missing in ${files.dir}; run \`npm run zk:build\` (${firstLine(error)})`,
    );
  }
}

/**
 * Terminates snarkjs's shared BN254 curve (worker threads that keep the process alive), if one was built: by a
 * proof, a verification, a setup or a witness check. ffjavascript keeps it in a global, null when there is none.
 */
export async function releaseCurve(): Promise<void> {
  const curve = (globalThis as { curve_bn128?: { terminate: () => Promise<void> } | null }).curve_bn128;
  if (curve != null) await curve.terminate();
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
