import { readFileSync } from "node:fs";

import { id } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, required } from "../../lib/args.js";
import { confirm, runTask } from "../context.js";
import { buildAction, when, type Action, type ActionSpec } from "./common.js";

interface Args {
  from: string;
  target: string;
  function: string;
  args: string;
  value: string;
  actions: string;
  description: string;
}

/** Reads an --actions file: a JSON array of { target, function, args?, value? }. */
function readActions(file: string): ActionSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ArgumentError("actions", `${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ArgumentError("actions", `${file}: expected a non-empty JSON array of { target, function, args, value }`);
  }
  return parsed.map((item: unknown, i) => {
    if (typeof item !== "object" || item === null) {
      throw new ArgumentError("actions", `${file} action #${i + 1}: expected { target, function, args, value }`);
    }
    return item as ActionSpec;
  });
}

/** An agent (--from) proposes one call (--target, --function, --args) or several (--actions file). */
export default async function propose(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ protocol }) => {
    const description = required("description", args.description);
    let actions: Action[];
    if (args.actions.trim() !== "") {
      for (const flag of ["target", "function", "args", "value"] as const) {
        if (args[flag].trim() !== "") throw new ArgumentError(flag, "cannot be combined with --actions");
      }
      const file = args.actions.trim();
      actions = [];
      for (const [i, spec] of readActions(file).entries()) {
        try {
          actions.push(await buildAction(protocol, spec));
        } catch (error) {
          if (!(error instanceof ArgumentError)) throw error;
          throw new ArgumentError("actions", `${file} action #${i + 1}: ${error.message.replace(/^--/, "")}`);
        }
      }
    } else {
      actions = [
        await buildAction(protocol, {
          target: args.target,
          function: args.function,
          args: args.args,
          value: args.value,
        }),
      ];
    }

    const { governor } = protocol;
    const targets = actions.map((a) => a.target);
    const values = actions.map((a) => a.value);
    const calldatas = actions.map((a) => a.calldata);
    await confirm("propose", governor.propose(targets, values, calldatas, description));
    const proposalId = await governor.getProposalId(targets, values, calldatas, id(description));
    const number = await governor.proposalCount();
    const snapshot = await governor.proposalSnapshot(proposalId);
    const deadline = await governor.proposalDeadline(proposalId);
    console.log(
      [
        `proposal #${number}: id ${proposalId}`,
        ...actions.map((a, i) => `  action ${i + 1}        ${a.summary}`),
        `  snapshot        ${when(snapshot)} (voting opens)`,
        `  deadline        ${when(deadline)} (voting closes)`,
      ].join("\n"),
    );
    return proposalId;
  });
}
