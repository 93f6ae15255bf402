import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
}

/** Claims the --from account's credits in Workflows (providers' step pay, listing fees): they move to its wallet. */
export default async function claim(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ signer, protocol }) => {
    const { workflows } = protocol;
    const credits = await workflows.creditsOf(signer.address);
    if (credits === 0n) throw new Error(`${signer.address} has no credits in Workflows to claim`);
    await confirm("claimCredits", workflows.claimCredits());
    console.log(`claimed ${aitbc(credits)} to ${signer.address}`);
    return credits;
  });
}
