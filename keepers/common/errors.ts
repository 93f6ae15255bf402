/**
 * Two kinds of failure, decided once for every daemon part:
 *
 * - retryable: the same action may succeed later, unchanged (the node timed out or refused the connection, a rate
 *   limit, a 5xx, a receipt or block not there yet, a provider that failed one attempt, a safety refusal that lifts
 *   when the humans resume);
 * - definitive: trying again gives the same answer (a contract revert, a node refusing the transaction for good,
 *   bad input, a bad signature, a bad configuration), or the error is not understood: an unknown error is never
 *   taken for passing trouble.
 *
 * The daemons' own errors say which they are (`AitbcError.retryable`); `classify` decides for anything else by
 * walking the error and its causes (viem wraps the node's answer several layers deep) through these rules, in order:
 *
 *   1. an AitbcError anywhere in the chain (the outermost) decides;
 *   2. the node's own words refuse a transaction for good (insufficient funds, intrinsic gas, underpriced, ...):
 *      definitive;
 *   3. a contract revert (viem ContractFunctionRevertedError, ExecutionRevertedError, RawContractError,
 *      ContractFunctionZeroDataError): definitive;
 *   4. transport (the outermost match decides): an HTTP answer with status 408, 429 or 5xx, or none at all
 *      (connection refused, reset, DNS trouble, a timeout: viem's HttpRequestError, TimeoutError,
 *      WebSocketRequestError, SocketClosedError, LimitExceededRpcError, the Node error codes below, a
 *      DOMException TimeoutError), or something not there yet (receipt, transaction, block): retryable; any other
 *      HTTP status: definitive;
 *   5. a JSON-RPC error: unknown (-1), resource unavailable (-32002), limit exceeded (-32005), internal (-32603)
 *      and the rate-limit codes 429 and -32007 are retryable; any other code is the node's definitive answer;
 *   6. anything else is not understood: definitive (or what the caller says with `unrecognised`).
 */
import {
  BaseError,
  BlockNotFoundError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  ExecutionRevertedError,
  HttpRequestError,
  LimitExceededRpcError,
  RawContractError,
  RpcError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
  WebSocketRequestError,
} from "viem";

export type ErrorKind = "retryable" | "definitive";

/** The rule of the file header that decided: what `explain` reports besides the kind. */
export type ErrorRule = "aitbc" | "node-refusal" | "revert" | "transport" | "http-status" | "rpc-code" | "unrecognised";

/** Base of the daemons' own errors: each says whether trying the same action again may succeed. */
export abstract class AitbcError extends Error {
  abstract get retryable(): boolean;
}

/** The same action may succeed later. */
export class RetryableError extends AitbcError {
  override name = "RetryableError";
  get retryable(): boolean {
    return true;
  }
}

/** Trying again gives the same answer: a human (or another input) has to change something first. */
export class DefinitiveError extends AitbcError {
  override name = "DefinitiveError";
  get retryable(): boolean {
    return false;
  }
}

/** Retryable or definitive, by the rules of the file header. */
export function classify(error: unknown, options: { unrecognised?: ErrorKind } = {}): ErrorKind {
  return explain(error, options).kind;
}

export function isRetryable(error: unknown): boolean {
  return classify(error) === "retryable";
}

/** The kind and the rule that decided it. `unrecognised` is the kind of what no rule matches (default definitive). */
export function explain(
  error: unknown,
  options: { unrecognised?: ErrorKind } = {},
): { kind: ErrorKind; rule: ErrorRule } {
  const chain = causes(error);
  const own = chain.find((e) => e instanceof AitbcError);
  if (own) return { kind: own.retryable ? "retryable" : "definitive", rule: "aitbc" };
  if (NODE_REFUSAL.test(nodeMessage(error))) return { kind: "definitive", rule: "node-refusal" };
  if (chain.some(isRevert)) return { kind: "definitive", rule: "revert" };
  for (const e of chain) {
    if (e instanceof HttpRequestError && e.status !== undefined && !RETRYABLE_STATUS(e.status))
      return { kind: "definitive", rule: "http-status" };
    if (e instanceof HttpRequestError || isTransport(e)) return { kind: "retryable", rule: "transport" };
  }
  const rpc = chain.find((e): e is RpcError<number> => e instanceof RpcError);
  if (rpc) return { kind: RETRYABLE_CODES.has(rpc.code) ? "retryable" : "definitive", rule: "rpc-code" };
  if (chain.some((e) => e instanceof RpcRequestError && RATE_LIMIT_CODES.has(e.code)))
    return { kind: "retryable", rule: "rpc-code" };
  return { kind: options.unrecognised ?? "definitive", rule: "unrecognised" };
}

/** The node's own words (viem's `details`, wherever in the chain), else the error's one-line message. */
export function nodeMessage(error: unknown): string {
  for (const e of causes(error)) {
    const details = (e as { details?: unknown }).details;
    if (typeof details === "string" && details.length > 0) return details;
  }
  if (typeof error === "object" && error !== null) {
    const e = error as { shortMessage?: unknown; message?: unknown };
    if (typeof e.shortMessage === "string") return e.shortMessage;
    if (typeof e.message === "string") return e.message.split("\n")[0] ?? e.message;
  }
  return String(error);
}

// ---------------------------------------------------------------- the rules' tables

/** How nodes word a transaction they will never accept (they differ in codes, not in words). */
const NODE_REFUSAL =
  /insufficient funds|enough funds|intrinsic gas|gas limit|underpriced|fee cap|max fee per gas|base fee|nonce too high|invalid sender|invalid signature|chain ?id|transaction type|not supported|oversized/i;
/** JSON-RPC codes that say nothing about the request: unknown (-1), unavailable, limit exceeded, internal. */
const RETRYABLE_CODES = new Set<number>([-1, -32002, -32005, -32603, 429, -32007]);
/** Rate limits some providers answer inside a JSON-RPC error (Alchemy's 429, QuickNode's -32007). */
const RATE_LIMIT_CODES = new Set<number>([429, -32007]);
const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;
/** Node's (and undici's) codes for a connection that failed or timed out. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

function isRevert(e: unknown): boolean {
  return (
    e instanceof ContractFunctionRevertedError ||
    e instanceof ExecutionRevertedError ||
    e instanceof RawContractError ||
    e instanceof ContractFunctionZeroDataError
  );
}

function isTransport(e: unknown): boolean {
  if (
    e instanceof TimeoutError ||
    e instanceof WebSocketRequestError ||
    e instanceof SocketClosedError ||
    e instanceof LimitExceededRpcError ||
    e instanceof WaitForTransactionReceiptTimeoutError ||
    e instanceof TransactionReceiptNotFoundError ||
    e instanceof TransactionNotFoundError ||
    e instanceof BlockNotFoundError
  )
    return true;
  if (e instanceof BaseError || !(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return (typeof code === "string" && NETWORK_CODES.has(code)) || e.name === "TimeoutError";
}

/** The error and its causes, outermost first (an AggregateError's errors follow it); cycles are cut. */
function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 32) {
    const e = queue.shift();
    if (typeof e !== "object" || e === null || out.includes(e)) continue;
    out.push(e);
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]));
    const cause = (e as { cause?: unknown }).cause;
    if (cause !== undefined) queue.push(cause);
  }
  return out;
}
