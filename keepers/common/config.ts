/**
 * Daemon configuration: a JSON file, then environment variables over it, validated by a zod schema at start.
 * A bad field stops the start with `ConfigError`, whose message names every bad field (`rpc.urls[1]: ...`) and
 * where it came from (the file or the variable).
 */
import { readFileSync } from "node:fs";

import cron from "node-cron";
import { z } from "zod";

import { DefinitiveError } from "./errors.js";

/** A bad configuration: definitive, the operator has to change it. */
export class ConfigError extends DefinitiveError {
  override name = "ConfigError";
}

/** An environment variable that overrides a config field: its path, and how to read the text. */
export interface EnvBinding {
  path: string[];
  parse?: (text: string) => unknown;
}

export const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

export const number = (text: string): unknown => (/^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text);

/**
 * Reads `file` (when given), applies the environment bindings, and validates against `schema`.
 * `env` is usually process.env.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  options: { file?: string; env?: NodeJS.ProcessEnv; bindings?: Record<string, EnvBinding> },
): z.output<S> {
  let raw: Record<string, unknown> = {};
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, "utf8");
    } catch (error) {
      throw new ConfigError(`config file ${options.file}: cannot read it (${(error as Error).message})`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("the top level must be an object");
      raw = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${options.file}: not valid JSON (${(error as Error).message})`);
    }
  }
  const fromEnv = new Map<string, string>();
  for (const [name, binding] of Object.entries(options.bindings ?? {})) {
    const text = options.env?.[name];
    if (text === undefined || text === "") continue;
    setPath(raw, binding.path, binding.parse ? binding.parse(text) : text);
    fromEnv.set(binding.path.join("."), name);
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const source = options.file ?? "configuration";
  const lines = result.error.issues.map((issue) => {
    const at = formatPath(issue.path);
    const envName = fromEnv.get(issue.path.filter((p) => typeof p === "string").join("."));
    return `  ${at}: ${issue.message}${envName ? ` (from ${envName})` : ""}`;
  });
  throw new ConfigError(`invalid ${source}:\n${lines.join("\n")}`);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

// ---------------------------------------------------------------- shared field schemas

export const hexKey = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key (0x + 64 hex digits)")
  .transform((s) => s as `0x${string}`);

export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address")
  .transform((s) => s as `0x${string}`);

export const rpcUrl = z
  .string()
  .refine((s) => /^(https?|wss?):\/\/[^\s]+$/.test(s), "must be an http(s):// or ws(s):// URL");

/** AITBC amounts are written as decimal strings of whole tokens ("12.5"), read as wei. */
export const tokenAmount = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((s) => /^\d+(\.\d{1,18})?$/.test(s), 'must be a decimal amount of AITBC, e.g. "12.5"')
  .transform((s) => {
    const [whole = "0", frac = ""] = s.split(".");
    return BigInt(whole) * 10n ** 18n + BigInt(frac.padEnd(18, "0"));
  });

export const port = z.number().int().min(0).max(65_535);

export const httpUrl = z.string().refine((s) => /^https?:\/\/[^\s]+$/.test(s), "must be an http(s):// URL");

/**
 * What a provider-like agent (the provider node, an agent of agents/) registers with: its operator, profile and
 * stake. Spread into the daemon's `agent` section next to `keySourceFields`.
 */
export const agentProfileFields = {
  /** The human custodian registered with the agent (must be another address). */
  operator: address,
  /** The URL others reach the agent at; default the server's own http://host:port. */
  endpoint: httpUrl.optional(),
  metadataURI: z.string().default(""),
  version: z.string().min(1).default("1.0.0"),
  expectedDailyVolume: tokenAmount.default(10_000n * 10n ** 18n),
  stake: tokenAmount.default(2_000n * 10n ** 18n),
};

/** Hour-minute-second cron expressions (node-cron, six fields with seconds). */
const SIX_FIELDS = /^(\S+\s+){5}\S+$/;
export const cronExpression = z
  .string()
  .regex(SIX_FIELDS, "must be a six-field cron expression (with seconds)")
  .refine((text) => !SIX_FIELDS.test(text) || cron.validate(text), "is not a valid cron expression");

/** The start-up fields both daemons share (common/startup.ts): the chain id to expect, attempts to reach the RPC. */
export const startupRpcFields = {
  /** When set, the node must be this chain (checked before anything is sent). */
  chainId: z.number().int().min(1).optional(),
  /** Attempts to reach the RPC at start (waits of 0.5 s, doubled each time) before giving up with exit code 2. */
  connectAttempts: z.number().int().min(1).max(20).default(6),
};
