/**
 * What the `zk ceremony init | contribute | verify | seal` actions share (ceremony-*.ts beside this file): the
 * circuit and its ceremony folder from the flags, the ceremony's powers of tau, errors as plugin errors. The
 * ceremony itself: scripts/zk/ceremony.ts; the walkthrough: circuits/README.md.
 */
import { existsSync } from "node:fs";
import path from "node:path";

import { HardhatPluginError } from "hardhat/plugins";

import { releaseCurve } from "../../../circuits/lib/prover.js";
import { required } from "../../lib/args.js";
import type { Transcript } from "../../zk/ceremony.js";
import { ceremonyDir, findCircuit, REPO_LAYOUT } from "../../zk/layout.js";

export const layout = REPO_LAYOUT;

export interface Common {
  circuit: string;
  dir: string;
}

/** The circuit (checked against circuits/circuits.ts) and its ceremony folder. */
export function target(args: Common): { circuit: string; dir: string } {
  const circuit = findCircuit(layout, required("circuit", args.circuit)).name;
  return { circuit, dir: args.dir === "" ? ceremonyDir(layout, circuit) : path.resolve(args.dir) };
}

/** The ceremony's powers of tau: --ptau, else the development file when the ceremony is over it. */
export function ceremonyPtau(ptau: string, transcript: Transcript): string {
  if (ptau !== "") return path.resolve(ptau);
  const dev = path.join(layout.cacheDir, "ptau", transcript.ptau.file);
  if (transcript.ptau.development && existsSync(dev)) return dev;
  throw new Error(`--ptau: give the powers of tau of the ceremony (${transcript.ptau.known ?? transcript.ptau.file})`);
}

export async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  } finally {
    await releaseCurve();
  }
}

export const seconds = (started: number): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
