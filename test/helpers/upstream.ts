/**
 * An OpenAI-compatible upstream test double for the provider node's `openai` backend: a real HTTP server on
 * 127.0.0.1 that parses each request, answers in OpenAI's response shapes (chat completions, embeddings), and records
 * every request it got (`received`), so that a test sees exactly what reached the upstream (and what did not).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

import { closeServer, listen } from "../../keepers/common/http.js";
import type { Json } from "../../protocol/values.js";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: { [key: string]: Json };
}

/** A small OpenAI-compatible server: parses the request, answers in OpenAI's response shapes, records it all. */
export class Upstream {
  readonly received: Received[] = [];
  /** Requests whose client hung up before the answer. */
  aborted = 0;
  /** `content`: the chat answer's text, in place of the echo (e.g. a model's proposed action). */
  behavior: { delayMs?: number; status?: number; malformed?: boolean; content?: string } = {};
  url = "";
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { [key: string]: Json };
      this.received.push({ path: req.url ?? "", headers: req.headers, body });
      res.on("close", () => {
        if (!res.writableFinished) this.aborted += 1;
      });
      setTimeout(() => {
        if (res.destroyed) return;
        const { status = 200, malformed = false } = this.behavior;
        if (status !== 200) res.writeHead(status).end(JSON.stringify({ error: { message: "model overloaded" } }));
        else if (malformed) res.writeHead(200).end("{not json");
        else
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify(answer(req.url, body, this.behavior.content)));
      }, this.behavior.delayMs ?? 0);
    });
  });

  async start(): Promise<this> {
    this.url = await listen(this.#server, "127.0.0.1", 0);
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await closeServer(this.#server);
  }
}

function answer(route: string | undefined, body: { [key: string]: Json }, content?: string): Json {
  if (route === "/v1/chat/completions") {
    const messages = body.messages as { role: string; content: string }[];
    const last = messages[messages.length - 1]?.content ?? "";
    return {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: body.model ?? null,
      choices: [
        { index: 0, message: { role: "assistant", content: content ?? `echo: ${last}` }, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
  }
  const inputs = typeof body.input === "string" ? [body.input] : (body.input as string[]);
  // Out of order on purpose: clients must sort by index.
  const data = inputs.map((t, i) => ({ object: "embedding", index: i, embedding: [t.length, i, 0.5] })).reverse();
  return { object: "list", data, model: body.model ?? null, usage: { prompt_tokens: 1, total_tokens: 1 } };
}
