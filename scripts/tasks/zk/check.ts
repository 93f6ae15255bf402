import { HardhatPluginError } from "hardhat/plugins";

import { checkCircuits } from "../../zk/pipeline.js";
import { splitNames } from "./build.js";

interface Args {
  circuit: string;
  deep: boolean;
  ptau: string;
}

/**
 * Fails unless the committed circuit artifacts match the circuit sources (recompiles to compare); with --deep, also
 * verifies each proving key against the circuit and the powers of tau.
 */
export default async function check(args: Args): Promise<void> {
  try {
    await checkCircuits({ names: splitNames(args.circuit), deep: args.deep, ptau: args.ptau });
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  }
}
