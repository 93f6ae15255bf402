import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseInteger } from "../../lib/args.js";
import { aitbc, label } from "../../lib/format.js";
import { runTask } from "../context.js";

interface Args {
  provider: string;
  all: boolean;
}

/**
 * The marketplace's service offers, from its ServiceListed / ServiceUpdated / ServiceDelisted events (the contract
 * keeps no list), with each listed offer's state read from the chain; `--all` adds the delisted ones.
 */
export default async function services(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ protocol }) => {
    const { marketplace, registry } = protocol;
    let providerId: bigint | undefined;
    if (args.provider !== "") {
      providerId = /^\d+$/.test(args.provider.trim())
        ? parseInteger("provider", args.provider, { min: 1n })
        : await registry.agentIdOf(args.provider.trim()).catch(() => {
            throw new ArgumentError("provider", `"${args.provider}" is neither an agent id nor an address`);
          });
      if (providerId === 0n) throw new ArgumentError("provider", `${args.provider} is not a registered agent`);
    }
    const events = [
      ...(await marketplace.queryFilter(marketplace.filters.ServiceListed())),
      ...(await marketplace.queryFilter(marketplace.filters.ServiceDelisted())),
    ].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const offers = new Map<string, { providerId: bigint; listed: boolean }>();
    for (const e of events) {
      const [serviceId, owner] = e.args as unknown as [string, bigint];
      offers.set(serviceId, { providerId: owner, listed: e.fragment.name === "ServiceListed" });
    }
    const lines: string[] = [];
    for (const [serviceId, o] of offers) {
      if (providerId !== undefined && o.providerId !== providerId) continue;
      if (!o.listed) {
        if (args.all) lines.push(`  ${label(serviceId)}: delisted, provider agent #${o.providerId}`);
        continue;
      }
      const s = await marketplace.getServiceStatus(serviceId);
      lines.push(
        `  ${label(serviceId)}: "${s.serviceName}" by agent #${o.providerId}, ${aitbc(s.pricePerUnit)}/unit, ` +
          `load ${s.currentLoad} / ${s.maxCapacity} units, model ${label(s.modelHash)}, ` +
          `min accuracy ${s.minAccuracy} bp`,
      );
    }
    const filter = providerId === undefined ? "" : ` of agent #${providerId}`;
    const text = [`${lines.length} service offer${lines.length === 1 ? "" : "s"}${filter}`, ...lines].join("\n");
    console.log(text);
    return text;
  });
}
