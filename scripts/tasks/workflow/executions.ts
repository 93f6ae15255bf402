import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { EXECUTION_STATUSES, enumName } from "../../../protocol/enums.js";
import { parseChoice } from "../../lib/args.js";
import { aitbc, date } from "../../lib/format.js";
import { resolveAccount } from "../../lib/protocol.js";
import { runTask } from "../context.js";

interface Args {
  account: string;
  as: string;
  status: string;
}

const ROLES = ["client", "keeper", "any"] as const;

/**
 * Executions, newest first, from Workflows' ExecutionRequested events: with --account (an address or account
 * index) only those where it is the client or the keeper (--as), optionally one status.
 */
export default async function executions(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ ethers, protocol }) => {
    const account = args.account === "" ? undefined : await resolveAccount(ethers, "account", args.account);
    const as = parseChoice("as", args.as === "" ? "any" : args.as, ROLES);
    const status = args.status === "" ? undefined : parseChoice("status", args.status, EXECUTION_STATUSES);
    const { workflows, registry } = protocol;
    const keeperId = account === undefined ? 0n : await registry.agentIdOf(account);
    const requested = await workflows.queryFilter(workflows.filters.ExecutionRequested());
    const lines: string[] = [];
    for (const event of requested.reverse()) {
      const id = event.args.executionId;
      const e = await workflows.getExecution(id);
      const name = enumName(EXECUTION_STATUSES, e.status);
      if (status !== undefined && name !== status) continue;
      if (account !== undefined) {
        const isClient = e.client.toLowerCase() === account.toLowerCase();
        const isKeeper = keeperId !== 0n && e.keeperId === keeperId;
        if (as === "client" ? !isClient : as === "keeper" ? !isKeeper : !isClient && !isKeeper) continue;
      }
      const keeper = e.keeperId === 0n ? "no keeper yet" : `keeper agent #${e.keeperId}`;
      lines.push(
        `  #${id} ${name}: workflow #${e.workflowId}, client ${e.client}, ${keeper}, ` +
          `${aitbc(e.spent)} of ${aitbc(e.budget)} spent, requested ${date(e.requestedAt)}` +
          (e.finishedAt === 0n ? "" : `, finished ${date(e.finishedAt)}`),
      );
    }
    const filters = [account === undefined ? "" : `${account} as ${as}`, status ?? ""].filter((f) => f !== "");
    const header = `${lines.length} of ${requested.length} executions${filters.length ? ` (${filters.join(", ")})` : ""}`;
    const text = [header, ...lines].join("\n");
    console.log(text);
    return text;
  });
}
