/**
 * The circuits AITBC proves, declared once. `npm run zk:build` turns each entry into a generated main component
 * (circuits/build/<name>/main.circom), a compiled circuit, a Groth16 proving key with a phase-2 contribution, a
 * verification key and a Solidity verifier (contracts/zk/verifiers/<Contract>.sol); `npm run zk:check` proves
 * the committed artifacts still match these sources. Every public signal is a public *input* of the template,
 * in the order listed here, which is the order of the verifier's `_pubSignals`.
 */
export interface CircuitSpec {
  /** Artifact folder and prover key: circuits/build/<name>/. */
  readonly name: string;
  /** The generated verifier contract. */
  readonly contract: string;
  /** The circom file in circuits/src/ that defines `template`. */
  readonly file: string;
  readonly template: string;
  /** Template parameters, in order. */
  readonly params: readonly number[];
  /** The template's public inputs, in verifier order. */
  readonly publicSignals: readonly string[];
  readonly description: string;
}

/** Merkle depth of the receipt tree: 2^16 receipt commitments per published root. */
export const RECEIPT_TREE_DEPTH = 16;
/**
 * Receipt notes: a receipt of `units` mints one note of 2^k units per set bit k (k < RECEIPT_NOTE_BITS, the bits
 * of the units the circuit range-checks), each with its own nullifier; see circuits/src/receipt.circom.
 */
export const RECEIPT_NOTE_BITS = 64;
/** Steps one workflow proof covers; longer workflows prove in several chunks over the same transcript. */
export const WORKFLOW_CHUNK = 32;
/** Most steps a proven (full / zk) workflow may have. */
export const WORKFLOW_MAX_STEPS = 64;
/**
 * Most dependencies a step of a proven workflow may have (a wider join chains merge steps). Each slot costs a
 * 64-way selection in every step of the circuit: 2 keeps a 32-step chunk proof under 3 s on 2 cores.
 */
export const WORKFLOW_MAX_DEPS = 2;

export const CIRCUITS: readonly CircuitSpec[] = [
  {
    name: "receipt",
    contract: "ReceiptVerifier",
    file: "receipt.circom",
    template: "ReceiptNoteMint",
    params: [RECEIPT_TREE_DEPTH],
    publicSignals: ["root", "nullifier", "recipient", "rate", "denomination"],
    description: "a note of 2^denomination units of a compute receipt in an attested receipt tree, its nullifier",
  },
  {
    name: "workflow",
    contract: "WorkflowVerifier",
    file: "workflow.circom",
    template: "WorkflowChunk",
    params: [WORKFLOW_CHUNK, WORKFLOW_MAX_STEPS, WORKFLOW_MAX_DEPS],
    publicSignals: ["outputsRoot", "inputsHash", "start", "stepCount", "resultHash", "deps", "leaves"],
    description: "a chunk of an execution transcript respects the workflow DAG and binds the recorded leaves",
  },
  {
    name: "inference",
    contract: "InferenceVerifier",
    file: "inference.circom",
    template: "IrisInference",
    params: [],
    publicSignals: ["modelHash", "inputHash", "outputHash", "leaf"],
    description: "output = model(input) for the quantized Iris MLP whose weights hash to modelHash",
  },
];

export function circuitSpec(name: string): CircuitSpec {
  const spec = CIRCUITS.find((c) => c.name === name);
  if (spec === undefined)
    throw new Error(`unknown circuit "${name}" (known: ${CIRCUITS.map((c) => c.name).join(", ")})`);
  return spec;
}

/** The circuit's `component main` statement: its template, parameters and public signals (build and tests alike). */
export function mainComponent(spec: CircuitSpec): string {
  const publics = [...new Set(spec.publicSignals)].join(", ");
  return `component main {public [${publics}]} = ${spec.template}(${spec.params.join(", ")});`;
}
