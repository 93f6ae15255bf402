/**
 * A workflow as the keeper runs it: the on-chain definition (its full spec lives in the calldata of the
 * `defineWorkflow` transaction; the chain keeps only its hash, which is checked here), turned into a plan: the
 * DAG in topological order, each step's input mapping parsed and checked against its dependencies.
 *
 * Input mappings (`StepSpec.inputMapping`, free text on chain) are JSON templates. A string that is a reference
 * is replaced by the value it names: `$in` (the execution's inputs), `$3` (step 3's output; step 3 must be a
 * dependency), each optionally followed by a path (`$in.cm`, `$0.scores.1`). Inside longer strings,
 * `{{$3.label}}` interpolates. An empty mapping means `$in` for a root, `$d` for one dependency, `[$d1, $d2, ..]`
 * for several.
 */
import { decodeFunctionData, encodeAbiParameters, keccak256, type PublicClient, type Hex } from "viem";

import { workflowsAbi } from "../../protocol/abi.js";
import { stepTypeName } from "../../protocol/steps.js";
import type { Json } from "../../protocol/values.js";
import { VERIFICATION_LEVELS, type LevelName, type StepTypeName } from "../../protocol/enums.js";
import { checkRunnable, INTERPOLATION, REF, type WorkflowSpec } from "../../protocol/workflow-spec.js";
import { DefinitiveError } from "../common/errors.js";

export interface StepPlan {
  index: number;
  stepType: StepTypeName;
  model: Hex;
  /** The parsed input mapping. */
  mapping: Json;
  outputName: string;
  deps: number[];
  /** Per-attempt time limit (ms); 0 = the keeper's default. */
  timeoutMs: number;
  maxRetries: number;
  /** Wait before retry k (1-based) is backoffMs × 2^(k-1). */
  backoffMs: number;
  requiresProof: boolean;
}

export interface WorkflowPlan {
  workflowId: bigint;
  name: string;
  level: LevelName;
  maxExecutionTimeMs: number;
  maxBudget: bigint;
  specHash: Hex;
  steps: StepPlan[];
  /** Step indices in a topological order (dependencies first). */
  order: number[];
}

/** The ABI parameters of Workflows.defineWorkflow (one WorkflowSpec tuple). */
const DEFINE_INPUTS = (() => {
  const fn = workflowsAbi.find((f) => f.type === "function" && f.name === "defineWorkflow");
  if (fn?.type !== "function") throw new Error("abi: Workflows.defineWorkflow is missing");
  return fn.inputs;
})();

/** The workflow's spec cannot be read (it is not the keeper's fault nor a transient RPC failure): definitive. */
export class SpecUnavailableError extends DefinitiveError {
  override name = "SpecUnavailableError";
}

/** keccak256(abi.encode(spec)): what Workflows stores as the spec hash. */
export function specHashOf(spec: WorkflowSpec): Hex {
  return keccak256(encodeAbiParameters(DEFINE_INPUTS, [spec] as never));
}

/**
 * Reads workflow `workflowId`'s spec from its defining transaction (found through the WorkflowDefined event
 * from `fromBlock`) and checks it against the hash on chain.
 */
export async function fetchWorkflowSpec(
  client: PublicClient,
  workflows: Hex,
  workflowId: bigint,
  fromBlock: bigint,
): Promise<WorkflowSpec> {
  const onChain = await client.readContract({
    address: workflows,
    abi: workflowsAbi,
    functionName: "getWorkflow",
    args: [workflowId],
  });
  const logs = await client.getContractEvents({
    address: workflows,
    abi: workflowsAbi,
    eventName: "WorkflowDefined",
    args: { workflowId },
    fromBlock,
    toBlock: "latest",
  });
  const log = logs.at(-1);
  if (log === undefined)
    throw new SpecUnavailableError(`workflow ${workflowId}: no WorkflowDefined event since block ${fromBlock}`);
  const tx = await client.getTransaction({ hash: log.transactionHash });
  let spec: WorkflowSpec;
  try {
    const decoded = decodeFunctionData({ abi: workflowsAbi, data: tx.input });
    if (decoded.functionName !== "defineWorkflow") throw new Error(`the transaction calls ${decoded.functionName}`);
    const raw = decoded.args[0];
    spec = { ...raw, steps: raw.steps.map((step) => ({ ...step, dependsOn: [...step.dependsOn] })) };
  } catch (error) {
    throw new SpecUnavailableError(
      `workflow ${workflowId}: the spec is not in the calldata of ${log.transactionHash} (${(error as Error).message.split("\n")[0] ?? ""})`,
    );
  }
  const hash = specHashOf(spec);
  if (hash !== onChain.specHash)
    throw new SpecUnavailableError(
      `workflow ${workflowId}: spec hash ${hash} does not match the chain's ${onChain.specHash}`,
    );
  return spec;
}

/**
 * Builds the plan; throws naming the step and field when a dependency or a mapping is not runnable or the graph has
 * a cycle (protocol/workflow-spec.ts checkRunnable: the same rules `workflow define` applies).
 */
export function planWorkflow(workflowId: bigint, spec: WorkflowSpec, specHash: Hex): WorkflowPlan {
  const runnable = checkRunnable(spec);
  const steps = spec.steps.map((s, index): StepPlan => ({
    index,
    stepType: stepTypeName(s.stepType),
    model: s.model,
    mapping: runnable.mappings[index] ?? "$in",
    outputName: s.outputMapping,
    deps: runnable.deps[index] ?? [],
    timeoutMs: s.timeout * 1000,
    maxRetries: s.maxRetries,
    backoffMs: s.retryBackoff * 1000,
    requiresProof: s.requiresProof,
  }));
  const level = VERIFICATION_LEVELS[spec.verification];
  if (level === undefined) throw new Error(`workflow ${workflowId}: unknown verification level ${spec.verification}`);
  return {
    workflowId,
    name: spec.name,
    level,
    maxExecutionTimeMs: Number(spec.maxExecutionTime) * 1000,
    maxBudget: spec.maxBudget,
    specHash,
    steps,
    order: runnable.order,
  };
}

// ---------------------------------------------------------------- input mappings

/** Evaluates a step's mapping over the execution's inputs and its dependencies' outputs. */
export function applyMapping(mapping: Json, inputs: Json, outputs: ReadonlyMap<number, Json>, where = "input"): Json {
  const resolve = (ref: string): Json => {
    const m = REF.exec(ref);
    if (!m?.[1]) throw new Error(`${where}: bad reference ${ref}`);
    let value: Json | undefined = m[1] === "in" ? inputs : outputs.get(Number(m[1]));
    if (value === undefined) throw new Error(`${where}: ${ref}: step ${m[1]} has no output yet`);
    for (const key of (m[2] ?? "").split(".").slice(1)) {
      // Own fields only: "$in.constructor" or "__proto__" must not reach the prototype chain.
      value = Array.isArray(value)
        ? /^\d+$/.test(key)
          ? value[Number(key)]
          : undefined
        : value !== null && typeof value === "object" && Object.hasOwn(value, key)
          ? value[key]
          : undefined;
      if (value === undefined) throw new Error(`${where}: ${ref}: no field "${key}"`);
    }
    return value;
  };
  const walk = (value: Json): Json => {
    if (typeof value === "string") {
      if (REF.test(value)) return resolve(value);
      return value.replace(INTERPOLATION, (_, ref: string) => {
        const v = resolve(ref);
        return typeof v === "string" ? v : JSON.stringify(v);
      });
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(mapping);
}
