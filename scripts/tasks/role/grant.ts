import type { BaseContract } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseChoice } from "../../lib/args.js";
import { resolveAccount, type Protocol } from "../../lib/protocol.js";
import { parseRole, roleName } from "../../lib/roles.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  contract: string;
  role: string;
  account: string;
}

interface RoleContract extends BaseContract {
  hasRole(role: string, account: string): Promise<boolean>;
  getRoleAdmin(role: string): Promise<string>;
  grantRole(role: string, account: string): ReturnType<Protocol["registry"]["grantRole"]>;
  revokeRole(role: string, account: string): ReturnType<Protocol["registry"]["revokeRole"]>;
}

/** The protocol contracts with roles (OpenZeppelin AccessControl), by key. */
function roleContracts(protocol: Protocol) {
  return Object.fromEntries(
    Object.entries(protocol).filter(([, c]) => (c as BaseContract).interface.getFunction("grantRole") !== null),
  ) as Record<string, RoleContract>;
}

/** Grants (or with `revoke`, revokes) a role of a protocol contract; --from must hold the role's admin role. */
export async function changeRole(args: Args, hre: HardhatRuntimeEnvironment, revoke: boolean): Promise<void> {
  await runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const contracts = roleContracts(protocol);
    const key = parseChoice("contract", args.contract, Object.keys(contracts));
    const contract = contracts[key] as RoleContract;
    const role = parseRole("role", args.role, contract, key);
    const account = await resolveAccount(ethers, "account", args.account);
    const adminRole = await contract.getRoleAdmin(role.hash);
    if (!(await contract.hasRole(adminRole, signer.address))) {
      throw new ArgumentError(
        "from",
        `${signer.address} does not hold ${roleName(adminRole)} on ${key}, which ${revoke ? "revokes" : "grants"} ` +
          `${role.name} (after the handover the timelock holds it: go through gov propose)`,
      );
    }
    const has = await contract.hasRole(role.hash, account);
    if (has !== revoke) {
      console.log(`${account} ${has ? "already holds" : "does not hold"} ${role.name} on ${key}: nothing to do`);
      return;
    }
    const method = revoke ? "revokeRole" : "grantRole";
    await confirm(method, contract[method](role.hash, account));
    console.log(`${revoke ? "revoked" : "granted"} ${role.name} on ${key} ${revoke ? "from" : "to"} ${account}`);
  });
}

export default async function grant(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await changeRole(args, hre, false);
}
