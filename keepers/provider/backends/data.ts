/**
 * In-process data processing: small deterministic JSON operations that workflows put between model steps
 * (turn measurements into model features, look a label up, format a report, filter and sort records...).
 * The input is `{ op, ...arguments }`; every bad argument is a 400 naming its field (`input.where.op`).
 *
 *   iris-features {cm: [4 numbers]}                       -> {kind: "iris-features", features: round(10 cm)}
 *   lookup        {table: array | object, key}            -> table[key]
 *   stats         {data: [numbers or decimal strings]}    -> {count, min, max, mean, spread = max - min}
 *   format        {template: "a {name} b {x.y}", data}    -> the template with each {path} replaced
 *   filter        {data: [objects], where: {field, op, value}}  op: eq ne gt gte lt lte in contains
 *   pick          {data: object, fields: [names]}         -> the object with those fields only
 *   sort          {data: array, by?: field, order?: "asc" | "desc"}
 *   transform     {data, template}                        -> template with every string "$.a.b" (or "$") replaced
 *                                                            by data's value at that path
 * Paths are dot-separated keys; a numeric segment indexes an array.
 */
import { keccak256, toHex, type Hex } from "viem";

import { quantizeFeatures } from "../../../circuits/lib/iris.js";
import { canonicalJson, type Json } from "../../../protocol/values.js";
import { asBadInput, badInput, type Backend } from "./types.js";

/** The data backend's model id: what data-processing steps name as their `model`. */
export const DATA_MODEL: Hex = keccak256(toHex("aitbc.data.v1"));

type JsonObject = { [key: string]: Json };
type Op = (args: JsonObject) => Json;

const OPS: Record<string, { args: readonly string[]; optional?: readonly string[]; run: Op }> = {
  "iris-features": { args: ["cm"], run: irisFeatures },
  lookup: { args: ["table", "key"], run: lookup },
  stats: { args: ["data"], run: stats },
  format: { args: ["template", "data"], run: format },
  filter: { args: ["data", "where"], run: filter },
  pick: { args: ["data", "fields"], run: pick },
  sort: { args: ["data"], optional: ["by", "order"], run: sort },
  transform: { args: ["data", "template"], run: transform },
};

export const DATA_OPS = Object.keys(OPS);

/** Runs one data operation on `input` (see the file header). Throws a 400 naming the bad field. */
export function runDataOp(input: Json): Json {
  if (!isObject(input)) throw badInput("input", 'must be an object {"op": ..., ...arguments}');
  const name = typeof input.op === "string" ? input.op : "";
  const op = Object.hasOwn(OPS, name) ? OPS[name] : undefined;
  if (op === undefined) throw badInput("input.op", `must be one of ${DATA_OPS.join(", ")}`);
  const allowed = new Set(["op", ...op.args, ...(op.optional ?? [])]);
  for (const key of Object.keys(input)) {
    if (!allowed.has(key)) throw badInput(`input.${key}`, `unknown argument of op "${name}"`);
  }
  for (const key of op.args) {
    if (!(key in input)) throw badInput(`input.${key}`, `required by op "${name}"`);
  }
  return op.run(input);
}

export function createDataBackend(service: { name: string; price: bigint; capacity: number }): Backend {
  return {
    name: service.name,
    kind: "data",
    stepType: "data-processing",
    model: DATA_MODEL,
    price: service.price,
    capacity: service.capacity,
    provable: false,
    run(input: Json) {
      return Promise.resolve({ output: runDataOp(input) });
    },
    async close() {
      // Nothing held.
    },
  };
}

// ---------------------------------------------------------------- operations

function irisFeatures(args: JsonObject): Json {
  const cm = numbers(args.cm ?? null, "input.cm");
  try {
    return { kind: "iris-features", features: quantizeFeatures(cm).map(Number) };
  } catch (error) {
    throw asBadInput(error, "input", { features: "input.cm" });
  }
}

function lookup(args: JsonObject): Json {
  const table = args.table ?? null;
  const key = args.key ?? null;
  if (Array.isArray(table)) {
    if (typeof key !== "number" || !Number.isInteger(key) || key < 0)
      throw badInput("input.key", "must be a non-negative integer index for an array table");
    const value = table[key];
    if (value === undefined) throw badInput("input.key", `${key} is past the table's end (${table.length} entries)`);
    return value;
  }
  if (!isObject(table)) throw badInput("input.table", "must be an array or an object");
  if (typeof key !== "string") throw badInput("input.key", "must be a string key for an object table");
  if (!Object.hasOwn(table, key)) throw badInput("input.key", `"${key}" is not in the table`);
  return table[key] ?? null;
}

function stats(args: JsonObject): Json {
  const data = args.data ?? null;
  if (!Array.isArray(data) || data.length === 0) throw badInput("input.data", "must be a non-empty array");
  const xs = data.map((v, i) => {
    const x = typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    if (typeof x !== "number" || !Number.isFinite(x))
      throw badInput(`input.data[${i}]`, "must be a number or a decimal string");
    return x;
  });
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { count: xs.length, min, max, mean: xs.reduce((a, b) => a + b, 0) / xs.length, spread: max - min };
}

function format(args: JsonObject): Json {
  const template = args.template ?? null;
  const data = args.data ?? null;
  if (typeof template !== "string") throw badInput("input.template", "must be a string");
  if (!isObject(data)) throw badInput("input.data", "must be an object");
  return template.replace(/\{([^{}]*)\}/g, (_, path: string) => {
    const value = pathValue(data, path, "input.template");
    if (value === undefined) throw badInput(`input.data.${path}`, `missing (used by the template as {${path}})`);
    return typeof value === "string" ? value : canonicalJson(value);
  });
}

const COMPARE = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains"] as const;

function filter(args: JsonObject): Json {
  const data = records(args.data ?? null);
  const where = args.where ?? null;
  if (!isObject(where)) throw badInput("input.where", "must be an object {field, op, value}");
  const { field, op, value } = where;
  if (typeof field !== "string" || field === "") throw badInput("input.where.field", "must be a field path");
  if (typeof op !== "string" || !(COMPARE as readonly string[]).includes(op))
    throw badInput("input.where.op", `must be one of ${COMPARE.join(", ")}`);
  if (value === undefined) throw badInput("input.where.value", "required");
  if (op === "in" && !Array.isArray(value)) throw badInput("input.where.value", 'must be an array for op "in"');
  if (["gt", "gte", "lt", "lte"].includes(op) && typeof value !== "number" && typeof value !== "string")
    throw badInput("input.where.value", `must be a number or a string for op "${op}"`);
  return data.filter((record) => matches(pathValue(record, field, "input.where.field"), op, value));
}

function matches(x: Json | undefined, op: string, value: Json): boolean {
  if (x === undefined) return op === "ne";
  const same = (a: Json, b: Json) => canonicalJson(a) === canonicalJson(b);
  switch (op) {
    case "eq":
      return same(x, value);
    case "ne":
      return !same(x, value);
    case "in":
      return Array.isArray(value) && value.some((v) => same(x, v));
    case "contains":
      if (typeof x === "string") return typeof value === "string" && x.includes(value);
      return Array.isArray(x) && x.some((v) => same(v, value));
    default: {
      if (typeof x !== typeof value || (typeof x !== "number" && typeof x !== "string")) return false;
      const c = compare(x, value as number | string);
      return op === "gt" ? c > 0 : op === "gte" ? c >= 0 : op === "lt" ? c < 0 : c <= 0;
    }
  }
}

function pick(args: JsonObject): Json {
  const data = args.data ?? null;
  const fields = args.fields ?? null;
  if (!isObject(data)) throw badInput("input.data", "must be an object");
  if (!Array.isArray(fields)) throw badInput("input.fields", "must be an array of field names");
  const out: JsonObject = {};
  fields.forEach((f, i) => {
    if (typeof f !== "string") throw badInput(`input.fields[${i}]`, "must be a string");
    if (!Object.hasOwn(data, f)) throw badInput(`input.fields[${i}]`, `"${f}" is not in input.data`);
    out[f] = data[f] ?? null;
  });
  return out;
}

function sort(args: JsonObject): Json {
  const data = args.data ?? null;
  if (!Array.isArray(data)) throw badInput("input.data", "must be an array");
  const by = args.by;
  const order = args.order ?? "asc";
  if (by !== undefined && (typeof by !== "string" || by === "")) throw badInput("input.by", "must be a field path");
  if (order !== "asc" && order !== "desc") throw badInput("input.order", 'must be "asc" or "desc"');
  const keys = data.map((item, i) => {
    const key = by === undefined ? item : pathValue(item, by, "input.by");
    const at = by === undefined ? `input.data[${i}]` : `input.data[${i}].${by}`;
    if (typeof key !== "number" && typeof key !== "string") throw badInput(at, "must be a number or a string");
    return key;
  });
  if (new Set(keys.map((k) => typeof k)).size > 1)
    throw badInput(by === undefined ? "input.data" : "input.by", "mixes numbers and strings");
  const sign = order === "asc" ? 1 : -1;
  return data
    .map((item, i) => ({ item, key: keys[i] ?? 0, i }))
    .sort((a, b) => sign * compare(a.key, b.key) || a.i - b.i)
    .map((e) => e.item);
}

function transform(args: JsonObject): Json {
  const data = args.data ?? null;
  const fill = (node: Json, at: string): Json => {
    if (typeof node === "string" && (node === "$" || node.startsWith("$."))) {
      const value = node === "$" ? data : pathValue(data, node.slice(2), at);
      if (value === undefined) throw badInput(at, `${node}: no such path in input.data`);
      return value;
    }
    if (Array.isArray(node)) return node.map((n, i) => fill(n, `${at}[${i}]`));
    if (isObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v, `${at}.${k}`)]));
    return node;
  };
  return fill(args.template ?? null, "input.template");
}

// ---------------------------------------------------------------- helpers

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at dot path `path` in `value`, or undefined when a segment is missing. */
function pathValue(value: Json, path: string, field: string): Json | undefined {
  if (path === "" || path.split(".").some((s) => s === "")) throw badInput(field, `"${path}" is not a field path`);
  let node: Json | undefined = value;
  for (const segment of path.split(".")) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

function numbers(value: Json, field: string): number[] {
  if (!Array.isArray(value)) throw badInput(field, "must be an array of numbers");
  return value.map((v, i) => {
    if (typeof v !== "number") throw badInput(`${field}[${i}]`, "must be a number");
    return v;
  });
}

function records(value: Json): JsonObject[] {
  if (!Array.isArray(value)) throw badInput("input.data", "must be an array of objects");
  return value.map((v, i) => {
    if (!isObject(v)) throw badInput(`input.data[${i}]`, "must be an object");
    return v;
  });
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
