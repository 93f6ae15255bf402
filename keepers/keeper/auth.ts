/**
 * Who is calling the keeper's API (api.ts) and what they may do, from EIP-712 signatures under the Workflows
 * domain (the types of protocol/eip712.ts, the bodies and header of protocol/keeper-api.ts):
 *
 * - a signed request: its signer, when the Authorization header's signature over KeeperRequest(method, path as
 *   received, signer, expiry) recovers to the signer the header names and the expiry is ahead of the keeper's clock
 *   by at most REQUEST_MAX_TTL_SECONDS. A verified header is remembered until it expires (at most VERIFIED_MAX of
 *   them, oldest forgotten first), so a client polling with one header costs one signature recovery;
 * - signed inputs (ExecutionInputs) and grants (ResultsGrant): valid and unexpired; signed inputs arrive sealed to
 *   the keeper's encryption key with the execution's blind, and must open and hash, under that blind, to the signed
 *   inputsHash;
 * - an execution's readers: its client on chain, the readers it granted (an unexpired grant signed by that client
 *   and not revoked by it: a ResultsRevoke voids the grants issued until its issuedAt, read from the store on every
 *   request, so a revoked reader is refused from the next request on),
 *   and the users of the restricted listing it was requested through (Workflows.hasAccess). A public listing gives
 *   everyone access, so it opens no one's results;
 * - the operator: the keeper agent's operator in the AgentRegistry (read on each check), or the configured admin.
 *
 * 401 says what is wrong with the signature (`no-signature`, `bad-authorization`, `signature-expired`,
 * `signature-expiry-too-far`, `bad-signature`); 403 `forbidden` says who may do what a valid signer asked. The chain
 * is read only after a signature checks out.
 */
import type { Hex, PublicClient, TypedData, TypedDataDomain } from "viem";

import { registryAbi, workflowsAbi } from "../../protocol/abi.js";
import type { Addresses } from "../../protocol/addresses.js";
import {
  EXECUTION_INPUTS_TYPES,
  KEEPER_REQUEST_TYPES,
  RESULTS_GRANT_TYPES,
  RESULTS_REVOKE_TYPES,
} from "../../protocol/eip712.js";
import {
  AUTH_SCHEME,
  executionInputsMessage,
  GRANT_MAX_SKEW_MS,
  grantPostSchema,
  inputsPostSchema,
  keeperRequestMessage,
  openSealedInputs,
  parseAuthorization,
  REQUEST_MAX_TTL_SECONDS,
  resultsGrantMessage,
  resultsRevokeMessage,
  revokePostSchema,
  unixNow,
} from "../../protocol/keeper-api.js";
import { PayloadError, type EncryptionKeys, type Sealed } from "../../protocol/sealed.js";
import type { Json } from "../../protocol/values.js";
import { HttpError, parseBody } from "../common/http.js";
import { typedDataSigner } from "../common/signatures.js";
import type { GrantRow, RevocationRow, Store } from "../common/store.js";

/** Verified request headers kept (each until its expiry). */
export const VERIFIED_MAX = 4096;

export interface ApiAuthOptions {
  client: PublicClient;
  addresses: Pick<Addresses, "workflows" | "registry">;
  /** The Workflows contract's EIP-712 domain. */
  domain: TypedDataDomain;
  /** The keeper's agent id: its operator may use the operator's routes. */
  agentId: bigint;
  /** Another address allowed on the operator's routes (config `server.admin`). */
  admin?: Hex;
  store: Pick<Store, "grants">;
  /** The keeper's encryption keys: inputs are sealed to them. */
  keys: EncryptionKeys;
  /** The clock expiries are read against, unix seconds (default: the system clock). */
  now?: () => number;
}

export class ApiAuth {
  readonly #verified = new Map<string, { signer: Hex; expiry: number }>();
  readonly #now: () => number;

  constructor(private readonly o: ApiAuthOptions) {
    this.#now = o.now ?? unixNow;
  }

  // ---------------------------------------------------------------- signatures

  /** The signer of a signed request to `method` `target` (the path and query as received). */
  async requestSigner(method: string, target: string, header: string | undefined): Promise<Hex> {
    if (header === undefined || header.trim() === "") {
      throw unauthorized(
        "no-signature",
        `${method} ${target.split("?")[0] ?? target} needs a signed request: an Authorization header ` +
          `"${AUTH_SCHEME} signer=<address>, expiry=<unix seconds>, signature=<0x…>" over the EIP-712 ` +
          "KeeperRequest(method, path, signer, expiry) under the Workflows domain (protocol/keeper-api.ts)",
        "authorization",
      );
    }
    const now = this.#now();
    const key = `${method} ${target}\n${header}`;
    const known = this.#verified.get(key);
    if (known) {
      if (known.expiry > now) return known.signer;
      this.#verified.delete(key);
    }
    const auth = parseAuthorization(header);
    if ("error" in auth) throw unauthorized("bad-authorization", `authorization: ${auth.error}`, "authorization");
    checkExpiry(auth.expiry, now, "authorization");
    if (auth.expiry > now + REQUEST_MAX_TTL_SECONDS) {
      throw unauthorized(
        "signature-expiry-too-far",
        `authorization: expiry ${iso(auth.expiry)} is more than ${REQUEST_MAX_TTL_SECONDS} s after the keeper's ` +
          `clock (${iso(now)}): sign each request for a few minutes at most`,
        "authorization",
      );
    }
    const recovered = await this.#recover(
      KEEPER_REQUEST_TYPES,
      "KeeperRequest",
      keeperRequestMessage(method, target, auth.signer, auth.expiry),
      auth.signature,
    );
    if (!same(recovered, auth.signer)) {
      throw unauthorized(
        "bad-signature",
        `authorization: the signature recovers to ${recovered ?? "no address"}, not to signer ${auth.signer} ` +
          `(another key, or signed for another method, path, expiry or chain than ${method} ${target})`,
        "authorization",
      );
    }
    this.#remember(key, auth.signer, auth.expiry);
    return auth.signer;
  }

  /**
   * A `POST /v1/inputs` body: the inputs and the execution's blind (opened), their value hash, the client whose
   * valid, unexpired signature it has, and the `{ inputs, blind }` as sealed to this keeper (what the store keeps).
   */
  async signedInputs(
    body: unknown,
  ): Promise<{ inputs: Json; blind: bigint; inputsHash: Hex; client: Hex; sealed: Sealed }> {
    if (typeof body !== "object" || body === null || !("signature" in body)) {
      throw unauthorized(
        "no-signature",
        "POST /v1/inputs takes signed, sealed inputs: { sealed, inputsHash, client, expiry, signature }, signature " +
          "being the client's EIP-712 ExecutionInputs(inputsHash, client, expiry) under the Workflows domain and " +
          "sealed the inputs and the execution's blind, { inputs, blind }, sealed to the keeper's published " +
          "encryption key (protocol/keeper-api.ts)",
        "signature",
      );
    }
    const post = parseBody(inputsPostSchema, body);
    const { inputsHash } = post;
    checkExpiry(post.expiry, this.#now(), "expiry");
    const recovered = await this.#recover(
      EXECUTION_INPUTS_TYPES,
      "ExecutionInputs",
      executionInputsMessage(inputsHash, post.client, post.expiry),
      post.signature,
    );
    if (!same(recovered, post.client)) {
      throw unauthorized(
        "bad-signature",
        `signature: recovers to ${recovered ?? "no address"}, not to client ${post.client} (another key, or ` +
          `signed over other inputs than these, hash ${inputsHash}, another expiry or chain)`,
        "signature",
      );
    }
    let opened: { inputs: Json; blind: bigint };
    try {
      opened = await openSealedInputs(this.o.keys, this.o.domain, inputsHash, post.sealed);
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      throw new HttpError(400, "bad-request", error.message, { field: error.field });
    }
    return { ...opened, inputsHash, client: post.client, sealed: post.sealed };
  }

  /**
   * A `POST /v1/grants` body: the grant and its signer (valid, unexpired, issued at most GRANT_MAX_SKEW_MS ahead of
   * the keeper's clock; whether it is the client, and whether a revocation covers it, are the caller's).
   */
  async signedGrant(body: unknown): Promise<GrantRow> {
    const post = parseBody(grantPostSchema, body);
    checkExpiry(post.expiry, this.#now(), "expiry");
    this.#checkIssuedAt(post.issuedAt);
    const executionId = BigInt(post.executionId);
    const signer = await this.#recover(
      RESULTS_GRANT_TYPES,
      "ResultsGrant",
      resultsGrantMessage(executionId, post.reader, post.expiry, post.issuedAt),
      post.signature,
    );
    if (signer === undefined) throw unauthorized("bad-signature", "signature: recovers to no address", "signature");
    return {
      executionId,
      reader: post.reader,
      signer,
      expiry: post.expiry,
      issuedAt: post.issuedAt,
      signature: post.signature,
    };
  }

  /**
   * A `POST /v1/revocations` body: the revocation and its signer (valid, issued at most GRANT_MAX_SKEW_MS ahead of
   * the keeper's clock; whether it is the client is the caller's). A revocation has no expiry: posted again, it
   * changes nothing.
   */
  async signedRevocation(body: unknown): Promise<RevocationRow> {
    const post = parseBody(revokePostSchema, body);
    this.#checkIssuedAt(post.issuedAt);
    const executionId = BigInt(post.executionId);
    const signer = await this.#recover(
      RESULTS_REVOKE_TYPES,
      "ResultsRevoke",
      resultsRevokeMessage(executionId, post.reader, post.issuedAt),
      post.signature,
    );
    if (signer === undefined) throw unauthorized("bad-signature", "signature: recovers to no address", "signature");
    return { executionId, reader: post.reader, signer, issuedAt: post.issuedAt, signature: post.signature };
  }

  /**
   * A grant issued in the future would outlive a revocation signed before that time: refused past the clock skew
   * allowed (400 naming issuedAt).
   */
  #checkIssuedAt(issuedAt: number): void {
    const nowMs = this.#now() * 1000;
    if (issuedAt > nowMs + GRANT_MAX_SKEW_MS) {
      throw new HttpError(
        400,
        "bad-request",
        `issuedAt: ${issuedAt} is ${Math.round((issuedAt - nowMs) / 1000)} s after the keeper's clock ` +
          `(${nowMs} unix ms), more than the ${GRANT_MAX_SKEW_MS / 1000} s allowed: issuedAt is unix milliseconds`,
        { field: "issuedAt" },
      );
    }
  }

  // ---------------------------------------------------------------- permissions

  /** The execution's client on chain and the listing it was requested through (0: none). */
  async execution(executionId: bigint): Promise<{ client: Hex; listingId: bigint }> {
    const e = await this.o.client.readContract({
      address: this.o.addresses.workflows,
      abi: workflowsAbi,
      functionName: "getExecution",
      args: [executionId],
    });
    return { client: e.client, listingId: e.listingId };
  }

  /** Throws 403 unless `reader` may read execution `executionId`'s results (see the file header). */
  async mayRead(executionId: bigint, reader: Hex): Promise<"client" | "grant" | "listing"> {
    const { client, listingId } = await this.execution(executionId);
    if (same(reader, client)) return "client";
    if (this.o.store.grants(executionId, reader, this.#now()).some((g) => same(g.signer, client))) return "grant";
    let listing = "";
    if (listingId !== 0n) {
      const { isPublic } = await this.o.client.readContract({
        address: this.o.addresses.workflows,
        abi: workflowsAbi,
        functionName: "getListing",
        args: [listingId],
      });
      if (!isPublic && (await this.#hasAccess(listingId, reader))) return "listing";
      listing = isPublic
        ? ` (its listing ${listingId} is public: access to it opens no one's results)`
        : `, and the users of its restricted listing ${listingId}`;
    }
    throw new HttpError(
      403,
      "forbidden",
      `${reader} may not read execution ${executionId}: its results are for its client ${client}, the readers ` +
        `that client granted (POST /v1/grants)${listing}`,
    );
  }

  /** Throws 403 unless `signer` is the keeper's operator or its configured admin. */
  async requireOperator(signer: Hex, route: string): Promise<void> {
    if (this.o.admin !== undefined && same(signer, this.o.admin)) return;
    const { operator } = await this.o.client.readContract({
      address: this.o.addresses.registry,
      abi: registryAbi,
      functionName: "summaryOf",
      args: [this.o.agentId],
    });
    if (same(signer, operator)) return;
    const admin = this.o.admin === undefined ? "" : ` or its configured admin ${this.o.admin}`;
    throw new HttpError(
      403,
      "forbidden",
      `${route} is for the keeper's operator ${operator} (agent #${this.o.agentId} in the AgentRegistry)${admin}; ` +
        `${signer} is neither`,
    );
  }

  // ---------------------------------------------------------------- helpers

  async #hasAccess(listingId: bigint, user: Hex): Promise<boolean> {
    return this.o.client.readContract({
      address: this.o.addresses.workflows,
      abi: workflowsAbi,
      functionName: "hasAccess",
      args: [listingId, user],
    });
  }

  /** The address that signed `message` (libsecp256k1, common/signatures.ts), or undefined for a malformed signature. */
  #recover(
    types: TypedData,
    primaryType: string,
    message: Record<string, unknown>,
    signature: Hex,
  ): Promise<Hex | undefined> {
    // Synchronous in WebAssembly; the checks that call it stay async (they read the chain too).
    return Promise.resolve(typedDataSigner({ domain: this.o.domain, types, primaryType, message }, signature));
  }

  #remember(key: string, signer: Hex, expiry: number): void {
    if (this.#verified.size >= VERIFIED_MAX) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    this.#verified.set(key, { signer, expiry });
  }
}

function unauthorized(code: string, message: string, field: string): HttpError {
  return new HttpError(401, code, message, { field, headers: { "www-authenticate": AUTH_SCHEME } });
}

function checkExpiry(expiry: number, now: number, field: string): void {
  if (expiry <= now) {
    throw unauthorized(
      "signature-expired",
      `${field}: the signature expired at ${iso(expiry)} (the keeper's clock: ${iso(now)})`,
      field,
    );
  }
}

function same(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

function iso(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace(".000Z", "Z");
}
