import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  execution: string;
  rating: string;
}

/** The client rates a completed execution of a listing, once, 1 to 5. */
export default async function rate(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const executionId = parseInteger("execution", args.execution, { min: 1n });
    const rating = parseInteger("rating", args.rating, { min: 1n, max: 5n });
    const { workflows } = protocol;
    await confirm("rateExecution", workflows.rateExecution(executionId, rating));
    const listingId = (await workflows.getExecution(executionId)).listingId;
    const l = await workflows.getListing(listingId);
    const average = l.ratingCount === 0n ? "-" : (Number(l.ratingSum) / Number(l.ratingCount)).toFixed(2);
    console.log(`execution #${executionId} rated ${rating}; listing #${listingId}: ${average} over ${l.ratingCount}`);
  });
}
