import { id, ZeroHash } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseChoice, parseDuration, parseHash, parseInteger, parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { signPermit } from "../../lib/payment.js";
import { confirm, runTask } from "../context.js";
import { WORKLOAD_VERIFICATION_LEVELS } from "../../../protocol/enums.js";

interface Args {
  from: string;
  serviceType: string;
  model: string;
  units: string;
  maxPrice: string;
  bidWindow: string;
  executionWindow: string;
  reopen: boolean;
  verification: string;
  inputHash: string;
}

/** The levels a marketplace workload can ask for (full is reserved for workflows). */
const LEVELS = ["basic", "zk"] as const;

/** A client (--from) posts a workload and escrows units × max price (with a permit for exactly that). */
export default async function post(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const bidDeadline = now + parseDuration("bidWindow", args.bidWindow);
    const request = {
      serviceType: args.serviceType === "" ? ZeroHash : id(args.serviceType),
      modelHash: args.model === "" ? ZeroHash : parseHash("model", args.model),
      units: parseInteger("units", args.units, { min: 1n }),
      maxPricePerUnit: parseTokenAmount("maxPrice", args.maxPrice),
      bidDeadline,
      executionDeadline: bidDeadline + parseDuration("executionWindow", args.executionWindow),
      verification: WORKLOAD_VERIFICATION_LEVELS.indexOf(parseChoice("verification", args.verification, LEVELS)),
      reopenOnTimeout: args.reopen,
      inputHash: args.inputHash === "" ? ZeroHash : parseHash("inputHash", args.inputHash),
    };
    const { token, marketplace } = protocol;
    const escrow = request.units * request.maxPricePerUnit;
    // A permit for exactly the escrow, in the same transaction: nothing is approved unless the workload is posted.
    const permit = await signPermit(ethers, signer, token, await marketplace.getAddress(), escrow);
    await confirm(
      "postWorkloadWithPermit",
      marketplace.postWorkloadWithPermit(request, permit.deadline, permit.v, permit.r, permit.s),
    );
    const workloadId = await marketplace.workloadCount();
    console.log(
      `workload #${workloadId}: ${request.units} units at most ${aitbc(request.maxPricePerUnit)} each; ` +
        `escrowed ${aitbc(escrow)}; bids until ${new Date(Number(bidDeadline) * 1000).toISOString()}`,
    );
    return workloadId;
  });
}
