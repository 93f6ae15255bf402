import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseDuration } from "../../lib/args.js";
import { date } from "../../lib/format.js";

interface Args {
  by: string;
  to: string;
}

/** Chains whose time a task may move: Hardhat's own (the in-process network and `hardhat node`). */
const LOCAL_CHAIN_ID = 31337n;

/**
 * Moves a local chain's time forward (--by a duration, or --to a date) and mines a block at the new time, so that
 * deadlines, unbonding delays and voting periods can be reached in a demo or a rehearsal. Refused on any other chain.
 */
export default async function advance(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  const { ethers, networkName } = await hre.network.getOrCreate();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  if (chainId !== LOCAL_CHAIN_ID) {
    throw new Error(`chain advance: --network ${networkName} is chain ${chainId}; only a local chain (31337) moves`);
  }
  if ((args.by === "") === (args.to === "")) throw new ArgumentError("by", "give --by <duration> or --to <date>");
  const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
  let target: bigint;
  if (args.by !== "") {
    target = now + parseDuration("by", args.by);
  } else {
    const ms = Date.parse(args.to);
    if (Number.isNaN(ms)) throw new ArgumentError("to", `"${args.to}" is not a date (e.g. 2030-01-31T12:00:00Z)`);
    target = BigInt(Math.floor(ms / 1000));
    if (target <= now) throw new ArgumentError("to", `${date(target)} is not after the chain's time (${date(now)})`);
  }
  await ethers.provider.send("evm_setNextBlockTimestamp", [Number(target)]);
  await ethers.provider.send("evm_mine", []);
  const text = `chain time ${date(now)} -> ${date(target)} (block ${await ethers.provider.getBlockNumber()})`;
  console.log(text);
  return text;
}
