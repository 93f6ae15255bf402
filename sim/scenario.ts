/**
 * A scenario file (sim/scenarios/*.json): the population (a list of agent kinds, each with its strategy), the demand
 * per day by service, the protocol parameters the deployment starts with, scheduled events and attackers. Validated
 * by a zod schema through keepers/common/config.ts's loadConfig: a bad field stops the run with a ConfigError naming
 * it (`population[2].strategy.kind: ...`). `--set path=value` (and the sweep's parameters) override fields before
 * validation, through the same loader's bindings.
 */
import { z } from "zod";

import { strategySchema } from "../agents/config.js";
import { loadConfig, number, tokenAmount, type EnvBinding } from "../keepers/common/config.js";

const positiveInt = z.number().int().min(1);
const day = z.number().int().min(0);
const fraction = z.number().min(0).max(1);
const range = z
  .tuple([z.number().min(0), z.number().min(0)])
  .refine(([low, high]) => low <= high, "the first bound must not exceed the second");

const serviceSchema = z.strictObject({
  /** The offers' serviceName; workloads ask for keccak256 of it. */
  name: z.string().min(1).max(64),
  /** Providers' cost of one unit of work, AITBC. */
  costPerUnit: tokenAmount.default(0n),
});

const demandSchema = z.strictObject({
  service: z.string().min(1),
  /** Workloads posted per day (each client posts its share). */
  workloadsPerDay: z.number().min(0),
  /** Units per workload, drawn uniformly (integers). */
  units: range.default([1, 4]),
  /** The client's ceiling per unit, AITBC, drawn uniformly. */
  maxPricePerUnit: range.default([0.8, 2.4]),
  /** Days whose demand is multiplied (stress bursts). */
  bursts: z.array(z.strictObject({ day, multiplier: z.number().min(0) })).default([]),
});

const providerSchema = z.strictObject({
  kind: z.literal("provider"),
  /** Agents are named `<name>-<i>`. */
  name: z.string().min(1),
  count: positiveInt.default(1),
  services: z.array(z.string().min(1)).min(1, "at least one service"),
  /** Units of awarded work each service takes at once (the offer's maxCapacity). */
  capacity: positiveInt.default(40),
  /** AITBC staked at registration (at least the minimum stake plus the bond). */
  stake: tokenAmount.default(1_500n * 10n ** 18n),
  /** Expected daily volume declared at registration, AITBC (sets the bond). */
  dailyVolume: tokenAmount.default(1_000n * 10n ** 18n),
  /** The real runtime strategy (agents/config.ts's strategy schema: fixed-price, thompson-price, market-maker). */
  strategy: strategySchema,
  /** Chance that an awarded workload is delivered (else it times out and is slashed). */
  reliability: fraction.default(1),
  /** Governance stance when a proposal raises the protocol fee: for, against, abstain. */
  stance: z.enum(["for", "against", "abstain"]).default("against"),
});

const clientSchema = z.strictObject({
  kind: z.literal("client"),
  name: z.string().min(1),
  count: positiveInt.default(1),
  /** AITBC each client starts with. */
  budget: tokenAmount.default(100_000n * 10n ** 18n),
  /** Chance a client rejects a delivered result (a dispute). */
  rejectRate: fraction.default(0),
});

/**
 * Agent kinds of the population. A new kind (validator, market maker, arbitrageur, risk manager) is a schema
 * here and a class in sim/agents/, created by sim/population.ts's factory.
 */
const memberSchema = z.discriminatedUnion("kind", [providerSchema, clientSchema]);
export type ProviderSpec = z.output<typeof providerSchema>;
export type ClientSpec = z.output<typeof clientSchema>;
export type MemberSpec = z.output<typeof memberSchema>;

const sybilSchema = z.strictObject({
  kind: z.literal("sybil"),
  name: z.string().min(1).default("sybil"),
  /** Provider identities the attacker registers, each staking the minimum. */
  identities: positiveInt.default(4),
  service: z.string().min(1),
  /** The undercutting price per unit, AITBC. */
  price: tokenAmount,
  /** Whether won work is delivered (false: griefing, the work times out). */
  deliver: z.boolean().default(false),
  startDay: day.default(0),
});

const selfDealSchema = z.strictObject({
  kind: z.literal("self-dealing"),
  name: z.string().min(1).default("farmer"),
  service: z.string().min(1),
  /** Self-dealt workloads a day (the attacker's client pays its own provider). */
  perDay: positiveInt.default(4),
  units: positiveInt.default(10),
  /** Price of the self-dealt work, AITBC per unit (the fee on it buys reputation). */
  farmPrice: tokenAmount,
  /** Price it bids on honest workloads once farmed, AITBC per unit. */
  price: tokenAmount,
  /** Days spent farming before bidding on honest work. */
  farmDays: day.default(3),
});

const exitDodgeSchema = z.strictObject({
  kind: z.literal("exit-dodge"),
  name: z.string().min(1).default("dodger"),
  service: z.string().min(1),
  price: tokenAmount,
  /** The day it wins work, asks to unstake all, and never delivers. */
  day: day.default(1),
});

const collusionSchema = z.strictObject({
  kind: z.literal("collusion"),
  name: z.string().min(1).default("colluders"),
  service: z.string().min(1),
  /** Workloads a day the colluding client posts and awards to its partner. */
  perDay: positiveInt.default(4),
  units: positiveInt.default(10),
  /** The client's ceiling, AITBC per unit: the partner bids it (above the market) and is awarded it. */
  ceiling: tokenAmount,
});

const flashStakeSchema = z.strictObject({
  kind: z.literal("flash-stake"),
  name: z.string().min(1).default("flash-staker"),
  service: z.string().min(1),
  /** AITBC held from the start and staked the day a proposal appears (before its snapshot), unstaked after voting. */
  flashStake: tokenAmount,
  /** How it votes on the proposal. */
  stance: z.enum(["for", "against", "abstain"]).default("for"),
});

const spamSchema = z.strictObject({
  kind: z.literal("spam"),
  name: z.string().min(1).default("spammer"),
  service: z.string().min(1),
  /** Workloads a day posted to draw bids, each cancelled before the award. */
  perDay: positiveInt.default(20),
  units: positiveInt.default(2),
  /** Their ceiling, AITBC per unit: attractive, so providers bid. */
  ceiling: tokenAmount,
  startDay: day.default(0),
});

const attackerSchema = z.discriminatedUnion("kind", [
  sybilSchema,
  selfDealSchema,
  exitDodgeSchema,
  collusionSchema,
  flashStakeSchema,
  spamSchema,
]);
export type AttackerSpec = z.output<typeof attackerSchema>;

const eventSchema = z.discriminatedUnion("kind", [
  /** `agent` goes down on `day` after the auctions (its work that day fails), and stays down `days` more days. */
  z.strictObject({ kind: z.literal("outage"), day, days: positiveInt.default(1), agent: z.string().min(1) }),
  z.strictObject({ kind: z.literal("emergency-stop"), day, hours: positiveInt.default(6) }),
  z.strictObject({
    kind: z.literal("proposal"),
    day,
    /** The governance proposal: set the marketplace's protocol fee (bps). */
    protocolFeeBps: z.number().int().min(0).max(1_000),
  }),
  z.strictObject({
    kind: z.literal("price-shock"),
    day,
    days: positiveInt.default(1),
    service: z.string().min(1),
    /** Multiplies the clients' ceilings (demand side) for the days. */
    ceilingMultiplier: z.number().min(0).default(1),
    /** Multiplies the providers' cost of a unit for the days. */
    costMultiplier: z.number().min(0).default(1),
  }),
]);
export type EventSpec = z.output<typeof eventSchema>;

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(""),
    seed: z.number().int().min(0).default(1),
    days: positiveInt.default(7),
    protocol: z
      .strictObject({
        protocolFeeBps: z.number().int().min(0).max(1_000).default(100),
        timeoutSlashBps: z.number().int().min(0).max(10_000).default(1_000),
        /** The registry's minimum stake, AITBC. */
        minStake: tokenAmount.default(1_000n * 10n ** 18n),
        challengeWindowHours: z.number().int().min(1).max(720).default(24),
        /** Hours of bidding after a workload is posted. */
        biddingHours: z.number().int().min(1).max(20).default(2),
        /** Hours to deliver after the bidding deadline. */
        executionHours: z.number().int().min(1).max(72).default(12),
      })
      .prefault({}),
    costs: z
      .strictObject({
        /** Gas price the P&L charges, gwei. */
        gasPriceGwei: z.number().min(0).default(1),
        /** AITBC per ether, to put gas in AITBC. */
        aitbcPerEth: z.number().min(0).default(2_000),
      })
      .prefault({}),
    services: z.array(serviceSchema).min(1, "at least one service"),
    demand: z.array(demandSchema).default([]),
    population: z.array(memberSchema).min(1, "at least one agent"),
    events: z.array(eventSchema).default([]),
    attackers: z.array(attackerSchema).default([]),
  })
  .superRefine((s, ctx) => {
    const services = new Set(s.services.map((x) => x.name));
    const check = (name: string, path: (string | number)[]) => {
      if (!services.has(name)) ctx.addIssue({ code: "custom", path, message: `unknown service "${name}"` });
    };
    s.demand.forEach((d, i) => {
      check(d.service, ["demand", i, "service"]);
    });
    s.population.forEach((m, i) => {
      if (m.kind !== "provider") return;
      m.services.forEach((name, j) => {
        check(name, ["population", i, "services", j]);
      });
    });
    s.attackers.forEach((a, i) => {
      check(a.service, ["attackers", i, "service"]);
    });
    s.events.forEach((e, i) => {
      if (e.kind === "price-shock") check(e.service, ["events", i, "service"]);
    });
    const names = new Set<string>();
    s.population.forEach((m, i) => {
      if (names.has(m.name)) ctx.addIssue({ code: "custom", path: ["population", i, "name"], message: "duplicate" });
      names.add(m.name);
    });
    s.attackers.forEach((a, i) => {
      if (names.has(a.name)) ctx.addIssue({ code: "custom", path: ["attackers", i, "name"], message: "duplicate" });
      names.add(a.name);
    });
    if (!s.population.some((m) => m.kind === "client") && s.demand.length > 0)
      ctx.addIssue({ code: "custom", path: ["population"], message: "demand needs at least one client" });
  });

export type Scenario = z.output<typeof scenarioSchema>;

/**
 * Reads and validates a scenario file. `overrides` are `path=value` pairs (`protocol.protocolFeeBps=200`,
 * `population.0.count=3`), applied before validation; numbers stay numbers.
 */
export function loadScenario(file: string, overrides: readonly string[] = []): Scenario {
  const env: Record<string, string> = {};
  const bindings: Record<string, EnvBinding> = {};
  overrides.forEach((pair, i) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new RangeError(`--set ${pair}: expected path=value`);
    const name = `SIM_SET_${i}`;
    env[name] = pair.slice(at + 1);
    bindings[name] = { path: pair.slice(0, at).split("."), parse: number };
  });
  return loadConfig(scenarioSchema, { file, env, bindings });
}
