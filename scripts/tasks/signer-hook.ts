/**
 * Hardhat's configuration variables, one more source: with AITBC_SIGNER=<name> and no AITBC_PRIVATE_KEY in the
 * environment, the `custom` network's account (hardhat.config.ts) is the key of the network's keystore <name>
 * (keepers/common/keys.ts; password from AITBC_KEYSTORE_PASSWORD). So `ignition deploy` and every task sign with a
 * keystore on a real network; a plain AITBC_PRIVATE_KEY is for local chains only (refused elsewhere).
 */
import type { ConfigurationVariableHooks } from "hardhat/types/hooks";

import { decryptKeystoreFile, keystoreFile, readPassword } from "../../keepers/common/keys.js";

export const SIGNER_ENV = "AITBC_SIGNER";

export default (): Promise<Partial<ConfigurationVariableHooks>> =>
  Promise.resolve({
    fetchValue: async (context, variable, next) => {
      const name = process.env[SIGNER_ENV];
      if (variable.name !== "AITBC_PRIVATE_KEY" || process.env.AITBC_PRIVATE_KEY !== undefined || !name)
        return next(context, variable);
      const network = context.globalOptions.network || "default";
      const file = keystoreFile(process.env, network, name);
      const password = readPassword(process.env, undefined, SIGNER_ENV);
      return (await decryptKeystoreFile(file, password, SIGNER_ENV)).privateKey;
    },
  });
