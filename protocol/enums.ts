/**
 * The contracts' enums, in declaration order (the value on chain is the index), with the names tasks, daemons and
 * configs print and accept. One list per Solidity enum; nothing else in the repository spells them out.
 */

/** IAgentRegistry.AgentType. */
export const AGENT_TYPES = ["service-provider", "market-maker", "governance", "validator"] as const;
export type AgentTypeName = (typeof AGENT_TYPES)[number];

/** IAgentRegistry.AgentStatus. */
export const AGENT_STATUSES = ["none", "active", "frozen", "exiting"] as const;
export type AgentStatusName = (typeof AGENT_STATUSES)[number];

/** IHumanOverride.Decision. */
export const OVERRIDE_DECISIONS = ["none", "granted", "denied"] as const;

/** IServiceMarketplace.VerificationLevel (the marketplace accepts basic and zk workloads; full is reserved). */
export const WORKLOAD_VERIFICATION_LEVELS = ["basic", "full", "zk"] as const;

/** IServiceMarketplace.WorkloadStatus. */
export const WORKLOAD_STATUSES = [
  "none",
  "open",
  "awarded",
  "submitted",
  "disputed",
  "settled",
  "refunded",
  "cancelled",
] as const;

/** IWorkflows.StepType. */
export const STEP_TYPES = ["inference", "training", "data-processing"] as const;
export type StepTypeName = (typeof STEP_TYPES)[number];

/** IWorkflows.VerificationLevel. */
export const VERIFICATION_LEVELS = ["basic", "full", "zk"] as const;
export type LevelName = (typeof VERIFICATION_LEVELS)[number];

/** IWorkflows.ExecutionStatus. */
export const EXECUTION_STATUSES = ["none", "pending", "running", "completed", "failed"] as const;
export type ExecutionStatusName = (typeof EXECUTION_STATUSES)[number];

/** OpenZeppelin IGovernor.ProposalState. */
export const PROPOSAL_STATES = [
  "pending",
  "active",
  "canceled",
  "defeated",
  "succeeded",
  "queued",
  "expired",
  "executed",
] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

/** GovernorCountingSimple's support values. */
export const SUPPORT_CODES = { against: 0, for: 1, abstain: 2 } as const;
export type Support = keyof typeof SUPPORT_CODES;

/** The name of value `index` of `names`, or `#index` when the chain returned a value this code does not know. */
export function enumName(names: readonly string[], index: number | bigint): string {
  return names[Number(index)] ?? `#${index}`;
}

/** "data-processing" -> "dataProcessing". */
type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/**
 * `{ name: value }` for an enum's names (camelCase), values as bigints as ethers returns them:
 * `enumValues(EXECUTION_STATUSES).completed === 3n`.
 */
export function enumValues<const Names extends readonly string[]>(
  names: Names,
): { readonly [K in Names[number] as Camel<K>]: bigint } {
  const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  return Object.fromEntries(names.map((name, i) => [camel(name), BigInt(i)])) as never;
}
