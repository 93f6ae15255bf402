/**
 * A proxy to any OpenAI-compatible inference server (vLLM, Ollama, TGI, llama.cpp server): the GPU work happens
 * there; this node signs what it answered.
 *
 *   chat:       input {messages: [{role, content}] | prompt: string, temperature?, maxTokens?}
 *               -> POST {url}/v1/chat/completions -> output {text, finishReason, model}
 *   embeddings: input {input: string | string[]} -> POST {url}/v1/embeddings -> output {embeddings: number[][]}
 *
 * The model id a step names is keccak256 of the upstream model name (the workflow spec's `id(name)`).
 * Temperature defaults to 0 so that a step is as reproducible as the upstream allows.
 */
import { keccak256, toHex, type Hex } from "viem";

import { HttpError, errorMessage } from "../../common/http.js";
import type { Json } from "../../../protocol/values.js";
import { badInput, type Backend, type RunContext } from "./types.js";

export interface UpstreamConfig {
  url: string;
  model: string;
  kind: "chat" | "embeddings";
  apiKeyEnv?: string | undefined;
  timeoutMs: number;
}

type JsonObject = { [key: string]: Json };

/** The model id of an upstream model name: keccak256 of its UTF-8 bytes (ethers `id`). */
export function upstreamModelHash(model: string): Hex {
  return keccak256(toHex(model));
}

export function createOpenAiBackend(
  service: { name: string; stepType: "inference" | "training" | "data-processing"; price: bigint; capacity: number },
  upstream: UpstreamConfig,
  env: NodeJS.ProcessEnv,
): Backend {
  const base = upstream.url.replace(/\/+$/, "");
  const apiKey = upstream.apiKeyEnv === undefined ? undefined : env[upstream.apiKeyEnv];
  if (upstream.apiKeyEnv !== undefined && !apiKey)
    throw new Error(`services: ${service.name}: upstream.apiKeyEnv names ${upstream.apiKeyEnv}, which is not set`);
  const call = (path: string, body: JsonObject, signal: AbortSignal) =>
    postJson(`${base}${path}`, body, { apiKey, signal, timeoutMs: upstream.timeoutMs });
  return {
    name: service.name,
    kind: "openai",
    stepType: service.stepType,
    model: upstreamModelHash(upstream.model),
    price: service.price,
    capacity: service.capacity,
    provable: false,
    async run(input: Json, ctx: RunContext) {
      if (upstream.kind === "embeddings") {
        const answer = await call("/v1/embeddings", embeddingsRequest(upstream.model, input), ctx.signal);
        return { output: embeddingsOutput(answer) };
      }
      const answer = await call("/v1/chat/completions", chatRequest(upstream.model, input), ctx.signal);
      return { output: chatOutput(answer) };
    },
    async close() {
      // fetch keeps no per-backend state.
    },
  };
}

// ---------------------------------------------------------------- requests

function chatRequest(model: string, input: Json): JsonObject {
  if (!isObject(input)) throw badInput("input", "must be an object with `messages` or `prompt`");
  const known = new Set(["messages", "prompt", "temperature", "maxTokens"]);
  for (const key of Object.keys(input)) if (!known.has(key)) throw badInput(`input.${key}`, "unknown field");
  const { messages, prompt, temperature = 0, maxTokens } = input;
  if ((messages === undefined) === (prompt === undefined))
    throw badInput("input.messages", "give `messages` or `prompt`");
  if (prompt !== undefined && typeof prompt !== "string") throw badInput("input.prompt", "must be a string");
  if (typeof temperature !== "number" || temperature < 0 || temperature > 2)
    throw badInput("input.temperature", "must be a number in [0, 2]");
  if (maxTokens !== undefined && (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1))
    throw badInput("input.maxTokens", "must be a positive integer");
  const body: JsonObject = {
    model,
    messages: typeof prompt === "string" ? [{ role: "user", content: prompt }] : chatMessages(messages ?? null),
    temperature,
  };
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  return body;
}

function chatMessages(messages: Json): Json[] {
  if (!Array.isArray(messages) || messages.length === 0) throw badInput("input.messages", "must be a non-empty array");
  return messages.map((m, i) => {
    if (!isObject(m)) throw badInput(`input.messages[${i}]`, "must be an object {role, content}");
    if (typeof m.role !== "string" || !["system", "user", "assistant"].includes(m.role))
      throw badInput(`input.messages[${i}].role`, 'must be "system", "user" or "assistant"');
    if (typeof m.content !== "string") throw badInput(`input.messages[${i}].content`, "must be a string");
    return { role: m.role, content: m.content };
  });
}

function embeddingsRequest(model: string, input: Json): JsonObject {
  if (!isObject(input)) throw badInput("input", "must be an object {input: string | string[]}");
  for (const key of Object.keys(input)) if (key !== "input") throw badInput(`input.${key}`, "unknown field");
  const text = input.input;
  const ok =
    typeof text === "string" || (Array.isArray(text) && text.length > 0 && text.every((t) => typeof t === "string"));
  if (!ok) throw badInput("input.input", "must be a string or a non-empty array of strings");
  return { model, input: text };
}

// ---------------------------------------------------------------- answers

function chatOutput(answer: unknown): Json {
  const choice = isObject(answer) && Array.isArray(answer.choices) ? answer.choices[0] : undefined;
  const message = isObject(choice) ? choice.message : undefined;
  const text = isObject(message) ? message.content : undefined;
  if (!isObject(choice) || typeof text !== "string")
    throw upstreamError("answer has no choices[0].message.content string");
  const finishReason = typeof choice.finish_reason === "string" ? choice.finish_reason : "unknown";
  const model = isObject(answer) && typeof answer.model === "string" ? answer.model : "";
  return { text, finishReason, model };
}

function embeddingsOutput(answer: unknown): Json {
  const data = isObject(answer) ? answer.data : undefined;
  if (!Array.isArray(data) || data.length === 0) throw upstreamError("answer has no data array");
  const rows = [...data].sort((a, b) => indexOf(a) - indexOf(b));
  return {
    embeddings: rows.map((row, i) => {
      const vector = isObject(row) ? row.embedding : undefined;
      if (!Array.isArray(vector) || !vector.every((x) => typeof x === "number" && Number.isFinite(x)))
        throw upstreamError(`answer's data[${i}].embedding is not an array of numbers`);
      return vector;
    }),
  };
}

function indexOf(row: Json): number {
  return isObject(row) && typeof row.index === "number" ? row.index : 0;
}

// ---------------------------------------------------------------- transport

/** POSTs `body`; a refused connection, a non-2xx answer, malformed JSON or no answer in time is a 502. */
async function postJson(
  url: string,
  body: JsonObject,
  options: { apiKey: string | undefined; signal: AbortSignal; timeoutMs: number },
): Promise<Json> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const failed = (what: string, error: unknown): Error => {
    if (options.signal.aborted) return options.signal.reason as Error;
    if (timeout.aborted) return upstreamError(`${url} gave no answer within ${options.timeoutMs} ms`);
    return upstreamError(`${url} ${what} (${errorMessage(error)})`);
  };
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal,
    });
    text = await res.text();
  } catch (error) {
    throw failed("unreachable", error);
  }
  if (!res.ok) throw upstreamError(`${url} answered ${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw upstreamError(`${url} answered malformed JSON: ${text.slice(0, 200)}`);
  }
}

function upstreamError(message: string): HttpError {
  return new HttpError(502, "upstream", `upstream: ${message}`);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
