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
 */
import { readFileSync } from "node:fs";

import { keccak256, parseUnits, toHex, zeroHash, type Hex } from "viem";

import { fieldToBytes32 } from "../circuits/lib/field.js";
import { irisModelHash, loadIrisModel } from "../circuits/lib/iris.js";
import { STEP_TYPES, VERIFICATION_LEVELS } from "./enums.js";

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
  const name = spec.name;
  if (typeof name !== "string" || name === "") fail("name", "must be a non-empty string");
  const steps = spec.steps;
  if (!Array.isArray(steps) || steps.length === 0) fail("steps", "must be a non-empty array");
  const list = steps as Json[];
  const index = new Map<string, number>();
  list.forEach((step, i) => {
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
  return {
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
