/**
 * The keeper's composition root: builds every part from the validated config and wires them together.
 *
 *   follower (events, checkpoint, reorgs) --> executions (claim, run, record, prove, complete)
 *                                               |-- orchestrator --> dispatcher --> provider nodes (HTTP)
 *                                               |-- catalog (providers from the registry and marketplace)
 *                                               |-- safety monitor --> tx sender (nonces, crash-safe keys)
 *   jobs (node-cron): resume + upkeep duties (expire executions, finalize workloads), provider refresh
 *   governance voter (when governance.enabled): votes on Active proposals by the config's policy
 *   admin server: /healthz, /metrics, POST /v1/inputs, GET /v1/executions?id=, GET /v1/reports
 */
import type { Hex } from "viem";
import { createServer } from "node:http";

import cron from "node-cron";
import { privateKeyToAccount } from "viem/accounts";

import { Prover } from "../../circuits/lib/prover.js";
import { ACTION_TYPES } from "../../protocol/actions.js";
import { governorAbi, humanOverrideAbi, marketplaceAbi, registryAbi, workflowsAbi } from "../../protocol/abi.js";
import { connectChain, walletFor, type ChainContext } from "../common/chain.js";
import { workflowsDomain } from "../../protocol/eip712.js";
import { closeServer, HttpError, listen, readJsonBody, router, sendJson } from "../common/http.js";
import { createLogger, type Logger } from "../common/log.js";
import { valueHashHex, valueSize, type Json } from "../../protocol/values.js";
import { ensureAgent } from "../common/registration.js";
import { ProviderCatalog } from "../common/catalog.js";
import { loadKeeperConfig, type KeeperConfig } from "./config.js";
import { StepDispatcher } from "./dispatcher.js";
import { ExecutionManager } from "./executions.js";
import { EventFollower, type FollowedLog } from "../common/follower.js";
import { KeeperMetrics } from "./metrics.js";
import { Orchestrator } from "./orchestrator.js";
import { SafetyMonitor } from "../common/safety.js";
import { Store } from "../common/store.js";
import { TxRevertedError, TxSender } from "../common/txs.js";
import { GovernanceVoter } from "./voter.js";

const UPKEEP = ACTION_TYPES.upkeep;
/** Reverts that mean "not yet" for an upkeep duty. */
const NOT_YET = new Set(["WorkflowsNotExpired", "MarketplaceChallengeWindowOpen"]);

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
}): Promise<RunningKeeper> {
  const config = loadKeeperConfig(options.configFile, options.env);
  const logger = options.logger ?? createLogger("keeper");
  return startKeeper(config, logger);
}

export async function startKeeper(config: KeeperConfig, logger: Logger): Promise<RunningKeeper> {
  const chain = await connectChain({
    urls: config.rpc.urls,
    pollingInterval: config.rpc.pollingIntervalMs,
    timeout: config.rpc.timeoutMs,
    addressesFile: config.addressesFile,
  });
  const { publicClient: client, addresses } = chain;
  const account = privateKeyToAccount(config.agent.privateKey);
  const wallet = walletFor(chain, account);
  const store = new Store(config.database.path);
  const metrics = new KeeperMetrics();
  // Registration (first start only) sends through the wallet directly, so it goes before the sender reads the nonce.
  const agentId = await agentIdOf(chain, account.address, config, wallet, logger);
  const governance = config.governance?.enabled === true ? config.governance : undefined;
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
  const prover = new Prover();
  const catalog = new ProviderCatalog(client, addresses, logger, BigInt(config.follower.startBlock));
  await catalog.refresh();
  const dispatcher = new StepDispatcher({ domain: await workflowsDomain(client, addresses.workflows), prover });
  const orchestrator = new Orchestrator({
    catalog,
    dispatcher,
    logger,
    metrics,
    concurrency: config.orchestrator.concurrencyPerExecution,
    defaultStepTimeoutMs: config.orchestrator.defaultStepTimeoutMs,
    quarantineMs: config.orchestrator.quarantineMs,
    onInvalid: (offer, executionId, step, error) => {
      store.addReport({ provider: offer.address, executionId, step, reason: error.message, evidence: error.evidence });
      metrics.slashReport();
      logger.warn(
        {
          event: "slash-report",
          provider: offer.address,
          agentId: offer.agentId.toString(),
          executionId: executionId.toString(),
          step,
        },
        `provider reported for slashing: ${error.message}`,
      );
    },
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
  });
  const upkeep = new Upkeep(chain, store, txs, safety, logger);
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

  const follower = new EventFollower({
    name: "protocol",
    publicClient: client,
    store,
    logger,
    confirmations: config.follower.confirmations,
    fromBlock: BigInt(config.follower.startBlock),
    batchBlocks: config.follower.batchBlocks,
    pollIntervalMs: config.follower.pollIntervalMs,
    contracts: [
      { address: addresses.workflows, abi: workflowsAbi },
      { address: addresses.marketplace, abi: marketplaceAbi },
      { address: addresses.registry, abi: registryAbi },
      { address: addresses.humanOverride, abi: humanOverrideAbi },
      ...(voter ? [{ address: addresses.governor, abi: governorAbi }] : []),
    ],
    onRpcError: () => {
      metrics.rpcError();
    },
  });
  follower.onLogs(async (logs) => {
    for (const log of logs) await handleLog(log, { executions, upkeep, voter, client, addresses });
    if (logs.some((l) => PROVIDER_EVENTS.has(l.eventName))) await catalog.refresh();
    metrics.chainLag(follower.lag());
    metrics.pendingTransactions(txs.pendingCount());
  });
  follower.onReorg(async (forkBlock) => {
    logger.warn({ forkBlock: forkBlock.toString() }, "reorg: re-checking what was acted on");
    await txs.reconcile(forkBlock, { rebroadcast: false });
    await executions.onReorg();
    voter?.onReorg();
  });

  const server = createServer(
    router(
      {
        "GET /healthz": (_req, res) => {
          const safe = safety.safeMode();
          sendJson(res, 200, {
            ok: !safe.on,
            address: account.address,
            agentId,
            lag: follower.lag(),
            safeMode: safe,
            running: executions.active(),
            pendingTransactions: txs.pendingCount(),
          });
        },
        "GET /metrics": async (_req, res) => {
          metrics.pendingTransactions(txs.pendingCount());
          metrics.chainLag(follower.lag());
          const text = await metrics.metrics();
          res.writeHead(200, { "content-type": metrics.contentType });
          res.end(text);
        },
        "POST /v1/inputs": async (req, res) => {
          const body = (await readJsonBody(req, config.server.maxBodyBytes)) as Json;
          let hash: Hex;
          try {
            hash = valueHashHex(body);
          } catch (error) {
            throw new HttpError(400, "bad-request", (error as Error).message, { field: "input" });
          }
          store.putInputs(hash, body);
          logger.info({ inputsHash: hash, bytes: valueSize(body) }, "inputs received");
          executions.onInputs(hash);
          sendJson(res, 201, { inputsHash: hash });
        },
        "GET /v1/executions": (req, res) => {
          const id = new URL(req.url ?? "/", "http://x").searchParams.get("id") ?? "";
          if (!/^\d+$/.test(id)) throw new HttpError(400, "bad-request", "id must be an execution id", { field: "id" });
          const row = store.execution(BigInt(id));
          if (!row) throw new HttpError(404, "not-found", `execution ${id} is not this keeper's`);
          const steps = store.steps(BigInt(id));
          const last = steps.find((s) => s.step === Math.max(...steps.map((x) => x.step)));
          sendJson(res, 200, {
            ...row,
            steps: steps.map((s) => ({
              step: s.step,
              state: s.state,
              provider: s.provider,
              attempts: s.attempts,
              providerMillis: s.providerMillis,
            })),
            result: row.state === "done" ? ((last?.result as { output?: Json } | undefined)?.output ?? null) : null,
          });
        },
        "GET /v1/reports": (_req, res) => {
          sendJson(res, 200, { reports: store.reports() });
        },
      },
      (error) => {
        logger.error({ err: (error as Error).message }, "admin request failed");
      },
    ),
  );
  const url = await listen(server, config.server.host, config.server.port);

  executions.resumeAll();
  follower.start();
  const jobs = [
    cron.schedule(
      config.jobs.sweep,
      async () => {
        executions.resumeAll();
        await upkeep.run().catch((error: unknown) => {
          logger.warn({ err: (error as Error).message }, "upkeep sweep failed");
        });
      },
      { noOverlap: true },
    ),
    cron.schedule(
      config.jobs.providers,
      async () => {
        await catalog.refresh().catch((error: unknown) => {
          logger.warn({ err: (error as Error).message }, "provider refresh failed");
        });
      },
      { noOverlap: true },
    ),
  ];
  if (voter && governance) {
    jobs.push(
      cron.schedule(
        governance.schedule,
        async () => {
          await voter.run().catch((error: unknown) => {
            logger.warn({ err: (error as Error).message }, "governance run failed");
          });
        },
        { noOverlap: true },
      ),
    );
  }
  logger.info(
    {
      event: "keeper-ready",
      url,
      address: account.address,
      agentId: agentId.toString(),
      database: config.database.path,
      governance: voter ? { rules: governance?.rules.length, default: governance?.default } : false,
    },
    "keeper ready",
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      logger.info("keeper shutting down");
      for (const job of jobs) await job.stop();
      await follower.stop();
      await voter?.idle();
      await executions.stop();
      await closeServer(server);
      await prover.close();
      store.close();
      logger.info({ event: "keeper-stopped" }, "keeper stopped");
    })();
    return closing;
  };
  return { url, address: account.address, agentId, store, close };
}

async function agentIdOf(
  chain: ChainContext,
  address: Hex,
  config: KeeperConfig,
  wallet: ReturnType<typeof walletFor>,
  logger: Logger,
): Promise<bigint> {
  const reg = config.agent.register;
  if (reg) {
    return (
      await ensureAgent({
        chain,
        wallet,
        logger,
        operator: reg.operator,
        agentType: 3,
        endpoint: reg.endpoint,
        version: "1.0.0",
        metadataURI: "",
        capabilities: [],
        stake: reg.stake,
        expectedDailyVolume: reg.expectedDailyVolume,
      })
    ).agentId;
  }
  const id = await chain.publicClient.readContract({
    address: chain.addresses.registry,
    abi: registryAbi,
    functionName: "agentIdOf",
    args: [address],
  });
  if (id === 0n)
    throw new Error(`agent.privateKey: ${address} is not a registered agent (set agent.register to register it)`);
  return id;
}

/** Events that change which providers the keeper may use, or on what terms: the catalog is refreshed. */
const PROVIDER_EVENTS = new Set([
  "ServiceListed",
  "ServiceUpdated",
  "ServiceDelisted",
  "AgentRegistered",
  "ProfileUpdated",
  "Slashed",
  "ReputationUpdated",
  "UnstakeRequested",
  "AgentFrozen",
  "AgentUnfrozen",
]);

interface LogContext {
  executions: ExecutionManager;
  upkeep: Upkeep;
  voter: GovernanceVoter | undefined;
  client: ChainContext["publicClient"];
  addresses: ChainContext["addresses"];
}

async function handleLog(log: FollowedLog, c: LogContext): Promise<void> {
  const args = log.args as Record<string, unknown>;
  switch (log.eventName) {
    case "ExecutionRequested":
      await c.executions.onRequested({
        executionId: args.executionId as bigint,
        workflowId: args.workflowId as bigint,
        inputsHash: args.inputsHash as Hex,
        keeper: args.keeper as Hex,
      });
      break;
    case "ExecutionClaimed":
      await c.upkeep.executionClaimed(args.executionId as bigint);
      break;
    case "ExecutionCompleted":
    case "ExecutionFailed":
      c.upkeep.done("expire", args.executionId as bigint);
      break;
    case "ResultSubmitted":
    case "ResultProven":
      await c.upkeep.resultSubmitted(args.workloadId as bigint);
      break;
    case "ProposalCreated":
      c.voter?.onProposalCreated({
        proposalId: args.proposalId as bigint,
        proposer: args.proposer as Hex,
        targets: args.targets as Hex[],
        values: args.values as bigint[],
        calldatas: args.calldatas as Hex[],
        voteStart: args.voteStart as bigint,
        voteEnd: args.voteEnd as bigint,
        description: args.description as string,
      });
      break;
    case "WorkloadSettled":
    case "ResultRejected":
    case "WorkloadRefunded":
      c.upkeep.done("finalize", args.workloadId as bigint);
      break;
    default:
      break;
  }
}

/**
 * Upkeep duties anyone may perform and the keeper takes on (charged to its constitution as UPKEEP): expiring
 * executions past their max time (refunds the client) and settling workloads whose challenge window passed.
 * Due times are stored, so a restart keeps them; each is re-checked on chain before acting.
 */
class Upkeep {
  constructor(
    private readonly chain: ChainContext,
    private readonly store: Store,
    private readonly txs: TxSender,
    private readonly safety: SafetyMonitor,
    private readonly logger: Logger,
  ) {}

  async executionClaimed(executionId: bigint): Promise<void> {
    const e = await this.chain.publicClient.readContract({
      address: this.chain.addresses.workflows,
      abi: workflowsAbi,
      functionName: "getExecution",
      args: [executionId],
    });
    const wf = await this.chain.publicClient.readContract({
      address: this.chain.addresses.workflows,
      abi: workflowsAbi,
      functionName: "getWorkflow",
      args: [e.workflowId],
    });
    this.store.addDuty("expire", executionId, Number(e.startedAt + wf.maxExecutionTime) * 1000 + 1000);
  }

  async resultSubmitted(workloadId: bigint): Promise<void> {
    const w = await this.chain.publicClient.readContract({
      address: this.chain.addresses.marketplace,
      abi: marketplaceAbi,
      functionName: "getWorkload",
      args: [workloadId],
    });
    this.store.addDuty("finalize", workloadId, Number(w.submittedAt + BigInt(w.challengeWindow)) * 1000 + 1000);
  }

  done(kind: string, id: bigint): void {
    this.store.removeDuty(kind, id);
  }

  /** Performs the duties that are due (by the chain's clock: the latest block's timestamp). */
  async run(): Promise<void> {
    const block = await this.chain.publicClient.getBlock();
    for (const duty of this.store.dueDuties(Number(block.timestamp) * 1000)) {
      const { address, abi, functionName } =
        duty.kind === "expire"
          ? { address: this.chain.addresses.workflows, abi: workflowsAbi, functionName: "expireExecution" }
          : { address: this.chain.addresses.marketplace, abi: marketplaceAbi, functionName: "finalize" };
      try {
        await this.safety.check({
          actionType: UPKEEP,
          value: 0n,
          gasEstimate: 200_000n,
          label: `${duty.kind}:${duty.id}`,
        });
        await this.txs.send({ key: `${duty.kind}:${duty.id}`, address, abi, functionName, args: [duty.id] });
        this.safety.record({ actionType: UPKEEP, value: 0n });
        this.logger.info({ duty: duty.kind, id: duty.id.toString() }, "upkeep done");
      } catch (error) {
        // Not due yet (a deadline moved after an emergency stop): try again later. Anything else means it is done
        // already or no longer possible (the simulation said so without spending a nonce).
        if (error instanceof TxRevertedError && NOT_YET.has(error.errorName ?? "")) {
          this.store.addDuty(duty.kind, duty.id, Number(block.timestamp) * 1000 + 60_000);
          continue;
        }
        // Only a definitive answer (the call reverts: done already, or impossible) drops the duty; RPC trouble, a
        // safety refusal or a timeout leaves it for the next sweep.
        if (!(error instanceof TxRevertedError)) {
          this.logger.warn(
            { duty: duty.kind, id: duty.id.toString(), err: (error as Error).message },
            "upkeep postponed",
          );
          continue;
        }
        this.logger.info({ duty: duty.kind, id: duty.id.toString(), err: error.message }, "upkeep dropped");
      }
      this.store.removeDuty(duty.kind, duty.id);
    }
  }
}
