import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { decide, type DecideArgs } from "./decide.js";

export default async function grant(args: DecideArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  await decide("grant", args, hre);
}
