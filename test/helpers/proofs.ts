/**
 * Helpers for the on-chain zero-knowledge tests (test/zk/ReceiptMinter, ProvenWorkflows, ZkMarketplace): Iris
 * inference proofs as the contracts take them, and tampered copies of a Groth16 proof.
 */
import { keccak256, toUtf8Bytes } from "ethers";

import { irisProofInput, type IrisModel } from "../../circuits/lib/iris.js";
import type { Prover } from "../../circuits/lib/prover.js";
import { proofStruct, type Groth16ProofStruct } from "../../protocol/proofs.js";

/** The BN254 base field: the proof points' coordinates live below it. */
export const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/**
 * The blind the tests' commitments use (a fixed 31-byte value, so fixtures are deterministic; the product makes
 * a random one per execution or workload, circuits/lib/field.ts randomBlind).
 */
export const TEST_BLIND = BigInt(keccak256(toUtf8Bytes("test blind"))) >> 8n;

/** An inference proof (circuits/src/inference.circom) and its four public signals. */
export interface IrisProof {
  readonly modelHash: bigint;
  readonly inputHash: bigint;
  readonly outputHash: bigint;
  /**
   * Poseidon(inputHash, 0, outputHash): the transcript leaf (circuits/lib/workflow.ts stepLeaf of a root on
   * inputHash, or of a step with one dependency outputting inputHash) / marketplace result it proves.
   */
  readonly leaf: bigint;
  readonly proof: Groth16ProofStruct;
}

/** Proves `model` on `features` under `blind` and checks the proof's public signals against the JS reference. */
export async function proveIris(
  prover: Prover,
  model: IrisModel,
  features: readonly bigint[],
  blind = TEST_BLIND,
): Promise<IrisProof> {
  const input = irisProofInput(model, features, blind);
  const result = await prover.prove("inference", input);
  const expected = [input.modelHash, input.inputHash, input.outputHash, input.leaf].map((s) => BigInt(s));
  if (result.publicSignals.join() !== expected.join()) {
    throw new Error("inference: the proof's public signals differ from irisProofInput's");
  }
  return {
    modelHash: BigInt(input.modelHash),
    inputHash: BigInt(input.inputHash),
    outputHash: BigInt(input.outputHash),
    leaf: BigInt(input.leaf),
    proof: proofStruct(result.calldata),
  };
}

/** IWorkflows.InferenceProof of an Iris proof (fields replaceable, to build wrong statements). */
export function inferenceProof(p: IrisProof, overrides: { inputHash?: bigint; outputHash?: bigint } = {}) {
  return {
    inputHash: overrides.inputHash ?? p.inputHash,
    outputHash: overrides.outputHash ?? p.outputHash,
    proof: p.proof,
  };
}

/** A deep copy (proofStruct copies its argument). */
const copy = (p: Groth16ProofStruct): Groth16ProofStruct => proofStruct(p);

/**
 * Copies of `proof` with one thing changed each: a coordinate of A, B or C moved by one (the point leaves the
 * curve) and A or C negated (still a curve point, so only the pairing check can tell). Every one must fail.
 */
export function tamperedProofs(proof: Groth16ProofStruct): [string, Groth16ProofStruct][] {
  const aOff = copy(proof);
  aOff.a[0] = (aOff.a[0] + 1n) % BASE_FIELD;
  const bOff = copy(proof);
  bOff.b[0][1] = (bOff.b[0][1] + 1n) % BASE_FIELD;
  const cOff = copy(proof);
  cOff.c[1] = (cOff.c[1] + 1n) % BASE_FIELD;
  const aNeg = copy(proof);
  aNeg.a[1] = BASE_FIELD - aNeg.a[1];
  const cNeg = copy(proof);
  cNeg.c[1] = BASE_FIELD - cNeg.c[1];
  return [
    ["A off the curve", aOff],
    ["B off the curve", bOff],
    ["C off the curve", cOff],
    ["A negated", aNeg],
    ["C negated", cNeg],
  ];
}
