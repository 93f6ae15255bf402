/**
 * The keeper's composition root (what `aitbc keeper` runs): builds every part from the validated config and wires
 * them together; it does nothing else. The parts:
 *
 *   follower (common/follower.ts) --events.ts--> executions.ts (claim, run, record, prove, complete)
 *                                   |              |-- orchestrator.ts --> dispatcher.ts --> provider nodes (HTTP)
 *                                   |              |-- catalog (common/catalog.ts: providers from the chain)
 *                                   |              |-- safety monitor (common/safety.ts) --> tx sender (common/txs.ts)
 *                                   |-----------> upkeep.ts (duties), voter.ts (governance), catalog refreshes
 *   upkeep.ts jobs (node-cron): resume + upkeep duties, provider refresh, governance runs
 *   api.ts: /healthz, /metrics, POST /v1/inputs, POST /v1/grants, GET /v1/executions?id=, GET /v1/reports,
 *           POST /v1/safe-mode/clear; auth.ts: who signed a request and what they may do
 *   reports.ts: slash reports;  identity.ts: the keeper's own agent
 *   lease.ts: replicas on one PostgreSQL database; only the lease holder acts, a standby takes over on its death
 *
 * Every part names itself in the logs (a child logger `{ module }` made from the root logger passed to it).
 */
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { Prover } from "../../circuits/lib/prover.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import { workflowsDomain } from "../../protocol/eip712.js";
import { ProviderCatalog } from "../common/catalog.js";
import { walletFor } from "../common/chain.js";
import { loadEncryptionKeys } from "../common/encryption.js";
import { EventFollower } from "../common/follower.js";
import { loadAgentKey } from "../common/keys.js";
import { createLogger, type Logger } from "../common/log.js";
import { clearSafeModeIn, SafetyMonitor } from "../common/safety.js";
import { checkGasFunds, checkPortFree, connectChecked, dataDirOf, openDatabase } from "../common/startup.js";
import type { Store } from "../common/store.js";
import { databaseLabel } from "../common/store-sql.js";
import { TxSender } from "../common/txs.js";
import { startKeeperApi } from "./api.js";
import { ApiAuth } from "./auth.js";
import { keeperDatabase, keeperKeyFile, loadKeeperConfig, type KeeperConfig } from "./config.js";
import { StepDispatcher } from "./dispatcher.js";
import { followedContracts, routeEvents } from "./events.js";
import { ExecutionManager } from "./executions.js";
import { ProviderHealth } from "./health.js";
import { keeperAgentId } from "./identity.js";
import { takeKeeperLease } from "./lease.js";
import { KeeperMetrics } from "./metrics.js";
import { Orchestrator } from "./orchestrator.js";
import { slashReporter } from "./reports.js";
import { startJobs, Upkeep } from "./upkeep.js";
import { GovernanceVoter } from "./voter.js";

export interface RunningKeeper {
  url: string;
  address: Hex;
  agentId: bigint;
  store: Store;
  close(): Promise<void>;
}

export async function runKeeper(options: {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** `aitbc keeper --clear-safe-mode`: leave safe mode before starting (see common/safety.ts clearSafeModeIn). */
  clearSafeMode?: boolean;
}): Promise<RunningKeeper> {
  const config = loadKeeperConfig(options.configFile, options.env);
  const logger = options.logger ?? createLogger("keeper");
  return startKeeper(config, logger, options.env, { clearSafeMode: options.clearSafeMode === true });
}

/** Gas the agent must be able to pay for at start: registration and staking, or a few executions (~2M). */
const START_GAS = 2_000_000n;

/** Builds and starts the keeper; `logger` is the root logger every part makes its child from. */
export async function startKeeper(
  config: KeeperConfig,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
  options: { clearSafeMode?: boolean } = {},
): Promise<RunningKeeper> {
  const log = logger.child({ module: "keeper" });

  // Pre-flight (common/startup.ts), before any transaction: the chain (RPC retried with backoff, chain id, contract
  // code), the API's port, the database (this chain's, outside the repository by default), gas funds. Stake and
  // bond are checked by the registration before its first transaction. A failure is a StartupError (exit code 2).
  const chain = await connectChecked({
    urls: config.rpc.urls,
    pollingInterval: config.rpc.pollingIntervalMs,
    timeout: config.rpc.timeoutMs,
    addressesFile: config.addressesFile,
    chainId: config.rpc.chainId,
    retry: { attempts: config.rpc.connectAttempts },
    logger: log,
  });
  const { publicClient: client, addresses } = chain;
  const key = await loadAgentKey(config.agent, chain.chain.id, env);
  const account = privateKeyToAccount(key);
  const wallet = walletFor(chain, account);
  await checkPortFree(config.server.host, config.server.port, "server.port");
  const dataDir = dataDirOf("keeper", chain.chain.id, config.dataDir, env);
  const database = keeperDatabase(config, dataDir);
  const store = await openDatabase(
    database,
    chain,
    config.database.url === undefined ? "database.path" : "database.url",
  );
  // Replicas on one PostgreSQL database: nothing below runs until this one holds the keeper's lease (lease.ts).
  await takeKeeperLease({
    store,
    logger,
    pollMs: config.database.leasePollMs,
    lost: (reason) => {
      log.fatal({ event: "keeper-lease-lost", reason }, "lost the database connection and the keeper lease: exiting");
      process.exit(1);
    },
  });
  if (options.clearSafeMode === true) {
    // Also restarts the rate rule's window (safety.ts): the actions that tripped it do not trip it again at once.
    const was = clearSafeModeIn(store, "the operator (--clear-safe-mode)");
    log.warn(
      { event: "safe-mode-cleared", was: was ?? null },
      was ? "safe mode cleared by the operator" : "--clear-safe-mode: the keeper was not in safe mode",
    );
  }
  await checkGasFunds(chain, account.address, START_GAS, "agent");
  const metrics = new KeeperMetrics();
  // Inputs, step payloads and results are sealed (protocol/sealed.ts); the public key goes on chain with the agent.
  const keys = await loadEncryptionKeys(keeperKeyFile(config, database, dataDir), log);
  // Registration (first start only) sends through the wallet directly, so it goes before the sender reads the nonce.
  const agentId = await keeperAgentId({ chain, wallet, agent: config.agent, encryptionKey: keys.publicKey, logger });
  const governance = config.governance?.enabled === true ? config.governance : undefined;

  // Acting: the sender first recovers what a previous run left signed or sent; the monitor guards every action.
  const txs = new TxSender({ publicClient: client, walletClient: wallet, store, logger, metrics });
  await txs.start();
  const safety = new SafetyMonitor({
    publicClient: client,
    addresses,
    agent: account.address,
    store,
    logger,
    metrics,
    rules: governance
      ? { ...config.safety, expectedActionTypes: [...config.safety.expectedActionTypes, ACTION_TYPES.govern] }
      : config.safety,
  });

  // Running executions: the providers (read once before anything is dispatched), one attempt, the DAG, the life.
  const prover = new Prover();
  const catalog = new ProviderCatalog(client, addresses, logger, BigInt(config.follower.startBlock));
  await catalog.refresh();
  const domain = await workflowsDomain(client, addresses.workflows);
  const dispatcher = new StepDispatcher({ domain, prover, key, keys });
  const orchestrator = new Orchestrator({
    catalog,
    dispatcher,
    logger,
    metrics,
    concurrency: config.orchestrator.concurrencyPerExecution,
    defaultStepTimeoutMs: config.orchestrator.defaultStepTimeoutMs,
    quarantineMs: config.orchestrator.quarantineMs,
    health: new ProviderHealth({
      baseMs: config.orchestrator.providerBackoffMs,
      maxMs: config.orchestrator.providerMaxBackoffMs,
      logger,
    }),
    onInvalid: slashReporter({ store, metrics, logger, keys, domain }),
  });
  const executions = new ExecutionManager({
    client,
    addresses,
    keeper: account.address,
    agentId,
    store,
    txs,
    safety,
    orchestrator,
    prover,
    logger,
    metrics,
    fromBlock: BigInt(config.follower.startBlock),
    recordBatch: config.orchestrator.recordBatch,
    claimOpen: config.orchestrator.claimOpen,
    keeperFee: config.orchestrator.keeperFee,
    keys,
    domain,
  });

  // Upkeep duties, and the governance voter when enabled.
  const upkeep = new Upkeep({ chain, store, txs, safety, logger });
  const voter = governance
    ? new GovernanceVoter({
        publicClient: client,
        addresses,
        account: account.address,
        policy: governance,
        txs,
        safety,
        store,
        logger,
        metrics,
        gasEstimate: BigInt(governance.gasEstimate),
      })
    : undefined;

  // Events: the follower, and the router that hands each event to its part (set before the follower starts).
  const follower = new EventFollower({
    name: "protocol",
    publicClient: client,
    store,
    logger,
    confirmations: config.follower.confirmations,
    fromBlock: BigInt(config.follower.startBlock),
    batchBlocks: config.follower.batchBlocks,
    pollIntervalMs: config.follower.pollIntervalMs,
    contracts: followedContracts(addresses, voter !== undefined),
    onRpcError: () => {
      metrics.rpcError();
    },
  });
  routeEvents(follower, { executions, upkeep, voter, catalog, txs, metrics, logger });

  // The API listens before the work starts: clients can post inputs as soon as the keeper is reachable.
  const { admin, ...server } = config.server;
  const api = await startKeeperApi({
    ...server,
    address: account.address,
    agentId,
    store,
    auth: new ApiAuth({ client, addresses, domain, agentId, store, keys, ...(admin ? { admin } : {}) }),
    keys,
    domain,
    safety,
    executions,
    follower,
    txs,
    metrics,
    logger,
  });

  // Work: resume what the database holds, follow the chain, start the periodic jobs.
  executions.resumeAll();
  follower.start();
  const jobs = startJobs({
    schedules: { ...config.jobs, governance: governance?.schedule },
    executions,
    upkeep,
    catalog,
    voter,
    logger,
  });
  log.info(
    {
      event: "keeper-ready",
      url: api.url,
      address: account.address,
      agentId: agentId.toString(),
      database: databaseLabel(database),
      encryptionKey: keys.publicKey,
      governance: voter ? { rules: governance?.rules.length, default: governance?.default } : false,
    },
    "keeper ready",
  );

  // Shutdown: no new work (jobs, events), then the running work finishes (votes, executions), then the API, the
  // prover and the database close.
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      log.info({ event: "keeper-stopping" }, "keeper shutting down");
      await jobs.stop();
      await follower.stop();
      await voter?.idle();
      await executions.stop();
      await api.close();
      await prover.close();
      store.close();
      log.info({ event: "keeper-stopped" }, "keeper stopped");
    })();
    return closing;
  };
  return { url: api.url, address: account.address, agentId, store, close };
}
