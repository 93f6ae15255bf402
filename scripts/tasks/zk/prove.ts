import { HardhatPluginError } from "hardhat/plugins";
import type { CircuitSignals } from "snarkjs";

import { circuitSpec } from "../../../circuits/circuits.js";
import { Prover } from "../../../circuits/lib/prover.js";
import { required } from "../../lib/args.js";
import { readInputFile, writeProofFile } from "../../lib/proof-file.js";

interface Args {
  circuit: string;
  input: string;
  out: string;
}

/** Proves a circuit input file and writes the proof file (public signals in the circuit's order). */
export default async function prove(args: Args): Promise<void> {
  const prover = new Prover();
  try {
    const spec = circuitSpec(required("circuit", args.circuit));
    const input = readInputFile(required("input", args.input));
    const out = required("out", args.out);
    const result = await prover.prove(spec.name, input as CircuitSignals);
    writeProofFile(out, { circuit: spec.name, publicSignals: [...result.publicSignals], proof: result.proof });
    console.log(
      `${spec.name}: proved in ${result.millis.toFixed(0)} ms; public signals (${spec.publicSignals.join(", ")}):`,
    );
    for (const s of result.publicSignals) console.log(`  ${s}`);
    console.log(`wrote ${out}`);
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  } finally {
    await prover.close();
  }
}
