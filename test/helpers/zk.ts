/**
 * Shared helpers for the circuit tests (test/zk/receipt.test.ts, test/zk/workflow.test.ts): a seeded PRNG, witness
 * computation with the pipeline's compiled circuit (circuits/build/<name>/<name>.wasm, or a temporary compile when
 * the pipeline has not built it yet), and a check that witness computation fails at one named constraint.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import * as snarkjs from "snarkjs";
import type { CircuitSignals } from "snarkjs";

import { circuitSpec, mainComponent, type CircuitSpec } from "../../circuits/circuits.js";
import { artifactsOf } from "../../circuits/lib/prover.js";

export { prng } from "../../circuits/lib/prng.js";

/**
 * The BN254 scalar field (ffjavascript's bn128 `r`): the prime circom compiles for and Groth16 public signals live
 * below. Written out here, independently of circuits/lib/field.ts, and checked against the compiled circuit's prime.
 */
export const BN254_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SRC_DIR = path.join(ROOT, "circuits", "src");

/** A uniform integer in [lo, hi]. */
export function randomInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** A uniform-ish integer in [0, bound) (256 random bits reduced: the bias is irrelevant for tests). */
export function randomBelow(rand: () => number, bound: bigint): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return v % bound;
}

export interface MemFile {
  type: "mem";
  data?: Uint8Array;
}

/** Where a witness computation stopped: the template instances on circom's error stack, innermost first. */
interface Frame {
  readonly template: string;
  readonly line: number;
}

/** A compiled circuit's witness calculator, with its public signals' count and source for locating constraints. */
export class CircuitUnderTest {
  readonly spec: CircuitSpec;
  readonly wasm: string;
  /** The constraint system, when there is one at hand (a compile here makes one; the pipeline keeps none). */
  readonly r1cs: string | undefined;
  /** The temporary folder of a compile here, if any (the pipeline's proving key does not fit such a wasm). */
  readonly compiledHere: boolean;
  readonly #tmp: string | undefined;
  readonly #source: readonly string[];
  /** The wasm, read once (snarkjs still instantiates it per witness). */
  readonly #code: MemFile;

  private constructor(spec: CircuitSpec, wasm: string, r1cs: string | undefined, tmp: string | undefined) {
    this.spec = spec;
    this.wasm = wasm;
    this.r1cs = r1cs;
    this.compiledHere = tmp !== undefined;
    this.#tmp = tmp;
    this.#source = readFileSync(path.join(SRC_DIR, spec.file), "utf8").split("\n");
    this.#code = { type: "mem", data: readFileSync(wasm) };
  }

  /**
   * The pipeline's wasm if it exists (and `compile` is not set), else a compile (the pipeline's flags, plus an
   * r1cs) into a temporary folder, which {close} removes.
   */
  static open(name: string, { compile = false }: { compile?: boolean } = {}): CircuitUnderTest {
    const spec = circuitSpec(name);
    const built = artifactsOf(name);
    if (!compile && existsSync(built.wasm)) {
      const r1cs = path.join(built.dir, `${name}.r1cs`);
      return new CircuitUnderTest(spec, built.wasm, existsSync(r1cs) ? r1cs : undefined, undefined);
    }
    const tmp = mkdtempSync(path.join(os.tmpdir(), `aitbc-${name}-test-`));
    const main = path.join(tmp, "main.circom");
    writeFileSync(main, `pragma circom 2.1.0;\ninclude "${spec.file}";\n${mainComponent(spec)}\n`);
    const circom = path.join(ROOT, "node_modules", ".bin", "circom2");
    try {
      execFileSync(circom, [main, "--r1cs", "--wasm", "--O2", "-l", "node_modules", "-l", SRC_DIR, "-o", tmp], {
        cwd: ROOT,
        stdio: "pipe",
      });
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
    return new CircuitUnderTest(spec, path.join(tmp, "main_js", "main.wasm"), path.join(tmp, "main.r1cs"), tmp);
  }

  /** Removes the temporary compile, if any. */
  close(): void {
    if (this.#tmp !== undefined) rmSync(this.#tmp, { recursive: true, force: true });
  }

  /**
   * Computes the witness of `input` (the template's input signals; throws if a constraint fails) and returns its
   * first `publicCount` signals after the constant 1: the public inputs, in verifier order.
   */
  async witness(input: object, publicCount: number): Promise<bigint[]> {
    const { values } = await this.#calculate(input, 1 + publicCount);
    expect(values[0], "witness[0]").to.equal(1n);
    return values.slice(1);
  }

  /** The prime field of a witness of `input`, from the witness file's header. */
  async prime(input: object): Promise<bigint> {
    return (await this.#calculate(input, 0)).prime;
  }

  /** Computes a witness and reads its header's prime and its first `count` values from the .wtns bytes. */
  async #calculate(input: object, count: number): Promise<{ prime: bigint; values: bigint[] }> {
    const wtns: MemFile = { type: "mem" };
    await quietly(() => snarkjs.wtns.calculate(input as CircuitSignals, this.#code, wtns));
    const data = wtns.data;
    if (data === undefined) throw new Error("no witness data");
    expect(new TextDecoder().decode(data.subarray(0, 4))).to.equal("wtns");
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const le = (at: number, n8: number): bigint => {
      let v = 0n;
      for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i] ?? 0);
      return v;
    };
    // Sections after magic, version and section count: type (u32), size (u64), data. 1: n8, prime, count; 2: values.
    const sections = new Map<number, number>();
    for (let at = 12; at < data.byteLength; at += 12 + Number(view.getBigUint64(at + 4, true))) {
      sections.set(view.getUint32(at, true), at + 12);
    }
    const header = sections.get(1);
    const body = sections.get(2);
    if (header === undefined || body === undefined) throw new Error("witness: missing sections");
    const n8 = view.getUint32(header, true);
    const prime = le(header + 4, n8);
    const values = Array.from({ length: count }, (_, i) => le(body + i * n8, n8));
    return { prime, values };
  }

  /**
   * Expects witness computation to fail at the constraint on the one source line of the circuit's file that
   * contains `constraint` (an assertion of the enclosing template, or a sub-component built on that line).
   */
  async expectNoWitness(input: object, constraint: string): Promise<void> {
    const expected = this.#locate(constraint);
    let error: unknown;
    try {
      await quietly(() => snarkjs.wtns.calculate(input as CircuitSignals, this.#code, { type: "mem" }));
    } catch (e) {
      error = e;
    }
    expect(error, `expected no witness (failing at "${constraint}")`).to.be.instanceOf(Error);
    const message = (error as Error).message;
    expect(message).to.match(/Assert Failed/);
    const frames: Frame[] = [...message.matchAll(/Error in template (\w+)_\d+ line: (\d+)/g)].map((m) => ({
      template: m[1] ?? "",
      line: Number(m[2]),
    }));
    expect(frames, `failing constraint (${message.trim()})`).to.deep.include(expected);
  }

  /** The template and line of the unique source line containing `snippet`. */
  #locate(snippet: string): Frame {
    const hits = this.#source.flatMap((text, i) => (text.includes(snippet) ? [i] : []));
    const [index] = hits;
    if (index === undefined || hits.length !== 1) {
      throw new Error(`${this.spec.file}: "${snippet}" is on ${hits.length} lines (expected one)`);
    }
    for (let i = index; i >= 0; i--) {
      const m = /^template (\w+)\(/.exec(this.#source[i] ?? "");
      if (m?.[1] !== undefined) return { template: m[1], line: index + 1 };
    }
    throw new Error(`${this.spec.file}: "${snippet}" is outside any template`);
  }
}

/** Runs `fn` without the witness calculator's console.error dump of failed assertions (the error carries it). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => undefined;
  try {
    return await fn();
  } finally {
    console.error = original;
  }
}

/** Awaits a promise that must reject; returns its error. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`rejected with a non-Error: ${String(e)}`);
  }
  throw new Error("expected a rejection");
}
