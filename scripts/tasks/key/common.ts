import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { keystoreFile } from "../../../keepers/common/keys.js";

/** The network a key task works for: --network, or the default network's name. */
export function networkOf(hre: HardhatRuntimeEnvironment): string {
  return hre.globalOptions.network ?? "default";
}

export function keystoreTarget(hre: HardhatRuntimeEnvironment, name: string): { file: string; network: string } {
  const network = networkOf(hre);
  return { file: keystoreFile(process.env, network, name.trim()), network };
}

/** Runs a key task; failures become one line naming the field. */
export async function runKeyTask<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  }
}
