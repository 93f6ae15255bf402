import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { readPassword, writeKeystore } from "../../../keepers/common/keys.js";
import { ArgumentError } from "../../lib/args.js";
import { keystoreTarget } from "./common.js";

interface Args {
  name: string;
  light: boolean;
}

/** The variable a key to import is read from: never a flag, so that it stays out of the shell's history. */
export const IMPORT_ENV = "AITBC_IMPORT_KEY";

/** Encrypts an existing private key (from AITBC_IMPORT_KEY) into a named keystore of the network. */
export default async function importKey(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  const { file, network } = keystoreTarget(hre, args.name);
  const key = process.env[IMPORT_ENV]?.trim() ?? "";
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key))
    throw new ArgumentError("name", `${IMPORT_ENV} must hold the private key to import (32 bytes, hex)`);
  const password = readPassword(process.env, undefined, "password");
  const privateKey = (key.startsWith("0x") ? key : `0x${key}`) as `0x${string}`;
  const address = await writeKeystore(file, privateKey, password, { light: args.light });
  const text = `${args.name} (${network}): ${address}\n  keystore ${file}`;
  console.log(text);
  return text;
}
