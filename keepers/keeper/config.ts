/**
 * The keeper's configuration: a JSON file (keepers/keeper/keeper.example.json) plus environment overrides,
 * validated at start; a bad field stops the start with a message naming it.
 */
import path from "node:path";

import { z } from "zod";

import { ACTION_TYPES } from "../../protocol/actions.js";
import {
  address,
  cronExpression,
  list,
  loadConfig,
  number,
  port,
  rpcUrl,
  startupRpcFields,
  tokenAmount,
  type EnvBinding,
} from "../common/config.js";
import { keySourceFields, keySourceRule } from "../common/keys.js";
import { isPostgresUrl } from "../common/store-sql.js";
import { policyDefault, policyRules } from "./policy.js";

/** The keeper's governance voter (keepers/keeper/voter.ts): the policy it votes by. */
const governance = z.strictObject({
  enabled: z.boolean().default(false),
  rules: policyRules,
  default: policyDefault,
  /** How often open proposals are checked (six-field cron). */
  schedule: cronExpression.default("*/10 * * * * *"),
  /** Gas charged to the daily gas budget per vote, for the safety monitor. */
  gasEstimate: z.number().int().min(21_000).default(300_000),
});

export type GovernanceConfig = z.output<typeof governance>;

// ---------------------------------------------------------------- the keeper

export const keeperConfigSchema = z
  .strictObject({
    rpc: z.strictObject({
      urls: z.array(rpcUrl).min(1, "at least one RPC URL"),
      pollingIntervalMs: z.number().int().min(50).default(500),
      timeoutMs: z.number().int().min(100).default(10_000),
      ...startupRpcFields,
    }),
    addressesFile: z.string().optional(),
    /**
     * Where the keeper keeps its state (keeper.db, its encryption key): default
     * `$XDG_DATA_HOME/aitbc/keeper/chain-<id>` or `~/.local/share/aitbc/keeper/chain-<id>` (common/startup.ts).
     */
    dataDir: z.string().min(1).optional(),
    agent: z.strictObject({
      ...keySourceFields,
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
    /**
     * The keeper's database: a SQLite file (`path`, default `<dataDir>/keeper.db`), or a PostgreSQL server (`url`,
     * `postgres://user:password@host:port/db`) that replicas of the keeper share. A replica acts only while it holds
     * the keeper's lease; the others wait as standbys and check every `leasePollMs` (keeper/lease.ts).
     */
    database: z
      .strictObject({
        path: z
          .string()
          .min(1)
          .refine((p) => !isPostgresUrl(p), "a PostgreSQL URL goes in database.url, not database.path")
          .optional(),
        url: z
          .string()
          .refine(isPostgresUrl, "expected a postgres:// or postgresql:// URL (a SQLite file goes in database.path)")
          .optional(),
        leasePollMs: z.number().int().min(100).max(60_000).default(1000),
      })
      .refine((d) => d.path === undefined || d.url === undefined, {
        message: "set database.path (SQLite) or database.url (PostgreSQL), not both",
        path: ["url"],
      })
      .prefault({}),
    /**
     * The keeper's X25519 key (protocol/sealed.ts): a seed file created on first start, default next to the database
     * (`<database>.encryption-key`); its public key is published on chain (AgentRegistry.setEncryptionKey).
     */
    encryption: z.strictObject({ keyFile: z.string().min(1).optional() }).prefault({}),
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
        /**
         * A provider that cannot be reached (connection refused, reset, a 5xx) or does not answer in time comes after
         * every other candidate for this long (ms), doubled on each further failure in a row up to
         * `providerMaxBackoffMs`; then the next attempt on it probes it (health.ts).
         */
        providerBackoffMs: z.number().int().min(0).default(10_000),
        providerMaxBackoffMs: z.number().int().min(0).default(600_000),
        recordBatch: z.number().int().min(1).max(256).default(16),
        claimOpen: z.boolean().default(true),
        /**
         * The keeper's fee per completed execution (AITBC), taken from the execution's budget: it gets at most what
         * the client accepted in its request (maxKeeperFee) and what the steps left of the budget.
         */
        keeperFee: tokenAmount.prefault("0"),
      })
      .prefault({}),
    safety: z
      .strictObject({
        /**
         * Sized from the measured load (keepers/README.md "Capacity"): a basic execution is 3 actions and ~250k gas,
         * so an agent's default daily gas (100M) pays for ~400 a day, ~1,200 actions; 1500 an hour lets a whole
         * day's budget run in one burst, and still stops a runaway loop within minutes.
         */
        maxActionsPerHour: z.number().int().min(1).default(1500),
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
        /** An address allowed on the operator's routes besides the agent's operator on chain (api.ts). */
        admin: address.optional(),
      })
      .prefault({}),
    jobs: z
      .strictObject({
        sweep: cronExpression.default("*/5 * * * * *"),
        providers: cronExpression.default("*/30 * * * * *"),
      })
      .prefault({}),
    governance: governance.optional(),
  })
  .superRefine((config, ctx) => {
    keySourceRule(config.agent, ctx);
  });

export type KeeperConfig = z.output<typeof keeperConfigSchema>;

export const KEEPER_ENV: Record<string, EnvBinding> = {
  AITBC_KEEPER_KEY: { path: ["agent", "privateKey"] },
  AITBC_KEEPER_KEYSTORE: { path: ["agent", "keystore"] },
  AITBC_RPC_URLS: { path: ["rpc", "urls"], parse: list },
  AITBC_ADDRESSES: { path: ["addressesFile"] },
  AITBC_KEEPER_DB: { path: ["database", "path"] },
  AITBC_KEEPER_DATABASE_URL: { path: ["database", "url"] },
  AITBC_KEEPER_DATA_DIR: { path: ["dataDir"] },
  AITBC_KEEPER_ENCRYPTION_KEY_FILE: { path: ["encryption", "keyFile"] },
  AITBC_KEEPER_PORT: { path: ["server", "port"], parse: number },
  AITBC_KEEPER_ADMIN: { path: ["server", "admin"] },
  AITBC_CONFIRMATIONS: { path: ["follower", "confirmations"], parse: number },
};

/**
 * The keeper's database: `database.url`, `database.path`, or `<dataDir>/keeper.db` (`dataDir` resolved by
 * common/startup.ts).
 */
export function keeperDatabase(config: Pick<KeeperConfig, "database">, dataDir: string): string {
  return config.database.url ?? config.database.path ?? path.join(dataDir, "keeper.db");
}

/**
 * The keeper's encryption key file: `encryption.keyFile`, or `<database>.encryption-key` next to a SQLite database,
 * `<dataDir>/keeper.encryption-key` with PostgreSQL (replicas must be given the same file: the key is on chain).
 */
export function keeperKeyFile(config: Pick<KeeperConfig, "encryption">, database: string, dataDir: string): string {
  if (config.encryption.keyFile !== undefined) return config.encryption.keyFile;
  return isPostgresUrl(database) ? path.join(dataDir, "keeper.encryption-key") : `${database}.encryption-key`;
}

export function loadKeeperConfig(file: string | undefined, env: NodeJS.ProcessEnv): KeeperConfig {
  return loadConfig(keeperConfigSchema, { file, env, bindings: KEEPER_ENV });
}
