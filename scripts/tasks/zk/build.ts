import { HardhatPluginError } from "hardhat/plugins";

import { buildCircuits } from "../../zk/pipeline.js";

interface Args {
  circuit: string;
  ptau: string;
  devPtau: boolean;
  force: boolean;
}

/** Builds the circuits whose sources changed: compile, a one-contribution (development) setup, keys, verifiers. */
export default async function build(args: Args): Promise<void> {
  try {
    await buildCircuits({ names: splitNames(args.circuit), force: args.force, ptau: args.ptau, devPtau: args.devPtau });
  } catch (error) {
    throw new HardhatPluginError("aitbc", error instanceof Error ? error.message : String(error));
  }
}

export function splitNames(list: string): string[] {
  return list
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
}
