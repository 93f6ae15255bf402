import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseInteger, parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  listing: string;
  title: string;
  description: string;
  tags: string;
  price: string;
  subscription: string;
  access: string;
  active: string;
}

const onOff = (flag: string, value: string, yes: string, no: string, current: boolean) => {
  if (value === "") return current;
  if (value === yes) return true;
  if (value === no) return false;
  throw new ArgumentError(flag, `"${value}" is not one of ${yes}, ${no}`);
};

/** The workflow's owner changes its listing; empty flags keep their value. `--active no` takes it off sale. */
export default async function updateListing(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const listingId = parseInteger("listing", args.listing, { min: 1n });
    const { workflows } = protocol;
    const l = await workflows.getListing(listingId);
    const input = {
      title: args.title === "" ? l.title : args.title,
      description: args.description === "" ? l.description : args.description,
      tags: args.tags === "" ? [...l.tags] : args.tags.split(",").map((t) => t.trim()),
      executionPrice: args.price === "" ? l.executionPrice : parseTokenAmount("price", args.price, { allowZero: true }),
      subscriptionPrice:
        args.subscription === ""
          ? l.subscriptionPrice
          : parseTokenAmount("subscription", args.subscription, { allowZero: true }),
      isPublic: onOff("access", args.access, "public", "restricted", l.isPublic),
    };
    const active = onOff("active", args.active, "yes", "no", l.active);
    await confirm("updateListing", workflows.updateListing(listingId, input, active));
    console.log(
      `listing #${listingId}: "${input.title}", ${aitbc(input.executionPrice)} per execution, ` +
        `${aitbc(input.subscriptionPrice)} per 30 days, ${input.isPublic ? "public" : "restricted"}, ` +
        (active ? "active" : "inactive"),
    );
  });
}
