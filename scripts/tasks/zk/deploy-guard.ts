import path from "node:path";
import { pathToFileURL } from "node:url";

import type { IgnitionModule } from "@nomicfoundation/ignition-core";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { TaskArguments } from "hardhat/types/tasks";

import { releaseCurve } from "../../../circuits/lib/prover.js";
import { LOCAL_CHAIN_IDS } from "../../../keepers/common/keys.js";
import { guardDeployment, verifiersDeployedBy } from "../../zk/deploy-guard.js";
import { REPO_LAYOUT } from "../../zk/layout.js";

/**
 * `ignition deploy`, guarded: a module that deploys a verifier goes to a chain other than a local one only with
 * production keys, or with --allow-dev-keys (scripts/zk/deploy-guard.ts); and a plain AITBC_PRIVATE_KEY deploys to a
 * local chain only (elsewhere: a keystore, AITBC_SIGNER). Then Ignition's own deploy runs.
 */
export default async function ignitionDeployGuarded(
  args: TaskArguments & { allowDevKeys: boolean },
  hre: HardhatRuntimeEnvironment,
  runSuper: (args: TaskArguments) => Promise<unknown>,
): Promise<unknown> {
  let module: IgnitionModule | undefined;
  try {
    const loaded = (await import(pathToFileURL(path.resolve(String(args.modulePath))).href)) as {
      default?: IgnitionModule;
    };
    module = loaded.default;
  } catch {
    // Not a module file Ignition can load either: its own error says why.
  }
  const circuits = module === undefined ? [] : verifiersDeployedBy(module, REPO_LAYOUT);
  const plainKey = process.env.AITBC_PRIVATE_KEY !== undefined;
  if (circuits.length === 0 && !plainKey) return runSuper(args);
  const connection = await hre.network.create();
  let chainId: bigint;
  try {
    chainId = BigInt((await connection.provider.request({ method: "eth_chainId" })) as string);
  } finally {
    await connection.close();
  }
  if (circuits.length > 0) {
    try {
      const warnings = await guardDeployment({
        layout: REPO_LAYOUT,
        circuits,
        chainId,
        networkName: connection.networkName,
        allowDevKeys: args.allowDevKeys,
      });
      if (warnings.length > 0) {
        const bar = "!".repeat(100);
        console.warn(`\n${bar}\n!! ${warnings.join("\n!!   ")}\n${bar}\n`);
      }
    } catch (error) {
      throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
    } finally {
      await releaseCurve(); // the key checks built snarkjs's curve, whose worker threads would keep the process alive
    }
  }
  // A real network's deployer key comes from a keystore (AITBC_SIGNER), never from a plain variable.
  if (plainKey && !LOCAL_CHAIN_IDS.has(Number(chainId)))
    throw new HardhatPluginError(
      "aitbc",
      `AITBC_PRIVATE_KEY: a plain key is accepted on a local chain only (this is chain ${chainId}); put it in a ` +
        `keystore (npx hardhat key import --name deployer --network ${connection.networkName}) and set ` +
        `AITBC_SIGNER=deployer instead`,
    );
  return runSuper(args);
}
