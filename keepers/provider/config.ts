/**
 * The provider node's configuration: a JSON file (keepers/provider/provider.example.json) with environment
 * variables over it, validated here at start. Every bad field, including the cross-field rules (an `openai`
 * service needs `upstream`, `iris` serves inference, `data` serves data-processing, nothing serves training yet,
 * the operator is not the agent), stops the start with a ConfigError naming it.
 */
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";

import { keySourceFields, keySourceRule } from "../common/keys.js";
import {
  agentProfileFields,
  cronExpression,
  httpUrl,
  list,
  loadConfig,
  number,
  port,
  rpcUrl,
  startupRpcFields,
  tokenAmount,
} from "../common/config.js";
import { STEP_TYPES } from "../../protocol/enums.js";
import { BACKEND_KINDS } from "./backends/types.js";

const positiveInt = z.number().int().min(1);
const rate = z.number().min(0).max(1);
const maxBytes = (n: number) => (s: string) => Buffer.byteLength(s) <= n;

const upstreamSchema = z.strictObject({
  /** Base URL of the OpenAI-compatible server (…/v1/chat/completions is appended). */
  url: httpUrl,
  /** The upstream's model name; a step's `model` is keccak256 of it. */
  model: z.string().min(1),
  kind: z.enum(["chat", "embeddings"]).default("chat"),
  /** Name of the environment variable holding the API key (sent as a Bearer token). */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
});

const serviceSchema = z.strictObject({
  /** The offer's serviceName on chain (1..64 bytes); also names the service in logs and metrics. */
  name: z.string().min(1).refine(maxBytes(64), "must be at most 64 bytes"),
  stepType: z.enum(STEP_TYPES),
  backend: z.enum(BACKEND_KINDS),
  /** AITBC per step (the offer's pricePerUnit); must be above zero. */
  price: tokenAmount.refine((v) => v > 0n, "must be above 0"),
  /** Concurrent steps of this service (and the offer's maxCapacity); default server.capacity. */
  capacity: positiveInt.optional(),
  /** The offer's minAccuracy (basis points). */
  minAccuracy: z.number().int().min(0).max(10_000).default(0),
  upstream: upstreamSchema.optional(),
});

/**
 * Who may run steps here (keepers/provider/auth.ts): always on, these only tune it. Every request must be signed by
 * the keeper of a running execution; these bound how long a signature lives, how long the chain's answer is reused,
 * and how fast one keeper may ask.
 */
export const authConfigSchema = z
  .strictObject({
    /** How far ahead a request's expiry may be (s); keepers sign for 60 s (protocol/steps.ts). */
    maxExpirySeconds: z.number().int().min(60).max(3_600).default(300),
    /** How long an execution's status and keeper read from the chain are reused (ms); 0: read every time. */
    chainCacheMs: z.number().int().min(0).max(60_000).default(3_000),
    /** Executions, keepers and rate buckets remembered at most (the oldest are forgotten first). */
    cacheSize: positiveInt.default(10_000),
    /** Chain reads in flight at once; a request needing one more is refused with 429 `auth-busy`. */
    maxLookups: positiveInt.default(16),
    /** Each keeper's token bucket: requests per second, steady. */
    keeperRate: z.number().positive().default(50),
    /** Each keeper's token bucket: requests at once after a pause. */
    keeperBurst: positiveInt.default(100),
  })
  .prefault({});
export type AuthConfig = z.output<typeof authConfigSchema>;

const providerSchemaBase = z.strictObject({
  rpc: z.strictObject({ urls: z.array(rpcUrl).min(1, "at least one RPC URL"), ...startupRpcFields }),
  addressesFile: z.string().min(1).optional(),
  /**
   * Where the node keeps its state (its encryption key): default `$XDG_DATA_HOME/aitbc/provider/chain-<id>` or
   * `~/.local/share/aitbc/provider/chain-<id>` (common/startup.ts).
   */
  dataDir: z.string().min(1).optional(),
  agent: z.strictObject({
    ...keySourceFields,
    ...agentProfileFields,
    /** Delist the node's offers when it stops (keepers then stop choosing it); listed again at the next start. */
    delistOnStop: z.boolean().default(true),
  }),
  /** Claiming the credits Workflows holds for the node (earnings.ts). */
  credits: z
    .strictObject({
      /** When to claim (six-field cron); default hourly. */
      claimSchedule: cronExpression.default("0 0 * * * *"),
      /** Claim only from this much claimable (AITBC), so gas is not spent on dust. */
      minClaim: tokenAmount.default(10n ** 18n),
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(0),
      maxBodyBytes: positiveInt.default(1 << 20),
      /** Steps running at once over all services; more are refused with 429. */
      capacity: positiveInt.default(4),
      requestTimeoutMs: positiveInt.default(60_000),
      retryAfterSeconds: positiveInt.default(1),
    })
    .prefault({}),
  auth: authConfigSchema,
  /**
   * The node's X25519 key (protocol/sealed.ts): a seed file created on first start; its public key is published on
   * chain (AgentRegistry.setEncryptionKey), and keepers seal step inputs to it. Default `<dataDir>/provider.encryption-key`.
   */
  encryption: z.strictObject({ keyFile: z.string().min(1).optional() }).prefault({}),
  services: z.array(serviceSchema).min(1, "at least one service"),
  /** Fault injection for end-to-end tests and drills; all off by default. */
  chaos: z
    .strictObject({
      /** Share of answers whose output is altered after signing. */
      tamperOutputRate: rate.default(0),
      /** Share of answers signed by a throwaway key instead of the agent's. */
      badSignatureRate: rate.default(0),
      /** Added to every step before it runs. */
      extraDelayMs: z.number().int().min(0).default(0),
    })
    .prefault({}),
});

type RawConfig = z.output<typeof providerSchemaBase>;

/** Cross-field rules; each issue names its field. */
function checkConfig(config: RawConfig, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => {
    ctx.addIssue({ code: "custom", path, message });
  };
  keySourceRule(config.agent, ctx);
  if (config.agent.privateKey && agentAddress(config.agent.privateKey) === config.agent.operator.toLowerCase())
    issue(["agent", "operator"], "must differ from the agent's own address (the key's)");
  const names = new Set<string>();
  const routes = new Set<string>();
  config.services.forEach((s, i) => {
    const at = (...path: (string | number)[]) => ["services", i, ...path];
    if (names.has(s.name)) issue(at("name"), `duplicate service name "${s.name}"`);
    names.add(s.name);
    if (s.stepType === "training") issue(at("backend"), "no backend runs training steps yet");
    else if (s.backend === "iris" && s.stepType !== "inference")
      issue(at("stepType"), 'backend "iris" serves "inference"');
    else if (s.backend === "data" && s.stepType !== "data-processing")
      issue(at("stepType"), 'backend "data" serves "data-processing"');
    if (s.backend === "openai" && s.upstream === undefined) issue(at("upstream"), 'required by backend "openai"');
    if (s.backend !== "openai" && s.upstream !== undefined) issue(at("upstream"), `not used by backend "${s.backend}"`);
    const route = `${s.stepType} ${s.backend === "openai" ? `openai:${s.upstream?.model ?? ""}` : s.backend}`;
    if (routes.has(route)) issue(at("backend"), `another service already serves ${s.stepType} with this model`);
    routes.add(route);
  });
}

function agentAddress(privateKey: `0x${string}`): string | undefined {
  try {
    return privateKeyToAccount(privateKey).address.toLowerCase();
  } catch {
    return undefined; // not a valid secp256k1 key: the privateKey field reports it
  }
}

export const providerConfigSchema = providerSchemaBase.superRefine(checkConfig).transform((config) => ({
  ...config,
  services: config.services.map((s) => ({ ...s, capacity: s.capacity ?? config.server.capacity })),
}));

export type ProviderConfig = z.output<typeof providerConfigSchema>;
export type ServiceConfig = ProviderConfig["services"][number];

/** The environment variables the node reads (over the file). */
export const PROVIDER_ENV = {
  AITBC_PROVIDER_KEY: { path: ["agent", "privateKey"] },
  AITBC_PROVIDER_KEYSTORE: { path: ["agent", "keystore"] },
  AITBC_RPC_URLS: { path: ["rpc", "urls"], parse: list },
  AITBC_PROVIDER_PORT: { path: ["server", "port"], parse: number },
  AITBC_ADDRESSES: { path: ["addressesFile"] },
  AITBC_PROVIDER_ENCRYPTION_KEY_FILE: { path: ["encryption", "keyFile"] },
  AITBC_PROVIDER_DATA_DIR: { path: ["dataDir"] },
};

/** Reads and checks the configuration; throws ConfigError naming every bad field and its source. */
export function loadProviderConfig(options: { file?: string; env: NodeJS.ProcessEnv }): ProviderConfig {
  return loadConfig(providerConfigSchema, { file: options.file, env: options.env, bindings: PROVIDER_ENV });
}
