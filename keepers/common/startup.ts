/**
 * A daemon's pre-flight: what is checked before it sends any transaction, each failure a StartupError (a
 * ConfigError: one line naming the config field or the fix, exit code 2, no stack trace):
 * - the chain: the RPC answers (retried with backoff, bounded and logged, when it is down at start), its chain id is
 *   `rpc.chainId` when that is set, every protocol contract has code at the configured address;
 * - the data directory: state lives outside the repository by default (`dataDirOf`);
 * - the HTTP port is free (before registering an endpoint or sending anything);
 * - the database opens, has this code's schema and belongs to this chain (a stale one from a reset chain or another
 *   network is refused, not mixed in);
 * - the agent holds gas (native currency) for its transactions.
 * Funds for stake and the stake bounds are checked by common/registration.ts (`checkAgentPlan`) before it registers.
 */
import { createServer } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { formatEther, type Hex } from "viem";

import { addressesFile, FUTURE_IDS, type ContractKey } from "../../protocol/addresses.js";
import { connectChain, shortMessage, type ChainContext, type ChainOptions } from "./chain.js";
import { ConfigError } from "./config.js";
import type { Logger } from "./log.js";
import { Store } from "./store.js";
import { databaseLabel } from "./store-sql.js";

/** A start-up check failed: the operator has to fix something (the message says what). */
export class StartupError extends ConfigError {
  override name = "StartupError";
}

/**
 * Where a daemon keeps its state: `configured` (config `dataDir`) when set, else
 * `$XDG_DATA_HOME/aitbc/<daemon>/chain-<id>` (default `~/.local/share/aitbc/<daemon>/chain-<id>`): never the
 * repository or the working directory, and one directory per chain so that two networks never share a database.
 */
export function dataDirOf(
  daemon: "keeper" | "provider",
  chainId: number,
  configured: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  if (configured !== undefined) return path.resolve(configured);
  const base = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : undefined;
  return path.join(base ?? path.join(homedir(), ".local", "share"), "aitbc", daemon, `chain-${chainId}`);
}

export interface ConnectRetry {
  /** Attempts before giving up (default 6). */
  attempts?: number;
  /** Wait before the second attempt (ms, default 500), doubled after each failure. */
  backoffMs?: number;
}

/**
 * Connects (common/chain.ts) and runs the chain checks of the file header. An RPC that does not answer is retried
 * `attempts` times with a doubling wait, each failure logged; then a StartupError names rpc.urls.
 */
export async function connectChecked(
  options: ChainOptions & { chainId?: number | undefined; retry?: ConnectRetry; logger: Logger },
): Promise<ChainContext> {
  const { logger, retry = {}, chainId: expected, ...chainOptions } = options;
  const attempts = retry.attempts ?? 6;
  let wait = retry.backoffMs ?? 500;
  let chain: ChainContext | undefined;
  for (let attempt = 1; chain === undefined; attempt++) {
    try {
      chain = await connectChain(chainOptions);
    } catch (error) {
      const message = shortMessage(error);
      // No node answering is worth waiting for; anything else (no deployment for the chain) is not.
      if (!message.startsWith("rpc.urls:")) throw new StartupError(`addressesFile: ${message}`);
      if (attempt >= attempts)
        throw new StartupError(`${message}; gave up after ${attempts} attempts: start the node or fix rpc.urls`);
      logger.warn({ event: "rpc-retry", attempt, attempts, waitMs: wait, err: message }, "RPC not answering; retrying");
      await sleep(wait);
      wait *= 2;
    }
  }
  if (expected !== undefined && chain.chain.id !== expected)
    throw new StartupError(
      `rpc.chainId: the node at ${chainOptions.urls.join(", ")} is chain ${chain.chain.id}, not ${expected}: ` +
        "point rpc.urls at the right network or fix rpc.chainId",
    );
  await checkContracts(chain, addressesFile(chain.chain.id, chainOptions.addressesFile));
  return chain;
}

/** Every protocol contract has code at its configured address (a reset chain or a wrong addresses file has none). */
async function checkContracts(chain: ChainContext, file: string): Promise<void> {
  const keys = Object.keys(FUTURE_IDS) as ContractKey[];
  const codes = await Promise.all(keys.map((k) => chain.publicClient.getCode({ address: chain.addresses[k] })));
  const missing = keys.filter((_k, i) => codes[i] === undefined || codes[i] === "0x");
  if (missing.length > 0) {
    const list = missing.map((k) => `${k} at ${chain.addresses[k]}`).join(", ");
    throw new StartupError(
      `addressesFile: no contract code on chain ${chain.chain.id} for ${list} (from ${file}): the chain was reset ` +
        "or the file is for another deployment; deploy again or fix addressesFile",
    );
  }
}

/** The port is free on `host` (port 0 always is); `field` names it in the error. */
export async function checkPortFree(host: string, port: number, field: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          `${field}: cannot listen on ${host}:${port} (${error.code ?? error.message}): ` +
            "stop what listens there or choose another port",
        ),
      );
    });
    server.listen(port, host, () => {
      server.close(() => {
        resolve();
      });
    });
  });
}

/** The identity of a chain a database belongs to: its id, its genesis block and the Workflows contract. */
interface ChainIdentity {
  chainId: number;
  genesis: Hex;
  workflows: Hex;
}

const CHAIN_FLAG = "chain";

/**
 * Opens the daemon's database at `file`, checking that it belongs to this chain: a database first opened on
 * another chain (another id, another genesis block: a reset local chain, or another deployment) is refused with
 * the fix. A new database is stamped with the chain.
 */
export async function openDatabase(location: string, chain: ChainContext, field = "database.path"): Promise<Store> {
  const file = databaseLabel(location); // a URL's password is not shown
  let store: Store;
  try {
    store = new Store(location);
  } catch (error) {
    throw new StartupError(`${field}: cannot open ${file} as a database (${shortMessage(error)})`);
  }
  const genesis = await chain.publicClient.getBlock({ blockNumber: 0n });
  const here: ChainIdentity = {
    chainId: chain.chain.id,
    genesis: genesis.hash,
    workflows: chain.addresses.workflows,
  };
  const raw = store.flag(CHAIN_FLAG);
  if (raw === undefined) {
    store.setFlag(CHAIN_FLAG, JSON.stringify(here));
    return store;
  }
  let there: Partial<ChainIdentity> = {};
  try {
    there = JSON.parse(raw) as Partial<ChainIdentity>;
  } catch {
    // unreadable: reported as another chain below
  }
  const same =
    there.chainId === here.chainId &&
    there.genesis?.toLowerCase() === here.genesis.toLowerCase() &&
    there.workflows?.toLowerCase() === here.workflows.toLowerCase();
  if (!same) {
    store.close();
    throw new StartupError(
      `${field}: ${file} is stale: it holds the state of chain ${String(there.chainId)} (genesis ` +
        `${String(there.genesis)}, Workflows ${String(there.workflows)}), not of this chain ${here.chainId} ` +
        `(genesis ${here.genesis}, Workflows ${here.workflows}); move it away, or set ${field} (or dataDir) elsewhere`,
    );
  }
  return store;
}

/** The agent holds enough native currency for `gas` units at the node's current gas price. */
export async function checkGasFunds(chain: ChainContext, address: Hex, gas: bigint, field: string): Promise<void> {
  const [balance, price] = await Promise.all([
    chain.publicClient.getBalance({ address }),
    chain.publicClient.getGasPrice(),
  ]);
  const need = gas * price;
  if (balance < need)
    throw new StartupError(
      `${field}: the agent ${address} holds ${formatEther(balance)} of the chain's native currency for gas, below ` +
        `${formatEther(need)} (${gas} gas at ${price} wei): fund it first`,
    );
}
