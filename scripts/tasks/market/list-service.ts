import { id } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { parseHash, parseInteger, parseLabel, parseTokenAmount, required } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  serviceId: string;
  name: string;
  price: string;
  capacity: string;
  model: string;
  minAccuracy: string;
}

/** A provider agent (--from) lists a service offer (price per unit, capacity, model hash, minimum accuracy). */
export default async function listService(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ protocol }) => {
    const offer = {
      serviceId: parseLabel("serviceId", args.serviceId),
      serviceName: required("name", args.name),
      pricePerUnit: parseTokenAmount("price", args.price),
      maxCapacity: parseInteger("capacity", args.capacity, { min: 1n }),
      currentLoad: 0n,
      modelHash: args.model === "" ? "0x" + "00".repeat(32) : parseHash("model", args.model),
      minAccuracy: parseInteger("minAccuracy", args.minAccuracy),
    };
    await confirm("listService", protocol.marketplace.listService(offer));
    console.log(
      `listed ${args.serviceId} ("${offer.serviceName}", service type ${id(offer.serviceName)}): ` +
        `${aitbc(offer.pricePerUnit)} per unit, capacity ${offer.maxCapacity}`,
    );
  });
}
