/**
 * The keeper's HTTP API (config `server`), for its operator and its clients:
 *
 *   GET  /healthz             ok (false in safe mode), address, agent id, chain lag, safe mode, running executions,
 *                             pending transactions
 *   GET  /metrics             Prometheus (metrics.ts)
 *   POST /v1/inputs           a client's inputs for an execution it is about to request: stored by their value
 *                             hash, answered 201 with it; executions waiting for them start
 *   GET  /v1/executions?id=N  one of this keeper's executions: state, steps, result (the last step's output)
 *   GET  /v1/reports          the slash reports (answers that did not check out, with the evidence)
 *
 * Errors are `{ error: { code, message, field? } }` (common/http.ts): 400 for a bad body or id, 404 for an
 * execution this keeper does not know, 413 for a body over `server.maxBodyBytes`.
 */
import { createServer } from "node:http";

import type { Hex } from "viem";

import { valueHashHex, valueSize, type Json } from "../../protocol/values.js";
import type { EventFollower } from "../common/follower.js";
import { closeServer, HttpError, listen, readJsonBody, router, sendJson } from "../common/http.js";
import type { Logger } from "../common/log.js";
import type { SafetyMonitor } from "../common/safety.js";
import type { Store } from "../common/store.js";
import type { TxSender } from "../common/txs.js";
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
  safety: Pick<SafetyMonitor, "safeMode">;
  executions: Pick<ExecutionManager, "active" | "onInputs">;
  follower: Pick<EventFollower, "lag">;
  txs: Pick<TxSender, "pendingCount">;
  metrics: KeeperMetrics;
  logger: Logger;
}

export interface KeeperApi {
  url: string;
  /** Stops accepting requests; resolves once the open ones are answered. */
  close(): Promise<void>;
}

/** Starts the API's server on host:port. */
export async function startKeeperApi(options: KeeperApiOptions): Promise<KeeperApi> {
  const { store, safety, executions, follower, txs, metrics } = options;
  const logger = options.logger.child({ module: "api" });
  const server = createServer(
    router(
      {
        "GET /healthz": (_req, res) => {
          const safe = safety.safeMode();
          sendJson(res, 200, {
            ok: !safe.on,
            address: options.address,
            agentId: options.agentId,
            lag: follower.lag(),
            safeMode: safe,
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
          const body = (await readJsonBody(req, options.maxBodyBytes)) as Json;
          let hash: Hex;
          try {
            hash = valueHashHex(body);
          } catch (error) {
            throw new HttpError(400, "bad-request", (error as Error).message, { field: "input" });
          }
          store.putInputs(hash, body);
          logger.info({ inputsHash: hash, bytes: valueSize(body) }, "inputs received");
          executions.onInputs(hash);
          sendJson(res, 201, { inputsHash: hash });
        },
        "GET /v1/executions": (req, res) => {
          const id = new URL(req.url ?? "/", "http://x").searchParams.get("id") ?? "";
          if (!/^\d+$/.test(id)) throw new HttpError(400, "bad-request", "id must be an execution id", { field: "id" });
          const row = store.execution(BigInt(id));
          if (!row) throw new HttpError(404, "not-found", `execution ${id} is not this keeper's`);
          const steps = store.steps(BigInt(id));
          const last = steps.find((s) => s.step === Math.max(...steps.map((x) => x.step)));
          sendJson(res, 200, {
            ...row,
            steps: steps.map((s) => ({
              step: s.step,
              state: s.state,
              provider: s.provider,
              attempts: s.attempts,
              providerMillis: s.providerMillis,
            })),
            result: row.state === "done" ? ((last?.result as { output?: Json } | undefined)?.output ?? null) : null,
          });
        },
        "GET /v1/reports": (_req, res) => {
          sendJson(res, 200, { reports: store.reports() });
        },
      },
      (error) => {
        logger.error({ err: (error as Error).message }, "admin request failed");
      },
    ),
  );
  const url = await listen(server, options.host, options.port);
  return { url, close: () => closeServer(server) };
}
