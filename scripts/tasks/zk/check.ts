import { HardhatPluginError } from "hardhat/plugins";

import { checkCircuits } from "../../zk/pipeline.js";
import { splitNames } from "./build.js";

interface Args {
  circuit: string;
  deep: boolean;
  ptau: string;
  production: boolean;
}

/**
 * Fails unless the committed circuit artifacts match the circuit sources (recompiles to compare) and each key's
 * contributions match its ceremony transcript; reports each key as production or development (loudly). With
 * --deep, also verifies each proving key (a ceremony's whole chain) against the circuit and the powers of tau;
 * with --production, fails on development keys.
 */
export default async function check(args: Args): Promise<void> {
  try {
    await checkCircuits({
      names: splitNames(args.circuit),
      deep: args.deep,
      ptau: args.ptau,
      production: args.production,
    });
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  }
}
