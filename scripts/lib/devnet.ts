/**
 * A local AITBC network with its daemons as real processes: the embedded chain (an in-process Hardhat network,
 * served over JSON-RPC on loopback so the daemons reach it like any node), the protocol deployed through its
 * Ignition module, funded accounts by role, provider nodes and a keeper started with `aitbc provider` /
 * `aitbc keeper` (keepers/bin/aitbc.mjs) as child processes whose JSON logs are collected. Used by the demo, the
 * end-to-end tests and the keeper benchmark.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, writeFileSync, type WriteStream } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";
import { id, MaxUint256 } from "ethers";
import { mnemonicToAccount } from "viem/accounts";
import { bytesToHex } from "viem";

import ProtocolModule from "../../deploy/modules/Protocol.js";
import { closeServer, listen } from "../../keepers/common/http.js";
import type { Json } from "../../protocol/values.js";
import { followExecution, KeeperClient, keeperAddress, keeperEncryptionKey, type Progress } from "./executions.js";
import { protocolAt, writeAddresses, type Protocol } from "./protocol.js";
import { receiptDomain, signReceipt } from "./receipts.js";
import { toWorkflowSpec } from "../../protocol/workflow-spec.js";

const ROOT = path.join(import.meta.dirname, "../..");
const AITBC_BIN = path.join(ROOT, "keepers/bin/aitbc.mjs");
/** Hardhat's default accounts. */
const MNEMONIC = "test test test test test test test test test test test junk";

export interface Account {
  address: `0x${string}`;
  privateKey: `0x${string}`;
}

export function devAccount(index: number): Account {
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: index });
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error(`account ${index}: no private key`);
  return { address: account.address, privateKey: bytesToHex(key) };
}

/** Accounts by role (Hardhat's default mnemonic; indices fixed so logs are easy to read). */
export const ROLES = {
  deployer: devAccount(0),
  guardian: devAccount(1),
  attestor: devAccount(2),
  treasury: devAccount(3),
  client: devAccount(4),
  keeper: devAccount(5),
  keeperOperator: devAccount(6),
  /** Six provider agents (7..12) with their operators (13..18). */
  providers: [7, 8, 9, 10, 11, 12].map((i) => ({ agent: devAccount(i), operator: devAccount(i + 6) })),
};

// ---------------------------------------------------------------- the chain

/** Serves an EIP-1193 provider as JSON-RPC over HTTP (single and batch requests). */
export async function serveRpc(
  connection: NetworkConnection,
  host = "127.0.0.1",
): Promise<{ url: string; server: Server }> {
  const call = async (req: { id?: unknown; method: string; params?: unknown[] }) => {
    try {
      const result: unknown = await connection.provider.request({ method: req.method, params: req.params ?? [] });
      return { jsonrpc: "2.0", id: req.id ?? null, result };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: req.id ?? null,
        error: { code: e.code ?? -32603, message: e.message ?? String(error), data: e.data },
      };
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          res.writeHead(400).end();
          return;
        }
        const answer = Array.isArray(body)
          ? await Promise.all(body.map((r) => call(r as { method: string })))
          : await call(body as { method: string });
        const text = JSON.stringify(answer, (_k, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v));
        res.writeHead(200, { "content-type": "application/json" }).end(text);
      })();
    });
  });
  server.keepAliveTimeout = 60_000;
  return { url: await listen(server, host, 0), server };
}

export interface DevnetOptions {
  /** Directory for configs, databases and logs (default: a new temporary directory). */
  dir?: string;
  /** Print daemon logs as they come (pretty lines). */
  echo?: boolean;
}

/** Starts the chain, deploys the protocol and funds the roles. */
export async function startDevnet(hre: HardhatRuntimeEnvironment, options: DevnetOptions = {}): Promise<Devnet> {
  const connection = await hre.network.create();
  const { url, server } = await serveRpc(connection);
  const { ignition, ethers } = connection;
  const deployed = await ignition.deploy(ProtocolModule, {
    parameters: {
      AITBCCore: {
        guardian: ROLES.guardian.address,
        attestor: ROLES.attestor.address,
        treasury: ROLES.treasury.address,
        unbondingDelay: 3600n,
      },
      AITBCZk: { attestor: ROLES.attestor.address },
    },
  });
  const protocol = await protocolAt(ethers, deployed);
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "aitbc-devnet-"));
  const addressesFile = path.join(dir, "addresses.json");
  await writeAddresses(addressesFile, protocol);
  const devnet = new Devnet(hre, connection, server, url, dir, addressesFile, protocol, options.echo ?? false);
  return devnet;
}

// ---------------------------------------------------------------- daemons

export interface LogLine {
  level: number;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

/** Parsed JSON log lines as they come, and waiting for one (a Daemon's, an in-process agent's). */
export class LogLines {
  readonly lines: LogLine[] = [];
  readonly #waiters = new Set<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  constructor(readonly name: string) {}

  push(line: LogLine): void {
    this.lines.push(line);
    for (const w of this.#waiters)
      if (w.test(line)) {
        this.#waiters.delete(w);
        w.resolve(line);
      }
  }

  /**
   * The first line matching `test` from line `after` on (past or future); rejects on timeout, or when `ended`
   * resolves first (with why: "exited (code 1, ...)"). `detail` is added to the error (a process's stderr).
   */
  waitFor(
    test: (l: LogLine) => boolean,
    what: string,
    options: { timeoutMs?: number; after?: number; ended?: Promise<string>; detail?: () => string } = {},
  ): Promise<LogLine> {
    const seen = this.lines.slice(options.after ?? 0).find(test);
    if (seen) return Promise.resolve(seen);
    const timeoutMs = options.timeoutMs ?? 60_000;
    const detail = () => (options.detail === undefined ? "" : `\n${options.detail()}`);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = {
        test,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${detail()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      void options.ended?.then((why) => {
        if (!this.#waiters.has(waiter)) return;
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${this.name} ${why} before ${what}${detail()}`));
      });
    });
  }
}

/** A daemon child process with its parsed JSON log lines. */
export class Daemon {
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly #log: LogLines;
  stderr = "";

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    log: WriteStream,
    echo: boolean,
  ) {
    this.#log = new LogLines(name);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        resolve({ code, signal });
      }),
    );
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (text) => {
        log.write(`${text}\n`);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          return;
        }
        if (echo) console.log(`  [${name}] ${line.msg}${line.event ? ` (${line.event})` : ""}`);
        this.#log.push(line);
      });
    }
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
      log.write(d);
    });
  }

  get lines(): LogLine[] {
    return this.#log.lines;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * The first log line matching `test` from line `after` on (past or future); rejects if the process exits first or
   * on timeout.
   */
  async waitFor(test: (l: LogLine) => boolean, timeoutMs = 60_000, what = "log line", after = 0): Promise<LogLine> {
    return this.#log.waitFor(test, what, {
      timeoutMs,
      after,
      ended: this.exited.then(({ code, signal }) => `exited (code ${code}, signal ${signal})`),
      detail: () => this.stderr,
    });
  }

  async ready(timeoutMs = 120_000): Promise<LogLine> {
    return this.waitFor((l) => l.event === `${this.name.split("-")[0] ?? ""}-ready`, timeoutMs, "ready line");
  }

  /** SIGKILL: no cleanup at all (a crash). */
  async kill9(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM and wait for a graceful exit. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: string | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

export class Devnet {
  readonly daemons: Daemon[] = [];
  #providerCount = 0;

  constructor(
    readonly hre: HardhatRuntimeEnvironment,
    readonly connection: NetworkConnection,
    private readonly server: Server,
    readonly url: string,
    readonly dir: string,
    readonly addressesFile: string,
    readonly protocol: Protocol,
    private readonly echo: boolean,
  ) {}

  /** Gives `to` whole AITBC through an attested compute receipt (the only way new AITBC exists). */
  async fund(to: string, units: bigint): Promise<void> {
    const { token } = this.protocol;
    const { ethers } = this.connection;
    const attestor = await ethers.getSigner(ROLES.attestor.address);
    const latest = await ethers.provider.getBlock("latest");
    const n = `${to}-${units}-${Date.now()}-${Math.random()}`;
    const receipt = {
      receiptId: id(`devnet-funding-${n}`),
      provider: to,
      client: ROLES.attestor.address,
      units,
      workHash: id(`devnet-work-${n}`),
      resultHash: id(`devnet-result-${n}`),
      deadline: BigInt(latest?.timestamp ?? 0) + 86_400n,
    };
    const signature = await signReceipt(attestor, await receiptDomain(token), receipt);
    await (await token.connect(attestor).mintFromReceipt(receipt, signature)).wait();
  }

  /** The client approves Workflows for `units` AITBC (funding it first). */
  async fundClient(units: bigint): Promise<void> {
    await this.fund(ROLES.client.address, units);
    const client = await this.connection.ethers.getSigner(ROLES.client.address);
    await (
      await this.protocol.token.connect(client).approve(await this.protocol.workflows.getAddress(), MaxUint256)
    ).wait();
  }

  #logStream(name: string): WriteStream {
    return createWriteStream(path.join(this.dir, `${name}.log`), { flags: "a" });
  }

  /** Spawns `aitbc <command> --config <file>`. */
  spawn(
    name: string,
    command: "keeper" | "provider" | "agent",
    config: unknown,
    env: Record<string, string> = {},
  ): Daemon {
    const file = path.join(this.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const child = spawn(process.execPath, [AITBC_BIN, command, "--config", file], {
      cwd: ROOT,
      env: { ...process.env, LOG_PRETTY: "0", LOG_LEVEL: process.env.AITBC_LOG_LEVEL ?? "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const daemon = new Daemon(name, child, this.#logStream(name), this.echo);
    this.daemons.push(daemon);
    return daemon;
  }

  /** A provider node's config: both built-in backends (Iris reference model, data processing). */
  providerConfig(
    index: number,
    overrides: {
      chaos?: Record<string, number>;
      price?: string;
      capacity?: number;
      /** The endpoint registered on chain (default: the node's own URL), e.g. a proxy in front of it. */
      endpoint?: string;
      /** The chain's JSON-RPC URL the node uses (default: the devnet's). */
      rpcUrl?: string;
    } = {},
  ): unknown {
    const role = ROLES.providers[index];
    if (!role) throw new Error(`providers: no account for provider ${index}`);
    return {
      rpc: { urls: [overrides.rpcUrl ?? this.url] },
      addressesFile: this.addressesFile,
      agent: {
        privateKey: role.agent.privateKey,
        operator: role.operator.address,
        stake: "2000",
        expectedDailyVolume: "10000",
        ...(overrides.endpoint === undefined ? {} : { endpoint: overrides.endpoint }),
      },
      server: { host: "127.0.0.1", port: 0, capacity: overrides.capacity ?? 8 },
      encryption: { keyFile: path.join(this.dir, `provider-${index}.encryption-key`) },
      services: [
        { name: "iris-mlp", stepType: "inference", backend: "iris", price: overrides.price ?? "0.5" },
        { name: "json-data", stepType: "data-processing", backend: "data", price: overrides.price ?? "0.1" },
      ],
      ...(overrides.chaos ? { chaos: overrides.chaos } : {}),
    };
  }

  /** Funds provider `index`'s agent and starts its node; resolves once it is registered and serving. */
  async startProvider(index: number, overrides: Parameters<Devnet["providerConfig"]>[1] = {}): Promise<Daemon> {
    const role = ROLES.providers[index];
    if (!role) throw new Error(`providers: no account for provider ${index}`);
    if ((await this.protocol.token.balanceOf(role.agent.address)) < 2000n * 10n ** 18n)
      await this.fund(role.agent.address, 2000n);
    const daemon = this.spawn(`provider-${index}`, "provider", this.providerConfig(index, overrides));
    this.#providerCount += 1;
    await daemon.ready();
    return daemon;
  }

  keeperConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      rpc: { urls: [this.url], pollingIntervalMs: 100 },
      addressesFile: this.addressesFile,
      agent: {
        privateKey: ROLES.keeper.privateKey,
        register: { operator: ROLES.keeperOperator.address, stake: "2000", expectedDailyVolume: "10000" },
      },
      database: { path: path.join(this.dir, "keeper.db") },
      follower: { pollIntervalMs: 200 },
      jobs: { sweep: "*/2 * * * * *", providers: "*/5 * * * * *" },
      // The keeper asks 0.1 AITBC per completed execution; it gets it only where the client accepted a fee.
      orchestrator: { keeperFee: "0.1" },
      ...overrides,
    };
  }

  /**
   * Funds the keeper agent and starts it (`env`: extra environment variables); raises its constitution's daily gas
   * (it proves and records a lot).
   */
  async startKeeper(
    overrides: Record<string, unknown> = {},
    name = "keeper",
    env: Record<string, string> = {},
  ): Promise<Daemon> {
    if ((await this.protocol.token.balanceOf(ROLES.keeper.address)) < 2000n * 10n ** 18n)
      await this.fund(ROLES.keeper.address, 2000n);
    const daemon = this.spawn(name, "keeper", this.keeperConfig(overrides), env);
    await daemon.ready();
    return daemon;
  }

  /**
   * The keeper's operator sets its constitution to the protocol bounds' daily gas, for runs that spend more than a
   * day's default (the keeper bench: proofs cost ~1.2M gas each). Nothing calls it by default.
   */
  async raiseKeeperLimits(): Promise<void> {
    const { constitution } = this.protocol;
    const operator = await this.connection.ethers.getSigner(ROLES.keeperOperator.address);
    const current = await constitution.constraintsOf(ROLES.keeper.address);
    const bounds = await constitution.bounds();
    if (current.maxGasPerDay === bounds.maxGasPerDay) return;
    await (
      await constitution.connect(operator).setConstraints(ROLES.keeper.address, {
        maxStake: current.maxStake,
        maxDailyVolume: current.maxDailyVolume,
        maxGasPerDay: bounds.maxGasPerDay,
        allowedActions: current.allowedActions,
        humanApprovalActions: current.humanApprovalActions,
      })
    ).wait();
  }

  /** The client defines a workflow from its JSON specification (protocol/workflow-spec.ts). */
  async defineWorkflow(raw: unknown): Promise<bigint> {
    const client = await this.connection.ethers.getSigner(ROLES.client.address);
    const { workflows } = this.protocol;
    const receipt = await (await workflows.connect(client).defineWorkflow(toWorkflowSpec(raw))).wait();
    const event = receipt?.logs.map((l) => workflows.interface.parseLog(l)).find((e) => e?.name === "WorkflowDefined");
    if (!event) throw new Error("defineWorkflow: no WorkflowDefined event");
    return event.args[0] as bigint;
  }

  /** A client of the keeper at `url` signing as `address` (default: the client) under the Workflows domain. */
  async keeperClient(url: string, address: string = ROLES.client.address): Promise<KeeperClient> {
    const signer = await this.connection.ethers.getSigner(address);
    return KeeperClient.connect(url, signer, this.protocol.workflows);
  }

  /**
   * The client posts `inputs` to the keeper (signed) and requests an execution naming it (`keeper` address),
   * escrowing `budget` AITBC (the client is funded and approves on first use), of which the keeper may take up to
   * `maxKeeperFee` as its fee. Returns the execution id.
   */
  async requestExecution(
    workflowId: bigint,
    inputs: Json,
    keeperUrl: string,
    budget = 5n * 10n ** 18n,
    keeper: string = ROLES.keeper.address,
    maxKeeperFee = 0n,
  ): Promise<bigint> {
    const { token, workflows } = this.protocol;
    if ((await token.balanceOf(ROLES.client.address)) < budget) await this.fundClient(1000n + budget / 10n ** 18n);
    // An open request (no keeper named) seals the inputs to the keeper they are posted to.
    const sealTo = BigInt(keeper) === 0n ? await keeperAddress(keeperUrl) : keeper;
    const keeperKey = await keeperEncryptionKey(this.protocol.registry, sealTo);
    const inputsHash = await (await this.keeperClient(keeperUrl)).postInputs(inputs, keeperKey);
    const client = await this.connection.ethers.getSigner(ROLES.client.address);
    // The escrow's allowance: a task run in between (workflow run approves exactly its budget) may have used it up.
    const spender = await workflows.getAddress();
    if ((await token.allowance(ROLES.client.address, spender)) < budget)
      await (await token.connect(client).approve(spender, budget)).wait();
    const receipt = await (
      await workflows
        .connect(client)
        .requestExecution({ workflowId, inputsHash, budget, listingId: 0n, keeper, maxListingFee: 0n, maxKeeperFee })
    ).wait();
    const event = receipt?.logs
      .map((l) => workflows.interface.parseLog(l))
      .find((e) => e?.name === "ExecutionRequested");
    if (!event) throw new Error("requestExecution: no ExecutionRequested event");
    return event.args[0] as bigint;
  }

  /** Follows an execution until it completes or fails; with `keeperUrl`, also the keeper's view (as the client). */
  async waitForExecution(
    executionId: bigint,
    options: Parameters<typeof followExecution>[2] & { keeperUrl?: string } = {},
  ): Promise<Progress> {
    const { keeperUrl, ...rest } = options;
    return followExecution(this.protocol.workflows, executionId, {
      intervalMs: 200,
      timeoutMs: 180_000,
      ...(keeperUrl === undefined ? {} : { keeper: await this.keeperClient(keeperUrl) }),
      ...rest,
    });
  }

  /** Stops every daemon (SIGTERM), then the chain's RPC server. */
  async stop(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.stop()));
    await closeServer(this.server).catch(() => undefined);
    this.server.closeAllConnections();
    await this.connection.close();
  }
}
