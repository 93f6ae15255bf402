import { HardhatPluginError } from "hardhat/plugins";

import { checkCircuits } from "../../zk/pipeline.js";
import { splitNames } from "./build.js";

/** Fails unless the committed circuit artifacts match the circuit sources (recompiles to compare). */
export default async function check(args: { circuit: string }): Promise<void> {
  try {
    await checkCircuits(splitNames(args.circuit));
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  }
}
