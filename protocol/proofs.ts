/**
 * Proofs as the contracts take them: Groth16Proof structs, workflow chunk proofs for Workflows.recordProvenSteps,
 * receipt proofs for ReceiptMinter.mint. Shared by tasks, tests, benchmarks and the keeper.
 */
import { chunkProofInput, type Transcript } from "../circuits/lib/workflow.js";
import { fieldToBytes32 } from "../circuits/lib/field.js";
import type { Prover, SolidityProof } from "../circuits/lib/prover.js";

/** IZkVerifiers.sol's Groth16Proof. */
export interface Groth16ProofStruct {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

export function proofStruct(p: SolidityProof): Groth16ProofStruct {
  return {
    a: [p.a[0], p.a[1]],
    b: [
      [p.b[0][0], p.b[0][1]],
      [p.b[1][0], p.b[1][1]],
    ],
    c: [p.c[0], p.c[1]],
  };
}

/** IWorkflows.TranscriptProof. */
export interface TranscriptProofStruct {
  outputsRoot: string;
  resultHash: string;
  proof: Groth16ProofStruct;
}

/** Proves chunk `chunk` of `transcript`; returns the TranscriptProof and the proving time. */
export async function proveChunk(
  prover: Prover,
  transcript: Transcript,
  chunk: number,
): Promise<{ transcript: TranscriptProofStruct; millis: number }> {
  const { input } = chunkProofInput(transcript, chunk);
  const result = await prover.prove("workflow", input);
  return {
    transcript: {
      outputsRoot: fieldToBytes32(transcript.outputsRoot),
      resultHash: fieldToBytes32(transcript.resultHash),
      proof: proofStruct(result.calldata),
    },
    millis: result.millis,
  };
}
