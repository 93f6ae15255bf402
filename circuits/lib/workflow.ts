/**
 * Workflow execution transcripts (circuits/src/workflow.circom): how a proven step's transcript leaf is derived, how dependencies are packed into public inputs (Workflows.sol packs them the same way), and
 * the chunk circuit's inputs.
 */
import { WORKFLOW_CHUNK, WORKFLOW_MAX_DEPS, WORKFLOW_MAX_STEPS } from "../circuits.js";
import { fieldElement, poseidonHash, poseidonMany } from "./field.js";

/** Bits per dependency slot: the dependency's index + 1 (0 = empty slot). */
export const SLOT_BITS = 7;
/** Steps whose slots share one public input (252 bits). */
export const STEPS_PER_DEPS_WORD = Math.floor(252 / (SLOT_BITS * WORKFLOW_MAX_DEPS));
/** Packed dependency words per chunk. */
export const DEPS_WORDS = Math.ceil(WORKFLOW_CHUNK / STEPS_PER_DEPS_WORD);

export interface TranscriptStep {
  /** Indices of the step's dependencies: ascending, each below the step's own index. */
  readonly deps: readonly number[];
  /** Hash of the step's output (a field element). */
  readonly outputHash: bigint;
}

export interface Transcript {
  readonly inputsHash: bigint;
  readonly steps: readonly TranscriptStep[];
  /** Per step: Poseidon(what it read, its output hash): what the provider signs and the chain records. */
  readonly leaves: readonly bigint[];
  /** PoseidonMany over the output hashes padded with zeros to WORKFLOW_MAX_STEPS. */
  readonly outputsRoot: bigint;
  /** The last step's output hash: the workflow's result. */
  readonly resultHash: bigint;
}

/** Checks a proven workflow's dependency lists: at most MAX_DEPS each, ascending, each below the step. */
export function checkProvenDeps(deps: readonly (readonly number[])[]): void {
  if (deps.length === 0 || deps.length > WORKFLOW_MAX_STEPS) {
    throw new Error(`steps: a proven workflow has 1..${WORKFLOW_MAX_STEPS} steps (got ${deps.length})`);
  }
  deps.forEach((list, i) => {
    if (list.length > WORKFLOW_MAX_DEPS) {
      throw new Error(`steps[${i}].deps: at most ${WORKFLOW_MAX_DEPS} dependencies (got ${list.length})`);
    }
    list.forEach((d, k) => {
      if (!Number.isInteger(d) || d < 0 || d >= i)
        throw new Error(`steps[${i}].deps[${k}]: ${d} is not an earlier step`);
      if (k > 0 && d <= (list[k - 1] ?? -1)) throw new Error(`steps[${i}].deps: must be strictly ascending`);
    });
  });
}

/**
 * A step's transcript leaf: Poseidon(x_0, .., x_{MAX_DEPS-1}, outputHash), the x_k being the output hashes of its
 * dependencies (ascending, zero-padded), or [inputsHash, 0, ..] for a root (no dependency).
 */
export function stepLeaf(inputsHash: bigint, depOutputs: readonly bigint[], outputHash: bigint): bigint {
  if (depOutputs.length > WORKFLOW_MAX_DEPS) throw new Error(`deps: at most ${WORKFLOW_MAX_DEPS}`);
  const xs = Array.from({ length: WORKFLOW_MAX_DEPS }, (_, k) =>
    fieldElement(`deps[${k}] output`, depOutputs[k] ?? 0n),
  );
  if (depOutputs.length === 0) xs[0] = fieldElement("inputsHash", inputsHash);
  return poseidonHash([...xs, fieldElement("outputHash", outputHash)]);
}

export function buildTranscript(inputsHash: bigint, steps: readonly TranscriptStep[]): Transcript {
  fieldElement("inputsHash", inputsHash);
  checkProvenDeps(steps.map((s) => s.deps));
  const outs = steps.map((s, i) => fieldElement(`steps[${i}].outputHash`, s.outputHash));
  const padded = Array.from({ length: WORKFLOW_MAX_STEPS }, (_, i) => outs[i] ?? 0n);
  return {
    inputsHash,
    steps,
    leaves: steps.map((s, i) =>
      stepLeaf(
        inputsHash,
        s.deps.map((d) => outs[d] ?? 0n),
        outs[i] ?? 0n,
      ),
    ),
    outputsRoot: poseidonMany(padded),
    resultHash: outs[outs.length - 1] ?? 0n,
  };
}

/** The packed dependency words of the chunk starting at `start` (Workflows.sol builds the same from storage). */
export function packDeps(deps: readonly (readonly number[])[], start: number): bigint[] {
  const words = Array.from({ length: DEPS_WORDS }, () => 0n);
  for (let l = 0; l < WORKFLOW_CHUNK; l++) {
    const list = deps[start + l] ?? [];
    list.forEach((d, s) => {
      const bit = BigInt(((l % STEPS_PER_DEPS_WORD) * WORKFLOW_MAX_DEPS + s) * SLOT_BITS);
      const w = Math.floor(l / STEPS_PER_DEPS_WORD);
      words[w] = (words[w] ?? 0n) | (BigInt(d + 1) << bit);
    });
  }
  return words;
}

export interface ChunkStatement {
  readonly outputsRoot: bigint;
  readonly inputsHash: bigint;
  readonly start: number;
  readonly stepCount: number;
  readonly resultHash: bigint;
  readonly deps: bigint[];
  readonly leaves: bigint[];
}

/** Number of chunk proofs a workflow of `stepCount` steps needs. */
export function chunkCount(stepCount: number): number {
  return Math.ceil(stepCount / WORKFLOW_CHUNK);
}

/** The public statement and full circuit input of chunk `chunk` of a transcript. */
export function chunkProofInput(
  transcript: Transcript,
  chunk: number,
): { statement: ChunkStatement; input: Record<string, bigint | bigint[] | number> } {
  const n = transcript.steps.length;
  if (!Number.isInteger(chunk) || chunk < 0 || chunk >= chunkCount(n)) {
    throw new Error(`chunk: ${chunk} is not a chunk of a ${n}-step transcript`);
  }
  const start = chunk * WORKFLOW_CHUNK;
  const statement: ChunkStatement = {
    outputsRoot: transcript.outputsRoot,
    inputsHash: transcript.inputsHash,
    start,
    stepCount: n,
    resultHash: transcript.resultHash,
    deps: packDeps(
      transcript.steps.map((s) => s.deps),
      start,
    ),
    leaves: Array.from({ length: WORKFLOW_CHUNK }, (_, l) => transcript.leaves[start + l] ?? 0n),
  };
  const outs = Array.from({ length: WORKFLOW_MAX_STEPS }, (_, i) => transcript.steps[i]?.outputHash ?? 0n);
  return { statement, input: { ...statement, outs } };
}

/** The statement as the verifier's public signals, in circuits.ts order. */
export function chunkPublicSignals(s: ChunkStatement): bigint[] {
  return [s.outputsRoot, s.inputsHash, BigInt(s.start), BigInt(s.stepCount), s.resultHash, ...s.deps, ...s.leaves];
}
