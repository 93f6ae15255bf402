/**
 * How a task ends on the command line. Hardhat prints a thrown HardhatPluginError as "Error in community plugin
 * aitbc: …", a HardhatError with its HHE code and a link, and any other error as "An unexpected error occurred" with
 * its stack; a task whose action returns a failed Result (`hardhat/utils/result`) makes it exit with code 1 and
 * print nothing more. So `cliAction` wraps each action: a failure is printed here as its message alone (with the
 * stack under `--show-stack-traces`) and returned as a failed Result, the exit code 1.
 *
 * Scripts and tests run tasks through `runTaskById`, which throws the error instead (nothing printed).
 */
import { styleText } from "node:util";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { TaskArguments } from "hardhat/types/tasks";
import { errorResult, isResult } from "hardhat/utils/result";

type Action = (args: never, hre: HardhatRuntimeEnvironment) => Promise<unknown>;

/** Callers of runTaskById in progress: while there are any, failures are thrown, not printed. */
let programmatic = 0;

/** `setAction(cliAction(() => import("./x.js")))`: the lazily imported action, its failure printed as one message. */
export function cliAction(load: () => Promise<{ default: Action }>) {
  return async () => {
    const { default: action } = await load();
    return {
      default: async (args: TaskArguments, hre: HardhatRuntimeEnvironment) => {
        // Options without a default (help then shows none) arrive as undefined: actions read "" as "not given".
        const given = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v ?? ""]));
        try {
          return await action(given as never, hre);
        } catch (error) {
          if (programmatic > 0) throw error;
          const showStack = hre.globalOptions.showStackTraces;
          const message = error instanceof Error ? error.message : String(error);
          console.error(styleText(["red"], showStack && error instanceof Error ? (error.stack ?? message) : message));
          return errorResult(error);
        }
      },
    };
  };
}

/** Runs a task from a script or a test: its value, or its failure thrown (as `hre.tasks.getTask(id).run` did). */
export async function runTaskById(hre: HardhatRuntimeEnvironment, id: string[], args: TaskArguments): Promise<unknown> {
  programmatic++;
  try {
    const result: unknown = await hre.tasks.getTask(id).run(args);
    if (isResult(result) && !result.success) throw result.error;
    return result;
  } finally {
    programmatic--;
  }
}
