/**
 * Shared by the daemons' tests (test/keepers/): a provider agent with its operator, a fixed Workflows domain, a
 * flower, an in-process chain for viem clients, and the provider node's model hash, log capture and step request
 * (signed and posted by keeper-chain.ts); for the end-to-end tests (test/e2e/), a keeper process's catalog seen
 * through its log.
 */
import { network } from "hardhat";
import { pino, type Logger } from "pino";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  parseUnits,
  type Address,
  type Hex,
  type TypedDataDomain,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { quantizeFeatures } from "../../circuits/lib/iris.js";
import { DATA_MODEL } from "../../keepers/provider/backends/data.js";
import type { Daemon, LogLine } from "../../scripts/lib/devnet.js";
import { serviceModelHash } from "../../keepers/provider/backends/index.js";
import type { StepRequest } from "../../protocol/steps.js";
import type { Json } from "../../protocol/values.js";
import { blindToHex } from "../../circuits/lib/field.js";
import { TEST_BLIND } from "./proofs.js";

// Hardhat's default accounts ("test test ... junk"): #4 operator, #5 agent, #6 agent2, #8 outsider (fixture roles).
export const OPERATOR = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
export const AGENT_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
export const AGENT2_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";
export const OUTSIDER_KEY = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";
export const account = privateKeyToAccount(AGENT_KEY);

/** A Workflows EIP-712 domain for servers that run without a chain. */
export const DOMAIN: TypedDataDomain = {
  name: "AITBC Workflows",
  version: "1",
  chainId: 31337,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

export const AITBC = 10n ** 18n;
export const SETOSA_CM = [5.1, 3.5, 1.4, 0.2];
export const setosa = (): Json => ({ kind: "iris-features", features: quantizeFeatures(SETOSA_CM).map(Number) });

// ---------------------------------------------------------------- an in-process chain for viem clients

/** Hardhat's account #0 (the deployer) and #1 (a recipient). */
export const DEV_KEY: Hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
export const RECIPIENT: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** Decides one JSON-RPC request: `forward()` performs the real call; return undefined to let it through. */
export type Intercept = (
  method: string,
  params: unknown[],
  forward: () => Promise<unknown>,
) => Promise<unknown> | undefined;

/**
 * A fresh in-process chain with BaselineERC20 deployed, and viem clients (wallet: DEV_KEY) over a transport whose
 * requests `intercept` may answer or alter. No retries: reverts come back at once (viem would retry the node's
 * "internal error" code).
 */
export async function tokenChain(intercept: Intercept = () => undefined) {
  const conn = await network.create();
  const rpc = (method: string, params: unknown[] = []): Promise<unknown> => conn.provider.request({ method, params });
  const chain = defineChain({
    id: Number(await rpc("eth_chainId")),
    name: "hardhat",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } },
  });
  const transport = custom(
    {
      request: ({ method, params }: { method: string; params?: unknown }) => {
        const args = (params ?? []) as unknown[];
        const forward = () => conn.provider.request({ method, params: args });
        return intercept(method, args, forward) ?? forward();
      },
    },
    { retryCount: 0 },
  );
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 20 });
  const walletClient = createWalletClient({ account: privateKeyToAccount(DEV_KEY), chain, transport });
  const deployed = await conn.ethers.deployContract("BaselineERC20");
  const token = (await deployed.getAddress()) as Address;
  return { conn, rpc, chain, transport, publicClient, walletClient, token };
}

// ---------------------------------------------------------------- the provider node's tests

/** The Iris backend's model hash (the weights' Poseidon commitment), as a provider lists it. */
export const IRIS = serviceModelHash({ backend: "iris", upstream: undefined });

export interface Captured {
  logger: Logger;
  lines: { msg?: string; event?: string }[];
}

/** A pino logger at info level whose lines are parsed into `lines`. */
export function captureLogger(): Captured {
  const lines: Captured["lines"] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as Captured["lines"][number]) },
  );
  return { logger, lines };
}

/**
 * A StepRequest for the Iris backend (execution 1, step 3, the setosa flower), some fields replaced. Execution 1 is
 * the one keeperChain() (keeper-chain.ts) leaves running, whose keeper signs the requests a test posts.
 */
export function stepRequest(overrides: Partial<StepRequest> = {}): StepRequest {
  return {
    executionId: "1",
    step: 3,
    stepType: "inference",
    model: serviceModelHash({ backend: "iris", upstream: undefined }),
    input: setosa(),
    blind: blindToHex(TEST_BLIND),
    maxCost: (10n * AITBC).toString(),
    timeoutMs: 30_000,
    ...overrides,
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A one-step basic workflow spec (a data step: the stats of `$in.values`), with the step's timeout and retries. */
export function oneStepWorkflow(timeout = 20, maxRetries = 1): Json {
  return {
    name: `one-step-${timeout}-${maxRetries}`,
    maxExecutionTime: "1h",
    maxBudget: "10",
    verification: "basic",
    steps: [
      {
        id: "stats",
        type: "data-processing",
        model: "aitbc.data.v1",
        input: { op: "stats", data: "$in.values" },
        timeout,
        maxRetries,
        retryBackoff: 1,
      },
    ],
  };
}

/**
 * Waits until the keeper process `keeper`'s catalog, as its latest "catalog refreshed" line shows, lists the data
 * service of the provider node `node` at its live endpoint and at `price` (AITBC). A started provider lists its
 * inference offer, then its data offer, in two transactions, and the keeper may refresh between them; a restarted
 * one listens on a new port: an earlier refresh may show the offer missing, the old price or the old endpoint.
 */
export async function keeperSeesOffer(
  keeper: Daemon,
  node: Daemon,
  price: string,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const { address, url } = (await node.ready()) as LogLine & { address: string; url: string };
  const wei = parseUnits(price, 18).toString();
  const refreshed = (l: LogLine) => l.msg === "catalog refreshed";
  await keeper.waitFor(
    (l) =>
      l === keeper.lines.findLast(refreshed) &&
      (l.offers as { provider: string; endpoint: string; model: string; price: string }[]).some(
        (o) =>
          o.provider.toLowerCase() === address.toLowerCase() &&
          o.endpoint === url &&
          o.model === DATA_MODEL &&
          o.price === wei,
      ),
    timeoutMs,
    what,
  );
}
