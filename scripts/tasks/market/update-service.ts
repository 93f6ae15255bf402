import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseHash, parseInteger, parseLabel, parseTokenAmount } from "../../lib/args.js";
import { aitbc, label } from "../../lib/format.js";
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

/** The provider agent (--from) changes its offer; empty flags keep their value. */
export default async function updateService(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ signer, protocol }) => {
    const serviceId = parseLabel("serviceId", args.serviceId);
    const { marketplace, registry } = protocol;
    const current = await marketplace.getServiceStatus(serviceId);
    const offer = {
      serviceId,
      serviceName: args.name === "" ? current.serviceName : args.name,
      pricePerUnit: args.price === "" ? current.pricePerUnit : parseTokenAmount("price", args.price),
      maxCapacity: args.capacity === "" ? current.maxCapacity : parseInteger("capacity", args.capacity, { min: 1n }),
      currentLoad: current.currentLoad,
      modelHash: args.model === "" ? current.modelHash : parseHash("model", args.model),
      minAccuracy:
        args.minAccuracy === "" ? current.minAccuracy : parseInteger("minAccuracy", args.minAccuracy, { max: 10_000n }),
    };
    if (offer.maxCapacity < current.currentLoad) {
      throw new ArgumentError(
        "capacity",
        `${offer.maxCapacity} is below the units in progress (${current.currentLoad})`,
      );
    }
    const agentId = await registry.agentIdOf(signer.address);
    await confirm("updateService", marketplace.updateService(serviceId, offer));
    console.log(
      `service ${label(serviceId)} of agent #${agentId}: "${offer.serviceName}", ${aitbc(offer.pricePerUnit)}/unit, ` +
        `capacity ${offer.maxCapacity}, min accuracy ${offer.minAccuracy} bp`,
    );
  });
}
