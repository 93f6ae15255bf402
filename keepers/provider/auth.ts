/**
 * Who may run a step on this node: the keeper of a running execution, and no one else. The registry publishes the
 * node's endpoint, so anyone can reach it; without this, anyone could spend its capacity and its upstream API key.
 *
 * A step request carries the keeper's EIP-712 StepRequest signature (protocol/eip712.ts) and the input hash it signed
 * in four headers (protocol/steps.ts). The checks, in order, all before a backend is touched or a capacity slot
 * taken, and 1-6 before the sealed input is opened (an outsider's request costs the node no X25519 operation):
 *  1. the credentials are there and well formed (401 `no-credentials`, `bad-credentials`), before the body is read;
 *  2. the expiry is in the future, at most `maxExpirySeconds` ahead (401 `expired`, `expiry-too-far`);
 *  3. (body read, schema checked) the signature is canonical and recovers over (executionId, step, the inputHash of
 *     the header, keccak256 of the body, nonce, expiry): the signer (401 `bad-signature`). When the execution's
 *     keeper is cached with its public key, the signature is first verified against that key (cheaper than a
 *     recovery); one that does not verify is recovered and checked as any other;
 *  4. the signer has not used this nonce before (401 `replayed`): a signed request runs at most once;
 *  5. on chain, the execution exists (403 `unknown-execution`), is Running (403 `not-running`) and its keeper (the
 *     agent `keeperId`, Workflows.getExecution -> AgentRegistry.agentAddress) is the signer (403 `not-keeper`);
 *  6. the keeper's token bucket has a token (429 `rate-limited` with Retry-After): one keeper cannot starve the
 *     others. Only requests that passed 1-5 reach a bucket, so no one else can drain a keeper's;
 *  7. (input opened by the server) the input hashes, under its blind, to the signed inputHash (`checkInput`: 400
 *     `bad-input` naming the input's field when it cannot be hashed, `bad-input-hash` when it hashes to another).
 *
 * Chain reads: a Running, Completed or Failed answer is reused for `chainCacheMs` (so a finished execution may be
 * served that long after it finished), an agent's address for good (it never changes); unknown and Pending answers
 * are read again each time (the execution may be requested and claimed a moment later). Concurrent reads of one
 * execution share one call; more than `maxLookups` reads in flight are refused 429 `auth-busy`, and a failed read is
 * a 503 `chain-unavailable`. Every map is bounded by `cacheSize` (oldest out first); the nonces of admitted requests
 * are kept until they expire, at most REPLAY_MEMORY of them (past that the oldest are forgotten: a replay of one
 * still needs its expiry ahead).
 */
import type { IncomingHttpHeaders } from "node:http";

import {
  BaseError,
  ContractFunctionRevertedError,
  type Address,
  type Hex,
  type PublicClient,
  type TypedDataDomain,
} from "viem";

import { registryAbi, workflowsAbi } from "../../protocol/abi.js";
import { digestSignedBy, digestSignerKey, stepRequestDigest, type StepRequestMessage } from "../../protocol/eip712.js";
import { EXECUTION_STATUSES, type ExecutionStatusName } from "../../protocol/enums.js";
import { recordInputHash, STEP_AUTH_HEADERS, STEP_AUTH_SCHEME, type ParsedStepRequest } from "../../protocol/steps.js";
import { shortMessage } from "../common/chain.js";
import { HttpError, errorMessage } from "../common/http.js";
import type { AuthConfig } from "./config.js";
import type { ProviderMetrics } from "./metrics.js";

/** The error codes of the refusals below (metrics label them by reason). */
export const AUTH_REFUSALS = [
  "no-credentials",
  "bad-credentials",
  "expired",
  "expiry-too-far",
  "bad-signature",
  "replayed",
  "unknown-execution",
  "not-running",
  "not-keeper",
  "rate-limited",
  "auth-busy",
  "chain-unavailable",
] as const;
export type AuthRefusal = (typeof AUTH_REFUSALS)[number];

/** Nonces of admitted requests remembered at most (each until its expiry). */
export const REPLAY_MEMORY = 100_000;

/** The credentials of one request, read from its headers. */
export interface StepCredentials {
  signature: Hex;
  expiry: bigint;
  nonce: Hex;
  /** The record's inputHash the keeper signed (checked against the opened input by `checkInput`). */
  inputHash: Hex;
}

export interface StepAuth {
  /** Reads the request's credentials and checks its expiry (steps 1-2): 401 before the body is read. */
  credentials(headers: IncomingHttpHeaders): StepCredentials;
  /**
   * Steps 3-6 for a schema-checked request (its input still sealed) and the keccak256 of its body: the keeper's
   * address, or the refusal thrown.
   */
  authorize(
    credentials: StepCredentials,
    request: Pick<ParsedStepRequest, "executionId" | "step">,
    bodyHash: Hex,
  ): Promise<Address>;
  /** Step 7, once the input is opened: it hashes to the signed inputHash, returned (400 otherwise, naming the field). */
  checkInput(credentials: StepCredentials, request: ParsedStepRequest): Hex;
}

export interface StepAuthOptions {
  client: PublicClient;
  contracts: { workflows: Address; registry: Address };
  /** The Workflows contract's EIP-712 domain. */
  domain: TypedDataDomain;
  config: AuthConfig;
  /** Counts the chain reads (the server's metrics: pass the same to both). */
  metrics?: Pick<ProviderMetrics, "chainReads">;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

const refuse = (status: number, code: AuthRefusal, message: string, field?: string): HttpError =>
  new HttpError(status, code, message, {
    ...(field ? { field } : {}),
    ...(status === 401 ? { headers: { "www-authenticate": STEP_AUTH_SCHEME } } : {}),
  });

interface ExecutionView {
  status: ExecutionStatusName;
  /** The keeper agent's address (Running, Completed and Failed executions have one). */
  keeper?: Address;
}

export function createStepAuth(options: StepAuthOptions): StepAuth {
  const { client, contracts, domain, config } = options;
  const now = options.now ?? Date.now;
  const executions = new BoundedMap<string, { view: ExecutionView; until: number }>(config.cacheSize);
  const keepers = new BoundedMap<bigint, Address>(config.cacheSize);
  // Keepers' public keys, by address (lower case), kept once the chain named the address an execution's keeper.
  const keeperKeys = new BoundedMap<string, Uint8Array>(config.cacheSize);
  const lookups = new Map<string, Promise<ExecutionView>>();
  const seen = new BoundedMap<string, number>(REPLAY_MEMORY);
  const buckets = new TokenBuckets(config.keeperRate, config.keeperBurst, config.cacheSize);

  const read = async (executionId: bigint): Promise<ExecutionView> => {
    let execution;
    try {
      options.metrics?.chainReads.inc({ function: "getExecution" });
      execution = await client.readContract({
        address: contracts.workflows,
        abi: workflowsAbi,
        functionName: "getExecution",
        args: [executionId],
      });
    } catch (error) {
      if (revertName(error) === "WorkflowsUnknownExecution") return { status: "none" };
      throw error;
    }
    const status = EXECUTION_STATUSES[execution.status] ?? "none";
    if (execution.keeperId === 0n) return { status };
    let keeper = keepers.get(execution.keeperId);
    if (keeper === undefined) {
      options.metrics?.chainReads.inc({ function: "agentAddress" });
      keeper = await client.readContract({
        address: contracts.registry,
        abi: registryAbi,
        functionName: "agentAddress",
        args: [execution.keeperId],
      });
      keepers.set(execution.keeperId, keeper);
    }
    return { status, keeper };
  };

  /** The execution as the chain says, from the cache when fresh; one read in flight per execution. */
  const execution = async (executionId: bigint): Promise<ExecutionView> => {
    const key = executionId.toString();
    const cached = executions.get(key);
    if (cached !== undefined && cached.until > now()) return cached.view;
    const pending = lookups.get(key);
    if (pending !== undefined) return pending;
    if (lookups.size >= config.maxLookups)
      throw new HttpError(429, "auth-busy", `${lookups.size} chain reads in flight: try again shortly`, {
        headers: { "retry-after": "1" },
      });
    const lookup = read(executionId)
      .then((view) => {
        if (view.status !== "none" && view.status !== "pending")
          executions.set(key, { view, until: now() + config.chainCacheMs });
        return view;
      })
      .catch((error: unknown) => {
        throw new HttpError(
          503,
          "chain-unavailable",
          `cannot read execution ${key} from the chain (${shortMessage(error)})`,
        );
      })
      .finally(() => lookups.delete(key));
    lookups.set(key, lookup);
    return lookup;
  };

  return {
    credentials(headers) {
      const authorization = header(headers, STEP_AUTH_HEADERS.signature);
      const scheme = new RegExp(`^${STEP_AUTH_SCHEME}\\s+(\\S+)$`, "i").exec(authorization ?? "");
      if (scheme === null)
        throw refuse(
          401,
          "no-credentials",
          `authorization: a step request must be signed by the execution's keeper (Authorization: ${STEP_AUTH_SCHEME} <signature>)`,
          "authorization",
        );
      const signature = scheme[1] ?? "";
      if (!/^0x[0-9a-fA-F]{130}$/.test(signature))
        throw refuse(401, "bad-credentials", "authorization: the signature must be 65 bytes of hex", "authorization");
      const expiryText = header(headers, STEP_AUTH_HEADERS.expiry) ?? "";
      if (!/^\d{1,20}$/.test(expiryText) || BigInt(expiryText) >= 2n ** 64n)
        throw refuse(
          401,
          "bad-credentials",
          `${STEP_AUTH_HEADERS.expiry}: must be unix seconds`,
          STEP_AUTH_HEADERS.expiry,
        );
      const nonce = header(headers, STEP_AUTH_HEADERS.nonce) ?? "";
      if (!/^0x[0-9a-fA-F]{64}$/.test(nonce))
        throw refuse(
          401,
          "bad-credentials",
          `${STEP_AUTH_HEADERS.nonce}: must be 32 bytes of hex`,
          STEP_AUTH_HEADERS.nonce,
        );
      const inputHash = header(headers, STEP_AUTH_HEADERS.inputHash) ?? "";
      if (!/^0x[0-9a-fA-F]{64}$/.test(inputHash))
        throw refuse(
          401,
          "bad-credentials",
          `${STEP_AUTH_HEADERS.inputHash}: must be the signed inputHash, 32 bytes of hex`,
          STEP_AUTH_HEADERS.inputHash,
        );
      const expiry = BigInt(expiryText);
      const seconds = BigInt(Math.floor(now() / 1000));
      if (expiry <= seconds)
        throw refuse(
          401,
          "expired",
          `${STEP_AUTH_HEADERS.expiry}: expired ${seconds - expiry} s ago`,
          STEP_AUTH_HEADERS.expiry,
        );
      if (expiry > seconds + BigInt(config.maxExpirySeconds))
        throw refuse(
          401,
          "expiry-too-far",
          `${STEP_AUTH_HEADERS.expiry}: ${expiry - seconds} s ahead, more than the ${config.maxExpirySeconds} s this node accepts`,
          STEP_AUTH_HEADERS.expiry,
        );
      return {
        signature: signature as Hex,
        expiry,
        nonce: nonce.toLowerCase() as Hex,
        inputHash: inputHash.toLowerCase() as Hex,
      };
    },

    async authorize(credentials, request, bodyHash) {
      const message: StepRequestMessage = {
        executionId: BigInt(request.executionId),
        step: request.step,
        inputHash: credentials.inputHash,
        bodyHash,
        nonce: credentials.nonce,
        expiry: credentials.expiry,
      };
      // The signer: verified against the keeper's known public key when the execution's keeper is cached with it
      // (every step of an execution but its first), else recovered (libsecp256k1 either way). A signature that does
      // not verify against the keeper's key is recovered, so it is refused as before (bad-signature, not-keeper).
      let signer: Address | undefined;
      let publicKey: Uint8Array | undefined;
      try {
        const digest = stepRequestDigest(domain, message);
        const cached = executions.get(message.executionId.toString());
        const keeper = cached !== undefined && cached.until > now() ? cached.view.keeper : undefined;
        const known = keeper === undefined ? undefined : keeperKeys.get(keeper.toLowerCase());
        if (keeper !== undefined && known !== undefined && digestSignedBy(digest, credentials.signature, known))
          signer = keeper;
        else ({ address: signer, publicKey } = digestSignerKey(digest, credentials.signature) ?? {});
      } catch {
        signer = undefined; // a message field out of its type's range
      }
      if (signer === undefined)
        throw refuse(
          401,
          "bad-signature",
          "authorization: not a canonical signature (65 bytes, v 27 or 28, low s) of this request",
          "authorization",
        );
      const replayKey = `${signer.toLowerCase()}:${credentials.nonce}`;
      const replayed = () =>
        refuse(
          401,
          "replayed",
          `${STEP_AUTH_HEADERS.nonce}: this signed request was already admitted`,
          STEP_AUTH_HEADERS.nonce,
        );
      if (seen.has(replayKey)) throw replayed();

      const id = request.executionId;
      const view = await execution(message.executionId);
      if (view.status === "none")
        throw refuse(403, "unknown-execution", `executionId: no execution ${id} on chain`, "executionId");
      if (view.status !== "running")
        throw refuse(403, "not-running", `executionId: execution ${id} is ${view.status}, not running`, "executionId");
      if (view.keeper?.toLowerCase() !== signer.toLowerCase())
        throw refuse(
          403,
          "not-keeper",
          `authorization: signed by ${signer}, not by execution ${id}'s keeper ${view.keeper ?? "(none)"}`,
          "authorization",
        );

      if (publicKey !== undefined) keeperKeys.set(signer.toLowerCase(), publicKey);

      // Checked again with no await before the set: a replay sent alongside its original is admitted only once.
      if (seen.has(replayKey)) throw replayed();
      seen.set(replayKey, Number(credentials.expiry) * 1000);
      seen.prune((expiresAt) => expiresAt <= now());
      const wait = buckets.take(signer.toLowerCase(), now());
      if (wait > 0)
        throw new HttpError(
          429,
          "rate-limited",
          `keeper ${signer} is over ${config.keeperRate} requests/s (burst ${config.keeperBurst})`,
          { headers: { "retry-after": String(Math.ceil(wait)) } },
        );
      return signer;
    },

    checkInput(credentials, request) {
      let inputHash: Hex;
      try {
        inputHash = recordInputHash(request);
      } catch (error) {
        throw badInput(error);
      }
      if (inputHash !== credentials.inputHash)
        throw new HttpError(
          400,
          "bad-input-hash",
          `${STEP_AUTH_HEADERS.inputHash}: the keeper signed inputHash ${credentials.inputHash}, the opened input hashes to ${inputHash}`,
          { field: STEP_AUTH_HEADERS.inputHash },
        );
      return inputHash;
    },
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * An input that breaks its typed value's rules. The hashing code names the field at fault first (`input.features:`
 * from protocol/values.ts, `features[0]:` from circuits/lib/iris.ts): the answer names it from the input down.
 */
function badInput(error: unknown): HttpError {
  const message = errorMessage(error);
  const named = /^([A-Za-z_][\w.[\]]*): (.*)$/s.exec(message);
  if (named === null) return new HttpError(400, "bad-input", `input: ${message}`, { field: "input" });
  const [, path = "", rest = ""] = named;
  const field = path === "input" || path.startsWith("input.") ? path : `input.${path}`;
  return new HttpError(400, "bad-input", `${field}: ${rest}`, { field });
}

/** The custom error a failed call reverted with, if it did. */
function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

/** A Map that forgets its oldest entry past `max` entries (a set refreshes an entry's age). */
class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly max: number) {}

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  /** Drops the oldest entries while `stale` holds for them. */
  prune(stale: (value: V) => boolean): void {
    for (const [key, value] of this.#map) {
      if (!stale(value)) return;
      this.#map.delete(key);
    }
  }
}

/** One token bucket per key: `rate` tokens a second up to `burst`; at most `max` keys (least recently used out first). */
class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly max: number,
  ) {}

  /** Takes a token for `key` at `nowMs`: 0, or the seconds until one is there (nothing taken). */
  take(key: string, nowMs: number): number {
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * this.rate);
    bucket.at = nowMs;
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.max) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
    if (bucket.tokens < 1) return (1 - bucket.tokens) / this.rate;
    bucket.tokens -= 1;
    return 0;
  }
}
