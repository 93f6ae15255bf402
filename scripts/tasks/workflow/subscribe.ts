import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseInteger, parseTokenAmount } from "../../lib/args.js";
import { aitbc, date } from "../../lib/format.js";
import { sendWithExactApproval } from "../../lib/payment.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  listing: string;
  maxPrice: string;
}

/** Subscribes --from to a listing for 30 days (extending a running subscription); pays its subscription price. */
export default async function subscribe(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const listingId = parseInteger("listing", args.listing, { min: 1n });
    const { token, workflows } = protocol;
    const listing = await workflows.getListing(listingId);
    const price = listing.subscriptionPrice;
    if (price === 0n) throw new ArgumentError("listing", `listing #${listingId} offers no subscription`);
    // By default accept the price seen now; an owner raising it before this lands makes the call revert.
    const maxPrice = args.maxPrice === "" ? price : parseTokenAmount("maxPrice", args.maxPrice);
    const call = await workflows.subscribe.populateTransaction(listingId, maxPrice);
    const receipt = await sendWithExactApproval(
      ethers,
      signer,
      token,
      await workflows.getAddress(),
      price,
      "subscribe",
      call,
      () => workflows.subscribe(listingId, maxPrice),
      confirm,
    );
    for (const log of receipt.logs) {
      const parsed = workflows.interface.parseLog(log);
      if (parsed?.name === "Subscribed") {
        const [, , until, paid] = parsed.args as unknown as [bigint, string, bigint, bigint];
        console.log(`subscribed to listing #${listingId} until ${date(until)} for ${aitbc(paid)}`);
      }
    }
  });
}
