/**
 * The deployment guard: `hardhat ignition deploy` of a module that deploys a Groth16 verifier, to any chain other
 * than a local one, refuses verifier keys that are not production keys (fewer than MIN_CONTRIBUTIONS participants
 * in a sealed ceremony, or a powers of tau that is not a known public ceremony file, or no ceremony at all) unless
 * `--allow-dev-keys` says so, and always refuses artifacts that do not check out (`zk check` says why).
 *
 * Local means chain id 31337: Hardhat's in-process network and `hardhat node` (the `localhost` network), which is
 * also where Ignition deploys without asking for confirmation. Anything else (a testnet, a fork with its own
 * chain id, a public chain) is treated as holding value.
 */
import type { IgnitionModule } from "@nomicfoundation/ignition-core";

import type { CircuitSpec } from "../../circuits/circuits.js";
import type { ZkLayout } from "./layout.js";
import { keyReport, readManifest } from "./pipeline.js";

export const LOCAL_CHAIN_ID = 31337n;

export function isLocalChain(chainId: bigint): boolean {
  return chainId === LOCAL_CHAIN_ID;
}

/** The circuits whose verifier contract `module` (or one of its submodules) deploys. */
export function verifiersDeployedBy(module: IgnitionModule, layout: ZkLayout): CircuitSpec[] {
  const contracts = new Set<string>();
  const seen = new Set<IgnitionModule>();
  const walk = (m: IgnitionModule): void => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const future of m.futures) {
      if ("contractName" in future && (future.type as string).endsWith("CONTRACT_DEPLOYMENT")) {
        contracts.add(future.contractName);
      }
    }
    for (const sub of m.submodules) walk(sub);
  };
  walk(module);
  return layout.circuits.filter((c) => contracts.has(c.contract));
}

export interface GuardInput {
  readonly layout: ZkLayout;
  readonly circuits: readonly CircuitSpec[];
  readonly chainId: bigint;
  readonly networkName: string;
  readonly allowDevKeys: boolean;
}

/**
 * Throws, naming each circuit and why, unless the keys of `circuits` may be deployed to the chain; returns the
 * warnings to print (development keys let through by allowDevKeys).
 */
export async function guardDeployment(input: GuardInput): Promise<string[]> {
  const { layout, circuits, chainId, networkName, allowDevKeys } = input;
  if (isLocalChain(chainId) || circuits.length === 0) return [];
  const manifest = await readManifest(layout);
  const broken: string[] = [];
  const development: string[] = [];
  for (const spec of circuits) {
    const report = await keyReport(layout, spec, manifest[spec.name]);
    broken.push(...report.problems);
    if (report.problems.length === 0 && report.reasons.length > 0) {
      development.push(`${spec.name} (${spec.contract}): ${report.reasons.join("; ")}`);
    }
  }
  const where = `${networkName} (chain ${chainId}), not a local chain`;
  if (broken.length > 0) {
    throw new Error(
      `refusing to deploy to ${where}: the verifier artifacts do not check out (npx hardhat zk check):\n  ` +
        broken.join("\n  "),
    );
  }
  if (development.length === 0) return [];
  if (!allowDevKeys) {
    throw new Error(
      `refusing to deploy development verifier keys to ${where}: whoever made them can forge any proof.\n  ` +
        `${development.join("\n  ")}\n` +
        "Production keys come from a ceremony (npx hardhat zk ceremony ...; circuits/README.md). To deploy these keys " +
        "anyway (a throwaway testnet), pass --allow-dev-keys.",
    );
  }
  return [
    `DEPLOYING DEVELOPMENT VERIFIER KEYS to ${where} (--allow-dev-keys): whoever made them can forge any proof.`,
    ...development,
  ];
}
