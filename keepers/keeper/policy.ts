/**
 * The keeper's governance policy: rules over a proposal's decoded actions, how a config states them (schemas,
 * checked against the protocol's ABIs at start-up) and how they decide a vote (PolicyEvaluator: pure, no chain
 * access). The voter (voter.ts) runs it on the governor's proposals; the config (config.ts) validates it.
 *
 * Each action is decoded with the ABI of the protocol contract it calls (protocol/abi.ts) and given to the rules
 * in order; the first rule whose target, function and parameter bounds all match decides that action (`vote`). A
 * rule whose target and function match but whose bounds do not decides with `otherwise` when it has one, else the
 * next rule is tried. An action no rule decides gets the policy's `default` (abstain, against, or skip: no vote at
 * all). The proposal's vote is then the strictest of its actions' verdicts: against, else skip, else abstain, else
 * for (every action allowed). The reason names the rule (or the default) that decided and the figures, e.g.
 * `against (rule "min-stake-range"): registry.setMinStake(9000…): minStake_ 9000… above max 5000…`.
 */
import {
  decodeFunctionData,
  isAddress,
  toFunctionSelector,
  type Abi,
  type AbiFunction,
  type Address,
  type Hex,
} from "viem";
import { z } from "zod";

import { FUTURE_IDS, type ContractKey } from "../../protocol/addresses.js";
import {
  agentVotesAbi,
  constitutionAbi,
  governorAbi,
  humanOverrideAbi,
  marketplaceAbi,
  receiptMinterAbi,
  registryAbi,
  timelockAbi,
  tokenAbi,
  workflowsAbi,
} from "../../protocol/abi.js";
import type { Support } from "../../protocol/enums.js";

export type Verdict = Support | "skip";

const MAX_REASON = 1000;
const MAX_CALL = 200;

/** The ABIs of the protocol contracts a proposal may call, by their deployment key. */
export const PROTOCOL_ABIS: Partial<Record<ContractKey, Abi>> = {
  token: tokenAbi,
  registry: registryAbi,
  constitution: constitutionAbi,
  humanOverride: humanOverrideAbi,
  marketplace: marketplaceAbi,
  workflows: workflowsAbi,
  receiptMinter: receiptMinterAbi,
  agentVotes: agentVotesAbi,
  timelock: timelockAbi,
  governor: governorAbi,
};

// ---------------------------------------------------------------- ABI helpers (shared with config.ts)

/** The functions of `abi` that `ref` names: a name, a signature ("setMinStake(uint256)") or a selector. */
export function functionsOf(abi: Abi, ref: string): AbiFunction[] {
  const functions = abi.filter((item): item is AbiFunction => item.type === "function");
  if (/^0x[0-9a-fA-F]{8}$/.test(ref)) return functions.filter((f) => toFunctionSelector(f) === ref.toLowerCase());
  if (ref.includes("(")) {
    const selector = toFunctionSelector(ref);
    return functions.filter((f) => toFunctionSelector(f) === selector);
  }
  return functions.filter((f) => f.name === ref);
}

/**
 * The index of the input `name` names: an index ("0"), the exact name, or the name without Solidity's
 * conventional underscore ("minStake" for `minStake_`, "amount" for `_amount`).
 */
export function inputIndex(fn: AbiFunction, name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name) < fn.inputs.length ? Number(name) : undefined;
  for (const candidate of [name, `${name}_`, `_${name}`]) {
    const i = fn.inputs.findIndex((input) => input.name === candidate);
    if (i >= 0) return i;
  }
  return undefined;
}

/** An integer written as a decimal string ("-5", "5000000") or an amount of AITBC ("2500 AITBC"), in wei. */
export function parseInteger(value: string | number | boolean): bigint | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value === "boolean") return undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const amount = /^(\d+)(?:\.(\d{1,18}))? ?AITBC$/i.exec(text);
  if (!amount) return undefined;
  return BigInt(amount[1] ?? "0") * 10n ** 18n + BigInt((amount[2] ?? "").padEnd(18, "0"));
}

// ---------------------------------------------------------------- the policy in a config

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

/** The rules of a policy: tried in order for every action of a proposal; the first that matches decides it. */
export const policyRules = z
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
  });

/** For an action no rule matches: vote abstain or against, or skip the proposal (no vote). */
export const policyDefault = z.enum(["abstain", "against", "skip"]).default("skip");

export type GovernanceRule = z.output<typeof policyRules>[number];
export interface GovernancePolicy {
  rules: GovernanceRule[];
  default: z.output<typeof policyDefault>;
}

// ---------------------------------------------------------------- the policy

/** One action of a proposal (GovernorStorage.proposalDetails: targets[i], values[i], calldatas[i]). */
export interface ProposalAction {
  target: Address;
  value: bigint;
  calldata: Hex;
}

/** What the policy says about one action. */
export interface ActionVerdict {
  index: number;
  /** The call, readable: `registry.setMinStake(1000000000000000000000)`. */
  call: string;
  vote: Verdict;
  /** The rule that decided, or undefined for the default. */
  rule: string | undefined;
  /** Why, with the figures. */
  detail: string;
}

/** The vote on a whole proposal: the strictest of its actions' verdicts. */
export interface Decision {
  support: Verdict;
  /** The deciding rule's name(s), or "default". */
  rule: string;
  /** The vote's reason, as cast on chain. */
  reason: string;
  actions: ActionVerdict[];
}

type Bound = NonNullable<GovernanceRule["params"]>[string];
type Plain = string | number | boolean;

interface Decoded {
  fn: AbiFunction;
  args: readonly unknown[];
}

/** Evaluates a policy over proposals' actions: pure, no chain access. */
export class PolicyEvaluator {
  readonly policy: GovernancePolicy;
  readonly #addresses: Partial<Record<ContractKey, Address>>;
  readonly #keys = new Map<string, ContractKey>();

  constructor(policy: GovernancePolicy, addresses: Partial<Record<ContractKey, Address>>) {
    this.policy = policy;
    this.#addresses = addresses;
    for (const [key, address] of Object.entries(addresses) as [ContractKey, Address][]) {
      this.#keys.set(address.toLowerCase(), key);
    }
    for (const rule of policy.rules) {
      if (rule.target !== undefined && this.#resolve(rule.target) === undefined) {
        throw new Error(`governance rule ${rule.name}: target ${rule.target} is not in the deployment's addresses`);
      }
    }
  }

  decide(actions: readonly ProposalAction[]): Decision {
    const verdicts = actions.map((action, index) => this.evaluate(action, index));
    const many = verdicts.length > 1;
    for (const vote of ["against", "skip", "abstain"] as const) {
      const hit = verdicts.find((v) => v.vote === vote);
      if (!hit) continue;
      const by = hit.rule === undefined ? "default: no rule matches" : `rule "${hit.rule}"`;
      const where = many ? `, action #${hit.index} of ${verdicts.length}` : "";
      return {
        support: vote,
        rule: hit.rule ?? "default",
        reason: clip(`${vote} (${by}${where}): ${hit.call}: ${hit.detail}`, MAX_REASON),
        actions: verdicts,
      };
    }
    // Every action is allowed by a rule (the default is never "for").
    const rules = [...new Set(verdicts.map((v) => v.rule ?? "default"))];
    const by = `${rules.length > 1 ? "rules" : "rule"} ${rules.map((r) => `"${r}"`).join(", ")}`;
    const details = verdicts.map((v) => `${many ? `#${v.index} ` : ""}${v.call}: ${v.detail}`).join("; ");
    return {
      support: "for",
      rule: rules.join(", "),
      reason: clip(`for (${by}): ${details}`, MAX_REASON),
      actions: verdicts,
    };
  }

  /** The verdict on one action: the first rule that decides it, else the default. */
  evaluate(action: ProposalAction, index = 0): ActionVerdict {
    const decoded = this.#decode(action);
    const call = this.#describe(action, decoded);
    // Rules bound calls, not payments: an action that sends ether is never voted for.
    if (action.value !== 0n) {
      return {
        index,
        call,
        vote: "against",
        rule: undefined,
        detail: `sends ${action.value} wei, which no rule covers`,
      };
    }
    const passed: string[] = [];
    for (const rule of this.policy.rules) {
      if (!this.#matchesCall(rule, action, decoded)) continue;
      if (rule.params === undefined) return { index, call, vote: rule.vote, rule: rule.name, detail: "matches" };
      const check = this.#checkParams(rule.params, decoded);
      if (check.ok) return { index, call, vote: rule.vote, rule: rule.name, detail: check.detail };
      if (rule.otherwise !== undefined) {
        return { index, call, vote: rule.otherwise, rule: rule.name, detail: check.detail };
      }
      passed.push(`rule "${rule.name}": ${check.detail}`);
    }
    const detail = passed.length === 0 ? "no rule matches" : `no rule matches (${passed.join("; ")})`;
    return { index, call, vote: this.policy.default, rule: undefined, detail };
  }

  #resolve(target: string): string | undefined {
    if (/^0x[0-9a-fA-F]{40}$/.test(target)) return target.toLowerCase();
    return this.#addresses[target as ContractKey]?.toLowerCase();
  }

  #matchesCall(rule: GovernanceRule, action: ProposalAction, decoded: Decoded | undefined): boolean {
    if (rule.target !== undefined && this.#resolve(rule.target) !== action.target.toLowerCase()) return false;
    const ref = rule.function;
    if (ref === undefined) return true;
    const selector = action.calldata.slice(0, 10).toLowerCase();
    if (/^0x[0-9a-fA-F]{8}$/.test(ref)) return selector === ref.toLowerCase();
    if (ref.includes("(")) return selector === toFunctionSelector(ref);
    return decoded?.fn.name === ref;
  }

  #checkParams(params: Record<string, Bound>, decoded: Decoded | undefined): { ok: boolean; detail: string } {
    if (decoded === undefined) return { ok: false, detail: "the call's parameters cannot be decoded" };
    const held: string[] = [];
    for (const [name, bound] of Object.entries(params)) {
      const found = lookup(decoded, name);
      if (!found.ok) return { ok: false, detail: `no parameter ${name}` };
      const failure = this.#violation(name, found.value, bound);
      if (failure !== undefined) return { ok: false, detail: failure };
      held.push(`${name} ${this.#format(found.value)} ${describeBound(bound, (v) => this.#format(v))}`);
    }
    return { ok: true, detail: held.join(", ") };
  }

  /** Why `value` breaks `bound`, or undefined when it holds. */
  #violation(name: string, value: unknown, bound: Bound): string | undefined {
    const shown = this.#format(value);
    if (bound.min !== undefined || bound.max !== undefined) {
      const n = typeof value === "bigint" ? value : typeof value === "number" ? BigInt(value) : undefined;
      if (n === undefined) return `${name} ${shown} is not a number`;
      if (bound.min !== undefined && n < bound.min) return `${name} ${shown} below min ${bound.min}`;
      if (bound.max !== undefined && n > bound.max) return `${name} ${shown} above max ${bound.max}`;
    }
    if (bound.eq !== undefined && !this.#same(value, bound.eq)) return `${name} ${shown} is not ${String(bound.eq)}`;
    if (bound.in !== undefined && !bound.in.some((v) => this.#same(value, v))) {
      return `${name} ${shown} is not one of ${bound.in.map(String).join(", ")}`;
    }
    return undefined;
  }

  #same(value: unknown, expected: Plain): boolean {
    if (typeof value === "bigint" || typeof value === "number") return parseInteger(expected) === BigInt(value);
    if (typeof value === "boolean") return String(value) === String(expected);
    if (typeof value !== "string" || typeof expected !== "string") return false;
    if (isAddress(value, { strict: false })) {
      const resolved = this.#resolve(expected) ?? expected.toLowerCase();
      return value.toLowerCase() === resolved;
    }
    return value.startsWith("0x") ? value.toLowerCase() === expected.toLowerCase() : value === expected;
  }

  #decode(action: ProposalAction): Decoded | undefined {
    const key = this.#keys.get(action.target.toLowerCase());
    const abi = key === undefined ? undefined : PROTOCOL_ABIS[key];
    if (abi === undefined || action.calldata.length < 10) return undefined;
    try {
      const { args } = decodeFunctionData({ abi, data: action.calldata });
      const selector = action.calldata.slice(0, 10).toLowerCase();
      const fn = functionsOf(abi, selector)[0];
      return fn === undefined ? undefined : { fn, args: args ?? [] };
    } catch {
      return undefined;
    }
  }

  #describe(action: ProposalAction, decoded: Decoded | undefined): string {
    const target = this.#keys.get(action.target.toLowerCase()) ?? action.target;
    const value = action.value === 0n ? "" : `{value: ${action.value}}`;
    let call: string;
    if (decoded) call = `${target}.${decoded.fn.name}${value}(${decoded.args.map((a) => this.#format(a)).join(", ")})`;
    else if (action.calldata.length < 10) call = `${target}${value || "{value: 0}"}()`;
    else call = `${target}.${action.calldata.slice(0, 10)}${value}(…)`;
    return clip(call, MAX_CALL);
  }

  #format(value: unknown): string {
    if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
    if (typeof value === "string") {
      if (isAddress(value, { strict: false })) return this.#keys.get(value.toLowerCase()) ?? value;
      return value.startsWith("0x") ? clip(value, 20) : JSON.stringify(clip(value, 40));
    }
    if (Array.isArray(value)) return `[${value.map((v) => this.#format(v)).join(", ")}]`;
    if (typeof value === "object" && value !== null) {
      return `{${Object.entries(value)
        .map(([k, v]) => `${k}: ${this.#format(v)}`)
        .join(", ")}}`;
    }
    return String(value);
  }
}

/** The decoded argument at `path`: an input (by name or index), then fields or indexes ("schedule.base"). */
function lookup(decoded: Decoded, path: string): { ok: true; value: unknown } | { ok: false } {
  const [first = "", ...rest] = path.split(".");
  const i = inputIndex(decoded.fn, first);
  if (i === undefined) return { ok: false };
  let value: unknown = decoded.args[i];
  for (const segment of rest) {
    if (Array.isArray(value) && /^\d+$/.test(segment)) value = (value as unknown[])[Number(segment)];
    else if (typeof value === "object" && value !== null && segment in value)
      value = (value as Record<string, unknown>)[segment];
    else return { ok: false };
    if (value === undefined) return { ok: false };
  }
  return { ok: true, value };
}

function describeBound(bound: Bound, format: (v: unknown) => string): string {
  const parts: string[] = [];
  if (bound.min !== undefined && bound.max !== undefined) parts.push(`within [${bound.min}, ${bound.max}]`);
  else if (bound.min !== undefined) parts.push(`>= ${bound.min}`);
  else if (bound.max !== undefined) parts.push(`<= ${bound.max}`);
  if (bound.eq !== undefined) parts.push(`= ${format(bound.eq)}`);
  if (bound.in !== undefined) parts.push(`in {${bound.in.map((v) => format(v)).join(", ")}}`);
  return parts.join(", ");
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
