/**
 * viem clients for the daemons: one transport over several RPC URLs (HTTP and WebSocket) with fallback, the
 * chain id read from the node, and the protocol's addresses for that chain (protocol/addresses.ts).
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  fallback,
  http,
  webSocket,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

import { readAddresses, type Addresses } from "../../protocol/addresses.js";

export interface ChainOptions {
  /** JSON-RPC URLs, tried in order (http(s):// or ws(s)://). */
  urls: readonly string[];
  /** How often to poll for blocks and receipts (ms). */
  pollingInterval?: number;
  /** Per-request timeout (ms). */
  timeout?: number;
  /** AITBC_ADDRESSES-style file; default: Ignition's record for the chain. */
  addressesFile?: string;
}

export interface Chain_ {
  chain: Chain;
  transport: Transport;
  publicClient: PublicClient<Transport, Chain>;
  addresses: Addresses;
}

export type { Chain_ as ChainContext };

export function transportOf(urls: readonly string[], timeout = 10_000): Transport {
  if (urls.length === 0) throw new Error("rpc.urls: at least one URL");
  const transports = urls.map((url) =>
    url.startsWith("ws") ? webSocket(url, { timeout, retryCount: 2 }) : http(url, { timeout, retryCount: 2 }),
  );
  return transports.length === 1 && transports[0] ? transports[0] : fallback(transports, { retryCount: 2 });
}

/** Connects: reads the chain id, then the deployment's addresses for it. */
export async function connectChain(options: ChainOptions): Promise<Chain_> {
  const transport = transportOf(options.urls, options.timeout);
  const probe = createPublicClient({ transport });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (error) {
    throw new Error(`rpc.urls: no node answers at ${options.urls.join(", ")} (${shortMessage(error)})`);
  }
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: options.urls.filter((u) => u.startsWith("http")) } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: options.pollingInterval ?? 500 });
  return { chain, transport, publicClient, addresses: readAddresses(chainId, options.addressesFile) };
}

export function walletFor(ctx: Chain_, account: Account): WalletClient<Transport, Chain, Account> {
  return createWalletClient({ chain: ctx.chain, transport: ctx.transport, account });
}

/** viem errors carry a one-line `shortMessage`; anything else its message's first line. */
export function shortMessage(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const e = error as { shortMessage?: unknown; message?: unknown };
    if (typeof e.shortMessage === "string") return e.shortMessage;
    if (typeof e.message === "string") return e.message.split("\n")[0] ?? e.message;
  }
  return String(error);
}
