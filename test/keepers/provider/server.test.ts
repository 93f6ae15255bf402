/**
 * The provider's step server (keepers/provider/server.ts with the backends of keepers/provider/backends): its HTTP
 * step API (every backend, the record and signature rules, transcript mode, an inference proof, every refusal,
 * limits, chaos, the GET endpoints), against an OpenAI-compatible upstream test double, every request signed by the
 * keeper of a running execution on a test chain (test/helpers/keeper-chain.ts). Who may run a step is tested in
 * auth.test.ts, the configuration in config.test.ts, registration on a chain in node.test.ts.
 */
import { expect } from "chai";
import { id } from "ethers";
import { pino, type Logger } from "pino";
import { keccak256, toHex, type Hex } from "viem";

import { fieldToBytes32, poseidonHash } from "../../../circuits/lib/field.js";
import { fromSolidityProof } from "../../../circuits/lib/prover.js";
import { irisInfer, irisModelHash, loadIrisModel, quantizeFeatures } from "../../../circuits/lib/iris.js";
import { stepResultSigner } from "../../../protocol/eip712.js";
import {
  capabilityOf,
  errorSchema,
  infoSchema,
  solidityProofOf,
  transcriptLeaf,
  ZERO_HASH,
  type ParsedStepResponse,
  type StepRequest,
} from "../../../protocol/steps.js";
import { valueHash, valueHashHex } from "../../../protocol/values.js";
import {
  createBackend,
  serviceModelHash,
  SharedResources,
  type Backend,
} from "../../../keepers/provider/backends/index.js";
import { DATA_MODEL } from "../../../keepers/provider/backends/data.js";
import { providerConfigSchema, type ProviderConfig } from "../../../keepers/provider/config.js";
import { createProviderServer, type ChaosOptions, type ProviderServer } from "../../../keepers/provider/server.js";
import {
  account,
  AGENT_KEY,
  AITBC,
  OPERATOR,
  captureLogger,
  IRIS,
  SETOSA_CM,
  setosa,
  stepRequest,
} from "../../helpers/keepers.js";
import { encryptionKeysFrom } from "../../../protocol/sealed.js";
import { encryptionKeys, keeperChain, type KeeperChain } from "../../helpers/keeper-chain.js";
import { Upstream } from "../../helpers/upstream.js";
import { TEST_BLIND } from "../../helpers/proofs.js";

const API_KEY_ENV = "AITBC_TEST_UPSTREAM_KEY";
const CHAT_MODEL = "llama-3-8b-instruct";
const EMBED_MODEL = "nomic-embed-text";

// ---------------------------------------------------------------- helpers

/** The test chain whose keeper signs every request (set before the tests run). */
let chain: KeeperChain;

function testConfig(upstreamUrl: string, overrides: Record<string, unknown> = {}): ProviderConfig {
  return providerConfigSchema.parse({
    rpc: { urls: ["http://127.0.0.1:8545"] },
    agent: { privateKey: AGENT_KEY, operator: OPERATOR },
    services: [
      { name: "iris", stepType: "inference", backend: "iris", price: "1" },
      { name: "data", stepType: "data-processing", backend: "data", price: "0.1" },
      {
        name: "chat",
        stepType: "inference",
        backend: "openai",
        price: "2",
        upstream: { url: upstreamUrl, model: CHAT_MODEL, apiKeyEnv: API_KEY_ENV },
      },
      {
        name: "embed",
        stepType: "inference",
        backend: "openai",
        price: "0.5",
        upstream: { url: `${upstreamUrl}/`, model: EMBED_MODEL, kind: "embeddings", timeoutMs: 300 },
      },
    ],
    ...overrides,
  });
}

async function startProvider(
  upstream: Upstream,
  shared: SharedResources,
  options: { server?: Record<string, unknown>; chaos?: Partial<ChaosOptions>; logger?: Logger } = {},
): Promise<ProviderServer> {
  const config = testConfig(upstream.url, { server: options.server ?? {} });
  return createProviderServer({
    account,
    keys: (await encryptionKeys()).provider,
    domain: chain.domain,
    auth: chain.auth(),
    services: config.services.map((s) => createBackend(s, shared, { [API_KEY_ENV]: "sk-test-123" })),
    limits: config.server,
    chaos: { tamperOutputRate: 0, badSignatureRate: 0, extraDelayMs: 0, ...options.chaos },
    logger: options.logger ?? pino({ level: "silent" }),
    agentId: 42n,
  });
}

/** A non-2xx answer: its status and error body. */
async function refusal(url: string, body: unknown, raw = false) {
  const reply = await chain.post(url, body, { raw });
  return { status: reply.status, headers: reply.headers, ...errorSchema.parse(reply.body).error };
}

async function signerOf(r: ParsedStepResponse): Promise<Hex | undefined> {
  const message = {
    executionId: BigInt(r.executionId),
    step: r.step,
    inputHash: r.record.inputHash,
    outputHash: r.record.outputHash,
    cost: BigInt(r.record.cost),
  };
  return stepResultSigner(chain.domain, message, r.signature as Hex);
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const CHAT = id(CHAT_MODEL) as Hex;
const EMBED = id(EMBED_MODEL) as Hex;

// ---------------------------------------------------------------- the step API

describe("provider node", function () {
  const upstream = new Upstream();
  const shared = new SharedResources();
  let provider: ProviderServer;

  before(async function () {
    chain = await keeperChain();
    await upstream.start();
    provider = await startProvider(upstream, shared);
  });

  after(async function () {
    await provider.close();
    await upstream.close();
    await shared.close();
  });

  beforeEach(function () {
    upstream.behavior = {};
    upstream.received.length = 0;
  });

  describe("model hashes", function () {
    it("are the Iris weight commitment, DATA_MODEL and id(upstream model)", function () {
      expect(IRIS).to.equal(fieldToBytes32(irisModelHash(loadIrisModel())));
      expect(serviceModelHash({ backend: "data", upstream: undefined })).to.equal(keccak256(toHex("aitbc.data.v1")));
      expect(DATA_MODEL).to.equal(id("aitbc.data.v1"));
      const upstreamConfig = { url: "http://x", model: CHAT_MODEL, kind: "chat" as const, timeoutMs: 1 };
      expect(serviceModelHash({ backend: "openai", upstream: upstreamConfig })).to.equal(CHAT);
      expect(capabilityOf("data-processing")).to.equal(id("data-processing"));
    });
  });

  describe("POST /v1/steps", function () {
    it("runs the Iris model: basic record over the typed input and output, signed by the agent", async function () {
      const r = await chain.step(provider.url);
      const result = irisInfer(loadIrisModel(), quantizeFeatures(SETOSA_CM));
      expect(r.output).to.deep.equal({
        kind: "iris-prediction",
        predictedClass: result.predictedClass,
        scores: result.scores.map(String),
      });
      expect(result.predictedClass).to.equal(0); // setosa
      expect(r.record.inputHash).to.equal(valueHashHex(setosa(), TEST_BLIND));
      expect(r.record.outputHash).to.equal(valueHashHex(r.output, TEST_BLIND));
      expect(r.record.cost).to.equal(AITBC.toString());
      expect(r.provider).to.equal(account.address);
      expect([r.executionId, r.step]).to.deep.equal(["1", 3]);
      expect(r.proof).to.equal(undefined);
      expect(await signerOf(r)).to.equal(account.address);
    });

    it("runs a data operation; with a transcript the record is (0, leaf over the sources and the output)", async function () {
      const sources: Hex[] = [fieldToBytes32(5n), fieldToBytes32(9n)];
      const r = await chain.step(provider.url, {
        stepType: "data-processing",
        model: DATA_MODEL,
        input: { op: "iris-features", cm: SETOSA_CM },
        transcript: { sources },
      });
      expect(r.output).to.deep.equal(setosa());
      expect(r.record.inputHash).to.equal(ZERO_HASH);
      expect(r.record.outputHash).to.equal(transcriptLeaf(sources, valueHash(r.output, TEST_BLIND)));
      expect(r.record.outputHash).to.equal(fieldToBytes32(poseidonHash([5n, 9n, valueHash(setosa(), TEST_BLIND)])));
      expect(r.record.cost).to.equal((AITBC / 10n).toString());
      expect(await signerOf(r)).to.equal(account.address);
    });

    it("proxies chat to the OpenAI-compatible upstream (prompt, temperature 0, max_tokens, API key)", async function () {
      const r = await chain.step(provider.url, { model: CHAT, input: { prompt: "hello there", maxTokens: 16 } });
      expect(r.output).to.deep.equal({ text: "echo: hello there", finishReason: "stop", model: CHAT_MODEL });
      expect(upstream.received).to.have.length(1);
      const [got] = upstream.received;
      expect(got?.path).to.equal("/v1/chat/completions");
      expect(got?.headers.authorization).to.equal("Bearer sk-test-123");
      expect(got?.body).to.deep.equal({
        model: CHAT_MODEL,
        messages: [{ role: "user", content: "hello there" }],
        temperature: 0,
        max_tokens: 16,
      });
      expect(r.record.inputHash).to.equal(valueHashHex({ prompt: "hello there", maxTokens: 16 }, TEST_BLIND));
      expect(r.record.outputHash).to.equal(valueHashHex(r.output, TEST_BLIND));
      expect(await signerOf(r)).to.equal(account.address);
    });

    it("passes chat messages and temperature through", async function () {
      const messages = [
        { role: "system", content: "be brief" },
        { role: "user", content: "2+2?" },
      ];
      const r = await chain.step(provider.url, { model: CHAT, input: { messages, temperature: 0.7 } });
      expect((r.output as { text: string }).text).to.equal("echo: 2+2?");
      expect(upstream.received[0]?.body).to.deep.equal({ model: CHAT_MODEL, messages, temperature: 0.7 });
    });

    it("proxies embeddings (rows in index order, no API key header when none is configured)", async function () {
      const r = await chain.step(provider.url, { model: EMBED, input: { input: ["ab", "cde"] } });
      expect(r.output).to.deep.equal({
        embeddings: [
          [2, 0, 0.5],
          [3, 1, 0.5],
        ],
      });
      expect(upstream.received[0]?.path).to.equal("/v1/embeddings");
      expect(upstream.received[0]?.body).to.deep.equal({ model: EMBED_MODEL, input: ["ab", "cde"] });
      expect(upstream.received[0]?.headers.authorization).to.equal(undefined);
    });

    it("proves an Iris inference whose leaf is the record's transcript leaf", async function () {
      this.timeout(60_000);
      const input = setosa();
      const sources = [valueHashHex(input, TEST_BLIND)];
      const r = await chain.step(provider.url, { proof: true, transcript: { sources } });
      const proof = r.proof;
      if (proof === undefined) throw new Error("no proof");
      expect(proof.inputHash).to.equal(valueHash(input, TEST_BLIND).toString());
      expect(proof.outputHash).to.equal(valueHash(r.output, TEST_BLIND).toString());
      const leaf = BigInt(r.record.outputHash);
      expect(leaf).to.equal(poseidonHash([valueHash(input, TEST_BLIND), 0n, valueHash(r.output, TEST_BLIND)]));
      const signals = [BigInt(IRIS), BigInt(proof.inputHash), BigInt(proof.outputHash), leaf];
      expect(
        await shared.prover.verify("inference", fromSolidityProof(solidityProofOf(proof.proof)), signals),
      ).to.equal(true);
      const forged = [signals[0] ?? 0n, signals[1] ?? 0n, signals[2] ?? 0n, leaf + 1n];
      expect(await shared.prover.verify("inference", fromSolidityProof(solidityProofOf(proof.proof)), forged)).to.equal(
        false,
      );
      expect(await signerOf(r)).to.equal(account.address);
    });

    it("refuses bad JSON with 400 bad-json", async function () {
      const e = await refusal(provider.url, '{"executionId": ', true);
      expect([e.status, e.code]).to.deep.equal([400, "bad-json"]);
    });

    const schemaCases: [string, unknown, string | undefined][] = [
      ["a non-object body", [1], undefined],
      ["no executionId", { ...stepRequest(), executionId: undefined }, "executionId"],
      ["a numeric executionId", { ...stepRequest(), executionId: 7 }, "executionId"],
      ["a negative step", stepRequest({ step: -1 }), "step"],
      ["an unknown step type", { ...stepRequest(), stepType: "mining" }, "stepType"],
      ["a short model", stepRequest({ model: "0x1234" }), "model"],
      [
        "too many sources",
        stepRequest({ transcript: { sources: [ZERO_HASH, ZERO_HASH, ZERO_HASH] } }),
        "transcript.sources",
      ],
      ["a bad source", stepRequest({ transcript: { sources: [ZERO_HASH, "0x12"] } }), "transcript.sources[1]"],
      [
        "a source above the field",
        stepRequest({ transcript: { sources: [`0x${"f".repeat(64)}`] } }),
        "transcript.sources[0]",
      ],
      ["a decimal maxCost", stepRequest({ maxCost: "1.5" }), "maxCost"],
      ["a zero timeout", stepRequest({ timeoutMs: 0 }), "timeoutMs"],
      ["a non-boolean proof", { ...stepRequest(), proof: "yes" }, "proof"],
      ["no blind", { ...stepRequest(), blind: undefined }, "blind"],
      ["a zero blind", stepRequest({ blind: `0x${"00".repeat(31)}` }), "blind"],
      ["a 32-byte blind", stepRequest({ blind: `0x${"11".repeat(32)}` }), "blind"],
      ["an unknown field", { ...stepRequest(), priority: 1 }, "priority"],
    ];
    for (const [title, body, field] of schemaCases) {
      it(`refuses ${title} with 400 naming ${field ?? "the body"}`, async function () {
        const e = await refusal(provider.url, body);
        expect([e.status, e.code]).to.deep.equal([400, "bad-request"]);
        expect(e.field).to.equal(field);
        expect(e.message.startsWith(`${field ?? "body"}: `), e.message).to.equal(true);
      });
    }

    it("attack: an input sealed to another key, or for another step, does not open: 400 naming sealedInput", async function () {
      const other = await encryptionKeysFrom(`0x${"c3".repeat(32)}`);
      const elsewhere = await chain.post(provider.url, stepRequest(), { providerKey: other.publicKey });
      const e = errorSchema.parse(elsewhere.body).error;
      expect([elsewhere.status, e.code, e.field]).to.deep.equal([400, "bad-request", "sealedInput"]);
      expect(e.message).to.match(/^sealedInput: does not open with key 0x[0-9a-f]{64} for step-input 1\/3/);
      // Step 4's sealed input moved into a request for step 3 (the context binds the step).
      const moved = { ...(JSON.parse((await chain.sign(stepRequest({ step: 4 }))).body) as object), step: 3 };
      const replayed = await chain.post(provider.url, JSON.stringify(moved), { raw: true });
      const r = errorSchema.parse(replayed.body).error;
      expect([replayed.status, r.field]).to.deep.equal([400, "sealedInput"]);
    });

    const inputCases: [string, Partial<StepRequest>, string][] = [
      [
        "features that are not integers",
        { input: { kind: "iris-features", features: [51, 35, 1.5, 2] } },
        "input.features[2]",
      ],
      ["a feature out of range", { input: { kind: "iris-features", features: [300, 35, 14, 2] } }, "input.features[0]"],
      ["three features", { input: { kind: "iris-features", features: [1, 2, 3] } }, "input.features"],
      ["an untyped Iris input", { input: { features: [1, 2, 3, 4] } }, "input.kind"],
      ["chat without prompt or messages", { model: CHAT, input: { temperature: 0 } }, "input.messages"],
      [
        "a chat message with a bad role",
        { model: CHAT, input: { messages: [{ role: "god", content: "x" }] } },
        "input.messages[0].role",
      ],
      ["a bad temperature", { model: CHAT, input: { prompt: "x", temperature: 3 } }, "input.temperature"],
      ["a bad maxTokens", { model: CHAT, input: { prompt: "x", maxTokens: 0 } }, "input.maxTokens"],
      ["an unknown chat field", { model: CHAT, input: { prompt: "x", top_p: 1 } }, "input.top_p"],
      ["embeddings of a number", { model: EMBED, input: { input: 3 } }, "input.input"],
      [
        "a data op argument",
        { stepType: "data-processing", model: DATA_MODEL, input: { op: "sort", data: [1, "a"] } },
        "input.data",
      ],
    ];
    for (const [title, overrides, field] of inputCases) {
      it(`refuses ${title} with 400 naming ${field}`, async function () {
        const e = await refusal(provider.url, stepRequest(overrides));
        expect([e.status, e.code, e.field]).to.deep.equal([400, "bad-input", field]);
        expect(e.message.startsWith(`${field}: `), e.message).to.equal(true);
        expect(upstream.received).to.have.length(0);
      });
    }

    it("refuses a model it does not serve with 422 unsupported", async function () {
      const e = await refusal(provider.url, stepRequest({ model: id("gpt-5") }));
      expect([e.status, e.code, e.field]).to.deep.equal([422, "unsupported", "model"]);
      const wrongType = await refusal(provider.url, stepRequest({ stepType: "training" }));
      expect([wrongType.status, wrongType.code]).to.deep.equal([422, "unsupported"]);
    });

    it("refuses a proof from a backend that cannot prove with 422", async function () {
      const e = await refusal(provider.url, stepRequest({ model: CHAT, input: { prompt: "x" }, proof: true }));
      expect([e.status, e.code, e.field]).to.deep.equal([422, "unsupported", "proof"]);
    });

    it("refuses a step priced above maxCost with 422 naming maxCost", async function () {
      const e = await refusal(provider.url, stepRequest({ maxCost: (AITBC - 1n).toString() }));
      expect([e.status, e.code, e.field]).to.deep.equal([422, "too-expensive", "maxCost"]);
      expect(e.message).to.match(/^maxCost: .*1000000000000000000 wei/);
      await chain.step(provider.url, { maxCost: AITBC.toString() }); // exactly the price is fine
    });

    it("answers 502 for an upstream error, malformed JSON, no answer in time or no upstream", async function () {
      upstream.behavior = { status: 503 };
      let e = await refusal(provider.url, stepRequest({ model: CHAT, input: { prompt: "x" } }));
      expect([e.status, e.code]).to.deep.equal([502, "upstream"]);
      expect(e.message).to.match(/answered 503.*model overloaded/);
      upstream.behavior = { malformed: true };
      e = await refusal(provider.url, stepRequest({ model: CHAT, input: { prompt: "x" } }));
      expect([e.status, e.message]).to.match(/malformed JSON/);
      upstream.behavior = { delayMs: 1_000 };
      e = await refusal(provider.url, stepRequest({ model: EMBED, input: { input: "x" } }));
      expect([e.status, e.code]).to.deep.equal([502, "upstream"]);
      expect(e.message).to.match(/no answer within 300 ms/);

      const dead = new Upstream();
      await dead.start();
      await dead.close(); // a port nobody listens on
      const config = testConfig(dead.url);
      const orphan = await createProviderServer({
        account,
        keys: (await encryptionKeys()).provider,
        domain: chain.domain,
        auth: chain.auth(),
        services: config.services.map((s) => createBackend(s, shared, { [API_KEY_ENV]: "k" })),
        limits: config.server,
        logger: pino({ level: "silent" }),
      });
      try {
        e = await refusal(orphan.url, stepRequest({ model: EMBED, input: { input: "x" } }));
        expect([e.status, e.code]).to.deep.equal([502, "upstream"]);
        expect(e.message).to.match(/unreachable/);
      } finally {
        await orphan.close();
      }
    });

    it("answers 504 past the step's time limit and aborts the upstream call", async function () {
      upstream.behavior = { delayMs: 2_000 };
      const started = Date.now();
      const e = await refusal(provider.url, stepRequest({ model: CHAT, input: { prompt: "slow" }, timeoutMs: 150 }));
      expect([e.status, e.code]).to.deep.equal([504, "timeout"]);
      expect(e.message).to.match(/within 150 ms/);
      expect(Date.now() - started).to.be.below(1_500);
      await until(() => upstream.aborted > 0 && provider.load() === 0);
    });

    it("refuses an output that breaks its typed value's rules with 422 bad-output", async function () {
      const template = { kind: "iris-prediction", predictedClass: 9, scores: ["1", "2", "3"] };
      const e = await refusal(
        provider.url,
        stepRequest({ stepType: "data-processing", model: DATA_MODEL, input: { op: "transform", data: {}, template } }),
      );
      expect([e.status, e.code, e.field]).to.deep.equal([422, "bad-output", "output"]);
      expect(e.message).to.match(/predictedClass: 9 is not a class index/);
    });

    it("answers 500 with the message when a backend fails", async function () {
      const broken: Backend = {
        name: "broken",
        kind: "data",
        stepType: "training",
        model: id("broken") as Hex,
        price: 1n,
        capacity: 1,
        provable: false,
        run: () => Promise.reject(new Error("GPU on fire")),
        close: () => Promise.resolve(),
      };
      const node = await createProviderServer({
        account,
        keys: (await encryptionKeys()).provider,
        domain: chain.domain,
        auth: chain.auth(),
        services: [broken],
        limits: testConfig(upstream.url).server,
        logger: pino({ level: "silent" }),
      });
      try {
        const e = await refusal(node.url, stepRequest({ stepType: "training", model: broken.model }));
        expect([e.status, e.code, e.message]).to.deep.equal([500, "backend-error", "GPU on fire"]);
        expect(node.load()).to.equal(0);
      } finally {
        await node.close();
      }
    });

    it("answers 404 and 405 off the routes", async function () {
      const missing = await fetch(`${provider.url}/v2/steps`);
      expect(missing.status).to.equal(404);
      const wrongMethod = await fetch(`${provider.url}/v1/steps`);
      expect(wrongMethod.status).to.equal(405);
      expect(errorSchema.parse(await wrongMethod.json()).error.code).to.equal("method-not-allowed");
    });
  });

  describe("limits", function () {
    it("refuses a body over maxBodyBytes with 413", async function () {
      const small = await startProvider(upstream, shared, { server: { maxBodyBytes: 2_048 } });
      try {
        const big = stepRequest({ input: { op: "sort", data: Array.from({ length: 1_000 }, (_, i) => i) } });
        const e = await refusal(small.url, { ...big, stepType: "data-processing", model: DATA_MODEL });
        expect([e.status, e.code]).to.deep.equal([413, "too-large"]);
        const chunk = new TextEncoder().encode(" ".repeat(1_000));
        const streamed = await fetch(`${small.url}/v1/steps`, {
          method: "POST",
          headers: (await chain.sign(stepRequest())).headers, // credentials are checked before the body is read
          body: new ReadableStream({
            start(controller) {
              for (let i = 0; i < 100; i++) controller.enqueue(chunk);
              controller.close();
            },
          }),
          duplex: "half",
        });
        expect(streamed.status).to.equal(413); // no Content-Length: counted as it streams
        await chain.step(small.url); // still serving
      } finally {
        await small.close();
      }
    });

    it("refuses with 429 and Retry-After when every slot (or the service's) is busy", async function () {
      const busy = await startProvider(upstream, shared, {
        server: { capacity: 2, retryAfterSeconds: 3 },
        chaos: { extraDelayMs: 400 },
      });
      try {
        const first = chain.post(busy.url, stepRequest());
        await until(() => busy.load() === 1);
        const second = chain.post(busy.url, stepRequest({ model: CHAT, input: { prompt: "x" } }));
        await until(() => busy.load() === 2);
        const e = await refusal(
          busy.url,
          stepRequest({ stepType: "data-processing", model: DATA_MODEL, input: { op: "sort", data: [] } }),
        );
        expect([e.status, e.code]).to.deep.equal([429, "busy"]);
        expect(e.headers.get("retry-after")).to.equal("3");
        expect((await first).status).to.equal(200);
        expect((await second).status).to.equal(200);
      } finally {
        await busy.close();
      }
      const perService = testConfig(upstream.url, { server: { capacity: 4 } });
      const [iris] = perService.services;
      if (iris === undefined) throw new Error("no iris service");
      const one = await createProviderServer({
        account,
        keys: (await encryptionKeys()).provider,
        domain: chain.domain,
        auth: chain.auth(),
        services: [createBackend({ ...iris, capacity: 1 }, shared)],
        limits: perService.server,
        chaos: { tamperOutputRate: 0, badSignatureRate: 0, extraDelayMs: 300 },
        logger: pino({ level: "silent" }),
      });
      try {
        const first = chain.post(one.url, stepRequest());
        await until(() => one.load() === 1);
        const e = await refusal(one.url, stepRequest());
        expect([e.status, e.code]).to.deep.equal([429, "busy"]);
        expect((await first).status).to.equal(200);
      } finally {
        await one.close();
      }
    });

    it("caps a step's time at requestTimeoutMs (504) and frees its slot", async function () {
      const slow = await startProvider(upstream, shared, {
        server: { requestTimeoutMs: 200 },
        chaos: { extraDelayMs: 5_000 },
      });
      try {
        const e = await refusal(slow.url, stepRequest({ timeoutMs: 60_000 }));
        expect([e.status, e.code]).to.deep.equal([504, "timeout"]);
        expect(e.message).to.match(/within 200 ms/);
        await until(() => slow.load() === 0, 500);
      } finally {
        await slow.close();
      }
    });

    it("closes gracefully: the running step finishes, new connections are refused", async function () {
      const node = await startProvider(upstream, shared, { chaos: { extraDelayMs: 300 } });
      const running = chain.post(node.url, stepRequest());
      await until(() => node.load() === 1);
      const closed = node.close();
      expect((await running).status).to.equal(200);
      await closed;
      let refused = false;
      try {
        await fetch(`${node.url}/healthz`);
      } catch {
        refused = true;
      }
      expect(refused).to.equal(true);
    });
  });

  describe("chaos", function () {
    it("tampers outputs after signing, and warns loudly at start", async function () {
      const { logger, lines } = captureLogger();
      const liar = await startProvider(upstream, shared, { chaos: { tamperOutputRate: 1 }, logger });
      try {
        expect(lines.some((l) => l.event === "chaos-enabled" && /CHAOS/.test(l.msg ?? ""))).to.equal(true);
        const r = await chain.step(liar.url);
        expect(r.record.outputHash).to.not.equal(valueHashHex(r.output, TEST_BLIND));
        expect(await signerOf(r)).to.equal(account.address); // the record is the honest one
        const d = await chain.step(liar.url, {
          stepType: "data-processing",
          model: DATA_MODEL,
          input: { op: "sort", data: [2, 1] },
        });
        expect(d.record.outputHash).to.not.equal(valueHashHex(d.output, TEST_BLIND));
      } finally {
        await liar.close();
      }
    });

    it("signs with a foreign key", async function () {
      const forger = await startProvider(upstream, shared, { chaos: { badSignatureRate: 1 } });
      try {
        const r = await chain.step(forger.url);
        expect(r.record.outputHash).to.equal(valueHashHex(r.output, TEST_BLIND));
        const signer = await signerOf(r);
        expect(signer).to.match(/^0x[0-9a-fA-F]{40}$/);
        expect(signer).to.not.equal(account.address);
      } finally {
        await forger.close();
      }
    });
  });

  describe("GET endpoints", function () {
    it("/v1/info describes the provider and its services", async function () {
      const res = await fetch(`${provider.url}/v1/info`);
      const info = infoSchema.parse(await res.json());
      expect(info.provider).to.equal(account.address);
      expect(info.agentId).to.equal("42");
      expect([info.capacity, info.load]).to.deep.equal([4, 0]);
      expect(info.services).to.deep.equal([
        { stepType: "inference", model: IRIS, name: "iris", backend: "iris", price: AITBC.toString() },
        {
          stepType: "data-processing",
          model: DATA_MODEL,
          name: "data",
          backend: "data",
          price: (AITBC / 10n).toString(),
        },
        { stepType: "inference", model: CHAT, name: "chat", backend: "openai", price: (2n * AITBC).toString() },
        { stepType: "inference", model: EMBED, name: "embed", backend: "openai", price: (AITBC / 2n).toString() },
      ]);
    });

    it("/healthz is ok", async function () {
      const res = await fetch(`${provider.url}/healthz`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.include({ ok: true, provider: account.address, load: 0, capacity: 4 });
    });

    it("/metrics counts steps by service and outcome, with durations, in-flight and process metrics", async function () {
      const res = await fetch(`${provider.url}/metrics`);
      expect(res.headers.get("content-type")).to.match(/^text\/plain/);
      const text = await res.text();
      expect(text).to.match(/aitbc_provider_steps_total\{service="iris",outcome="ok"\} [1-9]/);
      expect(text).to.match(/aitbc_provider_steps_total\{service="-",outcome="bad-request"\} [1-9]/);
      expect(text).to.match(/aitbc_provider_steps_total\{service="chat",outcome="upstream"\} [1-9]/);
      expect(text).to.match(/aitbc_provider_steps_total\{service="chat",outcome="timeout"\} 1/);
      expect(text).to.match(/aitbc_provider_step_duration_seconds_bucket\{le="0\.1",service="data",outcome="ok"\}/);
      expect(text).to.match(/^aitbc_provider_steps_in_flight 0$/m);
      expect(text).to.match(/^process_cpu_user_seconds_total /m);
    });
  });
});
