import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { keystoreFile } from "../../../keepers/common/keys.js";
import { required } from "../../lib/args.js";

/** The network a key task works for: --network, or the default network's name. */
export function networkOf(hre: HardhatRuntimeEnvironment): string {
  // Unset when no --network is given, whatever the type says.
  const network = hre.globalOptions.network as string | undefined;
  return network ?? "default";
}

export function keystoreTarget(hre: HardhatRuntimeEnvironment, name: string): { file: string; network: string } {
  const network = networkOf(hre);
  return { file: keystoreFile(process.env, network, required("name", name)), network };
}
