import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseAddress } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  validator: string;
  revoke: boolean;
}

/** The marketplace admin (--from) admits (or, with --revoke, removes) a validator agent as a dispute resolver. */
export default async function admitValidator(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const validator = parseAddress("validator", args.validator);
    const { marketplace } = protocol;
    const role = await marketplace.VALIDATOR_ROLE();
    if (args.revoke) {
      await confirm("revokeRole", marketplace.revokeRole(role, validator));
      console.log(`${validator} may no longer resolve disputes`);
    } else {
      await confirm("grantRole", marketplace.grantRole(role, validator));
      console.log(`${validator} may resolve disputes (while it is an active validator agent, not a party)`);
    }
  });
}
