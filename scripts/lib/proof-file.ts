/** Proof files written by `zk prove` and read by `zk verify`: the circuit, its public signals and the proof. */
import { readFileSync, writeFileSync } from "node:fs";

import type { Groth16Proof } from "snarkjs";

import { circuitSpec } from "../../circuits/circuits.js";

export interface ProofFile {
  circuit: string;
  publicSignals: bigint[];
  proof: Groth16Proof;
}

export function writeProofFile(file: string, content: ProofFile): void {
  const json = { ...content, publicSignals: content.publicSignals.map(String) };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}

export function readProofFile(file: string): ProofFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`--proof: cannot read ${file} (${error instanceof Error ? error.message : String(error)})`);
  }
  const r = raw as { circuit?: unknown; publicSignals?: unknown; proof?: unknown };
  if (typeof r.circuit !== "string") throw new Error(`${file}: circuit: expected a circuit name`);
  circuitSpec(r.circuit);
  if (!Array.isArray(r.publicSignals) || r.publicSignals.some((s) => typeof s !== "string" || !/^\d+$/.test(s))) {
    throw new Error(`${file}: publicSignals: expected decimal strings`);
  }
  const proof = r.proof as Partial<Groth16Proof> | undefined;
  if (!proof || !Array.isArray(proof.pi_a) || !Array.isArray(proof.pi_b) || !Array.isArray(proof.pi_c)) {
    throw new Error(`${file}: proof: expected a snarkjs Groth16 proof (pi_a, pi_b, pi_c)`);
  }
  return {
    circuit: r.circuit,
    publicSignals: (r.publicSignals as string[]).map((s) => BigInt(s)),
    proof: proof as Groth16Proof,
  };
}

/** Reads a circuit input file: signal name -> value or array of values (decimal or 0x strings, numbers). */
export function readInputFile(file: string): Record<string, unknown> {
  try {
    const raw = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("expected an object of signals");
    return raw as Record<string, unknown>;
  } catch (error) {
    throw new Error(`--input: cannot read ${file} (${error instanceof Error ? error.message : String(error)})`);
  }
}
