/**
 * One step attempt on one provider: POST the step, signed with the keeper's agent key (protocol/steps.ts
 * signedStepRequest: providers serve only the keeper of a running execution, and each signed request once, so every
 * attempt is signed afresh), then check everything the answer claims before the keeper accepts it. A provider's
 * answer is accepted only if
 * - the EIP-712 StepResult signature recovers to the provider agent's address;
 * - the signed cost is at most the request's maxCost and the provider's on-chain price;
 * - the signed hashes are the hashes of what was sent and what came back (basic), or the transcript leaf of
 *   the step's sources and the returned output (full, zk);
 * - a requested inference proof verifies against the step's model and its leaf is the recorded one;
 * - for the built-in reference model, the output equals the keeper's own run of it.
 * The input goes sealed to the provider's published key and the output comes back sealed to the keeper's
 * (protocol/steps.ts); an output that does not open with the keeper's key is an invalid answer.
 * An answer failing a check is evidence against the provider (`AttemptError` kind "invalid"): the keeper reports
 * it for slashing. Transport failures, timeouts and refusals are not (a 401 or 403 is a refusal: the provider does
 * not take this keeper for the execution's, e.g. when its chain lags the claim).
 */
import type { TypedDataDomain, Hex } from "viem";

import { fieldToBytes32 } from "../../circuits/lib/field.js";
import { irisInfer, irisModelHash, loadIrisModel, type IrisModel } from "../../circuits/lib/iris.js";
import { fromSolidityProof, type Prover } from "../../circuits/lib/prover.js";
import { isCanonicalSignature, stepResultSigner } from "../../protocol/eip712.js";
import type { EncryptionKeys } from "../../protocol/sealed.js";
import {
  openStepResponse,
  signedStepRequest,
  solidityProofOf,
  stepInputHash,
  stepResponseSchema,
  transcriptLeaf,
  ZERO_HASH,
  type OpenedStepResponse,
  type ParsedStepResponse,
  type StepRequest,
} from "../../protocol/steps.js";
import { canonicalJson, irisFeaturesOf, parseBlind, valueHash, type Json } from "../../protocol/values.js";
import type { ProviderOffer } from "../common/catalog.js";
import { RetryableError } from "../common/errors.js";

export type FailureKind = "unavailable" | "busy" | "timeout" | "refused" | "invalid";

/**
 * One attempt failed. Retryable (errors.ts): another attempt, on this provider or another, may succeed; `kind` says
 * how the orchestrator pays for it (a free move to an untried provider, or a retry) and whether it is evidence.
 */
export class AttemptError extends RetryableError {
  override name = "AttemptError";
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly retryAfterMs = 0,
    readonly evidence: Json = null,
  ) {
    super(message);
  }
}

export interface DispatcherOptions {
  /** The Workflows contract's EIP-712 domain (StepResult, StepRequest). */
  domain: TypedDataDomain;
  prover: Prover;
  /** The keeper's agent key: signs every step request. */
  key: Hex;
  /** The keeper's encryption keys: answers are sealed to its public key. */
  keys: EncryptionKeys;
}

export class StepDispatcher {
  readonly #iris: IrisModel;
  readonly #irisModel: Hex;

  constructor(private readonly options: DispatcherOptions) {
    this.#iris = loadIrisModel();
    this.#irisModel = fieldToBytes32(irisModelHash(this.#iris));
  }

  /** Runs `request` on `offer` within `timeoutMs`; resolves with a checked answer or throws AttemptError. */
  async attempt(
    offer: ProviderOffer,
    request: StepRequest,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<OpenedStepResponse> {
    try {
      const sealed = await this.#post(offer, request, timeoutMs, signal);
      let answer: OpenedStepResponse;
      try {
        answer = await openStepResponse(this.options.keys, this.options.domain, sealed);
      } catch (error) {
        throw new AttemptError("invalid", `sealedOutput: ${(error as Error).message}`, 0, sealed);
      }
      await this.check(offer, request, answer);
      return answer;
    } catch (error) {
      if (error instanceof AttemptError) throw error;
      // Whatever else a provider's answer provokes (absurdly nested JSON, ...) is its fault, not the step's.
      throw new AttemptError("invalid", `unusable answer (${(error as Error).message})`);
    }
  }
  async #post(
    offer: ProviderOffer,
    request: StepRequest,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ParsedStepResponse> {
    let signed: { body: string; headers: Record<string, string> };
    try {
      signed = await signedStepRequest(this.options.key, this.options.domain, request, {
        provider: offer.encryptionKey,
        reply: this.options.keys.publicKey,
      });
    } catch (error) {
      // An input the record rules cannot hash: no provider would take it, and it is no provider's fault.
      throw new AttemptError("refused", `cannot sign the request: ${(error as Error).message}`);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(`${offer.endpoint}/v1/steps`, {
        method: "POST",
        headers: signed.headers,
        body: signed.body,
        signal: combined,
      });
    } catch (error) {
      if (timeout.aborted) throw new AttemptError("timeout", `no answer within ${timeoutMs} ms`);
      if (signal?.aborted) throw new AttemptError("unavailable", "cancelled");
      throw new AttemptError("unavailable", `cannot reach ${offer.endpoint} (${causeOf(error)})`);
    }
    let body: unknown;
    try {
      body = JSON.parse(await readCapped(response, MAX_ANSWER_BYTES));
    } catch (error) {
      if (timeout.aborted) throw new AttemptError("timeout", `no answer within ${timeoutMs} ms`);
      throw new AttemptError(
        "unavailable",
        `${offer.endpoint} answered ${response.status} without JSON (${causeOf(error)})`,
      );
    }
    if (response.status === 429) {
      const after = Number(response.headers.get("retry-after") ?? "1");
      throw new AttemptError("busy", "provider at capacity", (Number.isFinite(after) ? after : 1) * 1000);
    }
    if (response.status === 504) throw new AttemptError("timeout", "the provider timed out");
    if (!response.ok) {
      const message = (body as { error?: { message?: string } }).error?.message ?? `status ${response.status}`;
      throw new AttemptError(response.status >= 500 ? "unavailable" : "refused", `${response.status}: ${message}`);
    }
    const parsed = stepResponseSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AttemptError(
        "invalid",
        `malformed answer: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`,
        0,
        body as Json,
      );
    }
    return parsed.data;
  }

  /** The checks in the file header; throws AttemptError "invalid" with the evidence. */
  async check(offer: ProviderOffer, request: StepRequest, answer: OpenedStepResponse): Promise<void> {
    const fail = (message: string): never => {
      throw new AttemptError("invalid", message, 0, {
        request: request as unknown as Json,
        answer: answer as unknown as Json,
      });
    };
    const { record } = answer;
    if (answer.executionId !== request.executionId || answer.step !== request.step) fail("answer is for another step");
    if (answer.provider.toLowerCase() !== offer.address.toLowerCase()) fail(`answer names provider ${answer.provider}`);
    const cost = BigInt(record.cost);
    if (cost > BigInt(request.maxCost) || cost > offer.price)
      fail(`cost ${cost} above maxCost ${request.maxCost} / price ${offer.price}`);
    const message = {
      executionId: BigInt(request.executionId),
      step: request.step,
      inputHash: record.inputHash,
      outputHash: record.outputHash,
      cost,
    };
    if (!isCanonicalSignature(answer.signature)) fail("the signature is not a canonical 65-byte low-s signature");
    const signer = await stepResultSigner(this.options.domain, message, answer.signature as Hex);
    if (signer?.toLowerCase() !== offer.address.toLowerCase())
      fail(`signature recovers to ${signer ?? "nothing"}, not ${offer.address}`);

    let outputHash: bigint;
    try {
      outputHash = valueHash(answer.output, parseBlind(request.blind));
    } catch (error) {
      return fail(`output: ${(error as Error).message}`);
    }
    if (request.transcript) {
      if (record.inputHash !== ZERO_HASH) fail("a proven step records inputHash 0");
      if (record.outputHash !== transcriptLeaf(request.transcript.sources as Hex[], outputHash))
        fail("outputHash is not the leaf of the output");
    } else {
      if (record.inputHash !== stepInputHash(request)) fail("inputHash is not the hash of the input sent");
      if (record.outputHash !== fieldToBytes32(outputHash)) fail("outputHash is not the hash of the output");
    }
    if (request.model.toLowerCase() === this.#irisModel && request.stepType === "inference")
      this.#checkIris(request.input as Json, answer.output, fail);
    if (request.proof === true) await this.#checkProof(request, answer, fail);
  }

  /** The reference model is cheap and deterministic: run it and compare. */
  #checkIris(input: Json, output: Json, fail: (m: string) => never): void {
    let expected: Json;
    try {
      const result = irisInfer(this.#iris, irisFeaturesOf(input));
      expected = { kind: "iris-prediction", predictedClass: result.predictedClass, scores: result.scores.map(String) };
    } catch (error) {
      return fail(`input: ${(error as Error).message}`);
    }
    if (canonicalJson(expected) !== canonicalJson(output)) fail("output differs from the reference model's");
  }

  async #checkProof(request: StepRequest, answer: OpenedStepResponse, fail: (m: string) => never): Promise<void> {
    const p = answer.proof;
    if (p === undefined) return fail("inference proof missing");
    const leaf = BigInt(answer.record.outputHash);
    const source = request.transcript?.sources[0];
    if (source !== undefined && BigInt(source) !== BigInt(p.inputHash))
      fail("the proof's input is not the step's source");
    const signals = [BigInt(request.model), BigInt(p.inputHash), BigInt(p.outputHash), leaf];
    const proof = fromSolidityProof(solidityProofOf(p.proof));
    if (!(await this.options.prover.verify("inference", proof, signals))) fail("the inference proof does not verify");
  }
}

/** Largest provider answer the keeper reads (outputs are meant to be small; large data goes by reference). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** The body as text, refusing more than `max` bytes (a provider cannot exhaust the keeper's memory). */
async function readCapped(response: Response, max: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > max) throw new Error(`answer of ${declared} bytes exceeds ${max}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!response.body) return "";
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new Error(`answer exceeds ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function causeOf(error: unknown): string {
  const e = error as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
