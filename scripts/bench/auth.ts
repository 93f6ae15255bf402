/**
 * The CPU cost of the keeper API's signature checks (keepers/keeper/auth.ts), per request, in process: the real
 * ApiAuth on real EIP-712 signatures (viem local accounts, the Workflows domain shape), timed with
 * performance.now() over N checks after a warm-up. It prints figures; it asserts nothing.
 *
 * 1. A signed request seen for the first time (a distinct header each time): one secp256k1 recovery.
 * 2. The same header again (a client polling with the header it reuses for a minute): the verified-header memory.
 * 3. Signed inputs (POST /v1/inputs, a small inputs value sealed to the keeper: one recovery, one HPKE open, its
 *    value hash) and a grant; and,
 *    for comparison, the request signatures recovered by viem alone (pure JavaScript, the fallback where the
 *    libsecp256k1 binding does not load: keepers/common/signatures.ts).
 * 4. The result sealed to the reader (GET /v1/executions with its key): one HPKE seal (protocol/sealed.ts); and a
 *    step's encryption as CPU time: the input sealed and opened, the output sealed and opened.
 * 4b. A step's authentication + encryption, CPU (process.cpuUsage, user + system: other load on the machine slows it
 *    less than wall time) per step across keeper and provider, against the target of under 1 ms: the keeper seals
 *    the input and signs the StepRequest (protocol/steps.ts signedStepRequest), the provider reads the credentials,
 *    parses the body, verifies the signature over the signed input hash against the keeper's key it holds (as
 *    keepers/provider/auth.ts does for every step of an execution but its first), opens the input and checks its
 *    hash (server.ts), seals the output to the keeper, and the keeper opens it. The record's input hash (Poseidon),
 *    which the keeper takes once per step and the provider once for its record with or without authentication, is
 *    timed apart and shown beside it. Left out here: the provider's chain cache lookup and its nonce and rate
 *    bookkeeping (a few µs; scripts/bench/keeper.ts section 4 measures the same on a devnet's real requests with
 *    them), and HTTP. Least and spread of 5 rounds, the load average printed beside it.
 * 4c. The keeper's check of a provider's answer (keepers/keeper/dispatcher.ts check): issue 17's figure.
 * 5. Per poll, a client reusing its header for 45 s (KeeperClient: 60 s expiry, re-signed with 15 s left) at the
 *    demo's 200 ms and the tasks' 500 ms polling: (one cold + the rest warm) / polls.
 * What it leaves out: the chain reads a read or an operator route makes after the signature checks out (one
 * getExecution or summaryOf call; more for a listing), and HTTP.
 *
 *   npm run bench:auth
 */
import { availableParallelism, loadavg } from "node:os";

import { createPublicClient, http, keccak256, recoverTypedDataAddress, type Hex, type TypedDataDomain } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  EXECUTION_INPUTS_TYPES,
  KEEPER_REQUEST_TYPES,
  RESULTS_GRANT_TYPES,
  STEP_RESULT_TYPES,
  digestSignedBy,
  digestSignerKey,
  stepRequestDigest,
} from "../../protocol/eip712.js";
import {
  authorizationHeader,
  executionInputsMessage,
  keeperRequestMessage,
  resultsGrantMessage,
  unixNow,
  type SealedInputs,
} from "../../protocol/keeper-api.js";
import {
  encryptionKeysFrom,
  newEncryptionSeed,
  open,
  resultSubject,
  seal,
  sealContext,
} from "../../protocol/sealed.js";
import { blindToHex, randomBlind } from "../../circuits/lib/field.js";
import { parseBlind, valueHashHex } from "../../protocol/values.js";
import { Prover } from "../../circuits/lib/prover.js";
import type { ProviderOffer } from "../../keepers/common/catalog.js";
import { StepDispatcher } from "../../keepers/keeper/dispatcher.js";
import { Store } from "../../keepers/common/store.js";
import { ApiAuth } from "../../keepers/keeper/auth.js";
import { createStepAuth } from "../../keepers/provider/auth.js";
import { authConfigSchema } from "../../keepers/provider/config.js";
import { openStep, parseStep } from "../../keepers/provider/server.js";
import {
  openStepResponse,
  recordInputHash,
  signedStepRequest,
  stepSealContext,
  type StepRequest,
} from "../../protocol/steps.js";

const COLD = 500;
const WARM = 20_000;
const WARMUP = 50;
const DOMAIN: TypedDataDomain = {
  name: "AITBC Workflows",
  version: "1",
  chainId: 31337,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
const account = privateKeyToAccount("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
const store = new Store(":memory:");
const keys = await encryptionKeysFrom(newEncryptionSeed());
const auth = new ApiAuth({
  keys,
  // Signature checks read no chain: this client is never called.
  client: createPublicClient({ transport: http("http://127.0.0.1:9") }),
  addresses: { workflows: DOMAIN.verifyingContract as Hex, registry: DOMAIN.verifyingContract as Hex },
  domain: DOMAIN,
  agentId: 1n,
  store,
});

async function requestHeader(path: string, expiry: number): Promise<string> {
  const signature = await account.signTypedData({
    domain: DOMAIN,
    types: KEEPER_REQUEST_TYPES,
    primaryType: "KeeperRequest",
    message: keeperRequestMessage("GET", path, account.address, expiry),
  });
  return authorizationHeader({ signer: account.address, expiry, signature });
}

/** Mean ms per call of `check` over the items after the first `WARMUP` (those warm the code up, untimed). */
async function time<T>(items: readonly T[], check: (item: T) => Promise<unknown>): Promise<number> {
  for (const item of items.slice(0, WARMUP)) await check(item);
  const timed = items.slice(WARMUP);
  const t0 = performance.now();
  for (const item of timed) await check(item);
  return (performance.now() - t0) / timed.length;
}

const expiry = unixNow() + 240;
const paths = Array.from({ length: COLD + WARMUP }, (_, i) => `/v1/executions?id=${i + 1}`);
const fresh = await Promise.all(paths.map(async (path) => ({ path, header: await requestHeader(path, expiry) })));
// Every timed header is new to the ApiAuth (the warm-up ones are others).
const coldMs = await time(fresh, (r) => auth.requestSigner("GET", r.path, r.header));
const one = fresh[0] ?? { path: "/v1/reports", header: await requestHeader("/v1/reports", expiry) };
const warmMs = await time(
  Array.from({ length: WARM }, () => one),
  (r) => auth.requestSigner("GET", r.path, r.header),
);

const posts = await Promise.all(
  Array.from({ length: COLD + WARMUP }, async (_, i) => {
    const inputs = { values: [i, i + 1, i + 2], note: "bench" };
    const blind = randomBlind();
    const inputsHash = valueHashHex(inputs, blind);
    const signature = await account.signTypedData({
      domain: DOMAIN,
      types: EXECUTION_INPUTS_TYPES,
      primaryType: "ExecutionInputs",
      message: executionInputsMessage(inputsHash, account.address, expiry),
    });
    const sealedInputs: SealedInputs = { inputs, blind: blindToHex(blind) };
    const sealed = await seal(keys.publicKey, sealedInputs, sealContext(DOMAIN, "inputs", inputsHash));
    return { sealed, inputsHash, client: account.address, expiry, signature };
  }),
);
const inputsMs = await time(posts, (body) => auth.signedInputs(body));
const issuedAt = Date.now();
const grants = await Promise.all(
  Array.from({ length: COLD + WARMUP }, async (_, i) => {
    const executionId = BigInt(i + 1);
    const signature = await account.signTypedData({
      domain: DOMAIN,
      types: RESULTS_GRANT_TYPES,
      primaryType: "ResultsGrant",
      message: resultsGrantMessage(executionId, account.address, expiry, issuedAt),
    });
    return { executionId: executionId.toString(), reader: account.address, expiry, issuedAt, signature };
  }),
);
const grantMs = await time(grants, (body) => auth.signedGrant(body));
const reader = await encryptionKeysFrom(newEncryptionSeed());
const result = {
  result: { kind: "report", text: "virginica with 0.97: the flower is a virginica", scores: [1, 2, 3] },
  blind: blindToHex(randomBlind()),
};
const resultMs = await time(fresh, async (r) =>
  seal(reader.publicKey, result, sealContext(DOMAIN, "result", resultSubject(BigInt(r.path.length), account.address))),
);
// For comparison: the same requests' signatures recovered by viem in pure JavaScript (the fallback).
const viemMs = await time(fresh, (r) =>
  recoverTypedDataAddress({
    domain: DOMAIN,
    types: KEEPER_REQUEST_TYPES,
    primaryType: "KeeperRequest",
    message: keeperRequestMessage("GET", r.path, account.address, expiry),
    signature: /signature=(0x[0-9a-f]+)/i.exec(r.header)?.[1] as Hex,
  }),
);
// A step's encryption, CPU (user + system, all threads) per step: the keeper seals the input to the provider, the
// provider opens it and seals the output to the keeper, the keeper opens it (protocol/steps.ts, sealed.ts).
const provider = await encryptionKeysFrom(newEncryptionSeed());
const stepInput = {
  input: { op: "stats", data: Array.from({ length: 20 }, (_, i) => i * 1.5) },
  blind: blindToHex(randomBlind()),
};
const stepOutput = { count: 20, max: 28.5, mean: 14.25, min: 0, spread: 28.5 };
const stepCpu = async (n: number) => {
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const ctxIn = sealContext(DOMAIN, "step-input", `${k}/0`);
    const ctxOut = sealContext(DOMAIN, "step-output", `${k}/0`);
    await open(provider, await seal(provider.publicKey, stepInput, ctxIn), ctxIn);
    await open(keys, await seal(keys.publicKey, stepOutput, ctxOut), ctxOut);
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
};
await stepCpu(WARMUP);
const stepEncryptionMs = Math.min(await stepCpu(COLD), await stepCpu(COLD), await stepCpu(COLD));

// 4b. A step's authentication + encryption across keeper and provider, as the daemons do it.
const KEEPER_KEY: Hex = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const stepAuth = createStepAuth({
  // Only the credentials and the input hash are checked here: no chain read, this client is never called.
  client: createPublicClient({ transport: http("http://127.0.0.1:9") }),
  contracts: { workflows: DOMAIN.verifyingContract as Hex, registry: DOMAIN.verifyingContract as Hex },
  domain: DOMAIN,
  config: authConfigSchema.parse({}),
});
const stepRequest = (k: number): StepRequest => ({
  executionId: String(k + 1),
  step: 0,
  stepType: "data-processing",
  model: `0x${"ab".repeat(32)}`,
  input: stepInput.input,
  blind: stepInput.blind,
  maxCost: "1000000000000000000",
  timeoutMs: 30_000,
});
// The record's inputHash (a Poseidon value hash): keeper and provider each take it once per step with or without
// authentication (the keeper keeps it with the step, the provider's record holds it), so it is timed apart.
let hashMs = 0;
const timed = <T>(f: () => T): T => {
  const c0 = process.cpuUsage();
  const result = f();
  const c = process.cpuUsage(c0);
  hashMs += (c.user + c.system) / 1000;
  return result;
};
let keeperPublicKey: Uint8Array | undefined;
const stepAuthCpu = async (n: number) => {
  hashMs = 0;
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    // The keeper: the input hashed once (orchestrator.ts), sealed to the provider, the request signed.
    const request = stepRequest(k);
    const inputHash = timed(() => recordInputHash(request));
    const { body, headers } = await signedStepRequest(
      KEEPER_KEY,
      DOMAIN,
      { ...request, inputHash },
      { provider: provider.publicKey, reply: keys.publicKey },
    );
    // The provider: credentials, schema, signature (over the header's input hash; its cached chain answer and the
    // keeper's key: a step of a running execution), then the input opened and hashed to the signed value.
    const credentials = stepAuth.credentials(headers);
    const parsed = parseStep(JSON.parse(body));
    // As authorize() does for a cached execution whose keeper's key it holds (no chain here; the nonce and rate
    // bookkeeping, a few µs, left out): the digest over the header's input hash and the body's hash, verified.
    const digest = stepRequestDigest(DOMAIN, {
      executionId: BigInt(parsed.executionId),
      step: parsed.step,
      inputHash: credentials.inputHash,
      bodyHash: keccak256(Buffer.from(body)),
      nonce: credentials.nonce,
      expiry: credentials.expiry,
    });
    if (keeperPublicKey === undefined || !digestSignedBy(digest, credentials.signature, keeperPublicKey)) {
      const recovered = digestSignerKey(digest, credentials.signature);
      if (recovered?.address !== account.address)
        throw new Error(`step ${k}: recovered ${recovered?.address ?? "nothing"}`);
      keeperPublicKey = recovered.publicKey;
    }
    const opened = await openStep(provider, DOMAIN, parsed);
    timed(() => stepAuth.checkInput(credentials, opened));
    // The provider seals the output to the keeper's reply key; the keeper opens it.
    const sealedOutput = await seal(
      keys.publicKey,
      stepOutput,
      stepSealContext(DOMAIN, "step-output", parsed.executionId, 0),
    );
    await openStepResponse(keys, DOMAIN, { executionId: parsed.executionId, step: 0, sealedOutput } as Parameters<
      typeof openStepResponse
    >[2]);
  }
  const c = process.cpuUsage(c0);
  const total = (c.user + c.system) / 1000 / n;
  return { total, hashes: hashMs / n, authAndEncryption: total - hashMs / n };
};
await stepAuthCpu(WARMUP);
const load0 = loadavg()[0] ?? 0;
const rounds = [];
for (let r = 0; r < 5; r++) rounds.push(await stepAuthCpu(COLD));
const load1 = loadavg()[0] ?? 0;
const stepAuthMs = Math.min(...rounds.map((r) => r.authAndEncryption));
const stepAuthSpread = Math.max(...rounds.map((r) => r.authAndEncryption)) - stepAuthMs;
const stepTotalMs = Math.min(...rounds.map((r) => r.total));
const stepHashMs = Math.min(...rounds.map((r) => r.hashes));

// 4c. The keeper's check of a provider's answer (keepers/keeper/dispatcher.ts check), CPU: the StepResult signature
// (libsecp256k1), the output's value hash, the record's hashes compared (the input's hash kept with the step).
const providerAccount = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9c86dae88c7a8412f4603b6b78690d");
const dispatcher = new StepDispatcher({ domain: DOMAIN, prover: new Prover(), key: KEEPER_KEY, keys });
const offer: ProviderOffer = {
  serviceId: `0x${"01".repeat(32)}`,
  agentId: 2n,
  address: providerAccount.address,
  endpoint: "http://127.0.0.1:9",
  reputation: 0,
  capabilities: [],
  model: `0x${"ab".repeat(32)}`,
  price: 10n ** 18n,
  capacity: 1n,
  load: 0n,
  encryptionKey: provider.publicKey,
};
const answers = await Promise.all(
  Array.from({ length: COLD }, async (_, k) => {
    const request = stepRequest(k);
    const inputHash = recordInputHash(request);
    const outputHash = valueHashHex(stepOutput, parseBlind(request.blind));
    const record = { inputHash, outputHash, cost: "1000" };
    const signature = await providerAccount.signTypedData({
      domain: DOMAIN,
      types: STEP_RESULT_TYPES,
      primaryType: "StepResult",
      message: { executionId: BigInt(request.executionId), step: 0, inputHash, outputHash, cost: 1000n },
    });
    const answer = {
      executionId: request.executionId,
      step: 0,
      provider: providerAccount.address,
      sealedOutput: await seal(
        keys.publicKey,
        stepOutput,
        stepSealContext(DOMAIN, "step-output", request.executionId, 0),
      ),
      record,
      signature,
      millis: 1,
      output: stepOutput,
    };
    return { request: { ...request, inputHash }, answer };
  }),
);
const checkCpu = async () => {
  const c0 = process.cpuUsage();
  for (const { request, answer } of answers) await dispatcher.check(offer, request, answer);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / answers.length;
};
await checkCpu();
const checks = [];
for (let r = 0; r < 5; r++) checks.push(await checkCpu());
const answerCheckMs = Math.min(...checks);
const answerCheckSpread = Math.max(...checks) - answerCheckMs;
const load2 = loadavg()[0] ?? 0;
store.close();

const f = (ms: number) => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(3)} ms`);
const perPoll = (intervalMs: number) => {
  const polls = Math.floor(45_000 / intervalMs);
  return (coldMs + (polls - 1) * warmMs) / polls;
};
const rows: [string, string, string][] = [
  ["signed request, first sight", f(coldMs), `${COLD} distinct headers: parse, expiry, EIP-712 hash, recovery`],
  ["signed request, same header again", f(warmMs), `${WARM} checks of one header: the verified-header memory`],
  [
    "signed inputs (POST /v1/inputs)",
    f(inputsMs),
    `${COLD} posts of a 3-number input sealed to the keeper: recovery + HPKE open + value hash`,
  ],
  ["result sealed to its reader", f(resultMs), `${COLD} HPKE seals of a small result (GET /v1/executions&key=)`],
  ["grant (POST /v1/grants)", f(grantMs), `${COLD} grants: recovery`],
  [
    "a step's encryption, CPU",
    f(stepEncryptionMs),
    `input sealed + opened, output sealed + opened (least of 3 x ${COLD}; all threads' CPU)`,
  ],
  [
    "a step's authentication + encryption, CPU",
    f(stepAuthMs),
    `keeper seals + signs, provider checks + opens + seals, keeper opens (least of 5 x ${COLD}, spread ${f(stepAuthSpread)}); target under 1 ms: ${stepAuthMs < 1 ? "MET" : "NOT MET"}`,
  ],
  [
    "  the same with the record's input hash",
    f(stepTotalMs),
    `+ ${f(stepHashMs)}: the keeper's one hash of the input and the provider's (each needed for the record anyway)`,
  ],
  [
    "the keeper's check of an answer, CPU",
    f(answerCheckMs),
    `dispatcher.ts check: StepResult signature (libsecp256k1), output value hash, record compared (least of 5 x ${COLD}, spread ${f(answerCheckSpread)}); issue 17's target under 0.5 ms: ${answerCheckMs < 0.5 ? "MET" : "NOT MET"}`,
  ],
  ["viem recovery alone (the fallback)", f(viemMs), `${COLD} of the same request signatures, pure JavaScript`],
  ["per poll, 200 ms polling", f(perPoll(200)), "one first sight per 45 s of header reuse, the rest warm"],
  ["per poll, 500 ms polling", f(perPoll(500)), "the same at the tasks' polling interval"],
];
const widths = [0, 1].map((k) => Math.max(...rows.map((r) => r[k]?.length ?? 0)));
console.log(
  `keeper API signature checks and sealing, per request (node ${process.version}, recovery by libsecp256k1 in WebAssembly, HPKE by @hpke/core over node:crypto; load average ${load0.toFixed(1)} to ${load1.toFixed(1)} on ${availableParallelism()} cores during 4b, ${load2.toFixed(1)} after 4c)`,
);
for (const [figure, value, what] of rows)
  console.log(`${figure.padEnd(widths[0] ?? 0)}  ${value.padStart(widths[1] ?? 0)}  ${what}`);
