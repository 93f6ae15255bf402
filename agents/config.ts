/**
 * The agent's configuration (`aitbc agent --config FILE`; agents/agent.example.json, and agents/client.example.json,
 * agents/validator.example.json for the other roles): a JSON file with environment variables over it, validated at
 * start by a schema; a bad field stops the start with a ConfigError naming it. `role` picks the agent's role
 * (agents/roles/; default "provider"), whose section (`services` and `strategy`, `client`, `validator`) it needs.
 */
import { z } from "zod";

import {
  agentProfileFields,
  httpUrl,
  list,
  loadConfig,
  number,
  port,
  rpcUrl,
  tokenAmount,
} from "../keepers/common/config.js";
import { keySourceFields, keySourceRule } from "../keepers/common/keys.js";

const positiveInt = z.number().int().min(1);

const serviceSchema = z.strictObject({
  /** The offer's serviceName on chain; workloads ask for keccak256 of it as their serviceType. */
  name: z.string().min(1).max(64),
  /** iris: the reference model (inference); data: data processing. */
  backend: z.enum(["iris", "data"]),
  /** The listed price per unit (the offer's pricePerUnit); the strategy prices each bid. */
  price: tokenAmount.refine((v) => v > 0n, "must be above 0"),
  /** Units of awarded work the service takes at once (the offer's maxCapacity). */
  capacity: positiveInt.default(8),
  /** What a unit costs the operator to run (AITBC): profit is payment less this, gas and slashes. */
  costPerUnit: tokenAmount.default(0n),
  minAccuracy: z.number().int().min(0).max(10_000).default(0),
  /**
   * TESTS ONLY: the e2e test's adversary. "corrupt-output" makes the agent deliver a wrong result on purpose (the
   * backend's output altered before it is hashed and signed), so that a client disputes it and a validator rules.
   */
  testAdversary: z.literal("corrupt-output").optional(),
  /** The arbitrageur (agents/roles/arbitrageur.ts): awarded work of this service is subcontracted to this agent. */
  subcontract: z
    .strictObject({
      url: httpUrl,
      agentId: z.number().int().min(1),
      /** The subcontractor's offer name. */
      service: z.string().min(1).max(64),
    })
    .optional(),
});

/** The backends a client can check and a validator can re-execute: deterministic work (keepers/provider/backends). */
const checkableBackend = z.enum(["iris", "data"]);

const clientSchema = z.strictObject({
  /** The service asked for (the offers' serviceName) and the backend that computes the reference answer. */
  service: z.string().min(1).max(64),
  backend: checkableBackend,
  /**
   * The goal: how many workloads to post (a seeded stream of inputs), how many open at once, and at most one every
   * `postIntervalMs` (0: as many as `concurrency` allows at once).
   */
  workloads: positiveInt,
  concurrency: positiveInt.default(4),
  postIntervalMs: z.number().int().min(0).default(1_000),
  /** The seed of the input stream (iris: flowers around the three species' means; data: number lists). */
  seed: z.number().int().min(0).default(1),
  units: positiveInt.default(1),
  maxPricePerUnit: tokenAmount.refine((v) => v > 0n, "must be above 0"),
  /** Bidding and execution periods (chain seconds). */
  biddingSeconds: positiveInt.default(60),
  executionSeconds: positiveInt.default(600),
  /** Award as soon as this many bids stand (else at the bid deadline, on what there is). */
  awardAtBids: positiveInt.default(1),
  /** Or this long after posting (chain seconds) on the bids there are; default the bid deadline. */
  awardAfterSeconds: positiveInt.optional(),
  /**
   * The scoring rule: the lowest price × (2000 − reputation) / 1000 wins (the marketplace's autoAward rule), and a
   * provider this client disputed (a result it checked as wrong) is not awarded again.
   */
  avoidDisputed: z.boolean().default(true),
});
export type ClientConfig = z.output<typeof clientSchema>;

const validatorSchema = z.strictObject({
  /** The services whose disputes it can check, by re-executing them on these backends; it refuses the others. */
  services: z
    .array(z.strictObject({ name: z.string().min(1).max(64), backend: checkableBackend }))
    .min(1, "at least one service"),
  /** How long to wait for a client's evidence (ms) before refusing to rule. */
  evidenceTimeoutMs: positiveInt.default(10_000),
});
export type ValidatorConfig = z.output<typeof validatorSchema>;

export const strategySchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("fixed-price"),
    /** AITBC per unit; default each service's listed price. */
    price: tokenAmount.optional(),
  }),
  z.strictObject({
    kind: z.literal("thompson-price"),
    /** The price grid, AITBC per unit. */
    arms: z.array(tokenAmount.refine((v) => v > 0n, "must be above 0")).min(1, "at least one price"),
    seed: z.number().int().min(0).optional(),
    learning: z.boolean().default(true),
  }),
  z
    .strictObject({
      kind: z.literal("market-maker"),
      /** Spread over the market's mid when idle and when full (basis points). */
      minSpreadBps: z.number().int().min(0).max(10_000).default(500),
      maxSpreadBps: z.number().int().min(0).max(100_000).default(5_000),
      /** How much units bid and not yet decided count next to awarded load (0..1). */
      inventoryWeight: z.number().min(0).max(1).default(0.5),
      /** Update the standing offer when the quote moved this far from its listed price (basis points). */
      requoteBps: z.number().int().min(0).max(10_000).default(200),
      /** How often the standing offers are checked (ms). */
      quoteIntervalMs: positiveInt.default(5_000),
    })
    .refine((s) => s.maxSpreadBps >= s.minSpreadBps, { path: ["maxSpreadBps"], message: "must be ≥ minSpreadBps" }),
  z.strictObject({
    kind: z.literal("model-policy"),
    /** An OpenAI-compatible server's base URL, and the model it serves. */
    url: httpUrl,
    model: z.string().min(1),
    /** The environment variable holding its API key, if it wants one. */
    apiKeyEnv: z.string().min(1).optional(),
    timeoutMs: positiveInt.default(10_000),
    /** The rule layer's limits on what the model proposes. */
    limits: z
      .strictObject({
        minMarginBps: z.number().int().min(0).max(100_000).default(0),
        maxPricePerUnit: tokenAmount.optional(),
      })
      .prefault({}),
  }),
]);
export type StrategyConfig = z.output<typeof strategySchema>;

export const AGENT_ROLES = ["provider", "client", "validator"] as const;

const agentSchemaBase = z.strictObject({
  /** The agent's role (agents/roles/). */
  role: z.enum(AGENT_ROLES).default("provider"),
  rpc: z.strictObject({ urls: z.array(rpcUrl).min(1, "at least one RPC URL") }),
  addressesFile: z.string().min(1).optional(),
  agent: z.strictObject({
    ...keySourceFields,
    ...agentProfileFields,
  }),
  /** The agent's SQLite store: follower checkpoint, transactions, action log, memory, learned state. */
  store: z.strictObject({ path: z.string().min(1) }),
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(0),
      maxBodyBytes: positiveInt.default(1 << 20),
    })
    .prefault({}),
  /** Default `<store.path>.encryption-key`. */
  encryption: z.strictObject({ keyFile: z.string().min(1).optional() }).prefault({}),
  /** role provider: its services and pricing strategy. */
  services: z.array(serviceSchema).min(1, "at least one service").optional(),
  strategy: strategySchema.optional(),
  client: clientSchema.optional(),
  validator: validatorSchema.optional(),
  /** The safety monitor's anomaly rules (keepers/common/safety.ts). */
  safety: z
    .strictObject({
      maxActionsPerHour: positiveInt.default(100),
      valueFactor: z.number().positive().default(10),
      baselineActions: z.number().int().min(0).default(10),
    })
    .prefault({}),
  /** Circuit breakers: bidding stops while the window holds more than these. */
  breakers: z
    .strictObject({
      windowSeconds: positiveInt.default(86_400),
      maxLoss: tokenAmount.default(100n * 10n ** 18n),
      maxDisputes: z.number().int().min(0).default(3),
      maxSlashes: z.number().int().min(0).default(0),
    })
    .prefault({}),
  memory: z.strictObject({ maxExperiences: positiveInt.default(10_000) }).prefault({}),
  /** The risk manager (agents/risk.ts): counterparty scores from the chain, exposure limits per client. */
  risk: z
    .strictObject({
      maxClientDisputeRate: z.number().min(0).max(1).default(0.25),
      maxUnitsPerClient: positiveInt.default(32).transform(BigInt),
      /** AITBC; capped by the agent's constitution (maxDailyVolume). */
      maxValuePerClient: tokenAmount.refine((v) => v > 0n, "must be above 0").default(1000n * 10n ** 18n),
      /** First block of the marketplace's history to score from. */
      fromBlock: z.number().int().min(0).default(0),
    })
    .optional(),
  /** The analysis agent (agents/analyst.ts): proposes fee changes from the market's figures through the governor. */
  analyst: z
    .strictObject({
      intervalSeconds: positiveInt.default(3_600),
      windowBlocks: positiveInt.default(50_000),
      minWorkloads: positiveInt.default(20),
      maxUnservedShare: z.number().min(0).max(1).default(0.3),
      lowUnservedShare: z.number().min(0).max(1).default(0.05),
      minBidsPerWorkload: z.number().min(0).default(3),
      stepBps: z.number().int().min(1).max(1_000).default(25),
      minFeeBps: z.number().int().min(0).max(1_000).default(0),
      maxFeeBps: z.number().int().min(0).max(1_000).default(300),
    })
    .refine((a) => a.minFeeBps <= a.maxFeeBps, { path: ["maxFeeBps"], message: "must be ≥ minFeeBps" })
    .refine((a) => a.lowUnservedShare <= a.maxUnservedShare, {
      path: ["lowUnservedShare"],
      message: "must be ≤ maxUnservedShare",
    })
    .optional(),
  follower: z
    .strictObject({
      pollIntervalMs: positiveInt.default(1_000),
      confirmations: z.number().int().min(0).default(0),
      /** First block to follow on a fresh store; default the head at first start. */
      startBlock: z.number().int().min(0).optional(),
    })
    .prefault({}),
  /** How often the work loop delivers awarded work and claims pay (ms). */
  tickMs: positiveInt.default(1_000),
});

export const agentConfigSchema = agentSchemaBase.superRefine((config, ctx) => {
  keySourceRule(config.agent, ctx);
  const sections = { provider: ["services", "strategy"], client: ["client"], validator: ["validator"] } as const;
  for (const [role, keys] of Object.entries(sections))
    for (const key of keys) {
      const present = config[key] !== undefined;
      if (role === config.role && !present)
        ctx.addIssue({ code: "custom", path: [key], message: `required for role "${role}"` });
      if (role !== config.role && present)
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `only for role "${role}" (this agent's role is "${config.role}")`,
        });
    }
  const names = new Set<string>();
  (config.services ?? []).forEach((s, i) => {
    if (names.has(s.name))
      ctx.addIssue({ code: "custom", path: ["services", i, "name"], message: `duplicate "${s.name}"` });
    names.add(s.name);
    if (s.costPerUnit >= s.price)
      ctx.addIssue({ code: "custom", path: ["services", i, "costPerUnit"], message: "must be below the listed price" });
  });
});
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** The provider's part of a validated configuration (present for role "provider": checked by the schema). */
export function providerPart(config: AgentConfig): {
  services: NonNullable<AgentConfig["services"]>;
  strategy: StrategyConfig;
} {
  if (config.services === undefined || config.strategy === undefined)
    throw new Error(`role "${config.role}": no services or strategy`);
  return { services: config.services, strategy: config.strategy };
}

export const AGENT_ENV = {
  AITBC_AGENT_KEY: { path: ["agent", "privateKey"] },
  AITBC_AGENT_KEYSTORE: { path: ["agent", "keystore"] },
  AITBC_RPC_URLS: { path: ["rpc", "urls"], parse: list },
  AITBC_AGENT_PORT: { path: ["server", "port"], parse: number },
  AITBC_ADDRESSES: { path: ["addressesFile"] },
  AITBC_AGENT_DB: { path: ["store", "path"] },
};

export function loadAgentConfig(options: { file?: string; env: NodeJS.ProcessEnv }): AgentConfig {
  return loadConfig(agentConfigSchema, { file: options.file, env: options.env, bindings: AGENT_ENV });
}
