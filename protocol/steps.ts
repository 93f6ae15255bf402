/**
 * The provider node's HTTP API, shared by the provider (server) and the keeper (client): one step execution is
 * `POST /v1/steps` with a StepRequest; the answer is a StepResponse whose `record` the provider signed (EIP-712
 * StepResult, protocol/eip712.ts) and the keeper submits on chain unchanged.
 *
 * What the record commits to (IWorkflows.StepRecord), every value hash blinded with the request's `blind` (sealed
 * with the input), the execution's secret (protocol/values.ts: the client made it, the keeper passes it on sealed,
 * the chain never sees it):
 * - basic level: inputHash = valueHash(input, blind), outputHash = valueHash(output, blind) (protocol/values.ts);
 * - full / zk levels (`transcript` present): inputHash = 0 and outputHash = the step's transcript leaf
 *   Poseidon(s_0, s_1, valueHash(output, blind)), where s_k are `transcript.sources` zero-padded: the output hashes
 *   of the step's dependencies in ascending order, or [the execution's inputsHash] for a root
 *   (circuits/lib/workflow.ts stepLeaf).
 * With `proof: true` (a requiresProof inference step) the response carries an inference proof whose leaf is
 * the recorded outputHash.
 *
 * Only the keeper of a running execution may ask (keepers/provider/auth.ts checks it against the chain): each request
 * carries the keeper's EIP-712 StepRequest signature (protocol/eip712.ts) over the execution, the step, the record's
 * inputHash, the body's keccak256, a nonce and an expiry, in three headers (STEP_AUTH_HEADERS):
 *
 *   Authorization: AITBC-Keeper 0x<65-byte signature>
 *   X-AITBC-Expiry: <unix seconds>
 *   X-AITBC-Nonce: 0x<32 random bytes>
 *   X-AITBC-Input-Hash: 0x<the record's inputHash, as signed>
 *
 * The input hash travels beside the signature so that the provider can check the signature and the chain before it
 * opens the sealed input (an outsider's request costs it no decryption); once opened, the input must hash to it. It
 * is the blinded hash the step's record puts on chain (0 at the full and zk levels), so it shows nothing new.
 *
 * Payloads are confidential (protocol/sealed.ts): the step's input travels with the execution's blind as
 * `sealedInput`, the object `{ input, blind }` sealed by the keeper to the provider's published encryption key
 * (AgentRegistry.encryptionKeyOf) for ("step-input", "<executionId>/<step>"); the blind never travels in clear,
 * and the output comes back as `sealedOutput`, sealed by the provider to the request's `replyKey` (the keeper's
 * key, authenticated by the keeper's signature over the body) for ("step-output", same subject). The hashes and the
 * signatures are over the plaintext values as before; the body hash covers the ciphertext.
 */
import { bytesToHex, toHex, type Hex, type TypedDataDomain } from "viem";
import { z } from "zod";

import { blindToHex, fieldElement, fieldToBytes32 } from "../circuits/lib/field.js";
import type { SolidityProof } from "../circuits/lib/prover.js";
import { stepLeaf } from "../circuits/lib/workflow.js";
import { signStepRequest, type StepRequestMessage } from "./eip712.js";
import { keccak256 } from "./primitives.js";
import {
  encryptionKeySchema,
  open,
  seal,
  sealContext,
  sealedSchema,
  PayloadError,
  SealedOpenError,
  stepSubject,
  type EncryptionKeys,
  type SealContext,
} from "./sealed.js";
import { parseBlind, valueHashHex, type Json } from "./values.js";

import { STEP_TYPES, type StepTypeName } from "./enums.js";

/** The registry capability tag of a step type (what a provider declares, what a keeper filters on). */
export function capabilityOf(stepType: StepTypeName): `0x${string}` {
  return keccak256(toHex(stepType));
}

/** IWorkflows.StepType order. */
export function stepTypeName(index: number): StepTypeName {
  const name = STEP_TYPES[index];
  if (name === undefined) throw new Error(`stepType: unknown index ${index}`);
  return name;
}

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a bytes32 hex string")
  .transform((s) => s.toLowerCase() as `0x${string}`);
const uintString = z.string().regex(/^\d+$/, "must be a decimal integer string");
const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]),
);

const uint256String = uintString.refine((s) => BigInt(s) < 2n ** 256n, "must be below 2^256");

export const stepRequestSchema = z.strictObject({
  executionId: uint256String,
  step: z.number().int().min(0).max(65_535),
  stepType: z.enum(STEP_TYPES),
  model: bytes32,
  /**
   * The step's input (any JSON value) and the execution's secret blind (protocol/values.ts: every value hash of the
   * step is taken under it), `{ input, blind }`, sealed to the provider (see the file header).
   */
  sealedInput: sealedSchema,
  /** The key the provider seals the output to: the keeper's. */
  replyKey: encryptionKeySchema,
  /** Present at the full and zk levels: the field hashes the step reads (see the file header). */
  transcript: z.strictObject({ sources: z.array(bytes32).min(1).max(2) }).optional(),
  /** An inference proof is required (zk level, requiresProof step). */
  proof: z.boolean().default(false),
  /** The most the keeper pays for the step (wei, decimal). */
  maxCost: uintString,
  /** How long the keeper waits (ms); the provider gives up past it. */
  timeoutMs: z.number().int().min(1).max(3_600_000),
});
/** A step request as it travels (the input sealed). */
export type WireStepRequest = z.input<typeof stepRequestSchema>;
/**
 * A step request as the keeper builds it, before sealing: the input and the blind in clear, no reply key yet, and
 * optionally the record's inputHash the keeper already took (recordInputHash of this input and blind; kept with the
 * step so that signing the request and checking the answer do not hash the input again). It does not travel.
 */
export type StepRequest = Omit<WireStepRequest, "sealedInput" | "replyKey"> & {
  input: unknown;
  blind: string;
  inputHash?: Hex;
};
/** A step request as the provider runs it: checked, its input and blind opened (the blind checked, as blindToHex). */
export type ParsedStepRequest = Omit<z.output<typeof stepRequestSchema>, "sealedInput"> & { input: Json; blind: Hex };

/**
 * What a request's `sealedInput` holds: the input and the blind (checked after opening, see openStepRequest). The
 * input is whatever JSON.parse gave (protocol/sealed.ts open), JSON by construction: it is not walked again here.
 */
const stepInputSchema = z.strictObject({
  input: z.custom<Json>((value) => value !== undefined, "missing"),
  blind: z.unknown().optional(),
});

const g1 = z.tuple([uintString, uintString]);
export const groth16Schema = z.strictObject({ a: g1, b: z.tuple([g1, g1]), c: g1 });

export const stepResponseSchema = z.strictObject({
  executionId: uintString,
  step: z.number().int(),
  provider: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  /** The output (any JSON value), sealed to the request's replyKey (see the file header). */
  sealedOutput: sealedSchema,
  /** What the provider signed, field for field (IWorkflows.StepRecord without step and provider). */
  record: z.strictObject({ inputHash: bytes32, outputHash: bytes32, cost: uintString }),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
  /** The inference proof (IWorkflows.InferenceProof) when the request asked for one. */
  proof: z
    .strictObject({ inputHash: uintString, outputHash: uintString, proof: groth16Schema, millis: z.number() })
    .optional(),
  /** Time the backend took (ms). */
  millis: z.number(),
});
export type StepResponse = z.input<typeof stepResponseSchema>;
/** An answer as it travels and as the keeper stores it (the output sealed to the keeper). */
export type ParsedStepResponse = z.output<typeof stepResponseSchema>;
/** An answer whose output the keeper opened. */
export type OpenedStepResponse = ParsedStepResponse & { output: Json };

/** The provider's error body, for every non-2xx answer. `field` names the bad request field, when one is. */
export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
export type ErrorBody = z.infer<typeof errorSchema>;

/** `GET /v1/info`: who the provider is and what it runs. */
export const infoSchema = z.object({
  provider: z.string(),
  agentId: z.string(),
  capacity: z.number(),
  load: z.number(),
  services: z.array(
    z.object({
      stepType: z.enum(STEP_TYPES),
      model: bytes32,
      name: z.string(),
      backend: z.string(),
      price: uintString,
    }),
  ),
});
export type ProviderInfo = z.infer<typeof infoSchema>;

/** The transcript leaf a proven step records: Poseidon(s_0, s_1, outputHash), sources zero-padded. */
export function transcriptLeaf(sources: readonly `0x${string}`[], outputHash: bigint): `0x${string}` {
  const xs = sources.map((s, i) => fieldElement(`transcript.sources[${i}]`, BigInt(s)));
  return fieldToBytes32(stepLeaf(0n, xs, outputHash));
}

export const ZERO_HASH = `0x${"0".repeat(64)}` as const;

/**
 * The inputHash a step's record holds (see the file header): the input's value hash at the basic level, 0 with a
 * transcript. Throws naming the input's field when the input breaks its typed value's rules, or `blind` when it is
 * not a blind.
 */
export function recordInputHash(request: { input: unknown; blind: unknown; transcript?: unknown }): Hex {
  return request.transcript === undefined ? valueHashHex(request.input as Json, parseBlind(request.blind)) : ZERO_HASH;
}

/** The record's inputHash of a keeper's step request: the one kept with it (`inputHash`), else recordInputHash. */
export function stepInputHash(request: StepRequest): Hex {
  return request.inputHash ?? recordInputHash(request);
}

// ---------------------------------------------------------------- the keeper's credentials

export const STEP_AUTH_SCHEME = "AITBC-Keeper";
/** The credentials' headers, lower case as node:http gives them. */
export const STEP_AUTH_HEADERS = {
  signature: "authorization",
  expiry: "x-aitbc-expiry",
  nonce: "x-aitbc-nonce",
  inputHash: "x-aitbc-input-hash",
} as const;
/** How long a keeper's signed step request stays valid (s): the trip to the provider, not a window for replays. */
export const STEP_REQUEST_VALIDITY_SECONDS = 60;

/** The sealing context of step `step`'s input or output (protocol/sealed.ts), under the Workflows `domain`. */
export function stepSealContext(
  domain: TypedDataDomain,
  direction: "step-input" | "step-output",
  executionId: bigint | string,
  step: number,
): SealContext {
  return sealContext(domain, direction, stepSubject(executionId, step));
}

/**
 * The StepRequest's `bodyHash`: keccak256 of the body's exact bytes (the JSON text as the keeper sends it and as the
 * provider reads it off the wire), by protocol/primitives.ts's WebAssembly Keccak.
 */
export function stepBodyHash(body: string | Uint8Array): Hex {
  return keccak256(typeof body === "string" ? Buffer.from(body, "utf8") : body);
}

/**
 * A step request as the keeper sends it: the body (the request's JSON, the input sealed to `seal.provider`, the
 * reply key `seal.reply`) and the headers carrying the keeper's StepRequest signature over it. `expiry` defaults to
 * now + STEP_REQUEST_VALIDITY_SECONDS, `nonce` to 32 random bytes. The signed inputHash is the request's own
 * (`inputHash`) when it has one, else recordInputHash's, which throws naming the input's field when the input
 * cannot be hashed.
 */
export async function signedStepRequest(
  privateKey: Hex,
  domain: TypedDataDomain,
  request: StepRequest,
  keys: { provider: Hex; reply: Hex },
  options: { expiry?: bigint; nonce?: Hex } = {},
): Promise<{ body: string; headers: Record<string, string>; message: StepRequestMessage }> {
  const inputHash = stepInputHash(request);
  const wire = await sealStepRequest(domain, request, keys);
  const body = JSON.stringify(wire);
  const message: StepRequestMessage = {
    executionId: BigInt(request.executionId),
    step: request.step,
    inputHash,
    bodyHash: stepBodyHash(body),
    nonce: options.nonce ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
    expiry: options.expiry ?? BigInt(Math.floor(Date.now() / 1000) + STEP_REQUEST_VALIDITY_SECONDS),
  };
  const headers = {
    "content-type": "application/json",
    [STEP_AUTH_HEADERS.signature]: `${STEP_AUTH_SCHEME} ${signStepRequest(privateKey, domain, message)}`,
    [STEP_AUTH_HEADERS.expiry]: message.expiry.toString(),
    [STEP_AUTH_HEADERS.nonce]: message.nonce,
    [STEP_AUTH_HEADERS.inputHash]: inputHash,
  };
  return { body, headers, message };
}

/**
 * The wire form of a step request the keeper built: `{ input, blind }` sealed to `keys.provider` as `sealedInput`,
 * `keys.reply` as `replyKey`, every other field as it is (signedStepRequest signs it).
 */
export async function sealStepRequest(
  domain: TypedDataDomain,
  request: StepRequest,
  keys: { provider: Hex; reply: Hex },
): Promise<WireStepRequest> {
  const { input, blind, ...rest } = request;
  delete rest.inputHash; // the keeper's own: it does not travel
  const context = stepSealContext(domain, "step-input", request.executionId, request.step);
  return { ...rest, sealedInput: await seal(keys.provider, { input, blind }, context), replyKey: keys.reply };
}

/**
 * Opens a step request's sealed `{ input, blind }` with the provider's `keys` and checks the blind; throws
 * PayloadError naming `sealedInput` when it does not open or is not that object, `blind` when the blind is bad.
 */
export async function openStepRequest(
  keys: EncryptionKeys,
  domain: TypedDataDomain,
  request: z.output<typeof stepRequestSchema>,
): Promise<ParsedStepRequest> {
  const { sealedInput, ...rest } = request;
  let opened: z.output<typeof stepInputSchema>;
  try {
    const context = stepSealContext(domain, "step-input", request.executionId, request.step);
    opened = stepInputSchema.parse(await open(keys, sealedInput, context));
  } catch (error) {
    const why = error instanceof SealedOpenError ? error.message : "not an object { input, blind }";
    throw new PayloadError("sealedInput", why);
  }
  try {
    const blind = blindToHex(parseBlind(opened.blind));
    return { ...rest, input: opened.input, blind };
  } catch (error) {
    throw new PayloadError("blind", (error as Error).message.replace(/^blind: /, ""));
  }
}

/** Opens an answer's sealed output with the keeper's `keys` (throws SealedOpenError when it does not open). */
export async function openStepResponse(
  keys: EncryptionKeys,
  domain: TypedDataDomain,
  answer: ParsedStepResponse,
): Promise<OpenedStepResponse> {
  const context = stepSealContext(domain, "step-output", answer.executionId, answer.step);
  // open() gives what JSON.parse gave: JSON by construction.
  return { ...answer, output: (await open(keys, answer.sealedOutput, context)) as Json };
}

/** An opened answer as the keeper stores it: the output stays sealed to the keeper. */
export function sealedAnswer(answer: OpenedStepResponse): ParsedStepResponse {
  const sealed: ParsedStepResponse & { output?: Json } = { ...answer };
  delete sealed.output;
  return sealed;
}

/** A proof as the API carries it (decimal strings, Solidity coordinate order) as the contracts take it. */
export function solidityProofOf(p: z.output<typeof groth16Schema>): SolidityProof {
  const n = (v: string) => BigInt(v);
  return {
    a: [n(p.a[0]), n(p.a[1])],
    b: [
      [n(p.b[0][0]), n(p.b[0][1])],
      [n(p.b[1][0]), n(p.b[1][1])],
    ],
    c: [n(p.c[0]), n(p.c[1])],
  };
}
