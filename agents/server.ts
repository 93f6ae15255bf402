/**
 * The agent's HTTP API: how a client hands over the input of a workload and fetches its result. The chain holds
 * only commitments (the workload's inputHash; the result's resultHash), so:
 *
 * | Route                              | Who        | What                                                            |
 * | ---------------------------------- | ---------- | --------------------------------------------------------------- |
 * | `POST /v1/workloads/input`         | anyone     | `{ workloadId, input, blind }`, kept only when valueHash(input, |
 * |                                    |            | blind) is the workload's inputHash on chain (else 400 `input`)  |
 * | `GET /v1/workloads/result?id=N`    | its client | the output, for a signature of resultMessage(...) by the client |
 * | `GET /healthz`                     | anyone     | ok, agent, memory size                                          |
 * | `GET /v1/agent/report`             | anyone     | the market maker's spread and fill rate, the risk limits        |
 *
 * and the routes of agents/a2a/ (`routes`): the A2A agent card and JSON-RPC endpoint, the ERC-8004 registration
 * file.
 *
 * Whoever posts an input, it is the one the client committed to (its hash is on chain), so the route needs no
 * signature; nothing a caller sends here is written to the agent's experiences. The result is the client's: the
 * request carries `X-AITBC-Signature`, the client's EIP-191 signature of `resultMessage(chainId, marketplace, id)`.
 * Inputs and outputs travel in clear over this API (docs/status.md: sealing them to the agent's published key, as
 * the keeper's API does, is the next step).
 */
import { createServer, type Server } from "node:http";

import { recoverMessageAddress, type Hex } from "viem";

import {
  closeServer,
  HttpError,
  listen,
  readJsonBody,
  router,
  sendJson,
  type Handler,
} from "../keepers/common/http.js";
import type { Logger } from "../keepers/common/log.js";
import { parseBlind, valueHashHex, type Json } from "../protocol/values.js";
import type { Marketplace } from "./marketplace.js";
import type { AgentMemory } from "./memory.js";

/** What a client signs to read workload `id`'s result from the agent. */
export function resultMessage(chainId: number, marketplace: Hex, workloadId: bigint): string {
  return `AITBC workload result: chain ${chainId}, marketplace ${marketplace.toLowerCase()}, workload ${workloadId}`;
}

export interface AgentServer {
  url: string;
  close(): Promise<void>;
}

export async function startAgentServer(options: {
  host: string;
  port: number;
  maxBodyBytes: number;
  chainId: number;
  market: Marketplace;
  memory: AgentMemory;
  agent: () => { address: Hex; agentId: bigint };
  /** More routes (agents/a2a/). */
  routes?: Record<string, Handler>;
  /** What `GET /v1/agent/report` answers (figures from memory and the chain). */
  report?: () => Json;
  logger: Logger;
}): Promise<AgentServer> {
  const { market, memory } = options;
  const logger = options.logger.child({ module: "server" });
  const workloadIdOf = (value: unknown, field: string): bigint => {
    if (typeof value !== "string" || !/^\d{1,78}$/.test(value))
      throw new HttpError(400, "bad-request", `${field}: must be a decimal workload id`, { field });
    return BigInt(value);
  };
  const handler = router(
    {
      ...options.routes,
      "POST /v1/workloads/input": async (req, res) => {
        const body = (await readJsonBody(req, options.maxBodyBytes)) as Record<string, unknown> | null;
        if (typeof body !== "object" || body === null)
          throw new HttpError(400, "bad-request", "body: must be an object", { field: "body" });
        const workloadId = workloadIdOf(body.workloadId, "workloadId");
        let blind: bigint;
        try {
          blind = parseBlind(body.blind);
        } catch (error) {
          throw new HttpError(400, "bad-request", (error as Error).message, { field: "blind" });
        }
        if (!("input" in body)) throw new HttpError(400, "bad-request", "input: required", { field: "input" });
        const input = body.input as Json;
        const w = await market.workload(workloadId);
        if (w.status === 0)
          throw new HttpError(404, "unknown-workload", `workloadId: no workload ${workloadId}`, {
            field: "workloadId",
          });
        let hash: Hex;
        try {
          hash = valueHashHex(input, blind);
        } catch (error) {
          throw new HttpError(400, "bad-request", `input: ${(error as Error).message}`, { field: "input" });
        }
        if (hash.toLowerCase() !== w.inputHash.toLowerCase())
          throw new HttpError(
            400,
            "bad-request",
            `input: hashes to ${hash}, not the workload's inputHash ${w.inputHash}`,
            {
              field: "input",
            },
          );
        memory.putInput(workloadId, input, blind);
        logger.info({ event: "input", workloadId }, `input of workload ${workloadId} received and checked`);
        sendJson(res, 200, { workloadId, accepted: true });
      },
      "GET /v1/workloads/result": async (req, res) => {
        const id = new URL(req.url ?? "/", "http://agent").searchParams.get("id");
        const workloadId = workloadIdOf(id, "id");
        const signature = req.headers["x-aitbc-signature"];
        if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature))
          throw new HttpError(401, "no-signature", "X-AITBC-Signature: the client's signature is required", {
            field: "X-AITBC-Signature",
          });
        const w = await market.workload(workloadId);
        const signer = await recoverMessageAddress({
          message: resultMessage(options.chainId, market.address, workloadId),
          signature: signature as Hex,
        }).catch(() => undefined);
        if (signer?.toLowerCase() !== w.client.toLowerCase())
          throw new HttpError(403, "not-client", "only the workload's client reads its result", {
            field: "X-AITBC-Signature",
          });
        const output = memory.work(workloadId)?.output;
        if (output === undefined) throw new HttpError(404, "no-result", `workload ${workloadId}: no result yet`);
        sendJson(res, 200, { workloadId, output, resultHash: w.resultHash });
      },
      "GET /v1/agent/report": (_req, res) => {
        sendJson(res, 200, options.report?.() ?? {});
      },
      "GET /healthz": (_req, res) => {
        const { address, agentId } = options.agent();
        sendJson(res, 200, { ok: true, agent: address, agentId, experiences: memory.count() });
      },
    },
    (error) => {
      logger.error({ err: (error as Error).message }, "request failed");
    },
  );
  const server: Server = createServer(handler);
  const url = await listen(server, options.host, options.port);
  return { url, close: () => closeServer(server) };
}
