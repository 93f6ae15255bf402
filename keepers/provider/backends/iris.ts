/**
 * The built-in reference model: the quantized Iris MLP of circuits/lib/iris.ts, on CPU, in the circuit's exact
 * integer arithmetic, so that its answers are provable. Input: an `iris-features` value; output: an
 * `iris-prediction` whose valueHash is the circuit's outputHash. With `proof: true` it proves the inference with
 * the node's shared warm Prover, under the request's blind (the circuit's private input); the proof's public leaf
 * Poseidon(inputHash, 0, outputHash) is the transcript leaf of a step whose only source is valueHash(input, blind),
 * i.e. what the keeper records at the full and zk levels.
 */
import type { Hex } from "viem";

import { fieldToBytes32 } from "../../../circuits/lib/field.js";
import { irisInfer, irisModelHash, irisProofInput, loadIrisModel, type IrisModel } from "../../../circuits/lib/iris.js";
import { proofStruct } from "../../../protocol/proofs.js";
import { HttpError } from "../../common/http.js";
import { irisFeaturesOf, type Json } from "../../../protocol/values.js";
import { asBadInput, type Backend, type RunContext, type SharedResources, type StepProof } from "./types.js";

let cached: { model: IrisModel; hash: Hex } | undefined;

/** The committed model (read and checked once per process) and its on-chain modelHash. */
export function irisModel(): { model: IrisModel; hash: Hex } {
  if (cached === undefined) {
    const model = loadIrisModel();
    cached = { model, hash: fieldToBytes32(irisModelHash(model)) };
  }
  return cached;
}

/** The inference circuit's public signals, in circuits/circuits.ts order. */
const SIGNAL = { modelHash: 0, inputHash: 1, outputHash: 2, leaf: 3 } as const;

export function createIrisBackend(
  service: { name: string; price: bigint; capacity: number },
  shared: SharedResources,
): Backend {
  const { model, hash } = irisModel();
  return {
    name: service.name,
    kind: "iris",
    stepType: "inference",
    model: hash,
    price: service.price,
    capacity: service.capacity,
    provable: true,
    async run(input: Json, ctx: RunContext) {
      const features = readFeatures(input);
      const result = irisInfer(model, features);
      const output: Json = {
        kind: "iris-prediction",
        predictedClass: result.predictedClass,
        scores: result.scores.map((s) => s.toString()),
      };
      if (!ctx.proof) return { output };
      ctx.signal.throwIfAborted();
      return { output, proof: await prove(shared, model, features, ctx.blind) };
    },
    async close() {
      // The Prover is shared: SharedResources.close releases it.
    },
  };
}

function readFeatures(input: Json): bigint[] {
  try {
    const features = irisFeaturesOf(input, "input");
    features.forEach((f, i) => {
      if (f < 0n || f > 255n) throw new Error(`input.features[${i}]: ${f} is outside [0, 255] (10 x cm)`);
    });
    return features;
  } catch (error) {
    throw asBadInput(error, "input", { input: "input" });
  }
}

async function prove(shared: SharedResources, model: IrisModel, features: bigint[], blind: bigint): Promise<StepProof> {
  const result = await shared.prover.prove("inference", irisProofInput(model, features, blind));
  const signal = (name: keyof typeof SIGNAL) => {
    const value = result.publicSignals[SIGNAL[name]];
    if (value === undefined) throw new HttpError(500, "proof-failed", `inference proof: no public ${name}`);
    return value.toString();
  };
  const p = proofStruct(result.calldata);
  const dec = (pair: readonly [bigint, bigint]): [string, string] => [pair[0].toString(), pair[1].toString()];
  return {
    inputHash: signal("inputHash"),
    outputHash: signal("outputHash"),
    proof: { a: dec(p.a), b: [dec(p.b[0]), dec(p.b[1])], c: dec(p.c) },
    millis: Math.round(result.millis),
  };
}
