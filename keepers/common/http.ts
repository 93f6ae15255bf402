/**
 * Small node:http helpers shared by the daemons' servers (the provider's step API, the keeper's client API):
 * a JSON body reader with a byte limit, a schema check whose 400 names the bad field, JSON and error replies in the
 * one error shape of protocol/steps.ts (`{ error: { code, message, field? } }`), a tiny exact-path route table, and
 * listen / close as promises.
 * Handlers throw `HttpError` to answer with a status; anything else becomes a 500.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { z } from "zod";

import type { ErrorBody } from "../../protocol/steps.js";
import { AitbcError } from "./errors.js";

/**
 * An error that is an HTTP answer: status, machine-readable code, message and the request field at fault.
 * Retryable when the status says so (408, 429, 5xx), else definitive (the request itself is refused).
 */
export class HttpError extends AitbcError {
  override name = "HttpError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  get field(): string | undefined {
    return this.options.field;
  }

  get retryable(): boolean {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/**
 * Reads the request body as JSON, at most `maxBytes`. A larger body (declared or streamed) is a 413 at once; the
 * rest of it is drained unread, so that the client still gets the answer. Bad JSON is a 400 `bad-json`.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseJsonBody(await readBody(req, maxBytes));
}

/** The request body's bytes, at most `maxBytes` (413 as readJsonBody), for a handler that hashes what it got. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const tooLarge = () => new HttpError(413, "too-large", `request body exceeds ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let overflow = Number(req.headers["content-length"] ?? "0") > maxBytes;
    if (overflow) reject(tooLarge());
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (overflow) return;
      if (size > maxBytes) {
        overflow = true;
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

/** A body read by readBody as JSON; 400 `bad-json` when it is not. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch (error) {
    throw new HttpError(400, "bad-json", `request body is not valid JSON (${(error as Error).message})`);
  }
}

/** Validates a request body against `schema`; a 400 `bad-request` names the first bad field (`transcript.sources[0]`). */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = [...(issue?.path ?? [])];
  if (issue?.code === "unrecognized_keys" && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
  const message = issue?.message ?? "invalid";
  throw new HttpError(400, "bad-request", field ? `${field}: ${message}` : `body: ${message}`, {
    ...(field ? { field } : {}),
  });
}

/** Sends `body` as JSON with `status` (bigints as decimal strings). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends the error body of `error` (an HttpError, or a 500 `internal` for anything else). */
export function sendError(res: ServerResponse, error: unknown): void {
  const http = error instanceof HttpError ? error : new HttpError(500, "internal", errorMessage(error));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, http.status, http.body(), http.options.headers);
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/**
 * A request listener over exact `"METHOD /path"` routes (query strings ignored): unknown paths are a 404, known
 * paths with another method a 405, and a throwing handler answers through `sendError`. `onError` sees every
 * error that is not an HttpError below 500 (to log it).
 */
export function router(routes: Record<string, Handler>, onError?: (error: unknown) => void): RequestListener {
  const paths = new Set(Object.keys(routes).map((key) => key.slice(key.indexOf(" ") + 1)));
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const handler = routes[`${req.method ?? "GET"} ${path}`];
    const run = async () => {
      if (handler) {
        await handler(req, res);
        return;
      }
      if (paths.has(path)) throw new HttpError(405, "method-not-allowed", `${req.method ?? ""} ${path} is not allowed`);
      throw new HttpError(404, "not-found", `no route ${path}`);
    };
    run().catch((error: unknown) => {
      if (!(error instanceof HttpError) || error.status >= 500) onError?.(error);
      sendError(res, error);
    });
  };
}

/** Starts `server` on host:port (0 = any free port) and returns its base URL. */
export async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/**
 * Stops accepting connections and resolves once every open request is done. Keep-alive connections are closed as
 * soon as they fall idle (including those whose request finishes during the wait), so that clients holding one
 * do not delay the stop.
 */
export async function closeServer(server: Server): Promise<void> {
  const reaper = setInterval(() => {
    server.closeIdleConnections();
  }, 20);
  try {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => {
        if (error && (error as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") reject(error);
        else resolve();
      });
      server.closeIdleConnections();
    });
  } finally {
    clearInterval(reaper);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
