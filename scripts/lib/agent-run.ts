/**
 * Agents run in process (agents/agent.ts runAgent, the same composition root as `aitbc agent`) against a devnet
 * (devnet.ts: a real deployment behind a JSON-RPC server), for the tests and the bench that need to hand an agent a
 * strategy object (a test strategy) or read its parts: its log lines are parsed and waited on as a Daemon's are.
 * Also the client's side of a workload: post it (the input handed to the agent, checked against the chain), award,
 * accept, reject.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";

import { id as hashText, MaxUint256, parseEther, ZeroHash } from "ethers";
import { pino } from "pino";

import { runAgent, type RunningAgent } from "../../agents/agent.js";
import type { AgentStrategy } from "../../agents/strategy.js";
import { valueHashHex, type Json } from "../../protocol/values.js";
import { LogLines, ROLES, type Account, type Devnet, type LogLine } from "./devnet.js";

export const SERVICE = "json-stats";

export class InProcessAgent {
  readonly #log: LogLines;
  running: RunningAgent | undefined;

  constructor(readonly name: string) {
    this.#log = new LogLines(name);
  }

  get lines(): LogLine[] {
    return this.#log.lines;
  }

  readonly logger = pino(
    { level: "info" },
    {
      write: (text: string) => {
        const line = JSON.parse(text) as LogLine;
        if (process.env.AITBC_ECHO === "1") console.log(`  [${this.name}] ${line.msg}`);
        this.#log.push(line);
      },
    },
  );

  get url(): string {
    if (this.running === undefined) throw new Error(`${this.name}: not started`);
    return this.running.url;
  }

  /** The first line matching `test` from line `after` on (past or future). */
  waitFor(test: (l: LogLine) => boolean, what: string, timeoutMs = 60_000, after = 0): Promise<LogLine> {
    return this.#log.waitFor(test, what, { timeoutMs, after });
  }

  /** The line of `event` about `workloadId`. */
  line(event: string, workloadId: bigint, timeoutMs = 60_000): Promise<LogLine> {
    return this.waitFor(
      (l) => l.event === event && String(l.workloadId) === String(workloadId),
      `${event} ${workloadId}`,
      timeoutMs,
    );
  }

  /** Stops the agent (once). */
  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.close();
  }
}

/** A provider agent's config on the devnet (data backend, service json-stats), some fields replaced. */
export function agentConfig(devnet: Devnet, role: { agent: Account; operator: Account }, overrides: object): object {
  return {
    rpc: { urls: [devnet.url] },
    addressesFile: devnet.addressesFile,
    agent: {
      privateKey: role.agent.privateKey,
      operator: role.operator.address,
      stake: "2000",
      expectedDailyVolume: "10000",
    },
    store: { path: path.join(devnet.dir, `${role.agent.address}.db`) },
    services: [{ name: SERVICE, backend: "data", price: "1", capacity: 8, costPerUnit: "0.2" }],
    strategy: { kind: "fixed-price" },
    follower: { pollIntervalMs: 200 },
    tickMs: 300,
    ...overrides,
  };
}

/** Starts an agent in process: funded, registered by runAgent, with `strategy` instead of the configured one. */
export async function startAgent(
  devnet: Devnet,
  name: string,
  config: object,
  strategy?: AgentStrategy,
): Promise<InProcessAgent> {
  const agent = new InProcessAgent(name);
  const file = path.join(devnet.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  agent.running = await runAgent({
    configFile: file,
    env: {},
    logger: agent.logger,
    ...(strategy === undefined ? {} : { strategy }),
  });
  return agent;
}

/** Funds `client` and lets the marketplace take its escrow. */
export async function fundClient(devnet: Devnet, client: Account, units = 1000n): Promise<void> {
  await devnet.fund(client.address, units);
  const signer = await devnet.connection.ethers.getSigner(client.address);
  await (
    await devnet.protocol.token.connect(signer).approve(await devnet.protocol.marketplace.getAddress(), MaxUint256)
  ).wait();
}

export async function chainNow(devnet: Devnet): Promise<bigint> {
  return BigInt((await devnet.connection.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
}

export async function advance(devnet: Devnet, seconds: number): Promise<void> {
  await devnet.connection.provider.request({ method: "evm_increaseTime", params: [seconds] });
  await devnet.connection.provider.request({ method: "evm_mine", params: [] });
}

export async function marketAs(devnet: Devnet, who: Account) {
  return devnet.protocol.marketplace.connect(await devnet.connection.ethers.getSigner(who.address));
}

export interface Posted {
  workloadId: bigint;
  input: Json;
  blind: bigint;
}

/**
 * `client` posts a workload for `input` (bidding open 600 s) and hands the input to each of `agents`.
 */
export async function post(
  devnet: Devnet,
  agents: readonly InProcessAgent[],
  input: Json,
  options: { client?: Account; units?: bigint; maxPrice?: string } = {},
): Promise<Posted> {
  const blind = BigInt(`0x${randomBytes(31).toString("hex")}`);
  const now = await chainNow(devnet);
  const request = {
    serviceType: hashText(SERVICE),
    modelHash: ZeroHash,
    units: options.units ?? 2n,
    maxPricePerUnit: parseEther(options.maxPrice ?? "1.5"),
    bidDeadline: now + 600n,
    executionDeadline: now + 600n + 3600n,
    verification: 0,
    reopenOnTimeout: false,
    inputHash: valueHashHex(input, blind),
  };
  const market = await marketAs(devnet, options.client ?? ROLES.client);
  const workloadId = await market.postWorkload.staticCall(request);
  await (await market.postWorkload(request)).wait();
  for (const agent of agents) {
    const res = await fetch(`${agent.url}/v1/workloads/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        workloadId: String(workloadId),
        input,
        blind: `0x${blind.toString(16).padStart(62, "0")}`,
      }),
    });
    if (res.status !== 200) throw new Error(`${agent.name}: input of ${workloadId} refused: ${await res.text()}`);
  }
  return { workloadId, input, blind };
}
