/**
 * What the client and the validator share about deterministic work: the reference backend that recomputes an
 * answer (the provider backends' own code: keepers/provider/backends, e.g. the quantized Iris model of
 * circuits/lib/iris.ts), the dispute evidence a client serves and commits to on chain (its hash is the
 * rejection's reasonHash), an agent's registered endpoint, and the client's seeded input stream.
 */
import { keccak256, toHex, type Hex } from "viem";

import { quantizeFeatures } from "../../circuits/lib/iris.js";
import {
  createBackend,
  serviceModelHash,
  type Backend,
  type SharedResources,
} from "../../keepers/provider/backends/index.js";
import { registryAbi } from "../../protocol/abi.js";
import { canonicalJson, valueHashHex, type Json } from "../../protocol/values.js";
import { Random } from "../random.js";
import type { ChainContext } from "./context.js";
import { STEP_TYPE } from "./provider.js";

export type CheckableBackend = keyof typeof STEP_TYPE;

/** The backend that computes the reference answer of `service`, and the modelHash its offers carry. */
export function referenceBackend(
  name: string,
  kind: CheckableBackend,
  shared: SharedResources,
  env: NodeJS.ProcessEnv,
): { backend: Backend; model: Hex; serviceType: Hex } {
  const service = {
    name,
    backend: kind,
    stepType: STEP_TYPE[kind],
    price: 1n,
    capacity: 1,
    minAccuracy: 0,
    upstream: undefined,
  };
  return {
    backend: createBackend(service, shared, env),
    model: serviceModelHash(service),
    serviceType: keccak256(toHex(name)),
  };
}

/** The reference answer of `input`, and its hash under `blind` (what an honest provider's resultHash is). */
export async function referenceResult(
  backend: Backend,
  input: Json,
  blind: bigint,
  timeoutMs = 60_000,
): Promise<{ output: Json; resultHash: Hex }> {
  const { output } = await backend.run(input, { signal: AbortSignal.timeout(timeoutMs), proof: false, blind });
  return { output, resultHash: valueHashHex(output, blind) };
}

/**
 * A client's evidence for a dispute: the workload's input and blind (checkable against the chain's inputHash),
 * the result the provider handed over (null if it handed none), the reference answer the client computed and the
 * resultHash the provider committed to on chain. Fields are strings and JSON values, so that its canonical JSON,
 * and thus its hash, is one.
 */
export interface DisputeEvidence {
  [key: string]: Json;
  workloadId: string;
  round: number;
  input: Json;
  blind: string;
  providerOutput: Json;
  expectedOutput: Json;
  submittedResultHash: string;
}

export function evidenceHash(evidence: DisputeEvidence): Hex {
  return keccak256(toHex(canonicalJson(evidence)));
}

export function blindHex(blind: bigint): Hex {
  return `0x${blind.toString(16).padStart(62, "0")}`;
}

/** The endpoint an agent registered (AgentRegistry.getAgent), or "" if none. */
export async function agentEndpoint(chain: ChainContext, agentId: bigint): Promise<string> {
  const agent = await chain.publicClient.readContract({
    address: chain.addresses.registry,
    abi: registryAbi,
    functionName: "getAgent",
    args: [agentId],
  });
  return agent.endpoint.replace(/\/+$/, "");
}

/** Centimetre means of the three iris species (sepal length, sepal width, petal length, petal width). */
const IRIS_MEANS = [
  [5.0, 3.4, 1.5, 0.2],
  [5.9, 2.8, 4.3, 1.3],
  [6.6, 3.0, 5.6, 2.0],
] as const;

/**
 * The client's input number `seq` from the seeded stream: for iris a flower drawn around one species' means
 * (0.3 cm spread, one decimal, quantized as the circuit reads it); for data a short list of numbers to summarise.
 * Input `seq` depends only on (seed, seq): a restarted client posts the same stream.
 */
export function streamInput(kind: CheckableBackend, seed: number, seq: number): Json {
  const random = new Random((seed * 1_000_003 + seq) >>> 0);
  if (kind === "iris") {
    const means = IRIS_MEANS[random.int(0, 2)] ?? IRIS_MEANS[0];
    const cm = means.map((m) => Math.min(25.5, Math.max(0, Math.round((m + 0.3 * random.normal()) * 10) / 10)));
    return { kind: "iris-features", features: quantizeFeatures(cm).map(Number) };
  }
  return { op: "stats", data: Array.from({ length: 5 }, () => random.int(0, 100)) };
}
