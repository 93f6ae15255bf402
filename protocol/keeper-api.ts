/**
 * The keeper's client API (keepers/keeper/api.ts), shared by the keeper (server) and its clients (tasks, scripts,
 * agents): the bodies of the signed posts, the Authorization header of a signed request, and the messages each
 * signature covers. Authentication is always on. Every signature is EIP-712 under the Workflows contract's domain
 * (protocol/eip712.ts `workflowsDomain`) with the types of protocol/eip712.ts:
 *
 *   POST /v1/inputs              InputsPost: the inputs and the execution's secret blind, `{ inputs, blind }`, sealed
 *                                to the keeper's published encryption key (protocol/sealed.ts, purpose "inputs",
 *                                subject their value hash), their value hash under the blind and the client's
 *                                ExecutionInputs signature over it, unexpired. The keeper opens them, checks they
 *                                hash to inputsHash, and keeps them sealed (the blind too). It runs an execution with
 *                                them only if its client on chain is a signer of them.
 *   POST /v1/grants              GrantPost: a ResultsGrant signed by the execution's client: `reader` may read the
 *                                execution's results until `expiry`, unless the client revokes it. `issuedAt` (unix
 *                                ms) may be at most GRANT_MAX_SKEW_MS ahead of the keeper's clock.
 *   POST /v1/revocations         RevokePost: a ResultsRevoke signed by the execution's client: `reader`'s grants for
 *                                the execution issued at or before `issuedAt` are void at once, and stay void (an
 *                                old grant posted again is refused 409 `grant-revoked`).
 *   GET  /v1/executions?id=N[&key=K]  a signed request by the execution's client, a reader it granted, or a user of
 *                                the restricted listing it was requested through. The result and the blind,
 *                                `{ result, blind }`, come sealed to K, the reader's X25519 key (purpose "result",
 *                                subject "<id>/<reader>"); the signature
 *                                covers the query, so K is the reader's. Without K, no result.
 *   GET  /v1/reports             a signed request by the keeper's operator (its agent's operator in the
 *   POST /v1/safe-mode/clear     AgentRegistry) or the keeper's configured admin.
 *
 * A signed request carries `Authorization: AITBC-EIP712 signer=<address>, expiry=<unix seconds>, signature=<hex>`,
 * its signature over KeeperRequest(method, path, signer, expiry) where `path` is the request target as sent (path and
 * query: `/v1/executions?id=7`). The keeper refuses an expiry in the past or more than REQUEST_MAX_TTL_SECONDS
 * ahead: a request seen on the wire can be replayed only to the same route, for a few minutes.
 */
import type { Hex, TypedDataDomain } from "viem";
import { z } from "zod";

import {
  encryptionKeySchema,
  open,
  PayloadError,
  sealContext,
  sealedSchema,
  type EncryptionKeys,
  type Sealed,
} from "./sealed.js";
import { parseBlind, valueHashHex, type Json } from "./values.js";

/** The Authorization scheme of a signed request. */
export const AUTH_SCHEME = "AITBC-EIP712";

/** The furthest a signed request's expiry may be from the keeper's clock (seconds). */
export const REQUEST_MAX_TTL_SECONDS = 300;

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address")
  .transform((s) => s as `0x${string}`);
const signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 0x-prefixed 65-byte signature")
  .transform((s) => s as `0x${string}`);
const expiry = z.number().int("must be whole unix seconds").min(1).max(Number.MAX_SAFE_INTEGER);
/** Unix milliseconds (a grant's or a revocation's `issuedAt`): a whole number below 2^53. */
const issuedAt = z.number().int("must be whole unix milliseconds").min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * `POST /v1/inputs`: the object `{ inputs, blind }` (SealedInputs) sealed to the keeper, the inputs' value hash
 * `inputsHash` under the blind, signed by `client` (ExecutionInputs).
 */
export const inputsPostSchema = z.strictObject({
  sealed: sealedSchema,
  inputsHash: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hash")
    .transform((s) => s.toLowerCase() as `0x${string}`),
  client: address,
  expiry,
  signature,
});
export type InputsPost = z.input<typeof inputsPostSchema>;

/**
 * What `POST /v1/inputs` seals: `inputs` (any step value, protocol/values.ts) and the execution's secret `blind`
 * (the client's 31 random bytes as blindToHex; the inputs hash, the execution's inputsHash, is
 * valueHash(inputs, blind)). The keeper checks the blind itself (protocol/values.ts parseBlind, a 400 naming `blind`).
 */
export const sealedInputsSchema = z.strictObject({
  inputs: z.unknown().refine((v) => v !== undefined, "is required"),
  blind: z.unknown().optional(),
});
export interface SealedInputs {
  inputs: unknown;
  blind: string;
}

/**
 * Opens a `POST /v1/inputs` payload (as posted or as the keeper stores it) with the keeper's `keys` under ("inputs",
 * inputsHash) and checks it: `{ inputs, blind }`, the blind a blind, valueHash(inputs, blind) = inputsHash. Throws
 * PayloadError naming `sealed` (does not open, not that object, inputs that cannot be hashed or hash to something
 * else) or `blind` (missing or not a blind).
 */
export async function openSealedInputs(
  keys: EncryptionKeys,
  domain: TypedDataDomain,
  inputsHash: Hex,
  sealed: Sealed,
): Promise<{ inputs: Json; blind: bigint }> {
  let opened: unknown;
  try {
    opened = await open(keys, sealed, sealContext(domain, "inputs", inputsHash.toLowerCase()));
  } catch (error) {
    throw new PayloadError("sealed", (error as Error).message);
  }
  const parsed = sealedInputsSchema.safeParse(opened);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PayloadError("sealed", `${issue?.path.join(".") || "value"}: ${issue?.message ?? "invalid"}`);
  }
  let blind: bigint;
  try {
    blind = parseBlind(parsed.data.blind);
  } catch (error) {
    throw new PayloadError("blind", (error as Error).message.replace(/^blind: /, ""));
  }
  const inputs = parsed.data.inputs as Json;
  let hash: Hex;
  try {
    hash = valueHashHex(inputs, blind);
  } catch (error) {
    throw new PayloadError("sealed", `inputs: ${(error as Error).message}`);
  }
  if (hash.toLowerCase() !== inputsHash.toLowerCase())
    throw new PayloadError(
      "sealed",
      `the inputs hash to ${hash}, not to inputsHash ${inputsHash} (under the sealed blind)`,
    );
  return { inputs, blind };
}

/**
 * What `GET /v1/executions` seals to the reader's key: the execution's `result` (or null) and its `blind`, so that
 * the reader can check the result against the chain's resultHash (valueHash(result, blind)).
 */
export const sealedResultSchema = z.strictObject({
  result: z.unknown(),
  blind: z.string().regex(/^0x[0-9a-fA-F]{62}$/, "must be 0x and 62 hex digits (31 random bytes)"),
});
export type SealedResult = z.output<typeof sealedResultSchema>;

/** `POST /v1/grants`: the execution's client lets `reader` read it until `expiry` (ResultsGrant). */
export const grantPostSchema = z.strictObject({
  executionId: z.string().regex(/^[1-9]\d*$/, "must be an execution id (a decimal integer string)"),
  reader: address,
  expiry,
  issuedAt,
  signature,
});
export type GrantPost = z.input<typeof grantPostSchema>;

/** How far ahead of the keeper's clock a grant's or a revocation's `issuedAt` may be (ms): clocks drift. */
export const GRANT_MAX_SKEW_MS = 300_000;

/** `POST /v1/revocations`: the execution's client voids `reader`'s grants issued at or before `issuedAt`. */
export const revokePostSchema = z.strictObject({
  executionId: z.string().regex(/^[1-9]\d*$/, "must be an execution id (a decimal integer string)"),
  reader: address,
  issuedAt,
  signature,
});
export type RevokePost = z.input<typeof revokePostSchema>;

/** The `key` query parameter of `GET /v1/executions`: the X25519 key the reader wants the result sealed to. */
export const readerKeySchema = encryptionKeySchema;

/** What the Authorization header of a signed request says. */
export interface RequestAuthorization {
  signer: `0x${string}`;
  expiry: number;
  signature: `0x${string}`;
}

export function authorizationHeader(auth: RequestAuthorization): string {
  return `${AUTH_SCHEME} signer=${auth.signer}, expiry=${auth.expiry}, signature=${auth.signature}`;
}

const authorizationParts = z.strictObject({
  signer: address,
  expiry: z.string().regex(/^\d{1,15}$/, "must be unix seconds"),
  signature,
});

/** Reads an Authorization header; a malformed one gives the reason, naming the part at fault. */
export function parseAuthorization(header: string): RequestAuthorization | { error: string } {
  const [scheme, ...rest] = header.trim().split(/\s+/);
  if (scheme !== AUTH_SCHEME) return { error: `the scheme must be ${AUTH_SCHEME}, not "${scheme ?? ""}"` };
  const parts = new Map<string, string>();
  for (const part of rest.join(" ").split(",")) {
    const [key, value, ...extra] = part.trim().split("=");
    if (key === undefined || value === undefined || extra.length > 0 || parts.has(key))
      return { error: `"${part.trim()}" is not one key=value pair` };
    parts.set(key, value);
  }
  const parsed = authorizationParts.safeParse(Object.fromEntries(parts));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `${issue?.path.join(".") || "header"}: ${issue?.message ?? "invalid"}` };
  }
  return { ...parsed.data, expiry: Number(parsed.data.expiry) };
}

// ---------------------------------------------------------------- the signed messages, built the same on both sides

export function keeperRequestMessage(method: string, path: string, signer: `0x${string}`, expiry: number) {
  return { method: method.toUpperCase(), path, signer, expiry: BigInt(expiry) };
}

export function executionInputsMessage(inputsHash: `0x${string}`, client: `0x${string}`, expiry: number) {
  return { inputsHash, client, expiry: BigInt(expiry) };
}

export function resultsGrantMessage(executionId: bigint, reader: `0x${string}`, expiry: number, issuedAt: number) {
  return { executionId, reader, expiry: BigInt(expiry), issuedAt: BigInt(issuedAt) };
}

export function resultsRevokeMessage(executionId: bigint, reader: `0x${string}`, issuedAt: number) {
  return { executionId, reader, issuedAt: BigInt(issuedAt) };
}

/** Unix seconds now (the clock expiries are read against, on both sides). */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
