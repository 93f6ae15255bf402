/**
 * The keeper's HTTP API (config `server`), for its clients and its operator. Authentication is always on: EIP-712
 * signatures under the Workflows domain, checked by auth.ts (formats in protocol/keeper-api.ts).
 *
 *   GET  /healthz              open: ok (false in safe mode), address, agent id, chain lag, safe mode (on, reason,
 *                              since), running executions, pending transactions. No execution data.
 *   GET  /metrics              open: Prometheus (metrics.ts); counts and durations, no execution ids or addresses
 *   POST /v1/inputs            the client's signed inputs and the execution's blind (ExecutionInputs, unexpired),
 *                              `{ inputs, blind }` sealed to the keeper's encryption key: opened and checked against
 *                              their hash under the blind, stored sealed (blind included) by their value hash with
 *                              the signer, answered 201; executions waiting for them start. An execution runs only
 *                              with inputs its client on chain signed (executions.ts).
 *   POST /v1/grants            a ResultsGrant signed by the execution's client: the named reader may read it (409
 *                              `grant-revoked` for a grant a stored revocation covers)
 *   POST /v1/revocations       a ResultsRevoke signed by the execution's client: the reader's grants issued until its
 *                              issuedAt are void from the next request on, and stay void (the revocation is kept)
 *   GET  /v1/executions?id=N&key=K  a signed request by a reader of one of this keeper's executions (its client, a
 *                              reader it granted, a user of its restricted listing): state, steps, and the result
 *                              with the execution's blind (to check the result against the chain's resultHash),
 *                              `{ result, blind }` sealed to the reader's X25519 key K (`sealedResult`; null without
 *                              K or before done)
 *   GET  /v1/reports           a signed request by the operator: the slash reports (answers that did not check out,
 *                              with the evidence, stored sealed to the keeper and opened for the operator)
 *   POST /v1/safe-mode/clear   a signed request by the operator: leave safe mode (SafetyMonitor.clearSafeMode)
 *
 * Errors are `{ error: { code, message, field? } }` (common/http.ts): 400 for a bad body or id (naming the field),
 * 401 for a missing, malformed, expired or wrong signature (saying which), 403 for a valid signer who may not (saying
 * who may), 404 for an execution this keeper does not know, 413 for a body over `server.maxBodyBytes`.
 */
import { createServer, type IncomingMessage } from "node:http";

import type { Hex, TypedDataDomain } from "viem";

import { blindToHex } from "../../circuits/lib/field.js";
import { openSealedInputs, readerKeySchema, type SealedResult } from "../../protocol/keeper-api.js";
import { open, resultSubject, seal, sealContext, sealedSchema, type EncryptionKeys } from "../../protocol/sealed.js";
import { openStepResponse, stepResponseSchema } from "../../protocol/steps.js";
import type { Json } from "../../protocol/values.js";
import type { EventFollower } from "../common/follower.js";
import { closeServer, HttpError, listen, readJsonBody, router, sendJson } from "../common/http.js";
import type { Logger } from "../common/log.js";
import type { SafetyMonitor } from "../common/safety.js";
import type { Store } from "../common/store.js";
import type { TxSender } from "../common/txs.js";
import type { ApiAuth } from "./auth.js";
import { reportSubject } from "./reports.js";
import type { ExecutionManager } from "./executions.js";
import type { KeeperMetrics } from "./metrics.js";

export interface KeeperApiOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  maxBodyBytes: number;
  /** The keeper's agent address and id, for /healthz. */
  address: Hex;
  agentId: bigint;
  store: Store;
  auth: ApiAuth;
  safety: Pick<SafetyMonitor, "safeMode" | "clearSafeMode">;
  executions: Pick<ExecutionManager, "active" | "onInputs">;
  follower: Pick<EventFollower, "lag">;
  txs: Pick<TxSender, "pendingCount">;
  metrics: KeeperMetrics;
  logger: Logger;
  /** The keeper's encryption keys (stored payloads are sealed to them) and the Workflows domain (the contexts). */
  keys: EncryptionKeys;
  domain: TypedDataDomain;
}

export interface KeeperApi {
  url: string;
  /** Stops accepting requests; resolves once the open ones are answered. */
  close(): Promise<void>;
}

/** Starts the API's server on host:port. */
export async function startKeeperApi(options: KeeperApiOptions): Promise<KeeperApi> {
  const { store, auth, safety, executions, follower, txs, metrics, keys, domain } = options;
  const logger = options.logger.child({ module: "api" });
  /** The signer of a signed request (401 otherwise). */
  const signer = (req: IncomingMessage) =>
    auth.requestSigner(req.method ?? "GET", req.url ?? "/", req.headers.authorization);
  const server = createServer(
    router(
      {
        "GET /healthz": (_req, res) => {
          // 503 in safe mode (the keeper takes no action until its operator clears it), with the reason: a load
          // balancer or an uptime check sees it as down, the operator sees why.
          const { on, reason, since } = safety.safeMode();
          sendJson(res, on ? 503 : 200, {
            ok: !on,
            address: options.address,
            agentId: options.agentId,
            lag: follower.lag(),
            // Not the details: they name the refused action and its value.
            safeMode: on ? { on, reason, since } : { on },
            running: executions.active(),
            pendingTransactions: txs.pendingCount(),
          });
        },
        "GET /metrics": async (_req, res) => {
          metrics.pendingTransactions(txs.pendingCount());
          metrics.chainLag(follower.lag());
          const text = await metrics.metrics();
          res.writeHead(200, { "content-type": metrics.contentType });
          res.end(text);
        },
        "POST /v1/inputs": async (req, res) => {
          const body = await readJsonBody(req, options.maxBodyBytes);
          const { inputsHash, client, sealed } = await auth.signedInputs(body);
          // Kept as the client sealed them to this keeper (the blind inside): the database never holds them in clear.
          store.putInputs(inputsHash, sealed, client);
          logger.info({ inputsHash, client, sealedBytes: sealed.ct.length }, "inputs received");
          executions.onInputs(inputsHash);
          sendJson(res, 201, { inputsHash, client });
        },
        "POST /v1/grants": async (req, res) => {
          const grant = await auth.signedGrant(await readJsonBody(req, options.maxBodyBytes));
          const id = grant.executionId;
          if (!store.execution(id)) throw new HttpError(404, "not-found", `execution ${id} is not this keeper's`);
          const { client } = await auth.execution(id);
          if (grant.signer.toLowerCase() !== client.toLowerCase()) {
            throw new HttpError(
              403,
              "forbidden",
              `only execution ${id}'s client ${client} may grant reading its results; the grant is signed by ${grant.signer}`,
            );
          }
          if (!store.addGrant(grant)) {
            throw new HttpError(
              409,
              "grant-revoked",
              `issuedAt: execution ${id}'s client revoked ${grant.reader}'s grants issued until ` +
                `${store.revokedThrough(id, grant.reader, grant.signer) ?? 0} (unix ms); this grant was issued at ` +
                `${grant.issuedAt}: sign a new one`,
              { field: "issuedAt" },
            );
          }
          logger.info(
            { executionId: id.toString(), reader: grant.reader, expiry: grant.expiry, issuedAt: grant.issuedAt },
            "results granted",
          );
          sendJson(res, 201, { executionId: id, reader: grant.reader, expiry: grant.expiry, issuedAt: grant.issuedAt });
        },
        "POST /v1/revocations": async (req, res) => {
          const revocation = await auth.signedRevocation(await readJsonBody(req, options.maxBodyBytes));
          const id = revocation.executionId;
          if (!store.execution(id)) throw new HttpError(404, "not-found", `execution ${id} is not this keeper's`);
          const { client } = await auth.execution(id);
          if (revocation.signer.toLowerCase() !== client.toLowerCase()) {
            throw new HttpError(
              403,
              "forbidden",
              `only execution ${id}'s client ${client} may revoke its grants; the revocation is signed by ${revocation.signer}`,
            );
          }
          // From here on mayRead finds no grant it voids: the reader's next read is refused.
          const through = store.addRevocation(revocation);
          logger.info({ executionId: id.toString(), reader: revocation.reader, through }, "results grant revoked");
          sendJson(res, 201, { executionId: id, reader: revocation.reader, revokedThrough: through });
        },
        "GET /v1/executions": async (req, res) => {
          const query = new URL(req.url ?? "/", "http://x").searchParams;
          const id = query.get("id") ?? "";
          if (!/^\d+$/.test(id)) throw new HttpError(400, "bad-request", "id must be an execution id", { field: "id" });
          const key = query.get("key");
          const readerKey = key === null ? undefined : readerKeySchema.safeParse(key);
          if (readerKey?.success === false)
            throw new HttpError(400, "bad-request", "key must be an X25519 public key (0x + 64 hex, not zero)", {
              field: "key",
            });
          const reader = await signer(req);
          const row = store.execution(BigInt(id));
          if (!row) throw new HttpError(404, "not-found", `execution ${id} is not this keeper's`);
          await auth.mayRead(BigInt(id), reader);
          const steps = store.steps(BigInt(id));
          const last = steps.find((s) => s.step === Math.max(...steps.map((x) => x.step)));
          // Decrypted only here, to be sealed again to the reader's key at once, with the blind from the inputs.
          let sealedResult = null;
          if (row.state === "done" && last?.state === "done" && readerKey?.data !== undefined) {
            const answer = await openStepResponse(keys, domain, stepResponseSchema.parse(last.result));
            const { client } = await auth.execution(BigInt(id));
            const stored = store.inputsFrom(row.inputsHash, client);
            if (stored === undefined) throw new Error(`execution ${id}: its inputs are missing from the store`);
            const { blind } = await openSealedInputs(keys, domain, row.inputsHash, sealedSchema.parse(stored));
            const plaintext: SealedResult = { result: answer.output, blind: blindToHex(blind) };
            sealedResult = await seal(
              readerKey.data,
              plaintext,
              sealContext(domain, "result", resultSubject(id, reader)),
            );
          }
          sendJson(res, 200, {
            ...row,
            steps: steps.map((s) => ({
              step: s.step,
              state: s.state,
              provider: s.provider,
              attempts: s.attempts,
              providerMillis: s.providerMillis,
            })),
            sealedResult,
          });
        },
        "GET /v1/reports": async (req, res) => {
          await auth.requireOperator(await signer(req), "GET /v1/reports");
          const reports = await Promise.all(
            store.reports().map(async (r) => ({
              ...r,
              evidence: (await open(
                keys,
                sealedSchema.parse(r.evidence),
                sealContext(domain, "keeper-store", reportSubject(r.executionId, r.step)),
              )) as Json,
            })),
          );
          sendJson(res, 200, { reports });
        },
        "POST /v1/safe-mode/clear": async (req, res) => {
          const by = await signer(req);
          await auth.requireOperator(by, "POST /v1/safe-mode/clear");
          const cleared = safety.clearSafeMode(by);
          sendJson(res, 200, { cleared, safeMode: safety.safeMode() });
        },
      },
      (error) => {
        logger.error({ err: (error as Error).message }, "API request failed");
      },
    ),
  );
  const url = await listen(server, options.host, options.port);
  return { url, close: () => closeServer(server) };
}
