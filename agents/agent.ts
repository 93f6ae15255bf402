/**
 * The agent's composition root (what `aitbc agent --config FILE` runs): configuration, chain, key, store and
 * memory, then the agent's role (agents/roles/: provider, the default; client; validator), which assembles the
 * shared parts (sender, safety layer, follower: roles/context.ts) around its own decisions. It wires and orders;
 * the parts do the work.
 */
import { privateKeyToAccount } from "viem/accounts";

import { connectChain, walletFor } from "../keepers/common/chain.js";
import { loadAgentKey } from "../keepers/common/keys.js";
import { createLogger, type Logger } from "../keepers/common/log.js";
import { Store } from "../keepers/common/store.js";
import { SharedResources } from "../keepers/provider/backends/index.js";
import { loadAgentConfig } from "./config.js";
import { AgentMemory } from "./memory.js";
import { startClient } from "./roles/client.js";
import type { RoleContext, RunningAgent } from "./roles/context.js";
import { startProvider } from "./roles/provider.js";
import { startValidator } from "./roles/validator.js";
import type { AgentStrategy } from "./strategy.js";

export type { RunningAgent } from "./roles/context.js";

const ROLES: Record<RoleContext["config"]["role"], (ctx: RoleContext) => Promise<RunningAgent>> = {
  provider: startProvider,
  client: startClient,
  validator: startValidator,
};

export async function runAgent(options: {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** A strategy object instead of the configured one (one written in code: docs/agents.md); provider role. */
  strategy?: AgentStrategy;
}): Promise<RunningAgent> {
  const root = options.logger ?? createLogger("aitbc-agent");
  const logger = root.child({ module: "agent" });
  const config = loadAgentConfig({ ...(options.configFile ? { file: options.configFile } : {}), env: options.env });
  const chain = await connectChain({
    urls: config.rpc.urls,
    ...(config.addressesFile ? { addressesFile: config.addressesFile } : {}),
  });
  const client = chain.publicClient;
  const account = privateKeyToAccount(await loadAgentKey(config.agent, chain.chain.id, options.env));
  const wallet = walletFor(chain, account);
  const store = new Store(config.store.path);
  const memory = new AgentMemory(config.store.path, config.memory);
  const shared = new SharedResources();
  const closers: (() => Promise<void> | void)[] = [
    () => shared.close(),
    () => {
      memory.close();
    },
    () => {
      store.close();
    },
  ];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const ctx = { config, root, logger, chain, client, account, wallet, store, memory, shared, closers, closeAll };
    return await ROLES[config.role]({
      ...ctx,
      env: options.env,
      ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
}
