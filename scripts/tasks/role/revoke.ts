import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { changeRole } from "./grant.js";

export default async function revoke(
  args: Parameters<typeof changeRole>[0],
  hre: HardhatRuntimeEnvironment,
): Promise<void> {
  await changeRole(args, hre, true);
}
