/**
 * Where the circuit pipeline and the phase-2 ceremony read and write: the repository's folders, or the same
 * structure under another root (the tests build and run ceremonies on a small circuit in a temporary folder, so
 * the committed keys are never touched).
 */
import path from "node:path";

import { CIRCUITS, type CircuitSpec } from "../../circuits/circuits.js";
import { artifactsOf, BUILD_DIR, type CircuitArtifacts } from "../../circuits/lib/prover.js";

export interface ZkLayout {
  /** Paths recorded in the manifest and the transcripts are relative to this folder. */
  readonly root: string;
  /** The circuits this layout builds (the repository: circuits/circuits.ts). */
  readonly circuits: readonly CircuitSpec[];
  /** circom sources (circuits/src). */
  readonly srcDir: string;
  /** Committed artifacts, one folder per circuit, and manifest.json (circuits/build). */
  readonly buildDir: string;
  /** Generated Solidity verifiers (contracts/zk/verifiers). */
  readonly verifierDir: string;
  /** Git-ignored working files: compiled constraint systems, the development powers of tau, ceremonies (.cache). */
  readonly cacheDir: string;
  /** The table of public powers-of-tau ceremony files (circuits/ptau-known.json). */
  readonly knownPtauFile: string;
}

/** The repository's own folders. */
export const REPO_LAYOUT: ZkLayout = layoutAt(path.resolve(BUILD_DIR, "..", ".."), CIRCUITS);

/** The repository's folder structure under `root`, building `circuits`. */
export function layoutAt(root: string, circuits: readonly CircuitSpec[]): ZkLayout {
  return {
    root,
    circuits,
    srcDir: path.join(root, "circuits", "src"),
    buildDir: path.join(root, "circuits", "build"),
    verifierDir: path.join(root, "contracts", "zk", "verifiers"),
    cacheDir: path.join(root, ".cache"),
    knownPtauFile: path.join(root, "circuits", "ptau-known.json"),
  };
}

/** The repository's node_modules (circom2, circomlib includes, snarkjs templates), whatever the layout. */
export const NODE_MODULES = path.join(REPO_LAYOUT.root, "node_modules");

export function manifestPath(layout: ZkLayout): string {
  return path.join(layout.buildDir, "manifest.json");
}

export function artifacts(layout: ZkLayout, name: string): CircuitArtifacts {
  return artifactsOf(name, layout.buildDir);
}

/** The committed transcript of the ceremony that made a circuit's proving key (absent for development builds). */
export function transcriptPath(layout: ZkLayout, name: string): string {
  return path.join(layout.buildDir, name, "transcript.json");
}

export function verifierPath(layout: ZkLayout, spec: CircuitSpec): string {
  return path.join(layout.verifierDir, `${spec.contract}.sol`);
}

/** The default working folder of a circuit's ceremony (intermediate keys are large and never committed). */
export function ceremonyDir(layout: ZkLayout, name: string): string {
  return path.join(layout.cacheDir, "ceremony", name);
}

export function findCircuit(layout: ZkLayout, name: string): CircuitSpec {
  const spec = layout.circuits.find((c) => c.name === name);
  if (spec === undefined) {
    throw new Error(`unknown circuit "${name}" (known: ${layout.circuits.map((c) => c.name).join(", ")})`);
  }
  return spec;
}
