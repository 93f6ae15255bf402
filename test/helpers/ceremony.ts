/**
 * A small circuit, small powers of tau and a temporary layout for the trusted-setup tests
 * (test/zk/TrustedSetup*.test.ts): the pipeline and the ceremony run on them exactly as on the repository's
 * circuits, without touching the committed keys and in seconds (a 2^8 powers of tau is made here by snarkjs).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import * as snarkjs from "snarkjs";

import type { CircuitSpec } from "../../circuits/circuits.js";
import { layoutAt, type ZkLayout } from "../../scripts/zk/layout.js";

/** c = a x b: two constraints, one public input. */
export const PRODUCT: CircuitSpec = {
  name: "product",
  contract: "ProductVerifier",
  file: "product.circom",
  template: "TestProduct",
  params: [],
  publicSignals: ["c"],
  description: "knowledge of two factors of c (test circuit)",
};

export const PRODUCT_SOURCE = `pragma circom 2.1.0;

// Test circuit for the trusted-setup tests: knowledge of a and b with a * b = c (c public).
template TestProduct() {
    signal input a;
    signal input b;
    signal input c;
    signal ab <== a * b;
    c === ab;
}
`;

/** A powers-of-tau file made here with snarkjs (new, one contribution, prepare phase 2). */
export async function makePtau(dir: string, name: string, power = 8): Promise<string> {
  const { curves } = snarkjs as unknown as { curves: { getCurveFromName: (name: string) => Promise<unknown> } };
  const curve = await curves.getCurveFromName("bn128");
  const base = path.join(dir, `${name}.tmp`);
  const out = path.join(dir, name);
  await snarkjs.powersOfTau.newAccumulator(curve, power, `${base}_0.ptau`);
  await snarkjs.powersOfTau.contribute(`${base}_0.ptau`, `${base}_1.ptau`, "test", randomBytes(32).toString("hex"));
  await snarkjs.powersOfTau.preparePhase2(`${base}_1.ptau`, out);
  return out;
}

export function blake2b(file: string): string {
  return createHash("blake2b512").update(readFileSync(file)).digest("hex");
}

/**
 * A temporary root with the repository's folder structure, the test circuit's source, and a known-ptau table
 * listing `known` (each file's name and blake2b): the files this layout accepts as public ceremony files.
 */
export function productLayout(known: readonly string[]): ZkLayout {
  const root = mkdtempSync(path.join(os.tmpdir(), "aitbc-ceremony-"));
  const layout = layoutAt(root, [PRODUCT]);
  mkdirSync(layout.srcDir, { recursive: true });
  writeFileSync(path.join(layout.srcDir, PRODUCT.file), PRODUCT_SOURCE);
  const table = {
    ptau: known.map((file) => ({
      file: path.basename(file),
      power: 8,
      blake2b: blake2b(file),
      ceremony: "made by the test (stands for a public ceremony file)",
    })),
  };
  writeFileSync(layout.knownPtauFile, `${JSON.stringify(table, null, 2)}\n`);
  return layout;
}

/** The message `promise` rejects with; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected a rejection, but the call succeeded");
}
