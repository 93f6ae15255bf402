import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { keystoreDir, listKeystores } from "../../../keepers/common/keys.js";
import { networkOf } from "./common.js";

/** The network's named keystores: name and address (the files are not decrypted). */
export default function listKeys(_args: unknown, hre: HardhatRuntimeEnvironment): Promise<string> {
  const network = networkOf(hre);
  const keys = listKeystores(process.env, network);
  const dir = keystoreDir(process.env, network);
  const text =
    keys.length === 0
      ? `no keystores for ${network} in ${dir} (npx hardhat key new --name <name> --network ${network})`
      : [`keystores for ${network} (${dir}):`, ...keys.map((k) => `  ${k.name.padEnd(16)} ${k.address}`)].join("\n");
  console.log(text);
  return Promise.resolve(text);
}
