/**
 * The StepDispatcher (keepers/keeper/dispatcher.ts) against real provider servers (keepers/provider/server.ts with
 * the data and iris backends), in-process, which serve only the keeper of a running execution on a test chain
 * (test/helpers/keeper-chain.ts): accepted answers at the basic and proven levels, the Iris reference check, every
 * rejection (signer, tampered output, cost, another step, input hash, forged inference proofs), the requests it
 * signs, and the transport failures (unreachable, 429, timeouts, a non-API answer).
 */
import { createServer, type Server } from "node:http";

import { expect } from "chai";
import { pino } from "pino";
import type { Hex } from "viem";

import { blindToHex, fieldToBytes32, poseidonHash, signedToField } from "../../../circuits/lib/field.js";
import { irisInfer, loadIrisModel, quantizeFeatures } from "../../../circuits/lib/iris.js";
import { Prover } from "../../../circuits/lib/prover.js";
import { signStepResult } from "../../../protocol/eip712.js";
import { closeServer, listen } from "../../../keepers/common/http.js";
import { transcriptLeaf, ZERO_HASH, type OpenedStepResponse, type StepRequest } from "../../../protocol/steps.js";
import { valueHash, valueHashHex, type Json } from "../../../protocol/values.js";
import type { ProviderOffer } from "../../../keepers/common/catalog.js";
import { AttemptError, StepDispatcher } from "../../../keepers/keeper/dispatcher.js";
import { createBackend, serviceModelHash, SharedResources } from "../../../keepers/provider/backends/index.js";
import { DATA_MODEL } from "../../../keepers/provider/backends/data.js";
import { providerConfigSchema } from "../../../keepers/provider/config.js";
import { createProviderServer, type ChaosOptions, type ProviderServer } from "../../../keepers/provider/server.js";
import { account, AGENT_KEY, AITBC, OPERATOR, SETOSA_CM, setosa } from "../../helpers/keepers.js";
import { encryptionKeys, KEEPER_KEY, keeperChain, STRANGER_KEY, type KeeperChain } from "../../helpers/keeper-chain.js";
import { TEST_BLIND } from "../../helpers/proofs.js";

const IRIS = serviceModelHash({ backend: "iris", upstream: undefined });
const SETOSA: Json = setosa();
const STATS_INPUT: Json = { op: "stats", data: [1, 2, 3] };
const STATS_OUTPUT: Json = { count: 3, min: 1, max: 3, mean: 2, spread: 2 };

function irisExpected(): Json {
  const result = irisInfer(loadIrisModel(), quantizeFeatures(SETOSA_CM));
  return { kind: "iris-prediction", predictedClass: result.predictedClass, scores: result.scores.map(String) };
}

/** The test chain: its keeper runs execution 1 (set before the tests run). */
let chain: KeeperChain;
/** The test provider's and keeper's encryption keys (helpers/keeper-chain.ts). */
let keys: Awaited<ReturnType<typeof encryptionKeys>>;

/** A provider node serving iris (1 AITBC) and data (0.1 AITBC). */
async function startProvider(
  shared: SharedResources,
  chaos: Partial<ChaosOptions> = {},
  capacity = 4,
): Promise<ProviderServer> {
  const config = providerConfigSchema.parse({
    rpc: { urls: ["http://127.0.0.1:8545"] },
    agent: { privateKey: AGENT_KEY, operator: OPERATOR },
    services: [
      { name: "iris", stepType: "inference", backend: "iris", price: "1" },
      { name: "data", stepType: "data-processing", backend: "data", price: "0.1" },
    ],
    server: { capacity },
  });
  return createProviderServer({
    account,
    keys: keys.provider,
    domain: chain.domain,
    services: config.services.map((s) => createBackend(s, shared)),
    auth: chain.auth(),
    limits: config.server,
    chaos: { tamperOutputRate: 0, badSignatureRate: 0, extraDelayMs: 0, ...chaos },
    logger: pino({ level: "silent" }),
  });
}

function offerOf(endpoint: string, price = 10n * AITBC, address: Hex = account.address): ProviderOffer {
  return {
    serviceId: `0x${"01".repeat(32)}`,
    agentId: 1n,
    address,
    endpoint,
    reputation: 0,
    capabilities: [],
    model: DATA_MODEL,
    price,
    capacity: 4n,
    load: 0n,
    encryptionKey: keys.provider.publicKey,
  };
}

function dataRequest(overrides: Partial<StepRequest> = {}): StepRequest {
  return {
    executionId: "1",
    step: 3,
    stepType: "data-processing",
    model: DATA_MODEL,
    input: STATS_INPUT,
    blind: blindToHex(TEST_BLIND),
    maxCost: (10n * AITBC).toString(),
    timeoutMs: 5000,
    ...overrides,
  };
}

function irisRequest(overrides: Partial<StepRequest> = {}): StepRequest {
  return dataRequest({ stepType: "inference", model: IRIS, input: SETOSA, ...overrides });
}

/** The AttemptError `promise` rejects with. */
async function attemptError(promise: Promise<unknown>): Promise<AttemptError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AttemptError) return error;
    throw error;
  }
  throw new Error("expected an AttemptError, the promise resolved");
}

describe("keepers: StepDispatcher", function () {
  const shared = new SharedResources();
  const prover = new Prover();
  const servers: ProviderServer[] = [];
  let dispatcher: StepDispatcher;
  let honest: ProviderServer;

  const start = async (chaos: Partial<ChaosOptions> = {}, capacity = 4) => {
    const server = await startProvider(shared, chaos, capacity);
    servers.push(server);
    return server;
  };

  before(async function () {
    chain = await keeperChain();
    keys = await encryptionKeys();
    dispatcher = new StepDispatcher({ domain: chain.domain, prover, key: KEEPER_KEY, keys: keys.keeper });
    honest = await start();
  });

  after(async function () {
    for (const server of servers) await server.close({ graceMs: 1000 });
    await shared.close();
    await prover.close();
  });

  describe("accepted answers", function () {
    it("basic level: the record hashes the input sent and the output returned", async function () {
      const answer = await dispatcher.attempt(offerOf(honest.url), dataRequest(), 5000);
      expect(answer.output).to.deep.equal(STATS_OUTPUT);
      expect(answer.record).to.deep.equal({
        inputHash: valueHashHex(STATS_INPUT, TEST_BLIND),
        outputHash: valueHashHex(STATS_OUTPUT, TEST_BLIND),
        cost: (AITBC / 10n).toString(),
      });
      expect([answer.executionId, answer.step, answer.provider]).to.deep.equal(["1", 3, account.address]);
    });

    it("proven level: the record is (0, the transcript leaf of the sources and the output)", async function () {
      const sources: Hex[] = [fieldToBytes32(5n), fieldToBytes32(9n)];
      const answer = await dispatcher.attempt(offerOf(honest.url), dataRequest({ transcript: { sources } }), 5000);
      expect(answer.record.inputHash).to.equal(ZERO_HASH);
      expect(answer.record.outputHash).to.equal(transcriptLeaf(sources, valueHash(STATS_OUTPUT, TEST_BLIND)));
    });

    it("the reference model: an answer equal to the keeper's own run", async function () {
      const answer = await dispatcher.attempt(offerOf(honest.url), irisRequest(), 5000);
      expect(answer.output).to.deep.equal(irisExpected());
    });
  });

  describe("rejected answers (AttemptError invalid, with the evidence)", function () {
    let basic: OpenedStepResponse;
    before(async function () {
      basic = await dispatcher.attempt(offerOf(honest.url), dataRequest(), 5000);
    });

    it("a signature by another key (chaos badSignatureRate 1)", async function () {
      const liar = await start({ badSignatureRate: 1 });
      const error = await attemptError(dispatcher.attempt(offerOf(liar.url), dataRequest(), 5000));
      expect(error.kind).to.equal("invalid");
      expect(error.message).to.match(new RegExp(`^signature recovers to 0x[0-9a-fA-F]{40}, not ${account.address}$`));
      expect(error.message).to.not.include(`recovers to ${account.address}`);
      const evidence = error.evidence as { request: Json; answer: { provider: string } };
      expect(evidence.request).to.deep.equal(dataRequest());
      expect(evidence.answer.provider).to.equal(account.address);
    });

    it("a valid but non-canonical signature (high s, or v 0/1) that the chain would refuse", async function () {
      const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const sig = basic.signature;
      const s = BigInt(`0x${sig.slice(66, 130)}`);
      const v = parseInt(sig.slice(130, 132), 16);
      const highS = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
      const lowV = `${sig.slice(0, 130)}${(v - 27).toString(16).padStart(2, "0")}`;
      for (const signature of [highS, lowV]) {
        const error = await attemptError(dispatcher.check(offerOf(honest.url), dataRequest(), { ...basic, signature }));
        expect([error.kind, error.message]).to.deep.equal([
          "invalid",
          "the signature is not a canonical 65-byte low-s signature",
        ]);
      }
    });

    it("an output changed after signing (chaos tamperOutputRate 1), basic and proven", async function () {
      const liar = await start({ tamperOutputRate: 1 });
      const basicError = await attemptError(dispatcher.attempt(offerOf(liar.url), dataRequest(), 5000));
      expect([basicError.kind, basicError.message]).to.deep.equal([
        "invalid",
        "outputHash is not the hash of the output",
      ]);
      const proven = dataRequest({ transcript: { sources: [fieldToBytes32(1n)] } });
      const provenError = await attemptError(dispatcher.attempt(offerOf(liar.url), proven, 5000));
      expect([provenError.kind, provenError.message]).to.deep.equal([
        "invalid",
        "outputHash is not the leaf of the output",
      ]);
    });

    it("a cost above the offer's price or the request's maxCost", async function () {
      const error = await attemptError(dispatcher.attempt(offerOf(honest.url, 1n), dataRequest(), 5000));
      expect([error.kind, error.message]).to.deep.equal([
        "invalid",
        `cost ${AITBC / 10n} above maxCost ${10n * AITBC} / price 1`,
      ]);
      const low = await attemptError(dispatcher.check(offerOf(honest.url), dataRequest({ maxCost: "5" }), basic));
      expect(low.message).to.equal(`cost ${AITBC / 10n} above maxCost 5 / price ${10n * AITBC}`);
    });

    it("an answer for another step or execution, or naming another provider", async function () {
      const cases: [ProviderOffer, StepRequest, string][] = [
        [offerOf(honest.url), dataRequest({ step: 4 }), "answer is for another step"],
        [offerOf(honest.url), dataRequest({ executionId: "8" }), "answer is for another step"],
        [
          offerOf(honest.url, 10n * AITBC, `0x${"42".repeat(20)}`),
          dataRequest(),
          `answer names provider ${account.address}`,
        ],
      ];
      for (const [offer, request, message] of cases) {
        const error = await attemptError(dispatcher.check(offer, request, basic));
        expect([error.kind, error.message]).to.deep.equal(["invalid", message]);
      }
    });

    it("an inputHash that is not the hash of the input sent, or a basic record for a proven step", async function () {
      const other = await attemptError(
        dispatcher.check(offerOf(honest.url), dataRequest({ input: { op: "stats", data: [1, 2, 4] } }), basic),
      );
      expect([other.kind, other.message]).to.deep.equal(["invalid", "inputHash is not the hash of the input sent"]);
      const proven = dataRequest({ transcript: { sources: [fieldToBytes32(1n)] } });
      const unproven = await attemptError(dispatcher.check(offerOf(honest.url), proven, basic));
      expect(unproven.message).to.equal("a proven step records inputHash 0");
    });

    it("a signed Iris answer that differs from the reference model's", async function () {
      const expected = irisExpected() as { predictedClass: number; scores: string[] };
      const wrong: Json = { kind: "iris-prediction", predictedClass: 2, scores: expected.scores };
      const record = {
        inputHash: valueHashHex(SETOSA, TEST_BLIND),
        outputHash: valueHashHex(wrong, TEST_BLIND),
        cost: AITBC,
      };
      const signature = await signStepResult(account, chain.domain, { executionId: 1n, step: 3, ...record });
      const answer: OpenedStepResponse = {
        executionId: "1",
        step: 3,
        provider: account.address,
        output: wrong,
        sealedOutput: basic.sealedOutput, // check() judges the opened output
        record: { ...record, cost: AITBC.toString() },
        signature,
        millis: 1,
      };
      const error = await attemptError(dispatcher.check(offerOf(honest.url), irisRequest(), answer));
      expect([error.kind, error.message]).to.deep.equal(["invalid", "output differs from the reference model's"]);
      // The same answer with the right output passes.
      const right = irisExpected();
      const good = {
        inputHash: valueHashHex(SETOSA, TEST_BLIND),
        outputHash: valueHashHex(right, TEST_BLIND),
        cost: AITBC,
      };
      await dispatcher.check(offerOf(honest.url), irisRequest(), {
        ...answer,
        output: right,
        record: { ...good, cost: AITBC.toString() },
        signature: await signStepResult(account, chain.domain, { executionId: 1n, step: 3, ...good }),
      });
    });
  });

  describe("the execution's blind", function () {
    it("rejects a signed answer whose record hashes the right input and output under another blind, or unblinded", async function () {
      const right = irisExpected();
      // A real answer's sealed output (check() judges the opened one).
      const { sealedOutput } = await dispatcher.attempt(offerOf(honest.url), irisRequest(), 5000);
      const answerUnder = async (inputHash: Hex, outputHash: Hex): Promise<OpenedStepResponse> => {
        const record = { inputHash, outputHash, cost: AITBC };
        const signature = await signStepResult(account, chain.domain, { executionId: 1n, step: 3, ...record });
        const r = { ...record, cost: AITBC.toString() };
        return {
          executionId: "1",
          step: 3,
          provider: account.address,
          output: right,
          sealedOutput,
          record: r,
          signature,
          millis: 1,
        };
      };
      const other = TEST_BLIND + 1n;
      const unblinded = (v: bigint[]) => fieldToBytes32(poseidonHash(v));
      const { predictedClass, scores } = right as { predictedClass: number; scores: string[] };
      for (const [what, answer, message] of [
        [
          "input under another blind",
          await answerUnder(valueHashHex(SETOSA, other), valueHashHex(right, TEST_BLIND)),
          "inputHash is not the hash of the input sent",
        ],
        [
          "output under another blind",
          await answerUnder(valueHashHex(SETOSA, TEST_BLIND), valueHashHex(right, other)),
          "outputHash is not the hash of the output",
        ],
        [
          "output unblinded",
          await answerUnder(
            valueHashHex(SETOSA, TEST_BLIND),
            unblinded([BigInt(predictedClass), ...scores.map((x) => signedToField(BigInt(x)))]),
          ),
          "outputHash is not the hash of the output",
        ],
      ] as const) {
        const error = await attemptError(dispatcher.check(offerOf(honest.url), irisRequest(), answer));
        expect([error.kind, error.message], what).to.deep.equal(["invalid", message]);
      }
    });
  });

  describe("inference proofs", function () {
    it("accepts a valid proof and rejects forged ones", async function () {
      this.timeout(60_000);
      // The provider proves within the request's own time limit: give it the attempt's 30 s, not the data steps' 5 s
      // (a loaded machine took longer than 5 s to prove; this test is about what is proven, not how fast).
      const request = irisRequest({
        proof: true,
        timeoutMs: 30_000,
        transcript: { sources: [valueHashHex(SETOSA, TEST_BLIND)] },
      });
      const answer = await dispatcher.attempt(offerOf(honest.url), request, 30_000);
      const proof = answer.proof;
      if (proof === undefined) throw new Error("no proof in the answer");
      expect(answer.output).to.deep.equal(irisExpected());
      expect(proof.outputHash).to.equal(valueHash(irisExpected(), TEST_BLIND).toString());

      const bump = (s: string) => (BigInt(s) + 1n).toString();
      const forgeries: [string, OpenedStepResponse, string][] = [
        ["no proof", { ...answer, proof: undefined }, "inference proof missing"],
        [
          "another output hash",
          { ...answer, proof: { ...proof, outputHash: bump(proof.outputHash) } },
          "the inference proof does not verify",
        ],
        [
          "another input hash",
          { ...answer, proof: { ...proof, inputHash: bump(proof.inputHash) } },
          "the proof's input is not the step's source",
        ],
        [
          "swapped proof points",
          { ...answer, proof: { ...proof, proof: { ...proof.proof, a: proof.proof.c, c: proof.proof.a } } },
          "the inference proof does not verify",
        ],
      ];
      for (const [what, forged, message] of forgeries) {
        const error = await attemptError(dispatcher.check(offerOf(honest.url), request, forged));
        expect([error.kind, error.message], what).to.deep.equal(["invalid", message]);
      }
    });
  });

  describe("transport and refusals", function () {
    it('an unreachable endpoint is "unavailable"', async function () {
      const closed = createServer();
      const endpoint = await listen(closed, "127.0.0.1", 0);
      await closeServer(closed); // nothing listens on that port now
      const error = await attemptError(dispatcher.attempt(offerOf(endpoint), dataRequest(), 2000));
      expect([error.kind, error.message]).to.deep.equal(["unavailable", `cannot reach ${endpoint} (ECONNREFUSED)`]);
    });

    it("signs every attempt as the keeper: another key's requests, or another execution's, are \"refused\"", async function () {
      // Two attempts of the same request: each signed afresh (a provider admits a signed request once).
      for (let i = 0; i < 2; i++)
        expect((await dispatcher.attempt(offerOf(honest.url), dataRequest(), 5000)).step).to.equal(3);
      const stranger = new StepDispatcher({ domain: chain.domain, prover, key: STRANGER_KEY, keys: keys.keeper });
      const error = await attemptError(stranger.attempt(offerOf(honest.url), dataRequest(), 5000));
      expect([error.kind, error.message]).to.deep.equal([
        "refused",
        `403: authorization: signed by ${chain.stranger}, not by execution 1's keeper ${chain.keeper}`,
      ]);
      const finished = dataRequest({ executionId: chain.executions.finished.toString() });
      const late = await attemptError(dispatcher.attempt(offerOf(honest.url), finished, 5000));
      expect([late.kind, late.message]).to.deep.equal([
        "refused",
        `403: executionId: execution ${chain.executions.finished} is failed, not running`,
      ]);
    });

    it('an input the record rules cannot hash is "refused" before any request', async function () {
      const bad = irisRequest({ input: { kind: "iris-features", features: [1, 2] } });
      const error = await attemptError(dispatcher.attempt(offerOf("http://127.0.0.1:1"), bad, 5000));
      expect([error.kind, error.message]).to.deep.equal([
        "refused",
        "cannot sign the request: input.features: must be 4 quantized integers",
      ]);
    });

    it('a request the provider refuses (maxCost below its price) is "refused"', async function () {
      const error = await attemptError(dispatcher.attempt(offerOf(honest.url), dataRequest({ maxCost: "1" }), 5000));
      expect([error.kind, error.message]).to.deep.equal([
        "refused",
        `422: maxCost: 1 wei is below the price of service data (${AITBC / 10n} wei)`,
      ]);
    });

    it('a provider at capacity is "busy" with its Retry-After; a slow one is a "timeout"', async function () {
      const slow = await start({ extraDelayMs: 300 }, 1);
      const first = dispatcher.attempt(offerOf(slow.url), dataRequest(), 5000);
      const deadline = Date.now() + 2000;
      while (slow.load() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const busy = await attemptError(dispatcher.attempt(offerOf(slow.url), dataRequest(), 5000));
      expect([busy.kind, busy.message, busy.retryAfterMs]).to.deep.equal(["busy", "provider at capacity", 1000]);
      expect((await first).output).to.deep.equal(STATS_OUTPUT);

      const started = performance.now();
      const late = await attemptError(dispatcher.attempt(offerOf(slow.url), dataRequest(), 100));
      expect([late.kind, late.message]).to.deep.equal(["timeout", "no answer within 100 ms"]);
      expect(performance.now() - started).to.be.below(250);

      // The provider's own limit (the request's timeoutMs) passes first: its 504 is a timeout too.
      while (slow.load() > 0) await new Promise((r) => setTimeout(r, 5));
      const gaveUp = await attemptError(dispatcher.attempt(offerOf(slow.url), dataRequest({ timeoutMs: 100 }), 2000));
      expect([gaveUp.kind, gaveUp.message]).to.deep.equal(["timeout", "the provider timed out"]);
    });

    describe("a server that does not speak the API", function () {
      let reply: { status: number; body: string } = { status: 200, body: "{}" };
      let stub: Server;
      let url = "";
      before(async function () {
        stub = createServer((_req, res) => res.writeHead(reply.status).end(reply.body));
        url = await listen(stub, "127.0.0.1", 0);
      });
      after(async function () {
        await closeServer(stub);
      });

      const cases: [number, string, AttemptError["kind"], RegExp][] = [
        [200, '{"hello": 1}', "invalid", /^malformed answer: /],
        [200, "not json", "unavailable", /^http:\/\/127\.0\.0\.1:\d+ answered 200 without JSON/],
        [500, '{"error": {"message": "boom"}}', "unavailable", /^500: boom$/],
        [503, "{}", "unavailable", /^503: status 503$/],
        [400, '{"error": {"message": "input: bad"}}', "refused", /^400: input: bad$/],
      ];
      for (const [status, body, kind, message] of cases) {
        it(`${status} ${body} is "${kind}"`, async function () {
          reply = { status, body };
          const error = await attemptError(dispatcher.attempt(offerOf(url), dataRequest(), 2000));
          expect(error.kind).to.equal(kind);
          expect(error.message).to.match(message);
        });
      }
    });
  });
});
