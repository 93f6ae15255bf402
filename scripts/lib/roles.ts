/**
 * AccessControl roles by name. The contracts hold roles as bytes32 hashes (keccak256 of the name, 0x00 for the
 * admin); operators name them: "slasher", "SLASHER_ROLE" and "admin" all work.
 */
import { id, type BaseContract, ZeroHash } from "ethers";

import { ArgumentError, required } from "./args.js";

/** Every role a protocol contract defines (contracts/** `*_ROLE`, OpenZeppelin's timelock roles). */
export const ROLE_NAMES = [
  "DEFAULT_ADMIN_ROLE",
  "SLASHER_ROLE",
  "REPUTATION_ROLE",
  "OBLIGATION_ROLE",
  "ENFORCER_ROLE",
  "REGISTRY_ROLE",
  "ACTIVITY_ROLE",
  "GUARDIAN_ROLE",
  "ATTESTOR_ROLE",
  "COORDINATOR_ROLE",
  "MODULE_ROLE",
  "VALIDATOR_ROLE",
  "PROPOSER_ROLE",
  "EXECUTOR_ROLE",
  "CANCELLER_ROLE",
] as const;

export const roleHash = (name: string) => (name === "DEFAULT_ADMIN_ROLE" ? ZeroHash : id(name));

/** A role's name from its hash, or the hash when no protocol contract defines it. */
export function roleName(hash: string): string {
  return ROLE_NAMES.find((name) => roleHash(name) === hash.toLowerCase()) ?? hash;
}

/** The roles `contract` defines (those with a `<NAME>()` getter in its ABI). */
export function rolesOf(contract: BaseContract): string[] {
  return ROLE_NAMES.filter((name) => contract.interface.getFunction(name) !== null);
}

/** `--role`: a role name of `contract` ("slasher", "SLASHER_ROLE", "admin") -> its name and hash. */
export function parseRole(flag: string, value: string | undefined, contract: BaseContract, contractName: string) {
  const v = required(flag, value).toUpperCase().replace(/-/g, "_");
  const name = v === "ADMIN" || v === "DEFAULT_ADMIN" ? "DEFAULT_ADMIN_ROLE" : v.endsWith("_ROLE") ? v : `${v}_ROLE`;
  const known = rolesOf(contract);
  if (!known.includes(name)) {
    const names = known.map((r) => (r === "DEFAULT_ADMIN_ROLE" ? "admin" : r.replace(/_ROLE$/, "").toLowerCase()));
    throw new ArgumentError(flag, `${contractName} has no role "${value?.trim()}" (its roles: ${names.join(", ")})`);
  }
  return { name, hash: roleHash(name) };
}
