/**
 * aitbc keeper   [--config FILE] [--clear-safe-mode]   the keeper daemon (keepers/keeper)
 * aitbc provider [--config FILE]                       a provider node (keepers/provider)
 * aitbc agent    --config FILE                         an autonomous agent with a strategy (agents/)
 *
 * Each reads its JSON config (default: none, environment only), validates it and runs its pre-flight checks (a bad
 * field, an unreachable RPC, a stale database, an unfunded agent... stop the start with a message naming the field
 * and the fix, exit code 2, common/startup.ts), runs until SIGTERM or SIGINT, then shuts down gracefully (exit code 0).
 */
import { parseArgs } from "node:util";

import { ConfigError } from "./common/config.js";
import { createLogger } from "./common/log.js";
import { runKeeper } from "./keeper/keeper.js";
import { RegistrationError } from "./common/registration.js";
import { runProvider } from "./provider/node.js";
import { runAgent } from "../agents/agent.js";

const USAGE =
  "usage: aitbc keeper [--config FILE] [--clear-safe-mode] | aitbc provider [--config FILE] | aitbc agent --config FILE";

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { config: { type: "string" }, "clear-safe-mode": { type: "boolean" }, help: { type: "boolean" } },
  });
  const [command] = positionals;
  if (values.help === true || command === undefined) {
    console.log(USAGE);
    return;
  }
  const root = createLogger(command);
  const logger = root.child({ module: "cli" });
  let daemon: { close(): Promise<void> };
  if (command === "keeper") {
    daemon = await runKeeper({
      configFile: values.config,
      env: process.env,
      logger: root,
      clearSafeMode: values["clear-safe-mode"] === true,
    });
  } else if (command === "provider") {
    daemon = await runProvider({ configFile: values.config, env: process.env, logger: root });
  } else if (command === "agent") {
    daemon = await runAgent({ configFile: values.config, env: process.env, logger: root });
  } else {
    throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    daemon.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: (error as Error).message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => {
    stop("SIGTERM");
  });
  process.on("SIGINT", () => {
    stop("SIGINT");
  });
}

main().catch((error: unknown) => {
  // Start-up errors the operator fixes (config, pre-flight, registration): one line naming the field, exit code 2.
  if (error instanceof ConfigError || error instanceof RegistrationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`aitbc: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
