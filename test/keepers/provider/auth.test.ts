/**
 * Who may run a step on a provider node (keepers/provider/auth.ts, through keepers/provider/server.ts): only the
 * keeper of a running execution, by its signature, checked against a real chain (test/helpers/keeper-chain.ts). The
 * attacks first (each seen succeeding against the node before authentication existed), with the `openai` backend
 * pointed at a local OpenAI-compatible server that records every request, so that "the backend saw nothing" is a
 * fact, not a guess. Then the keeper's side: its steps run, the chain is read once per execution, its rate is its
 * own, malformed credentials are named, refusals are counted.
 */
import { expect } from "chai";
import { id } from "ethers";
import { pino } from "pino";
import {
  createPublicClient,
  custom,
  hashTypedData,
  keccak256,
  recoverTypedDataAddress,
  stringToBytes,
  toHex,
  type Hex,
  type TypedDataDomain,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  signStepRequest,
  STEP_REQUEST_TYPES,
  stepRequestDigest,
  stepRequestSigner,
  type StepRequestMessage,
} from "../../../protocol/eip712.js";

import type { EncryptionKeys } from "../../../protocol/sealed.js";
import { errorSchema, type StepRequest } from "../../../protocol/steps.js";
import { createBackend, SharedResources } from "../../../keepers/provider/backends/index.js";
import { createStepAuth } from "../../../keepers/provider/auth.js";
import { authConfigSchema, providerConfigSchema, type AuthConfig } from "../../../keepers/provider/config.js";
import { providerMetrics } from "../../../keepers/provider/metrics.js";
import { createProviderServer, openStep, parseStep, type ProviderServer } from "../../../keepers/provider/server.js";
import { account, AGENT_KEY, OPERATOR, OUTSIDER_KEY, stepRequest, type Reply } from "../../helpers/keepers.js";
import {
  encryptionKeys,
  KEEPER_KEY,
  keeperChain,
  STRANGER_KEY,
  type KeeperChain,
  type PostOptions,
} from "../../helpers/keeper-chain.js";
import { Upstream } from "../../helpers/upstream.js";

const API_KEY_ENV = "AITBC_TEST_UPSTREAM_KEY";
const CHAT_MODEL = "llama-3-8b-instruct";
const CHAT = id(CHAT_MODEL) as Hex;

const chat = (overrides: Partial<StepRequest> = {}): StepRequest =>
  stepRequest({ model: CHAT, input: { prompt: "bill this to the operator" }, ...overrides });

const now = () => BigInt(Math.floor(Date.now() / 1000));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A POST with no credentials at all, as anyone who found the endpoint in the registry can send. */
async function anonymous(url: string, body: unknown): Promise<Reply> {
  const res = await fetch(`${url}/v1/steps`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** The error of a refused request; a request that was served fails the test with what it got. */
function refusal(reply: Reply) {
  expect(reply.status, `served: ${JSON.stringify(reply.body).slice(0, 160)}`).to.be.at.least(400);
  return { status: reply.status, headers: reply.headers, ...errorSchema.parse(reply.body).error };
}

describe("StepRequest signatures (protocol/eip712.ts)", function () {
  const domains: TypedDataDomain[] = [
    { name: "AITBC Workflows", version: "1", chainId: 31337, verifyingContract: `0x${"5f".repeat(20)}` },
    { name: "AITBC Workflows", version: "1", chainId: 1, verifyingContract: `0x${"a1".repeat(20)}` },
  ];
  const message = (k: number): StepRequestMessage => ({
    executionId: BigInt(k) * 2n ** 200n + 7n,
    step: k % 65_536,
    inputHash: keccak256(toHex(`input ${k}`)),
    bodyHash: keccak256(toHex(`body ${k}`)),
    nonce: keccak256(toHex(`nonce ${k}`)),
    expiry: BigInt(1_700_000_000 + k),
  });
  const keeper = privateKeyToAccount(KEEPER_KEY);

  it("hashes, signs and recovers exactly as viem does (libsecp256k1 and viem both sign by RFC 6979)", async function () {
    for (let k = 0; k < 20; k++) {
      const domain = domains[k % 2] ?? domains[0];
      if (domain === undefined) throw new Error("no domain");
      const typed = { domain, types: STEP_REQUEST_TYPES, primaryType: "StepRequest" as const, message: message(k) };
      expect(stepRequestDigest(domain, message(k))).to.equal(hashTypedData(typed));
      const signature = signStepRequest(KEEPER_KEY, domain, message(k));
      expect(signature).to.equal(await keeper.signTypedData(typed));
      expect(stepRequestSigner(domain, message(k), signature)).to.equal(keeper.address);
      expect(await recoverTypedDataAddress({ ...typed, signature })).to.equal(keeper.address);
    }
  });

  it("recovers another address for any other field, domain or key; nothing from a malformed signature", function () {
    const [domain, other] = domains;
    if (domain === undefined || other === undefined) throw new Error("no domain");
    const m = message(1);
    const signature = signStepRequest(KEEPER_KEY, domain, m);
    const changed: StepRequestMessage[] = [
      { ...m, executionId: m.executionId + 1n },
      { ...m, step: m.step + 1 },
      { ...m, inputHash: keccak256(m.inputHash) },
      { ...m, bodyHash: keccak256(m.bodyHash) },
      { ...m, nonce: keccak256(m.nonce) },
      { ...m, expiry: m.expiry + 1n },
    ];
    for (const c of changed) expect(stepRequestSigner(domain, c, signature)).to.not.equal(keeper.address);
    expect(stepRequestSigner(other, m, signature)).to.not.equal(keeper.address);
    expect(stepRequestSigner(domain, m, signStepRequest(STRANGER_KEY, domain, m))).to.not.equal(keeper.address);
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const malformed = [
      signature.slice(0, 128) as Hex, // short
      `${signature.slice(0, 130)}00`, // v 0
      `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${signature.endsWith("1b") ? "1c" : "1b"}`, // high s
      `0x${"00".repeat(32)}${signature.slice(66)}`, // r 0
    ];
    for (const bad of malformed) expect(stepRequestSigner(domain, m, bad as Hex), bad).to.equal(undefined);
    expect(stepRequestSigner(domain, { ...m, step: 70_000 }, signature), "step above uint16").to.equal(undefined);
  });
});

describe("provider node: only the keeper of a running execution runs a step", function () {
  const upstream = new Upstream();
  const shared = new SharedResources();
  const nodes: ProviderServer[] = [];
  let chain: KeeperChain;
  let provider: ProviderServer;

  /** A node serving iris, data and chat (the `openai` backend on the recording upstream), with an authenticator. */
  const start = async (
    options: { auth?: Partial<AuthConfig>; capacity?: number; now?: () => number; keys?: EncryptionKeys } = {},
  ): Promise<ProviderServer> => {
    const config = providerConfigSchema.parse({
      rpc: { urls: ["http://127.0.0.1:8545"] },
      agent: { privateKey: AGENT_KEY, operator: OPERATOR },
      server: { capacity: options.capacity ?? 4 },
      services: [
        { name: "iris", stepType: "inference", backend: "iris", price: "1" },
        { name: "data", stepType: "data-processing", backend: "data", price: "0.1" },
        {
          name: "chat",
          stepType: "inference",
          backend: "openai",
          price: "2",
          upstream: { url: upstream.url, model: CHAT_MODEL, apiKeyEnv: API_KEY_ENV },
        },
      ],
    });
    const metrics = providerMetrics(); // shared by the authenticator (chain reads) and the server
    const node = await createProviderServer({
      account,
      keys: options.keys ?? (await encryptionKeys()).provider,
      domain: chain.domain,
      services: config.services.map((s) => createBackend(s, shared, { [API_KEY_ENV]: "sk-operator-paid" })),
      auth: chain.auth(options.auth, { metrics, ...(options.now ? { now: options.now } : {}) }),
      metrics,
      limits: config.server,
      logger: pino({ level: "silent" }),
    });
    nodes.push(node);
    return node;
  };

  const post = (body: unknown, options?: PostOptions) => chain.post(provider.url, body, options);

  before(async function () {
    chain = await keeperChain();
    await upstream.start();
    provider = await start();
  });

  after(async function () {
    for (const node of nodes) await node.close({ graceMs: 1_000 });
    await upstream.close();
    await shared.close();
  });

  beforeEach(function () {
    upstream.behavior = {};
    upstream.received.length = 0;
  });

  describe("attacks (each went through before authentication)", function () {
    it("1. an outsider with a made-up execution id: 401 unsigned, 403 signed by its own key; the upstream sees nothing", async function () {
      const madeUp = chat({ executionId: "424242" });
      const unsigned = refusal(await anonymous(provider.url, madeUp));
      expect([unsigned.status, unsigned.code, unsigned.field]).to.deep.equal([401, "no-credentials", "authorization"]);
      expect(unsigned.headers.get("www-authenticate")).to.equal("AITBC-Keeper");
      const signed = refusal(await post(madeUp, { key: OUTSIDER_KEY }));
      expect([signed.status, signed.code, signed.message]).to.deep.equal([
        403,
        "unknown-execution",
        "executionId: no execution 424242 on chain",
      ]);
      // The real running execution does not help an outsider either.
      const real = refusal(await post(chat(), { key: OUTSIDER_KEY }));
      expect([real.status, real.code]).to.deep.equal([403, "not-keeper"]);
      expect(upstream.received, "requests that reached the operator's upstream").to.have.length(0);
    });

    it("2. a registered agent that is not the execution's keeper: 403 not-keeper", async function () {
      const e = refusal(await post(chat(), { key: STRANGER_KEY }));
      expect([e.status, e.code, e.field]).to.deep.equal([403, "not-keeper", "authorization"]);
      expect(e.message).to.equal(
        `authorization: signed by ${chain.stranger}, not by execution 1's keeper ${chain.keeper}`,
      );
      expect(upstream.received).to.have.length(0);
    });

    it("3. the keeper itself, for a finished or a not yet claimed execution: 403 not-running", async function () {
      const { finished, pending } = chain.executions;
      const done = refusal(await post(chat({ executionId: finished.toString() })));
      expect([done.status, done.code, done.message]).to.deep.equal([
        403,
        "not-running",
        `executionId: execution ${finished} is failed, not running`,
      ]);
      const waiting = refusal(await post(chat({ executionId: pending.toString() })));
      expect([waiting.status, waiting.code, waiting.message]).to.deep.equal([
        403,
        "not-running",
        `executionId: execution ${pending} is pending, not running`,
      ]);
      expect(upstream.received).to.have.length(0);
    });

    it("4. an expired signature: 401 expired (and one that lives too long: 401 expiry-too-far)", async function () {
      const old = refusal(await post(chat(), { expiry: now() - 1n }));
      expect([old.status, old.code, old.field]).to.deep.equal([401, "expired", "x-aitbc-expiry"]);
      expect(old.message).to.match(/^x-aitbc-expiry: expired [12] s ago$/);
      const far = refusal(await post(chat(), { expiry: now() + 3_600n }));
      expect([far.status, far.code]).to.deep.equal([401, "expiry-too-far"]);
      expect(far.message).to.match(/more than the 300 s this node accepts$/);
      expect(upstream.received).to.have.length(0);
    });

    it("5. an outsider flooding the node takes no slot and no token: the keeper's steps still run", async function () {
      // Two slots; a keeper allowed 2 requests at once. Unauthenticated, each flood request would hold a slot 1 s.
      const node = await start({ capacity: 2, auth: { keeperBurst: 2, keeperRate: 0.1 } });
      upstream.behavior = { delayMs: 1_000 };
      const flood = [
        ...Array.from({ length: 6 }, () => anonymous(node.url, chat())),
        ...Array.from({ length: 6 }, (_, i) => chain.post(node.url, chat({ step: i }), { key: OUTSIDER_KEY })),
      ];
      // Before authentication, the flood held both slots by now; with it, it is all refused at once.
      await Promise.race([until(() => upstream.received.length >= 2), Promise.all(flood)]);
      const keeper = await Promise.all([
        chain.post(node.url, stepRequest({ step: 1 })),
        chain.post(node.url, stepRequest({ step: 2 })),
      ]);
      expect(keeper.map((r) => r.status)).to.deep.equal([200, 200]);
      const floodStatus = (await Promise.all(flood)).map((r) => r.status);
      expect(floodStatus).to.deep.equal([...Array<number>(6).fill(401), ...Array<number>(6).fill(403)]);
      expect(upstream.received).to.have.length(0);
      expect(node.load()).to.equal(0);
    });

    it("6. a replay of the keeper's signed request: again, for another step or with another body: refused", async function () {
      const original = await chain.sign(chat({ step: 1 }));
      upstream.behavior = {};
      const first = await fetch(`${provider.url}/v1/steps`, { method: "POST", ...original });
      expect(first.status).to.equal(200);
      expect(upstream.received).to.have.length(1);
      const again = refusal(await anonymousWith(original.headers, original.body));
      expect([again.status, again.code, again.field]).to.deep.equal([401, "replayed", "x-aitbc-nonce"]);
      // The signature covers the step and the body: used for step 2, or with a higher maxCost, it is not the keeper's.
      for (const body of [chat({ step: 2 }), chat({ step: 1, maxCost: (100n * 10n ** 18n).toString() })]) {
        const e = refusal(await anonymousWith(original.headers, (await chain.sign(body)).body));
        expect([e.status, e.code]).to.deep.equal([403, "not-keeper"]);
      }
      expect(upstream.received).to.have.length(1);
    });

    it("6b. a replay sent alongside its original (both waiting for the same chain read): admitted once", async function () {
      const node = await start(); // nothing cached: both requests wait for one getExecution
      const { headers, body } = await chain.sign(stepRequest({ step: 6 }));
      const replies = await Promise.all(
        [0, 1].map(async () => (await fetch(`${node.url}/v1/steps`, { method: "POST", headers, body })).status),
      );
      expect(replies.sort()).to.deep.equal([200, 401]);
    });

    it("7. an outsider's signed request costs the node no decryption: refused for who it is before its key is used", async function () {
      // The node's key pair, watched: every open reads it (protocol/sealed.ts open).
      const keys = (await encryptionKeys()).provider;
      let used = 0;
      const watched = new Proxy(keys, {
        get(target, property, receiver) {
          if (property === "keyPair") used += 1;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const node = await start({ keys: watched });
      const elsewhere = (await encryptionKeys()).keeper.publicKey; // an input this node could not open
      for (const key of [OUTSIDER_KEY, STRANGER_KEY] as Hex[])
        for (const providerKey of [undefined, elsewhere]) {
          const e = refusal(await chain.post(node.url, chat(), { key, ...(providerKey ? { providerKey } : {}) }));
          expect(
            [e.status, e.code],
            `signed by ${key.slice(0, 8)}, sealed to ${providerKey ?? "the node"}`,
          ).to.deep.equal([403, "not-keeper"]);
        }
      expect(used, "opens the node attempted for outsiders' requests").to.equal(0);
      // The keeper's own request is opened, once.
      expect((await chain.post(node.url, stepRequest({ step: 7 }))).status).to.equal(200);
      expect(used).to.equal(1);
      // The keeper's request with an input that does not open: refused naming sealedInput, after the checks.
      const e = refusal(await chain.post(node.url, stepRequest({ step: 8 }), { providerKey: elsewhere }));
      expect([e.status, e.code, e.field]).to.deep.equal([400, "bad-request", "sealedInput"]);
      expect(upstream.received).to.have.length(0);
    });

    async function anonymousWith(headers: Record<string, string>, body: string): Promise<Reply> {
      const res = await fetch(`${provider.url}/v1/steps`, { method: "POST", headers, body });
      return { status: res.status, headers: res.headers, body: await res.json() };
    }
  });

  describe("the keeper", function () {
    it("runs its steps, the chain read once per execution (getExecution, then agentAddress once per keeper)", async function () {
      let clock = Date.now();
      const node = await start({ auth: { chainCacheMs: 3_000 }, now: () => clock });
      const before = chain.calls.length;
      for (let step = 0; step < 5; step++)
        expect((await chain.post(node.url, stepRequest({ step }))).status).to.equal(200);
      const selectors = chain.calls.slice(before).map((c) => c.data.slice(0, 10));
      expect(selectors).to.deep.equal([
        id("getExecution(uint256)").slice(0, 10),
        id("agentAddress(uint256)").slice(0, 10),
      ]);
      clock += 3_001; // the cached answer is stale: one more getExecution, the keeper's address is known
      expect((await chain.post(node.url, stepRequest({ step: 5 }))).status).to.equal(200);
      expect(chain.calls.slice(before).map((c) => c.data.slice(0, 10))).to.have.length(3);
      const text = await (await fetch(`${node.url}/metrics`)).text();
      expect(text).to.match(/^aitbc_provider_auth_chain_reads_total\{function="getExecution"\} 2$/m);
      expect(text).to.match(/^aitbc_provider_auth_chain_reads_total\{function="agentAddress"\} 1$/m);
    });

    it("has a rate of its own: 429 rate-limited with Retry-After past its burst; another keeper still runs", async function () {
      const node = await start({ auth: { keeperBurst: 3, keeperRate: 0.5 } });
      for (let step = 0; step < 3; step++)
        expect((await chain.post(node.url, stepRequest({ step }))).status).to.equal(200);
      const e = refusal(await chain.post(node.url, stepRequest({ step: 3 })));
      expect([e.status, e.code, e.headers.get("retry-after")]).to.deep.equal([429, "rate-limited", "2"]);
      expect(e.message).to.equal(`keeper ${chain.keeper} is over 0.5 requests/s (burst 3)`);
      const other = stepRequest({ executionId: chain.executions.strangers.toString() });
      expect((await chain.post(node.url, other, { key: STRANGER_KEY })).status).to.equal(200);
    });

    const malformed: [string, PostOptions, number, string, string][] = [
      ["another scheme", { headers: { authorization: "Bearer sk-123" } }, 401, "no-credentials", "authorization"],
      [
        "a short signature",
        { headers: { authorization: "AITBC-Keeper 0x1234" } },
        401,
        "bad-credentials",
        "authorization",
      ],
      ["a decimal expiry", { headers: { "x-aitbc-expiry": "1.5" } }, 401, "bad-credentials", "x-aitbc-expiry"],
      [
        "an expiry past uint64",
        { headers: { "x-aitbc-expiry": (2n ** 64n).toString() } },
        401,
        "bad-credentials",
        "x-aitbc-expiry",
      ],
      ["a short nonce", { headers: { "x-aitbc-nonce": "0x1234" } }, 401, "bad-credentials", "x-aitbc-nonce"],
    ];
    for (const [what, options, status, code, field] of malformed) {
      it(`refuses ${what}: ${status} ${code} naming ${field}`, async function () {
        const e = refusal(await post(stepRequest(), options));
        expect([e.status, e.code, e.field]).to.deep.equal([status, code, field]);
        expect(e.message.startsWith(`${field}: `), e.message).to.equal(true);
      });
    }

    it("refuses a valid but malleable (high s) signature: 401 bad-signature", async function () {
      const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const { headers, body } = await chain.sign(stepRequest());
      const sig = (headers.authorization ?? "").split(" ")[1] ?? "";
      const s = BigInt(`0x${sig.slice(66, 130)}`);
      const v = parseInt(sig.slice(130, 132), 16);
      const highS = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
      const res = await fetch(`${provider.url}/v1/steps`, {
        method: "POST",
        headers: { ...headers, authorization: `AITBC-Keeper ${highS}` },
        body,
      });
      const e = errorSchema.parse(await res.json()).error;
      expect([res.status, e.code]).to.deep.equal([401, "bad-signature"]);
    });

    it("with the keeper's public key cached (its signatures verified, not recovered), every refusal still holds", async function () {
      const node = await start({ auth: { chainCacheMs: 60_000 } });
      const send = (signed: { headers: Record<string, string>; body: string }, authorization?: string) =>
        fetch(`${node.url}/v1/steps`, {
          method: "POST",
          headers: { ...signed.headers, ...(authorization ? { authorization } : {}) },
          body: signed.body,
        }).then(async (res) => ({ status: res.status, headers: res.headers, body: await res.json() }));
      // The first step recovers the keeper and caches its key with the chain's answer; the next ones verify.
      expect((await chain.post(node.url, stepRequest({ step: 0 }))).status).to.equal(200);
      expect((await chain.post(node.url, stepRequest({ step: 1 }))).status).to.equal(200);
      const strangers: Hex[] = [OUTSIDER_KEY, STRANGER_KEY];
      for (const key of strangers) {
        const e = refusal(await chain.post(node.url, stepRequest({ step: 2 }), { key }));
        expect([e.status, e.code], key).to.deep.equal([403, "not-keeper"]);
      }
      // The keeper's own signature over another body (another step) does not verify: recovered, another address.
      const signed = await chain.sign(stepRequest({ step: 3 }));
      const other = await chain.sign(stepRequest({ step: 4 }));
      const swapped = refusal(await send({ headers: signed.headers, body: other.body }));
      expect([swapped.status, swapped.code]).to.deep.equal([403, "not-keeper"]);
      // High s: not canonical, whoever's key it is.
      const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const sig = (signed.headers.authorization ?? "").split(" ")[1] ?? "";
      const s = BigInt(`0x${sig.slice(66, 130)}`);
      const v = parseInt(sig.slice(130, 132), 16);
      const flipV = (v === 27 ? 28 : 27).toString(16);
      const highS = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${flipV}`;
      const malleable = refusal(await send(signed, `AITBC-Keeper ${highS}`));
      expect([malleable.status, malleable.code]).to.deep.equal([401, "bad-signature"]);
      // The request itself runs once; its copy with the other v (verification does not read v) is a replay.
      expect((await send(signed)).status).to.equal(200);
      const otherV = refusal(await send(signed, `AITBC-Keeper ${sig.slice(0, 130)}${flipV}`));
      expect([otherV.status, otherV.code]).to.deep.equal([401, "replayed"]);
      // Sent first, the copy with the other v runs in place of the original, which is then the replay.
      const fresh = await chain.sign(stepRequest({ step: 5 }));
      const freshSig = (fresh.headers.authorization ?? "").split(" ")[1] ?? "";
      const freshV = parseInt(freshSig.slice(130, 132), 16) === 27 ? "1c" : "1b";
      expect((await send(fresh, `AITBC-Keeper ${freshSig.slice(0, 130)}${freshV}`)).status).to.equal(200);
      expect(refusal(await send(fresh)).code).to.equal("replayed");
    });

    it("counts refusals by reason in /metrics", async function () {
      const text = await (await fetch(`${provider.url}/metrics`)).text();
      for (const reason of ["no-credentials", "unknown-execution", "not-keeper", "not-running", "expired", "replayed"])
        expect(text).to.match(new RegExp(`aitbc_provider_refused_total\\{reason="${reason}"\\} [1-9]`));
    });

    it("a chain it cannot read is 503 chain-unavailable; too many reads in flight 429 auth-busy", async function () {
      const config = authConfigSchema.parse({ maxLookups: 1 });
      const broken = createStepAuth({
        client: createPublicClient({
          transport: custom({ request: () => Promise.reject(new Error("connection refused")) }, { retryCount: 0 }),
        }),
        contracts: chain.contracts,
        domain: chain.domain,
        config,
      });
      const failure = (promise: Promise<unknown>) =>
        promise.then(
          () => undefined,
          (e: unknown) => e as { status: number; code: string; message: string },
        );
      const signed = async (request: StepRequest, key?: Hex) => {
        const { headers, body } = await chain.sign(request, key ? { key } : {});
        const opened = await openStep((await encryptionKeys()).provider, chain.domain, parseStep(JSON.parse(body)));
        return { headers, request: opened, bodyHash: keccak256(stringToBytes(body)) };
      };
      const mine = await signed(stepRequest());
      let error = await failure(broken.authorize(broken.credentials(mine.headers), mine.request, mine.bodyHash));
      expect([error?.status, error?.code]).to.deep.equal([503, "chain-unavailable"]);
      expect(error?.message).to.match(/^cannot read execution 1 from the chain/);

      const gate = new AbortController(); // the chain answers once it aborts
      const held = new Promise((resolve) => {
        gate.signal.addEventListener("abort", resolve);
      });
      const slow = createStepAuth({
        client: createPublicClient({
          transport: custom({
            request: async ({ method, params }: { method: string; params?: unknown }) => {
              await held;
              return (await chain.connection.provider.request({ method, params: params ?? [] })) as unknown;
            },
          }),
        }),
        contracts: chain.contracts,
        domain: chain.domain,
        config,
      });
      const first = slow.authorize(slow.credentials(mine.headers), mine.request, mine.bodyHash);
      const theirs = await signed(stepRequest({ executionId: chain.executions.strangers.toString() }), STRANGER_KEY);
      error = await failure(slow.authorize(slow.credentials(theirs.headers), theirs.request, theirs.bodyHash));
      expect([error?.status, error?.code]).to.deep.equal([429, "auth-busy"]);
      gate.abort();
      expect(await first).to.equal(chain.keeper);
    });

    it("serves an execution claimed a moment after it was refused as pending (no negative cache)", async function () {
      const { pending } = chain.executions;
      const request = stepRequest({ executionId: pending.toString() });
      expect(refusal(await post(request)).code).to.equal("not-running");
      const signers = await chain.connection.ethers.getSigners();
      const keeper = signers[9];
      if (!keeper) throw new Error("no keeper signer");
      await (await chain.protocol.workflows.connect(keeper).claimExecution(pending)).wait();
      expect((await post(request)).status).to.equal(200);
    });
  });
});
