import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger, parseTokenAmount, required } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workflow: string;
  title: string;
  description: string;
  tags: string;
  price: string;
  subscription: string;
  restricted: boolean;
}

/** The workflow's owner (--from) publishes it in the workflow marketplace (price, rating, access control). */
export default async function list(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const workflowId = parseInteger("workflow", args.workflow, { min: 1n });
    const input = {
      title: required("title", args.title),
      description: args.description,
      tags: args.tags === "" ? [] : args.tags.split(",").map((t) => t.trim()),
      executionPrice: parseTokenAmount("price", args.price, { allowZero: true }),
      subscriptionPrice: parseTokenAmount("subscription", args.subscription, { allowZero: true }),
      isPublic: !args.restricted,
    };
    const { workflows } = protocol;
    const receipt = await confirm("createListing", workflows.createListing(workflowId, input));
    const event = receipt.logs
      .map((log) => workflows.interface.parseLog(log))
      .find((parsed) => parsed?.name === "ListingCreated");
    const listingId = event?.args[0] as bigint | undefined;
    if (listingId === undefined) throw new Error("no ListingCreated event");
    console.log(
      `listing #${listingId} for workflow #${workflowId}: ${aitbc(input.executionPrice)} per execution, ` +
        `${aitbc(input.subscriptionPrice)} per 30 days, ${input.isPublic ? "public" : "restricted"}`,
    );
    return listingId;
  });
}
