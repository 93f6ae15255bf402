/**
 * Parsing of task arguments. Every parser names the CLI flag it read, so a bad value stops with a message like
 * `--amount: "12x" is not a number of AITBC`.
 */
import { encodeBytes32String, getAddress, id, isAddress, isHexString, parseUnits } from "ethers";

import { ACTION_TYPES, ALL_ACTIONS, actionMask, type ActionName } from "../../protocol/actions.js";

/** A bad command-line value; the message names the flag. */
export class ArgumentError extends Error {
  constructor(flag: string, message: string) {
    super(`--${flag}: ${message}`);
    this.name = "ArgumentError";
  }
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function required(name: string, value: string | undefined): string {
  if (value === undefined || value.trim() === "") throw new ArgumentError(kebab(name), "is required");
  return value.trim();
}

export function parseAddress(name: string, value: string | undefined): string {
  const v = required(name, value);
  if (!isAddress(v)) throw new ArgumentError(kebab(name), `"${String(value)}" is not an address`);
  return getAddress(v);
}

/** A token amount in AITBC with up to 18 decimals ("1000", "0.5"). */
export function parseTokenAmount(name: string, value: string | undefined, { allowZero = false } = {}): bigint {
  const v = required(name, value);
  if (!/^\d+(\.\d{1,18})?$/.test(v)) throw new ArgumentError(kebab(name), `"${v}" is not a number of AITBC`);
  const amount = parseUnits(v, 18);
  if (!allowZero && amount === 0n) throw new ArgumentError(kebab(name), "must be greater than zero");
  return amount;
}

/** A non-negative integer (ids, units, seconds, gas). */
export function parseInteger(
  name: string,
  value: string | undefined,
  { min = 0n, max }: { min?: bigint; max?: bigint } = {},
): bigint {
  const v = required(name, value);
  if (!/^\d+$/.test(v)) throw new ArgumentError(kebab(name), `"${v}" is not a whole number`);
  const n = BigInt(v);
  if (n < min) throw new ArgumentError(kebab(name), `must be at least ${min}`);
  if (max !== undefined && n > max) throw new ArgumentError(kebab(name), `must be at most ${max}`);
  return n;
}

/** A duration: seconds, or a number with s, m, h or d ("90", "15m", "2h", "7d"). */
export function parseDuration(name: string, value: string | undefined): bigint {
  const v = required(name, value);
  const m = /^(\d+)([smhd]?)$/.exec(v);
  if (!m?.[1]) throw new ArgumentError(kebab(name), `"${v}" is not a duration (e.g. 3600, 15m, 2h, 7d)`);
  const unit = { "": 1n, s: 1n, m: 60n, h: 3600n, d: 86_400n }[m[2] ?? ""] ?? 1n;
  const seconds = BigInt(m[1]) * unit;
  if (seconds === 0n) throw new ArgumentError(kebab(name), "must be greater than zero");
  return seconds;
}

/** A 32-byte commitment: 0x-prefixed hex, or any other text, hashed with keccak256. */
export function parseHash(name: string, value: string | undefined): string {
  const v = required(name, value);
  if (v.startsWith("0x")) {
    if (!isHexString(v, 32)) throw new ArgumentError(kebab(name), `"${v}" is not 32 bytes of hex`);
    return v;
  }
  return id(v);
}

/** A comma-separated list of short labels (at most 31 bytes each), stored as bytes32 strings; empty gives []. */
export function parseLabels(name: string, value: string | undefined): string[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((item) => {
    const label = item.trim();
    if (label === "" || Buffer.byteLength(label) > 31) {
      throw new ArgumentError(kebab(name), `"${label}" must be 1 to 31 bytes`);
    }
    return encodeBytes32String(label);
  });
}

/** One short label (at most 31 bytes) as a bytes32 string, or 0x-prefixed 32 bytes of hex. */
export function parseLabel(name: string, value: string | undefined): string {
  const v = required(name, value);
  if (v.startsWith("0x")) return parseHash(name, v);
  const [label] = parseLabels(name, v);
  if (label === undefined || v.includes(",")) throw new ArgumentError(kebab(name), `"${v}" must be one label`);
  return label;
}

export function parseActionType(name: string, value: string | undefined): number {
  const v = required(name, value).toLowerCase();
  const known = Object.keys(ACTION_TYPES);
  if (!(v in ACTION_TYPES))
    throw new ArgumentError(kebab(name), `unknown action type "${v}" (known: ${known.join(", ")})`);
  return ACTION_TYPES[v as ActionName];
}

/** A set of action types: "all" (every type, present and future), "none", or a comma-separated list of names. */
export function parseActionSet(name: string, value: string | undefined): bigint {
  const v = required(name, value).toLowerCase();
  if (v === "all") return ALL_ACTIONS; // every action type, including ones later modules add
  if (v === "none") return 0n;
  return actionMask(v.split(",").map((item) => Object.keys(ACTION_TYPES)[parseActionType(name, item)] as ActionName));
}

export function parseChoice<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T {
  const v = required(name, value);
  if (!choices.includes(v as T)) throw new ArgumentError(kebab(name), `"${v}" is not one of ${choices.join(", ")}`);
  return v as T;
}
