/**
 * The provider node's HTTP server (API in protocol/steps.ts): `POST /v1/steps` runs one step on the backend
 * serving its (stepType, model), hashes input and output by the record rules, and signs the record (EIP-712
 * StepResult) with the agent's key; `GET /v1/info`, `GET /healthz`, `GET /metrics` describe the node.
 *
 * Only the keeper of a running execution may run a step: the request carries its EIP-712 StepRequest signature in
 * four headers (protocol/steps.ts),
 *
 *   Authorization: AITBC-Keeper 0x<65-byte signature>
 *   X-AITBC-Expiry: <unix seconds>
 *   X-AITBC-Nonce: 0x<32 random bytes>
 *   X-AITBC-Input-Hash: 0x<the record's inputHash>
 *
 * over (executionId, step, the record's inputHash, keccak256 of the body, nonce, expiry), checked by `auth`
 * (auth.ts: the signer is the execution's keeper on chain, the execution Running, each signed request once, a rate
 * per keeper).
 *
 * Admission, in order: the credentials' form and expiry (401, before the body is read), body size (413), schema
 * (400 naming the field), the signature, the chain and the keeper's rate (401, 403, 429: auth.ts), the sealed input
 * opened and its hash checked against the signed one (400), a backend for
 * (stepType, model) (422 `unsupported`), proof support (422), price within maxCost (422), a free capacity slot
 * overall and for the service (429 with Retry-After). So a request that is not its keeper's never reaches a backend
 * nor takes a slot. A step gets min(timeoutMs, requestTimeoutMs); past it the backend is aborted and the answer is
 * a 504. A slot stays taken until the backend has really stopped, so that the load is honest.
 *
 * Payloads are sealed (protocol/sealed.ts, protocol/steps.ts): the input arrives with the execution's blind, sealed
 * to this node's encryption key (`keys`, published on chain), and is opened only once the signature and the chain
 * say the request is its keeper's (so an outsider costs the node no decryption: 400 `bad-request` on `sealedInput`
 * when it does not open, on `blind` when the opened blind is missing or not a blind); the output leaves sealed to the
 * request's `replyKey`, the keeper's key, which the keeper's signature over the body authenticates. Logs carry ids,
 * never payloads.
 *
 * The composition root (node.ts) passes the account, the Workflows EIP-712 domain, the backends and the
 * authenticator (which reads the chain). `chaos` injects faults (tampered outputs, foreign signatures, delay)
 * through the real code paths.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

import { type LocalAccount, type TypedDataDomain, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { FIELD_MODULUS, fieldToBytes32 } from "../../circuits/lib/field.js";
import { signStepResult } from "../../protocol/eip712.js";
import { PayloadError, seal, type EncryptionKeys } from "../../protocol/sealed.js";
import {
  HttpError,
  closeServer,
  errorMessage,
  listen,
  parseBody,
  parseJsonBody,
  readBody,
  router,
  sendJson,
} from "../common/http.js";
import type { Logger } from "../common/log.js";
import {
  openStepRequest,
  recordInputHash,
  stepBodyHash,
  stepRequestSchema,
  stepSealContext,
  transcriptLeaf,
  ZERO_HASH,
  type ParsedStepRequest,
  type ProviderInfo,
  type StepResponse,
} from "../../protocol/steps.js";
import { parseBlind, valueHash, type Json } from "../../protocol/values.js";
import { AUTH_REFUSALS, type StepAuth } from "./auth.js";
import type { Backend, StepProof } from "./backends/index.js";
import { abortableDelay } from "./backends/types.js";
import type { EarningsView } from "./earnings.js";
import { providerMetrics, type ProviderMetrics } from "./metrics.js";

export interface ServerLimits {
  /** Largest request body (bytes). */
  maxBodyBytes: number;
  /** Steps running at once over all services. */
  capacity: number;
  /** Upper bound on any step's time (ms), whatever the keeper allows. */
  requestTimeoutMs: number;
  /** The Retry-After of a 429 (seconds). */
  retryAfterSeconds: number;
}

export interface ChaosOptions {
  tamperOutputRate: number;
  badSignatureRate: number;
  extraDelayMs: number;
}

export const NO_CHAOS: ChaosOptions = { tamperOutputRate: 0, badSignatureRate: 0, extraDelayMs: 0 };

export interface ProviderServerOptions {
  /** The agent's key: signs every record. */
  account: LocalAccount;
  /** The node's encryption key pair (common/encryption.ts): step inputs are sealed to its public key. */
  keys: EncryptionKeys;
  /** The Workflows contract's EIP-712 domain (protocol/eip712.ts workflowsDomain). */
  domain: TypedDataDomain;
  services: readonly Backend[];
  /** Who may run a step (auth.ts createStepAuth): always required. */
  auth: StepAuth;
  /** The node's metrics, when the composition root shares them with `auth`; default a registry of its own. */
  metrics?: ProviderMetrics;
  limits: ServerLimits;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  chaos?: ChaosOptions;
  logger: Logger;
  /** Shown by /v1/info; 0 when not registered (tests). */
  agentId?: bigint;
  /** Chaos dice; default Math.random. */
  random?: () => number;
}

export interface ProviderServer {
  url: string;
  /** Steps running now. */
  load(): number;
  metrics: ProviderMetrics;
  /** The agent id /v1/info shows (known once registered). */
  setAgentId(agentId: bigint): void;
  /** What /v1/info shows as `earnings` (earnings.ts: credits claimable and claimed). */
  setEarnings(read: () => EarningsView): void;
  /**
   * Stops accepting requests, waits up to `graceMs` (default 10 s) for running steps, drops what remains, and
   * closes the backends.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

interface StepResult {
  output: Json;
  proof?: StepProof;
  millis: number;
}

export async function createProviderServer(options: ProviderServerOptions): Promise<ProviderServer> {
  const { account, domain, services, auth, limits, keys } = options;
  const logger = options.logger.child({ module: "server" });
  const chaos = options.chaos ?? NO_CHAOS;
  const random = options.random ?? Math.random;
  const metrics = options.metrics ?? providerMetrics();
  const busy = new Map<Backend, number>();
  let load = 0;
  let closing = false;
  let agentId = options.agentId ?? 0n;

  /** Takes a slot for `backend` until `work` settles; 429 when none is free. */
  const admit = (backend: Backend, work: () => Promise<StepResult>): Promise<StepResult> => {
    if (load >= limits.capacity || (busy.get(backend) ?? 0) >= backend.capacity) {
      throw new HttpError(429, "busy", `at capacity (${load} of ${limits.capacity} steps running)`, {
        headers: { "retry-after": String(limits.retryAfterSeconds) },
      });
    }
    const take = (d: number) => {
      load += d;
      busy.set(backend, (busy.get(backend) ?? 0) + d);
      metrics.inFlight.set(load);
    };
    take(1);
    const running = work();
    const release = () => {
      take(-1);
    };
    running.then(release, release);
    return running;
  };

  /** Runs the backend with the step's time limit and the client's presence as abort conditions. */
  const execute = async (req: ParsedStepRequest, backend: Backend, res: ServerResponse): Promise<StepResult> => {
    const limit = Math.min(req.timeoutMs, limits.requestTimeoutMs);
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new HttpError(504, "timeout", `the step did not finish within ${limit} ms`));
    }, limit);
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new HttpError(499, "client-gone", "the client went away"));
    });
    const { signal } = controller;
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener(
        "abort",
        () => {
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
    aborted.catch(() => undefined); // an abort after the answer is nobody's error
    try {
      return await Promise.race([
        admit(backend, async () => {
          await abortableDelay(chaos.extraDelayMs, signal);
          const started = performance.now();
          const result = await backend.run(req.input, { signal, proof: req.proof, blind: parseBlind(req.blind) });
          return { ...result, millis: Math.round(performance.now() - started) };
        }),
        aborted,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const step = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    let service = "-";
    let outcome = "ok";
    try {
      if (closing) throw new HttpError(503, "shutting-down", "the provider is shutting down");
      const credentials = auth.credentials(req.headers);
      const body = await readBody(req, limits.maxBodyBytes);
      const parsed = parseStep(parseJsonBody(body));
      const keeper = await auth.authorize(credentials, parsed, stepBodyHash(body));
      // Opened only now: a request that is not the keeper's never makes the node use its key.
      const request = await openStep(keys, domain, parsed);
      const inputHash = auth.checkInput(credentials, request);
      const backend = routeStep(services, request);
      service = backend.name;
      const where = { executionId: request.executionId, step: request.step, service, keeper };
      logger.info({ event: "step-started", ...where }, "step started");
      const result = await execute(request, backend, res);
      const response = await answer(request, backend, result, inputHash);
      sendJson(res, 200, response);
      logger.info(
        {
          event: "step-served",
          ...where,
          millis: result.millis,
          ...(response.proof ? { proofMillis: response.proof.millis } : {}),
        },
        "step served",
      );
    } catch (error) {
      const http = error instanceof HttpError ? error : new HttpError(500, "backend-error", errorMessage(error));
      outcome = http.code;
      if (REFUSALS.has(http.code)) metrics.refused.inc({ reason: http.code });
      throw http;
    } finally {
      metrics.steps.inc({ service, outcome });
      metrics.duration.observe({ service, outcome }, (performance.now() - started) / 1000);
    }
  };

  /** The signed StepResponse of a finished step (chaos applied last, as a faulty node would). */
  const answer = async (
    request: ParsedStepRequest,
    backend: Backend,
    result: StepResult,
    inputHash: Hex,
  ): Promise<StepResponse> => {
    const record = recordOf(request, result.output, backend.price, inputHash);
    const message = { executionId: BigInt(request.executionId), step: request.step, ...record };
    const signer = random() < chaos.badSignatureRate ? privateKeyToAccount(generatePrivateKey()) : account;
    const signature = await signStepResult(signer, domain, message);
    const output = random() < chaos.tamperOutputRate ? tamper(result.output) : result.output;
    const context = stepSealContext(domain, "step-output", request.executionId, request.step);
    return {
      executionId: request.executionId,
      step: request.step,
      provider: account.address,
      sealedOutput: await seal(request.replyKey, output, context),
      record: { ...record, cost: record.cost.toString() },
      signature,
      ...(request.proof && result.proof ? { proof: result.proof } : {}),
      millis: result.millis,
    };
  };

  let earnings: (() => EarningsView) | undefined;
  const info = (): ProviderInfo & { earnings?: EarningsView } => ({
    ...(earnings ? { earnings: earnings() } : {}),
    provider: account.address,
    agentId: agentId.toString(),
    capacity: limits.capacity,
    load,
    services: services.map((b) => ({
      stepType: b.stepType,
      model: b.model,
      name: b.name,
      backend: b.kind,
      price: b.price.toString(),
    })),
  });

  const server = createServer(
    router(
      {
        "POST /v1/steps": step,
        "GET /v1/info": (_req, res) => {
          sendJson(res, 200, info());
        },
        "GET /healthz": (_req, res) => {
          const body = { ok: !closing, provider: account.address, load, capacity: limits.capacity };
          sendJson(res, closing ? 503 : 200, body);
        },
        "GET /metrics": async (_req, res) => {
          const text = await metrics.registry.metrics();
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
      },
      (error) => {
        logger.warn({ event: "step-error", error: errorMessage(error) }, "request failed");
      },
    ),
  );
  server.requestTimeout = limits.requestTimeoutMs + 30_000;
  const url = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  if (Object.values(chaos).some((v) => v > 0))
    logger.warn({ event: "chaos-enabled", chaos }, "CHAOS IS ON: this node injects faults on purpose (tests only)");

  return {
    url,
    load: () => load,
    metrics,
    setAgentId(id) {
      agentId = id;
    },
    setEarnings(read) {
      earnings = read;
    },
    async close({ graceMs = 10_000 } = {}) {
      closing = true;
      const drained = closeServer(server);
      const grace = new Promise<"timeout">((resolve) => {
        setTimeout(() => {
          resolve("timeout");
        }, graceMs).unref();
      });
      if ((await Promise.race([drained, grace])) === "timeout") {
        logger.warn({ event: "close-timeout", load, graceMs }, "dropping steps still running");
        server.closeAllConnections();
        await drained;
      }
      await Promise.all(services.map((b) => b.close()));
      metrics.registry.clear();
    },
  };
}

const REFUSALS = new Set<string>(AUTH_REFUSALS);

/**
 * Opens a checked request's sealed `{ input, blind }`; a 400 on `sealedInput` when it does not open with this node's
 * key (or is not that object), on `blind` when its blind is missing or not a blind.
 */
export async function openStep(
  keys: EncryptionKeys,
  domain: TypedDataDomain,
  request: ReturnType<typeof parseStep>,
): Promise<ParsedStepRequest> {
  try {
    return await openStepRequest(keys, domain, request);
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    throw new HttpError(400, "bad-request", error.message, { field: error.field });
  }
}

/** Validates a request body; a 400 names the first bad field. */
export function parseStep(body: unknown) {
  const request = parseBody(stepRequestSchema, body);
  request.transcript?.sources.forEach((s, i) => {
    if (BigInt(s) >= FIELD_MODULUS) {
      const field = `transcript.sources[${i}]`;
      throw new HttpError(400, "bad-request", `${field}: not a field element (>= the BN254 modulus)`, { field });
    }
  });
  return request;
}

/** The backend serving the request's (stepType, model), able to prove if asked, within the keeper's maxCost. */
export function routeStep(services: readonly Backend[], request: ParsedStepRequest): Backend {
  const backend = services.find((b) => b.stepType === request.stepType && b.model.toLowerCase() === request.model);
  if (backend === undefined) {
    const served = services.map((b) => `${b.stepType} ${b.model}`).join(", ");
    throw new HttpError(
      422,
      "unsupported",
      `model: no service here runs ${request.stepType} ${request.model} (served: ${served})`,
      {
        field: "model",
      },
    );
  }
  if (request.proof && !backend.provable)
    throw new HttpError(422, "unsupported", `proof: service ${backend.name} cannot prove its output`, {
      field: "proof",
    });
  if (backend.price > BigInt(request.maxCost))
    throw new HttpError(
      422,
      "too-expensive",
      `maxCost: ${request.maxCost} wei is below the price of service ${backend.name} (${backend.price} wei)`,
      { field: "maxCost" },
    );
  return backend;
}

/**
 * What the provider signs (protocol/steps.ts header), every value hash under the request's blind: basic level, the
 * input's and output's value hashes; with a transcript, inputHash 0 and the transcript leaf over the sources and
 * the output's hash. `inputHash`, when given, is the input's, already checked (auth.ts checkInput): not hashed again.
 */
export function recordOf(
  request: Pick<ParsedStepRequest, "input" | "blind" | "transcript">,
  output: Json,
  cost: bigint,
  inputHash?: Hex,
): { inputHash: Hex; outputHash: Hex; cost: bigint } {
  let out: bigint;
  try {
    out = valueHash(output, parseBlind(request.blind));
  } catch (error) {
    // A typed value (an iris-prediction, say) that breaks its type's rules: the request produced it, no retry helps.
    throw new HttpError(422, "bad-output", `output: cannot hash this output (${errorMessage(error)})`, {
      field: "output",
    });
  }
  if (request.transcript)
    return { inputHash: ZERO_HASH, outputHash: transcriptLeaf(request.transcript.sources, out), cost };
  if (inputHash !== undefined) return { inputHash, outputHash: fieldToBytes32(out), cost };
  let hash: Hex;
  try {
    hash = recordInputHash(request);
  } catch (error) {
    throw new HttpError(400, "bad-input", `input: ${errorMessage(error)}`, { field: "input" });
  }
  return { inputHash: hash, outputHash: fieldToBytes32(out), cost };
}

/** A plausible lie: a different class for a prediction, a changed or added field, an extra element. */
function tamper(output: Json): Json {
  if (typeof output === "number") return output + 1;
  if (typeof output === "string") return `${output} (tampered)`;
  if (Array.isArray(output)) return [...output, null];
  if (output === null || typeof output === "boolean") return !output;
  if (output.kind === "iris-prediction" && typeof output.predictedClass === "number")
    return { ...output, predictedClass: (output.predictedClass + 1) % 3 };
  return { ...output, tampered: true };
}
