import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseChoice } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  contract: string;
}

/** The contracts that hold tokens by account and can send what they hold beyond it to the treasury. */
const SWEEPABLE = ["registry", "marketplace", "workflows"] as const;

/**
 * Sends tokens sent to a contract outside its accounting (a plain transfer to its address) to the treasury: anyone
 * may. Refused, with the contract's error, when there is nothing to sweep.
 */
export default async function sweepExcess(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const key = parseChoice("contract", args.contract, SWEEPABLE);
    const contract = protocol[key];
    const amount = await contract.sweepExcess.staticCall();
    await confirm("sweepExcess", contract.sweepExcess());
    console.log(`swept ${aitbc(amount)} from ${key} to the treasury`);
    return amount;
  });
}
