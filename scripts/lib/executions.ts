/**
 * The client's side of a workflow execution: a KeeperClient that signs what it sends to a keeper (protocol/keeper-api.ts:
 * the inputs, content-addressed, whose hash goes on chain as the request's inputsHash; grants; signed reads), then
 * following the execution live, from the chain (steps recorded, status) and, when the keeper lets the signer read
 * it, from the keeper (steps done off chain: at the full and zk levels nothing is recorded until the transcript is
 * proven).
 *
 * Payloads are sealed (protocol/sealed.ts): the inputs go with the execution's secret blind, `{ inputs, blind }`,
 * sealed to the keeper's encryption key as published on chain (`keeperEncryptionKey`), and every read names this
 * client's X25519 key (derived from the wallet's signature of CLIENT_KEY_MESSAGE, so the same wallet always has the
 * same key) for the keeper to seal the result and the blind to; the client opens them here. The blind never travels
 * in clear.
 */
import { readFileSync } from "node:fs";

import { getBytes, type Signer, type TypedDataDomain } from "ethers";

import type { AgentRegistry, Workflows } from "../../typechain-types/index.js";
import {
  domainOf,
  signExecutionInputs,
  signKeeperRequest,
  signResultsGrant,
  signResultsRevoke,
  type Eip712Contract,
} from "./eip712.js";
import { aitbc } from "./format.js";
import { EXECUTION_STATUSES } from "../../protocol/enums.js";
import {
  authorizationHeader,
  sealedResultSchema,
  unixNow,
  type GrantPost,
  type RevokePost,
  type InputsPost,
  type SealedInputs,
} from "../../protocol/keeper-api.js";
import {
  CLIENT_KEY_MESSAGE,
  encryptionKeysFrom,
  open,
  resultSubject,
  seal,
  sealContext,
  sealedSchema,
  type EncryptionKeys,
  type SealPurpose,
} from "../../protocol/sealed.js";
import { blindToHex, randomBlind } from "../../circuits/lib/field.js";
import { parseBlind, valueHashHex, type Json } from "../../protocol/values.js";

/** An answer of the keeper's API that is not a success: its status, and the error body's code, message and field. */
export class KeeperApiError extends Error {
  override name = "KeeperApiError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** One execution as its keeper shows it to a reader (`GET /v1/executions?id=N`). */
export interface KeeperExecution {
  executionId: string;
  workflowId: string;
  state: string;
  reason: string | null;
  steps: { step: number; state: string; provider: string | null; attempts: number; providerMillis: number }[];
  /** The result, opened from what the keeper sealed to this reader (null before it is done). */
  result: Json;
  /** The execution's blind (0x and 62 hex digits, opened with the result; null before it is done): the result's hash
   * is taken under it. */
  blind: string | null;
}

/**
 * A client of one keeper's API (protocol/keeper-api.ts), signing as `signer`: the execution's client, a reader it
 * granted, or the keeper's operator. A signed request header is reused for its route while it has more than 15 s of
 * its minute left, so a client polling every 200 ms costs the keeper one signature recovery a minute (the keeper
 * remembers verified headers).
 */
export class KeeperClient {
  static readonly REQUEST_TTL_SECONDS = 60;
  readonly url: string;
  readonly #headers = new Map<string, { value: string; expiry: number }>();
  #keys: Promise<EncryptionKeys> | undefined;

  constructor(
    url: string,
    readonly signer: Signer,
    readonly domain: TypedDataDomain,
  ) {
    this.url = url.replace(/\/+$/, "");
  }

  /** A client whose signatures are under `workflows`' EIP-712 domain (read from the chain). */
  static async connect(url: string, signer: Signer, workflows: Eip712Contract): Promise<KeeperClient> {
    return new KeeperClient(url, signer, await domainOf(workflows));
  }

  async address(): Promise<`0x${string}`> {
    return (await this.signer.getAddress()) as `0x${string}`;
  }

  /** This client's encryption keys (derived from the wallet's signature of CLIENT_KEY_MESSAGE). */
  async encryptionKeys(): Promise<EncryptionKeys> {
    this.#keys ??= (async () => encryptionKeysFrom(getBytes(await this.signer.signMessage(CLIENT_KEY_MESSAGE))))();
    return this.#keys;
  }

  /** A sealing context under this client's Workflows domain. */
  context(purpose: SealPurpose, subject: string) {
    const { chainId, verifyingContract } = this.domain;
    return sealContext(
      { chainId: Number(chainId), verifyingContract: verifyingContract as `0x${string}` },
      purpose,
      subject,
    );
  }

  /**
   * Posts `inputs` with the execution's secret blind (fresh random bytes unless given, protocol/values.ts), the two
   * sealed to `keeperKey` (the keeper's published encryption key, `keeperEncryptionKey`) as `{ inputs, blind }`, and
   * signed by this client (ExecutionInputs, valid for `ttlSeconds`); returns their hash under the blind, the
   * execution's inputsHash.
   */
  async postInputs(
    inputs: unknown,
    keeperKey: `0x${string}`,
    ttlSeconds = 3600,
    blind = randomBlind(),
  ): Promise<`0x${string}`> {
    const inputsHash = valueHashHex(inputs as Json, blind).toLowerCase() as `0x${string}`;
    const expiry = unixNow() + ttlSeconds;
    const sealedInputs: SealedInputs = { inputs, blind: blindToHex(blind) };
    const body: InputsPost = {
      sealed: await seal(keeperKey, sealedInputs, this.context("inputs", inputsHash)),
      inputsHash,
      client: await this.address(),
      expiry,
      signature: await signExecutionInputs(this.signer, this.domain, inputsHash, expiry),
    };
    const answer = (await this.request("POST", "/v1/inputs", { body, signed: false })) as { inputsHash: string };
    if (answer.inputsHash.toLowerCase() !== inputsHash.toLowerCase())
      throw new Error(`keeper answered inputsHash ${answer.inputsHash}, expected ${inputsHash}`);
    return inputsHash;
  }

  /**
   * Lets `reader` read execution `executionId`'s results until `expiry` (unix seconds), unless revoked; this signer
   * is its client. Returns the grant's `issuedAt` (unix ms, now).
   */
  async grant(executionId: bigint, reader: `0x${string}`, expiry: number): Promise<number> {
    const issuedAt = Date.now();
    const body: GrantPost = {
      executionId: executionId.toString(),
      reader,
      expiry,
      issuedAt,
      signature: await signResultsGrant(this.signer, this.domain, executionId, reader, expiry, issuedAt),
    };
    await this.request("POST", "/v1/grants", { body, signed: false });
    return issuedAt;
  }

  /**
   * Revokes `reader`'s grants for execution `executionId` issued until now: the keeper refuses the reader at once.
   * This signer is its client. Returns the revocation's `issuedAt` (unix ms).
   */
  async revoke(executionId: bigint, reader: `0x${string}`): Promise<number> {
    const issuedAt = Date.now();
    const body: RevokePost = {
      executionId: executionId.toString(),
      reader,
      issuedAt,
      signature: await signResultsRevoke(this.signer, this.domain, executionId, reader, issuedAt),
    };
    await this.request("POST", "/v1/revocations", { body, signed: false });
    return issuedAt;
  }

  /**
   * The execution as the keeper shows it to this signer: state, steps, and the result with the execution's blind
   * (`{ result, blind }` sealed to it, opened here).
   */
  async execution(executionId: bigint): Promise<KeeperExecution> {
    const keys = await this.encryptionKeys();
    const view = (await this.request("GET", `/v1/executions?id=${executionId}&key=${keys.publicKey}`)) as Omit<
      KeeperExecution,
      "result" | "blind"
    > & { sealedResult: unknown };
    const { sealedResult, ...rest } = view;
    if (sealedResult === null || sealedResult === undefined) return { ...rest, result: null, blind: null };
    const opened = sealedResultSchema.parse(
      await open(
        keys,
        sealedSchema.parse(sealedResult),
        this.context("result", resultSubject(executionId, await this.address())),
      ),
    );
    return { ...rest, result: opened.result as Json, blind: opened.blind };
  }

  /** The keeper's slash reports (its operator only). */
  async reports(): Promise<{ provider: string; executionId: string; step: number; reason: string }[]> {
    return ((await this.request("GET", "/v1/reports")) as { reports: [] }).reports;
  }

  /** Takes the keeper out of safe mode (its operator only); false when it was not in it. */
  async clearSafeMode(): Promise<boolean> {
    return ((await this.request("POST", "/v1/safe-mode/clear")) as { cleared: boolean }).cleared;
  }

  /** The Authorization header of a signed request: a fresh one when `expiry` is given, else the route's current one. */
  async authorization(method: string, path: string, expiry?: number): Promise<string> {
    const key = `${method.toUpperCase()} ${path}`;
    const now = unixNow();
    const cached = this.#headers.get(key);
    if (expiry === undefined && cached && cached.expiry - now > 15) return cached.value;
    const until = expiry ?? now + KeeperClient.REQUEST_TTL_SECONDS;
    const signature = await signKeeperRequest(this.signer, this.domain, method, path, until);
    const value = authorizationHeader({ signer: await this.address(), expiry: until, signature });
    if (expiry === undefined) this.#headers.set(key, { value, expiry: until });
    return value;
  }

  /**
   * Sends a request (signed unless `signed` is false; `authorization` replaces the header) and returns the answer's
   * JSON body; a non-2xx answer throws KeeperApiError with the keeper's message.
   */
  async request(
    method: string,
    path: string,
    options: { body?: unknown; signed?: boolean; authorization?: string } = {},
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    else if (options.signed !== false) headers.authorization = await this.authorization(method, path);
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (error) {
      throw new Error(`keeperUrl: cannot reach ${this.url} (${(error as Error).message})`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (!response.ok) {
      const e = (body as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
      throw new KeeperApiError(
        response.status,
        e?.code ?? "http",
        `keeper ${method} ${path}: ${response.status} ${e?.message ?? text}`,
        e?.field,
      );
    }
    return body;
  }
}

/**
 * An execution's result as its keeper shows it to `keeper`'s signer, with the lines to print: what `workflow result`,
 * `run`, `follow` and `show` all print (one way to read a result). The result is opened from what the keeper sealed to
 * the signer's wallet-derived key, and checked against the chain's `resultHash` under the execution's blind. A signer
 * the keeper refuses (401/403) gets `refused`, a sentence saying who may read it; other failures are thrown.
 */
export async function readResult(
  keeper: KeeperClient,
  workflows: Workflows,
  executionId: bigint,
): Promise<{ view?: KeeperExecution; refused?: string; lines: string[] }> {
  const reader = await keeper.address();
  let view: KeeperExecution;
  try {
    view = await keeper.execution(executionId);
  } catch (error) {
    if (!(error instanceof KeeperApiError && (error.status === 401 || error.status === 403))) throw error;
    const refused =
      `result: ${reader} is not authorised to read execution #${executionId}'s result from the keeper at ` +
      `${keeper.url}: only its client, a reader the client granted (\`workflow grant\`) or a user of its restricted ` +
      `listing may (keeper said: ${error.message})`;
    return { refused, lines: [refused] };
  }
  const lines = [
    `execution #${executionId} at ${keeper.url} (read by ${reader}): ${view.state}${view.reason ? ` (${view.reason})` : ""}`,
    ...view.steps.map((s) => `  step ${s.step}  ${s.state}  ${s.provider ?? "-"}  ${s.attempts} attempt(s)`),
  ];
  if (view.blind === null) {
    lines.push(`  result  (none yet)`);
    return { view, lines };
  }
  const { resultHash } = await workflows.getExecution(executionId);
  let check = "not on chain yet";
  if (BigInt(resultHash) !== 0n) {
    if (valueHashHex(view.result, parseBlind(view.blind)).toLowerCase() !== resultHash.toLowerCase())
      throw new Error(
        `result: the keeper's result for execution #${executionId} does not match the chain's resultHash ${resultHash}`,
      );
    check = "matches the chain's resultHash";
  }
  lines.push(`  result  ${JSON.stringify(view.result)}`, `  (${check})`);
  return { view, lines };
}

/** The address of the keeper serving at `keeperUrl`, as its `/healthz` says (its key is then read from the chain). */
export async function keeperAddress(keeperUrl: string): Promise<string> {
  try {
    const health = (await (await fetch(`${keeperUrl.replace(/\/+$/, "")}/healthz`)).json()) as { address?: string };
    if (health.address) return health.address;
  } catch {
    // fall through
  }
  throw new Error(`keeperUrl: ${keeperUrl} did not say which keeper it is (pass --keeper)`);
}

/** The encryption key agent `agent` (a keeper) published on chain; throws when it published none. */
export async function keeperEncryptionKey(registry: AgentRegistry, agent: string): Promise<`0x${string}`> {
  const agentId = await registry.agentIdOf(agent);
  if (agentId === 0n) throw new Error(`keeper: ${agent} is not a registered agent`);
  const key = (await registry.encryptionKeyOf(agentId)) as `0x${string}`;
  if (BigInt(key) === 0n)
    throw new Error(
      `keeper: agent ${agent} (#${agentId}) has published no encryption key: inputs cannot be sealed to it`,
    );
  return key;
}

export function readInputsFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`inputs: cannot read JSON from ${file} (${(error as Error).message})`);
  }
}

export interface Progress {
  status: (typeof EXECUTION_STATUSES)[number];
  stepCount: number;
  recorded: number;
  /** Steps done off chain, as the keeper reports (undefined without a keeper view). */
  done?: number;
  spent: bigint;
  budget: bigint;
  keeperState?: string;
  reason?: string | null;
  /** Why the keeper showed nothing to this signer (401/403), if it refused. */
  keeperRefused?: string;
}

/** The chain's progress and, with a keeper client the keeper lets read it, the keeper's (steps done off chain). */
export async function progressOf(workflows: Workflows, executionId: bigint, keeper?: KeeperClient): Promise<Progress> {
  const [status, stepsDone, stepCount, , , spent, budget] = await workflows.getExecutionStatus(executionId);
  let view: KeeperExecution | undefined;
  let keeperRefused: string | undefined;
  try {
    view = keeper ? await keeper.execution(executionId) : undefined;
  } catch (error) {
    // 404: the keeper has not seen the request yet; unreachable: progress from the chain alone.
    if (error instanceof KeeperApiError && (error.status === 401 || error.status === 403))
      keeperRefused = error.message;
  }
  return {
    status: EXECUTION_STATUSES[Number(status)] ?? "none",
    stepCount: Number(stepCount),
    recorded: Number(stepsDone),
    done: view?.steps.length,
    spent,
    budget,
    keeperState: view?.state,
    reason: view?.reason,
    ...(keeperRefused === undefined ? {} : { keeperRefused }),
  };
}

export function progressLine(executionId: bigint, p: Progress): string {
  const width = 20;
  const done = Math.max(p.done ?? 0, p.recorded);
  const bar = (n: number) => Math.round((n / Math.max(1, p.stepCount)) * width);
  const recorded = bar(p.recorded);
  const ran = Math.max(recorded, bar(done));
  const graph = `${"#".repeat(recorded)}${"+".repeat(ran - recorded)}${".".repeat(width - ran)}`;
  const offChain = p.done === undefined ? "" : `, ${p.done} run`;
  const keeper = p.keeperState
    ? ` (keeper: ${p.keeperState})`
    : p.keeperRefused
      ? ` (keeper: ${/: (\d{3}) /.exec(p.keeperRefused)?.[1] ?? "refused"})`
      : "";
  return `execution #${executionId} [${graph}] ${p.recorded}/${p.stepCount} recorded${offChain}; ${p.status}${keeper}; spent ${aitbc(p.spent)} of ${aitbc(p.budget)}`;
}

/**
 * Polls until the execution completes or fails on chain and, with a keeper that lets the signer read it, in the
 * keeper's view (or `timeoutMs` passes), calling `onChange` whenever the progress line changes. Returns the last
 * progress.
 */
export async function followExecution(
  workflows: Workflows,
  executionId: bigint,
  options: {
    /** The keeper running it, as a signer it lets read the execution (its client, a granted reader). */
    keeper?: KeeperClient;
    intervalMs?: number;
    timeoutMs?: number;
    onChange?: (line: string, p: Progress) => void;
  } = {},
): Promise<Progress> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let last = "";
  for (;;) {
    const p = await progressOf(workflows, executionId, options.keeper);
    const line = progressLine(executionId, p);
    if (line !== last) {
      options.onChange?.(line, p);
      last = line;
    }
    // The keeper records the end once its transaction's receipt is in, after the chain shows it: with a keeper
    // view, wait for that too (unless the keeper shows nothing to this signer).
    const keeperDone = p.keeperState === undefined || p.keeperState === "done" || p.keeperState === "failed";
    if ((p.status === "completed" || p.status === "failed") && keeperDone) return p;
    if (Date.now() > deadline)
      throw new Error(`execution #${executionId}: not finished within ${options.timeoutMs ?? 600_000} ms (${line})`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
