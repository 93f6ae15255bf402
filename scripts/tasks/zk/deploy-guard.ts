import path from "node:path";
import { pathToFileURL } from "node:url";

import type { IgnitionModule } from "@nomicfoundation/ignition-core";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { TaskArguments } from "hardhat/types/tasks";

import { releaseCurve } from "../../../circuits/lib/prover.js";
import { guardDeployment, verifiersDeployedBy } from "../../zk/deploy-guard.js";
import { REPO_LAYOUT } from "../../zk/layout.js";

/**
 * `ignition deploy`, guarded: a module that deploys a verifier goes to a chain other than a local one only with
 * production keys, or with --allow-dev-keys (scripts/zk/deploy-guard.ts). Then Ignition's own deploy runs.
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
  if (circuits.length > 0) {
    const connection = await hre.network.create();
    let chainId: bigint;
    try {
      chainId = BigInt((await connection.provider.request({ method: "eth_chainId" })) as string);
    } finally {
      await connection.close();
    }
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
  return runSuper(args);
}
