import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseInteger } from "../../lib/args.js";
import { resolveAccount } from "../../lib/protocol.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  listing: string;
  user: string;
  revoke: boolean;
}

/** The workflow's owner lets a user execute (and subscribe to) a restricted listing, or with --revoke no longer. */
export default async function access(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ ethers, protocol }) => {
    const listingId = parseInteger("listing", args.listing, { min: 1n });
    const user = await resolveAccount(ethers, "user", args.user);
    const { workflows } = protocol;
    await confirm("setAccess", workflows.setAccess(listingId, user, !args.revoke));
    const l = await workflows.getListing(listingId);
    console.log(
      `listing #${listingId} (${l.isPublic ? "public: open to all anyway" : "restricted"}): ${user} ` +
        (args.revoke ? "no longer authorised" : "authorised"),
    );
  });
}
