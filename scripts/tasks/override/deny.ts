import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { decide, type DecideArgs } from "./decide.js";

export default async function deny(args: DecideArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  await decide("deny", args, hre);
}
