/**
 * Workflow specifications as JSON files (what `workflow define` reads and keepers rebuild), converted to the
 * on-chain `IWorkflows.WorkflowSpec`. Steps name their dependencies by id; errors name the file and the field.
 *
 * {
 *   "name": "iris-pipeline",
 *   "maxExecutionTime": "1h",            // seconds or 15m / 2h / 7d
 *   "maxBudget": "100",                  // AITBC
 *   "verification": "basic",             // basic | full | zk
 *   "steps": [
 *     { "id": "features", "type": "data-processing", "model": "aitbc.data.v1",
 *       "input": { "op": "iris-features", "cm": "$in.cm" }, "output": "features" },
 *     { "id": "classify", "type": "inference", "model": "iris-mlp", "dependsOn": ["features"],
 *       "input": "$features", "timeout": 30, "maxRetries": 2, "retryBackoff": 5, "requiresProof": true }
 *   ]
 * }
 *
 * `model` is a name (stored as its keccak256, e.g. an OpenAI-compatible model name, or "aitbc.data.v1" for the
 * provider nodes' data processing), `iris-mlp` (the built-in reference model: its Poseidon weight commitment), or a
 * 0x bytes32. `input` is the step's input mapping (keepers/keeper/workflow.ts): a JSON template whose strings
 * `$in[.path]` and `$<step id>[.path]` (or `{{...}}` inside text) name the execution's inputs and a dependency's
 * output; step ids are stored as step indices.
 *
 * What the chain does not check and a keeper needs, checked here once for both `workflow define` and the keeper
 * ({checkRunnable}): no unknown key (a typo such as `depends_on` or `timout` would be silently dropped), every
 * mapping JSON and naming only `$in` and the step's own dependencies, no cycle.
 */
import { readFileSync } from "node:fs";

import { keccak256, parseUnits, toHex, zeroHash, type Hex } from "viem";

import { fieldToBytes32 } from "../circuits/lib/field.js";
import { irisModelHash, loadIrisModel } from "../circuits/lib/iris.js";
import { STEP_TYPES, VERIFICATION_LEVELS } from "./enums.js";
import type { Json as Value } from "./values.js";

/** IWorkflows.StepSpec with numbers for its small integers. */
export interface StepSpec {
  stepType: number;
  model: Hex;
  inputMapping: string;
  outputMapping: string;
  timeout: number;
  maxRetries: number;
  retryBackoff: number;
  requiresProof: boolean;
  dependsOn: number[];
}

/**
 * IWorkflows.WorkflowSpec: what `defineWorkflow` takes and what a keeper decodes back from its calldata. Its
 * fields are assignable to the ethers (TypeChain) struct and to viem's argument type alike.
 */
export interface WorkflowSpec {
  name: string;
  steps: StepSpec[];
  maxExecutionTime: bigint;
  maxBudget: bigint;
  verification: number;
}

type Json = Record<string, unknown>;

export function readWorkflowSpec(file: string): WorkflowSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: cannot read a JSON workflow (${error instanceof Error ? error.message : String(error)})`);
  }
  return toWorkflowSpec(raw, file);
}

export function toWorkflowSpec(raw: unknown, where = "workflow"): WorkflowSpec {
  const fail = (field: string, message: string): never => {
    throw new Error(`${where}: ${field} ${message}`);
  };
  if (typeof raw !== "object" || raw === null) fail("(root)", "must be an object");
  const spec = raw as Json;
  unknownKeys(spec, ROOT_KEYS, "", fail);
  const name = spec.name;
  if (typeof name !== "string" || name === "") fail("name", "must be a non-empty string");
  const steps = spec.steps;
  if (!Array.isArray(steps) || steps.length === 0) fail("steps", "must be a non-empty array");
  const list = steps as unknown[] as Json[];
  const index = new Map<string, number>();
  (steps as unknown[]).forEach((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) fail(`steps[${i}]`, "must be an object");
    const step = item as Json;
    unknownKeys(step, STEP_KEYS, `steps[${i}].`, fail);
    const stepId = step.id;
    if (typeof stepId !== "string" || stepId === "") fail(`steps[${i}].id`, "must be a non-empty string");
    if (index.has(stepId as string)) fail(`steps[${i}].id`, `"${String(stepId)}" is used twice`);
    index.set(stepId as string, i);
  });
  const str = (v: unknown, field: string): string => {
    if (v === undefined) return "";
    if (typeof v !== "string") fail(field, "must be a string");
    return v as string;
  };
  const int = (v: unknown, field: string, max: number): number => {
    if (v === undefined) return 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) fail(field, `must be an integer 0..${max}`);
    return v as number;
  };
  const converted: WorkflowSpec = {
    name: name as string,
    maxExecutionTime: seconds(spec.maxExecutionTime, `${where}: maxExecutionTime`),
    maxBudget: amount(spec.maxBudget, `${where}: maxBudget`),
    verification: choice(spec.verification ?? "basic", VERIFICATION_LEVELS, `${where}: verification`),
    steps: list.map((step, i) => {
      const at = `steps[${i}]`;
      const deps = step.dependsOn ?? [];
      if (!Array.isArray(deps)) fail(`${at}.dependsOn`, "must be an array of step ids");
      const model = str(step.model, `${at}.model`);
      return {
        stepType: choice(step.type, STEP_TYPES, `${where}: ${at}.type`),
        model: modelHash(model, `${where}: ${at}.model`),
        inputMapping: mapping(step.input, index, `${where}: ${at}.input`),
        outputMapping: str(step.output, `${at}.output`),
        timeout: int(step.timeout, `${at}.timeout`, 2 ** 32 - 1),
        maxRetries: int(step.maxRetries, `${at}.maxRetries`, 255),
        retryBackoff: int(step.retryBackoff, `${at}.retryBackoff`, 2 ** 32 - 1),
        requiresProof: step.requiresProof === true,
        dependsOn: (deps as unknown[]).map((d, k) => {
          const target = typeof d === "string" ? index.get(d) : undefined;
          if (target === undefined) fail(`${at}.dependsOn[${k}]`, `"${String(d)}" is not a step id`);
          return target as number;
        }),
      };
    }),
  };
  try {
    checkRunnable(converted, [...index.keys()]);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  return converted;
}

const ROOT_KEYS = ["name", "maxExecutionTime", "maxBudget", "verification", "steps"] as const;
const STEP_KEYS = [
  "id",
  "type",
  "model",
  "input",
  "output",
  "dependsOn",
  "timeout",
  "maxRetries",
  "retryBackoff",
  "requiresProof",
] as const;

/** Refuses a key the format does not know, suggesting the known one it most likely meant. */
function unknownKeys(
  object: Json,
  known: readonly string[],
  prefix: string,
  fail: (field: string, message: string) => never,
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    fail(
      `${prefix}${key}`,
      `is not a known field${guess ? ` (did you mean ${guess}?)` : ""}; known: ${known.join(", ")}`,
    );
  }
}

/** The known name nearest to `key` (case and separators ignored, then edit distance at most 3), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (k: string) => k.toLowerCase().replace(/[-_]/g, "");
  let best: string | undefined;
  let bestDistance = 4;
  for (const k of known) {
    const d = norm(k) === norm(key) ? 0 : editDistance(norm(key), norm(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ---------------------------------------------------------------- what a keeper can run

/** A reference: `$in` or `$<step index>`, then an optional path (`$in.cm`, `$0.scores.1`). */
export const REF = /^\$(in|\d+)((?:\.[^.\s{}]+)*)$/;
/** A reference interpolated inside a longer string: `{{$3.label}}`. */
export const INTERPOLATION = /\{\{(\$(?:in|\d+)(?:\.[^.\s{}]+)*)\}\}/g;

/** A spec as a keeper runs it: each step's dependencies (deduplicated) and parsed mapping, and an order. */
export interface RunnableSpec {
  deps: number[][];
  mappings: Value[];
  /** Step indices in a topological order (dependencies first, lowest ready index first). */
  order: number[];
}

/**
 * Checks what the chain leaves to the keeper and returns what it needs: each dependency another existing step,
 * each input mapping JSON naming only `$in` and the step's own dependencies, no cycle. Throws naming the step and
 * field (`names`, the file's step ids, make the messages read as the file does). An empty mapping means `$in` for
 * a root, `$d` for one dependency, `[$d1, $d2, ..]` for several.
 */
export function checkRunnable(spec: WorkflowSpec, names: readonly string[] = []): RunnableSpec {
  const label = (i: number) => (names[i] === undefined ? `$${i}` : `"$${names[i]}" (step ${i})`);
  const deps = spec.steps.map((s, index) => {
    // The chain merges a dependency listed twice into one bit; so does the plan.
    const unique = [...new Set(s.dependsOn.map(Number))];
    unique.forEach((d) => {
      if (!Number.isInteger(d) || d < 0 || d >= spec.steps.length || d === index)
        throw new Error(`steps[${index}].dependsOn: bad dependency ${d}`);
    });
    return unique;
  });
  const mappings = spec.steps.map((s, index) => {
    const own = deps[index] ?? [];
    let mapping: Value;
    if (s.inputMapping.trim() === "") {
      mapping = own.length === 0 ? "$in" : own.length === 1 ? `$${own[0] ?? 0}` : own.map((d) => `$${d}`);
    } else {
      try {
        mapping = JSON.parse(s.inputMapping) as Value;
      } catch (error) {
        throw new Error(`steps[${index}].inputMapping: not JSON (${(error as Error).message})`);
      }
    }
    forEachRef(mapping, (source) => {
      if (source !== "in" && !own.includes(Number(source)))
        throw new Error(
          `steps[${index}].input: ${label(Number(source))} is not a dependency of step ${index}: add it to dependsOn`,
        );
    });
    return mapping;
  });
  return { deps, mappings, order: topologicalOrder(deps) };
}

/** Kahn's algorithm over `deps[i]` (step i's dependencies), lowest index first among the ready steps. */
export function topologicalOrder(deps: readonly (readonly number[])[]): number[] {
  const remaining = deps.map((d) => new Set(d));
  const dependents = deps.map(() => [] as number[]);
  deps.forEach((d, index) => {
    d.forEach((from) => dependents[from]?.push(index));
  });
  const ready = deps.flatMap((d, index) => (d.length === 0 ? [index] : []));
  const order: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const next = ready.shift() as number;
    order.push(next);
    for (const child of dependents[next] ?? []) {
      const left = remaining[child];
      left?.delete(next);
      if (left?.size === 0) ready.push(child);
    }
  }
  if (order.length !== deps.length) {
    const stuck = deps.findIndex((_, index) => !order.includes(index));
    throw new Error(`steps[${stuck}]: the workflow has a cycle`);
  }
  return order;
}

/** Calls `visit` with the source (`in` or a step index) of every reference in a mapping. */
export function forEachRef(value: Value, visit: (source: string) => void): void {
  if (typeof value === "string") {
    const m = REF.exec(value);
    if (m?.[1] !== undefined) visit(m[1]);
    for (const i of value.matchAll(INTERPOLATION)) {
      const inner = REF.exec(i[1] ?? "");
      if (inner?.[1] !== undefined) visit(inner[1]);
    }
  } else if (Array.isArray(value))
    value.forEach((v) => {
      forEachRef(v, visit);
    });
  else if (value !== null && typeof value === "object")
    Object.values(value).forEach((v) => {
      forEachRef(v, visit);
    });
}

/** The built-in reference model's name. */
export const IRIS_MODEL_NAME = "iris-mlp";

function modelHash(model: string, field: string): Hex {
  if (model === "") return zeroHash;
  if (model === IRIS_MODEL_NAME) return fieldToBytes32(irisModelHash(loadIrisModel()));
  if (!model.startsWith("0x")) return keccak256(toHex(model));
  if (!/^0x[0-9a-fA-F]{64}$/.test(model)) throw new Error(`${field} must be a name or a 0x bytes32`);
  return model.toLowerCase() as Hex;
}

/** A step's input mapping as stored on chain: JSON text, with `$<step id>` references turned into `$<index>`. */
function mapping(input: unknown, ids: ReadonlyMap<string, number>, field: string): string {
  if (input === undefined || input === "") return "";
  const rewrite = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(/\$([A-Za-z_][\w-]*)/g, (whole, name: string) => {
        if (name === "in") return whole;
        const index = ids.get(name);
        if (index === undefined) throw new Error(`${field}: "$${name}" is not a step id`);
        return `$${index}`;
      });
    }
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value === "object" && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
    return value;
  };
  return JSON.stringify(rewrite(input));
}

function seconds(v: unknown, field: string): bigint {
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return BigInt(v);
  const m = typeof v === "string" ? /^(\d+)([smhd]?)$/.exec(v) : null;
  if (!m?.[1]) throw new Error(`${field} must be seconds or 15m / 2h / 7d`);
  return BigInt(m[1]) * ({ "": 1n, s: 1n, m: 60n, h: 3600n, d: 86_400n }[m[2] ?? ""] ?? 1n);
}

function amount(v: unknown, field: string): bigint {
  if (typeof v !== "string" || !/^\d+(\.\d{1,18})?$/.test(v))
    throw new Error(`${field} must be a number of AITBC as a string`);
  return parseUnits(v, 18);
}

function choice(v: unknown, choices: readonly string[], field: string): number {
  const i = typeof v === "string" ? choices.indexOf(v) : -1;
  if (i < 0) throw new Error(`${field} must be one of ${choices.join(", ")}`);
  return i;
}
