/**
 * The keeper's configuration: a JSON file (keepers/keeper/keeper.example.json) plus environment overrides,
 * validated at start; a bad field stops the start with a message naming it.
 */
import cron from "node-cron";
import type { AbiFunction } from "viem";
import { z } from "zod";

import { FUTURE_IDS, type ContractKey } from "../../protocol/addresses.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import {
  address,
  hexKey,
  list,
  loadConfig,
  number,
  port,
  rpcUrl,
  tokenAmount,
  type EnvBinding,
} from "../common/config.js";
import { functionsOf, inputIndex, parseInteger, PROTOCOL_ABIS } from "./voter.js";

/** Hour-minute-second cron expressions (node-cron, six fields with seconds). */
const SIX_FIELDS = /^(\S+\s+){5}\S+$/;
const cronExpression = z
  .string()
  .regex(SIX_FIELDS, "must be a six-field cron expression (with seconds)")
  .refine((text) => !SIX_FIELDS.test(text) || cron.validate(text), "is not a valid cron expression");

// ---------------------------------------------------------------- governance policy

/** A vote: GovernorCountingSimple's against / for / abstain. */
const support = z.enum(["for", "against", "abstain"]);

/**
 * A bound on an integer parameter: a JSON integer, a decimal integer string (wei, "-5" for int types), or a token
 * amount with its unit ("2500 AITBC", "0.5 AITBC"), read as wei.
 */
const integer = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = parseInteger(v);
  if (n !== undefined) return n;
  ctx.addIssue({ code: "custom", message: 'must be an integer ("5000000") or an amount of AITBC ("2500 AITBC")' });
  return z.NEVER;
});

/** What one decoded parameter must be; every given condition must hold. */
const bound = z
  .strictObject({
    min: integer.optional(),
    max: integer.optional(),
    /** Equal to (addresses and hex compare case-insensitively; an address may be a contract key, "registry"). */
    eq: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** One of. */
    in: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional(),
  })
  .refine(
    (b) => b.min !== undefined || b.max !== undefined || b.eq !== undefined || b.in !== undefined,
    "needs at least one of min, max, eq, in",
  )
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, "min is above max");

const FUNCTION_REF = /^([A-Za-z_$][\w$]*)(\(.*\))?$|^0x[0-9a-fA-F]{8}$/;

const rule = z
  .strictObject({
    /** Named in every vote reason this rule decides; default `rules[<index>]`. */
    name: z.string().min(1).max(64).optional(),
    /** The called contract: a key of the deployment's addresses ("registry") or an address. */
    target: z
      .string()
      .refine(
        (t) => /^0x[0-9a-fA-F]{40}$/.test(t) || t in FUTURE_IDS,
        `must be an address or a contract key (${Object.keys(FUTURE_IDS).join(", ")})`,
      )
      .optional(),
    /** The called function: a name ("setMinStake"), a signature ("setMinStake(uint256)") or a selector. */
    function: z
      .string()
      .regex(FUNCTION_REF, 'must be a function name, a signature or a 4-byte selector "0x…"')
      .optional(),
    /** Bounds on decoded parameters, by name ("minStake_", or "minStake"), index ("0") or path ("schedule.base"). */
    params: z.record(z.string().min(1), bound).optional(),
    /** The vote when the rule matches (target, function, every bound). */
    vote: support,
    /** The vote when target and function match but a bound does not hold; unset: the next rule is tried. */
    otherwise: support.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.target === undefined && r.function === undefined)
      ctx.addIssue({ code: "custom", message: "needs a target, a function, or both" });
    if (r.params !== undefined && r.function === undefined)
      ctx.addIssue({ code: "custom", path: ["params"], message: "parameter bounds need a function" });
    if (r.otherwise !== undefined && r.params === undefined)
      ctx.addIssue({ code: "custom", path: ["otherwise"], message: "otherwise applies only to a rule with params" });
    // A "for" that matches a function on any contract would approve it on contracts the rule's author never meant.
    if ((r.vote === "for" || r.otherwise === "for") && r.target === undefined)
      ctx.addIssue({ code: "custom", path: ["target"], message: 'a rule that can vote "for" needs a target' });
    checkAgainstAbis(r, ctx);
  });

/**
 * A rule naming a protocol contract or a function by name is checked against the ABIs now: a typo would
 * otherwise never match, and every proposal it meant would get the default.
 */
function checkAgainstAbis(
  r: { target?: string | undefined; function?: string | undefined; params?: Record<string, unknown> | undefined },
  ctx: z.RefinementCtx,
): void {
  if (r.function === undefined || r.function.startsWith("0x")) return;
  const key = r.target !== undefined && r.target in FUTURE_IDS ? (r.target as ContractKey) : undefined;
  if (key !== undefined && PROTOCOL_ABIS[key] === undefined) return;
  if (key === undefined && r.target !== undefined) return; // a foreign address: no ABI to check
  const abis = key !== undefined ? [PROTOCOL_ABIS[key] ?? []] : Object.values(PROTOCOL_ABIS);
  let candidates: AbiFunction[];
  try {
    candidates = abis.flatMap((abi) => functionsOf(abi, r.function ?? ""));
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      path: ["function"],
      message: `is not a valid signature (${(error as Error).message})`,
    });
    return;
  }
  if (candidates.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["function"],
      message: `no function ${r.function} in ${key ?? "any protocol contract"}`,
    });
    return;
  }
  for (const name of Object.keys(r.params ?? {})) {
    const first = name.split(".")[0] ?? "";
    if (candidates.some((f) => inputIndex(f, first) !== undefined)) continue;
    const inputs = candidates.map((f) => `${f.name}(${f.inputs.map((i) => i.name ?? "").join(", ")})`);
    ctx.addIssue({
      code: "custom",
      path: ["params", name],
      message: `no parameter ${first} in ${inputs.join(" or ")}`,
    });
  }
}

/** The keeper's governance voter (keepers/keeper/voter.ts): the policy it votes by. */
const governance = z.strictObject({
  enabled: z.boolean().default(false),
  /** Tried in order for every action of a proposal; the first that matches decides that action. */
  rules: z
    .array(rule)
    .default([])
    .transform((rules) => rules.map((r, i) => ({ ...r, name: r.name ?? `rules[${i}]` })))
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((r, i) => {
        if (seen.has(r.name))
          ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate rule name ${r.name}` });
        seen.add(r.name);
      });
    }),
  /** For an action no rule matches: vote abstain or against, or skip the proposal (no vote). */
  default: z.enum(["abstain", "against", "skip"]).default("skip"),
  /** How often open proposals are checked (six-field cron). */
  schedule: cronExpression.default("*/10 * * * * *"),
  /** Gas charged to the daily gas budget per vote, for the safety monitor. */
  gasEstimate: z.number().int().min(21_000).default(300_000),
});

export type GovernanceConfig = z.output<typeof governance>;
export type GovernanceRule = GovernanceConfig["rules"][number];

// ---------------------------------------------------------------- the keeper

export const keeperConfigSchema = z.strictObject({
  rpc: z.strictObject({
    urls: z.array(rpcUrl).min(1, "at least one RPC URL"),
    pollingIntervalMs: z.number().int().min(50).default(500),
    timeoutMs: z.number().int().min(100).default(10_000),
  }),
  addressesFile: z.string().optional(),
  agent: z.strictObject({
    privateKey: hexKey,
    /** When set, the keeper registers itself as an agent (if it is not one) with this operator and stake. */
    register: z
      .strictObject({
        operator: address,
        stake: tokenAmount.prefault("2000"),
        expectedDailyVolume: tokenAmount.prefault("10000"),
        endpoint: z.string().default(""),
      })
      .optional(),
  }),
  database: z.strictObject({ path: z.string().min(1).default("keeper.db") }).prefault({}),
  follower: z
    .strictObject({
      startBlock: z.number().int().min(0).default(0),
      confirmations: z.number().int().min(0).max(1000).default(0),
      batchBlocks: z.number().int().min(1).default(2000),
      pollIntervalMs: z.number().int().min(50).default(1000),
    })
    .prefault({}),
  orchestrator: z
    .strictObject({
      concurrencyPerExecution: z.number().int().min(1).max(64).default(4),
      defaultStepTimeoutMs: z.number().int().min(100).default(60_000),
      quarantineMs: z.number().int().min(0).default(600_000),
      recordBatch: z.number().int().min(1).max(256).default(16),
      claimOpen: z.boolean().default(true),
    })
    .prefault({}),
  safety: z
    .strictObject({
      maxActionsPerHour: z.number().int().min(1).default(100),
      valueFactor: z.number().min(1).default(10),
      baselineActions: z.number().int().min(0).default(10),
      expectedActionTypes: z
        .array(z.enum(Object.keys(ACTION_TYPES) as [keyof typeof ACTION_TYPES]))
        .prefault(["run-workflow", "upkeep"])
        .transform((names) => names.map((n) => ACTION_TYPES[n])),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: port.default(0),
      maxBodyBytes: z.number().int().min(1024).default(1_048_576),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      sweep: cronExpression.default("*/5 * * * * *"),
      providers: cronExpression.default("*/30 * * * * *"),
    })
    .prefault({}),
  governance: governance.optional(),
});

export type KeeperConfig = z.output<typeof keeperConfigSchema>;

export const KEEPER_ENV: Record<string, EnvBinding> = {
  AITBC_KEEPER_KEY: { path: ["agent", "privateKey"] },
  AITBC_RPC_URLS: { path: ["rpc", "urls"], parse: list },
  AITBC_ADDRESSES: { path: ["addressesFile"] },
  AITBC_KEEPER_DB: { path: ["database", "path"] },
  AITBC_KEEPER_PORT: { path: ["server", "port"], parse: number },
  AITBC_CONFIRMATIONS: { path: ["follower", "confirmations"], parse: number },
};

export function loadKeeperConfig(file: string | undefined, env: NodeJS.ProcessEnv): KeeperConfig {
  return loadConfig(keeperConfigSchema, { file, env, bindings: KEEPER_ENV });
}
