/** What the governance tasks share: proposal and account references, proposal actions, votes and dates. */
import {
  formatUnits,
  FunctionFragment,
  getAddress,
  Interface,
  isAddress,
  isHexString,
  MaxUint256,
  parseUnits,
  type ParamType,
} from "ethers";

import { FUTURE_IDS, type ContractKey } from "../../../protocol/addresses.js";
import { ArgumentError, parseInteger, required } from "../../lib/args.js";
import type { Protocol } from "../../lib/protocol.js";

/** Voting power, in wei of votes (18 decimals; DEFAULT_SCHEDULE gives one vote per staked AITBC). */
export const votes = (wei: bigint) => `${formatUnits(wei, 18)} votes`;

/** A timestamp as an ISO date ("-" for 0). */
export const when = (t: bigint) => (t === 0n ? "-" : new Date(Number(t) * 1000).toISOString());

export interface ProposalRef {
  id: bigint;
  /** 1-based position among the governor's proposals (GovernorStorage), when known. */
  number?: bigint;
}

export const proposalName = (p: ProposalRef) => (p.number === undefined ? `proposal ${p.id}` : `proposal #${p.number}`);

/**
 * `--proposal`: a proposal id (the uint256 the governor derives from the proposal), or its number "#N" / "N",
 * counted from 1 in the order of proposing (what `gov propose` prints). Ids are hashes, so a value no greater
 * than the number of proposals is a number.
 */
export async function resolveProposal(protocol: Protocol, value: string): Promise<ProposalRef> {
  const v = required("proposal", value).replace(/^#/, "");
  const n = parseInteger("proposal", v, { max: MaxUint256 });
  const { governor } = protocol;
  const count = await governor.proposalCount();
  if (n >= 1n && n <= count) {
    const [id] = await governor.proposalDetailsAt(n - 1n);
    return { id, number: n };
  }
  if ((await governor.proposalSnapshot(n)) === 0n) {
    throw new ArgumentError("proposal", `no proposal ${value.trim()} (${count} proposals so far)`);
  }
  return { id: n };
}

/** An account flag: an address, or an agent id (its agent's address). */
export async function resolveAccount(protocol: Protocol, flag: string, value: string): Promise<string> {
  const v = required(flag, value);
  const address = isAddress(v) ? getAddress(v) : undefined; // (not a type guard on v: v stays a string below)
  if (address) return address;
  if (!/^\d+$/.test(v)) throw new ArgumentError(flag, `"${v}" is neither an address nor an agent id`);
  const { registry } = protocol;
  const count = await registry.agentCount();
  const agentId = BigInt(v);
  if (agentId < 1n || agentId > count) throw new ArgumentError(flag, `no agent #${v} (${count} registered)`);
  return registry.agentAddress(agentId);
}

/** "agent #3" or "not an agent", for messages. */
export async function agentLabel(protocol: Protocol, account: string): Promise<string> {
  const agentId = await protocol.registry.agentIdOf(account);
  return agentId === 0n ? "not an agent" : `agent #${agentId}`;
}

// ---------------------------------------------------------------- proposal actions

/** The protocol contracts a proposal may name by key. */
export const TARGET_KEYS = Object.keys(FUTURE_IDS) as ContractKey[];

interface Target {
  address: string;
  /** The contract's key, or its address when it is not one of the protocol's. */
  name: string;
  iface?: Interface;
}

export interface Action {
  target: string;
  value: bigint;
  calldata: string;
  /** e.g. registry.setMinStake(1500000000000000000000) */
  summary: string;
}

/** What a proposal action is made of, as given on the command line or in an --actions file. */
export interface ActionSpec {
  target: unknown;
  function: unknown;
  args?: unknown;
  value?: unknown;
}

async function targets(protocol: Protocol): Promise<Target[]> {
  return Promise.all(
    TARGET_KEYS.map(async (key) => ({
      address: await protocol[key].getAddress(),
      name: key,
      iface: protocol[key].interface,
    })),
  );
}

async function resolveTarget(protocol: Protocol, value: unknown): Promise<Target> {
  const v = typeof value === "string" ? value.trim() : "";
  if (v === "") throw new ArgumentError("target", "is required");
  const known = await targets(protocol);
  const byKey = known.find((t) => t.name === v);
  if (byKey) return byKey;
  const address = isAddress(v) ? getAddress(v) : undefined;
  if (address) return known.find((t) => t.address === address) ?? { address, name: address };
  throw new ArgumentError("target", `"${v}" is neither an address nor a contract (${TARGET_KEYS.join(", ")})`);
}

/** A function signature ("setMinStake(uint256)"), or only a name when the target's ABI is known. */
function resolveFunction(target: Target, value: unknown): FunctionFragment {
  const v = typeof value === "string" ? value.trim().replace(/^function\s+/, "") : "";
  if (v === "") throw new ArgumentError("function", "is required");
  if (!v.includes("(")) {
    if (!target.iface) {
      throw new ArgumentError("function", `"${v}": give the full signature (e.g. ${v}(uint256)) for ${target.name}`);
    }
    const matches = target.iface.fragments.filter(
      (f): f is FunctionFragment => f instanceof FunctionFragment && f.name === v,
    );
    const [only] = matches;
    if (!only) throw new ArgumentError("function", `${target.name} has no function ${v}`);
    if (matches.length > 1) {
      const options = matches.map((f) => f.format("sighash")).join(", ");
      throw new ArgumentError("function", `${target.name}.${v} is overloaded: give the signature (${options})`);
    }
    return only;
  }
  let fragment: FunctionFragment;
  try {
    fragment = FunctionFragment.from(v);
  } catch {
    throw new ArgumentError("function", `"${v}" is not a function signature such as setMinStake(uint256)`);
  }
  if (target.iface && !target.iface.hasFunction(fragment.format("sighash"))) {
    throw new ArgumentError("function", `${target.name} has no function ${fragment.format("sighash")}`);
  }
  return target.iface?.getFunction(fragment.format("sighash")) ?? fragment;
}

/**
 * Arguments: a JSON array (needed for array and tuple parameters), or a comma-separated list. Integers may be
 * written "1500 AITBC" (18 decimals); addresses may be protocol keys ("agentVotes").
 */
function parseArgs(fragment: FunctionFragment, value: unknown, known: Target[]): unknown[] {
  let raw: unknown[];
  if (Array.isArray(value)) raw = value;
  else if (value === undefined || (typeof value === "string" && value.trim() === "")) raw = [];
  else if (typeof value !== "string")
    throw new ArgumentError("args", "expected a JSON array or a comma-separated list");
  else if (value.trim().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new ArgumentError("args", `not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new ArgumentError("args", "expected a JSON array");
    raw = parsed;
  } else raw = value.split(",").map((s) => s.trim());
  const inputs = fragment.inputs;
  if (raw.length !== inputs.length) {
    const n = inputs.length;
    throw new ArgumentError(
      "args",
      `${fragment.format("sighash")} takes ${n} argument${n === 1 ? "" : "s"}, got ${raw.length}`,
    );
  }
  return inputs.map((param, i) => {
    try {
      return coerce(param, raw[i], known);
    } catch (error) {
      const name = param.name === "" ? param.type : `${param.name} ${param.type}`;
      throw new ArgumentError("args", `argument ${i + 1} (${name}): ${(error as Error).message}`);
    }
  });
}

function coerce(param: ParamType, value: unknown, known: Target[]): unknown {
  const show = JSON.stringify(value);
  if (param.isArray()) {
    if (!Array.isArray(value)) throw new Error(`${show} is not an array (use a JSON array for --args)`);
    if (param.arrayLength >= 0 && value.length !== param.arrayLength) {
      throw new Error(`expected ${param.arrayLength} items, got ${value.length}`);
    }
    const child = param.arrayChildren;
    return value.map((item) => coerce(child, item, known));
  }
  if (param.isTuple()) {
    const components = param.components;
    if (Array.isArray(value)) {
      if (value.length !== components.length) throw new Error(`expected ${components.length} fields`);
      return components.map((c, i) => coerce(c, value[i], known));
    }
    if (typeof value === "object" && value !== null) {
      const record = value as Record<string, unknown>;
      return components.map((c) => coerce(c, record[c.name], known));
    }
    throw new Error(`${show} is not a tuple (a JSON array or object)`);
  }
  const type = param.baseType;
  if (/^u?int\d*$/.test(type)) {
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value !== "string") throw new Error(`${show} is not an integer`);
    const m = /^(-?\d+(?:\.\d{1,18})?)\s*(AITBC)?$/i.exec(value.trim());
    if (!m?.[1] || (!m[2] && m[1].includes("."))) throw new Error(`"${value}" is not an integer (or "N AITBC")`);
    const n = m[2] ? parseUnits(m[1], 18) : BigInt(m[1]);
    if (type.startsWith("uint") && n < 0n) throw new Error(`"${value}" is negative`);
    return n;
  }
  if (type === "bool") {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw new Error(`${show} is not true or false`);
  }
  if (type === "address") {
    if (typeof value !== "string") throw new Error(`${show} is not an address`);
    const byKey = known.find((t) => t.name === value.trim());
    if (byKey) return byKey.address;
    if (!isAddress(value.trim())) throw new Error(`"${value}" is not an address or a contract key`);
    return getAddress(value.trim());
  }
  if (type.startsWith("bytes")) {
    const size = type === "bytes" ? undefined : Number(type.slice(5));
    if (typeof value !== "string" || !isHexString(value.trim(), size)) {
      throw new Error(`${show} is not ${size === undefined ? "0x hex" : `${size} bytes of 0x hex`}`);
    }
    return value.trim();
  }
  if (type === "string") {
    if (typeof value !== "string") throw new Error(`${show} is not a string`);
    return value;
  }
  return value;
}

/** One proposal action from its target, function, arguments and value (wei). */
export async function buildAction(protocol: Protocol, spec: ActionSpec): Promise<Action> {
  const target = await resolveTarget(protocol, spec.target);
  const fragment = resolveFunction(target, spec.function);
  const values = parseArgs(fragment, spec.args, await targets(protocol));
  let calldata: string;
  try {
    calldata = new Interface([fragment]).encodeFunctionData(fragment, values);
  } catch (error) {
    throw new ArgumentError("args", (error as { shortMessage?: string }).shortMessage ?? (error as Error).message);
  }
  let value = 0n;
  if (spec.value !== undefined && spec.value !== "") {
    if (typeof spec.value !== "string" && typeof spec.value !== "number") {
      throw new ArgumentError("value", "expected wei as a whole number");
    }
    value = parseInteger("value", String(spec.value));
  }
  const shown = values.map((v, i) => {
    const text = JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? x.toString() : x)).replace(
      /^"(.*)"$/,
      "$1",
    );
    const name = fragment.inputs[i]?.name ?? "";
    return name === "" ? text : `${name}=${text}`;
  });
  const summary = `${target.name}.${fragment.name}(${shown.join(", ")})`;
  return { target: target.address, value, calldata, summary: value === 0n ? summary : `${summary} {value: ${value}}` };
}

/** A stored action in words: "registry.setMinStake(1500000000000000000000)" when the target is known. */
export async function describeAction(protocol: Protocol, target: string, value: bigint, calldata: string) {
  const known = (await targets(protocol)).find((t) => t.address === getAddress(target));
  const suffix = value === 0n ? "" : ` {value: ${value} wei}`;
  const parsed = known?.iface?.parseTransaction({ data: calldata, value });
  if (!known || !parsed) return `${known?.name ?? target} calldata ${calldata}${suffix}`;
  const args = parsed.fragment.inputs.map((input, i) => `${input.name}=${String(parsed.args[i])}`);
  return `${known.name}.${parsed.name}(${args.join(", ")})${suffix}`;
}
