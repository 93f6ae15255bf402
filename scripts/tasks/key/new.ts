import { randomBytes } from "node:crypto";

import { bytesToHex } from "viem";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { readPassword, writeKeystore } from "../../../keepers/common/keys.js";
import { keystoreTarget } from "./common.js";

interface Args {
  name: string;
  light: boolean;
}

/** Makes a new key in a named keystore of the network (Web3 Secret Storage v3); prints its address, never the key. */
export default async function newKey(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  const { file, network } = keystoreTarget(hre, args.name);
  const password = readPassword(process.env, undefined, "password");
  const address = await writeKeystore(file, bytesToHex(randomBytes(32)), password, { light: args.light });
  const text = `${args.name} (${network}): ${address}\n  keystore ${file}`;
  console.log(text);
  return text;
}
