import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseLabel } from "../../lib/args.js";
import { label } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  serviceId: string;
}

/** The provider agent (--from) withdraws its offer: no new bids through it (running work is unaffected). */
export default async function delistService(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const serviceId = parseLabel("serviceId", args.serviceId);
    await confirm("delistService", protocol.marketplace.delistService(serviceId));
    console.log(`service ${label(serviceId)} delisted`);
  });
}
