/**
 * A chain on which a keeper runs an execution, for the tests that post straight to a provider node. A provider
 * serves only the keeper of a running execution (keepers/provider/auth.ts), so such a test signs its requests as that
 * keeper does (protocol/steps.ts signedStepRequest), for a real execution of a real deployment:
 *
 * - Hardhat account #9 is the keeper, #10 another active agent (a stranger to the executions), #11 the client who
 *   defines a workflow of 8 chained steps and requests the executions;
 * - execution 1 (`running`), claimed by the keeper; execution 2 (`pending`), not claimed; execution 3
 *   (`finished`), claimed and then failed by the keeper; execution 4 (`strangers`), claimed by the stranger (a
 *   running execution of another keeper).
 *
 * `keeperChain()` deploys the protocol on a fresh in-process network; `keeperChain({ connection, protocol })` adds
 * the same to a deployment a test already has (it must have requested no execution yet). The viem client counts the
 * eth_calls it makes (`calls`), so that a test can see what a provider reads.
 */
import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import {
  bytesToHex,
  createPublicClient,
  custom,
  keccak256,
  stringToBytes,
  type Address,
  type Hex,
  type PublicClient,
  type TypedDataDomain,
} from "viem";

import { signStepRequest, workflowsDomain } from "../../protocol/eip712.js";
import { encryptionKeysFrom, type EncryptionKeys } from "../../protocol/sealed.js";
import {
  openStepResponse,
  sealStepRequest,
  signedStepRequest,
  stepResponseSchema,
  ZERO_HASH,
  type OpenedStepResponse,
  type StepRequest,
} from "../../protocol/steps.js";
import { createStepAuth, type StepAuth } from "../../keepers/provider/auth.js";
import { authConfigSchema, type AuthConfig } from "../../keepers/provider/config.js";
import type { ProviderMetrics } from "../../keepers/provider/metrics.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { devAccount } from "../../scripts/lib/devnet.js";
import { MIN_STAKE, mintAitbc, registerAndStake } from "./agents.js";
import { stepRequest, type Reply } from "./keepers.js";
import { chainSpec, executionRequest, INPUTS } from "./workflows.js";

export const KEEPER_KEY = devAccount(9).privateKey;
export const STRANGER_KEY = devAccount(10).privateKey;

/**
 * The test provider nodes' encryption keys (what a node loads from its key file) and the keeper's (its reply key):
 * fixed seeds, so that every test seals to the node it starts.
 */
let testKeys: Promise<{ provider: EncryptionKeys; keeper: EncryptionKeys }> | undefined;
export function encryptionKeys(): Promise<{ provider: EncryptionKeys; keeper: EncryptionKeys }> {
  testKeys ??= (async () => ({
    provider: await encryptionKeysFrom(`0x${"a1".repeat(32)}`),
    keeper: await encryptionKeysFrom(`0x${"b2".repeat(32)}`),
  }))();
  return testKeys;
}

/** A 65-byte signature of nothing: passes the credentials' form, never the signature check. */
export const UNSIGNED: Hex = `0x${"11".repeat(65)}`;

export interface PostOptions {
  /** Send `body` as it is (a string), not as JSON, unsealed (signed with inputHash 0 if it names an execution and step). */
  raw?: boolean;
  /** Seal the input to this key (default: the test provider's). */
  providerKey?: Hex;
  /** Sign with this key (default: the keeper's). */
  key?: Hex;
  expiry?: bigint;
  nonce?: Hex;
  /** Headers over the signed ones (a replay, a forgery). */
  headers?: Record<string, string>;
}

export type Protocol = Awaited<ReturnType<typeof deployProtocol>>;

export async function keeperChain(options: { connection?: NetworkConnection; protocol?: Protocol } = {}) {
  const connection = options.connection ?? (await network.create());
  const protocol = options.protocol ?? (await deployProtocol(connection));
  const { workflows, registry, token, operator } = protocol;
  const signers = await connection.ethers.getSigners();
  const [keeper, stranger, client] = [signers[9], signers[10], signers[11]];
  if (!keeper || !stranger || !client) throw new Error("the test network needs 12 accounts");
  expect(devAccount(9).address).to.equal(keeper.address);

  await registerAndStake(protocol, keeper, operator, MIN_STAKE);
  await registerAndStake(protocol, stranger, operator, MIN_STAKE);
  await mintAitbc(protocol, client.address, 1_000n);
  await (await token.connect(client).approve(await workflows.getAddress(), MaxUint256)).wait();
  const asClient = workflows.connect(client);
  const spec = chainSpec(8);
  const workflowId = await asClient.defineWorkflow.staticCall(spec);
  await (await asClient.defineWorkflow(spec)).wait();
  const request = async (named = keeper.address) => {
    const req = executionRequest(workflowId, INPUTS, 10n * 10n ** 18n, 0n, { keeper: named });
    const id = await asClient.requestExecution.staticCall(req);
    await (await asClient.requestExecution(req)).wait();
    return id;
  };
  const running = await request();
  await (await workflows.connect(keeper).claimExecution(running)).wait();
  const pending = await request();
  const finished = await request();
  await (await workflows.connect(keeper).claimExecution(finished)).wait();
  await (await workflows.connect(keeper).failExecution(finished, `0x${"00".repeat(31)}01`)).wait();
  const strangers = await request(stranger.address);
  await (await workflows.connect(stranger).claimExecution(strangers)).wait();
  expect(running, "the running execution is the one stepRequest() names").to.equal(1n);

  const calls: { to: string; data: string }[] = [];
  const client_: PublicClient = createPublicClient({
    transport: custom({
      request: ({ method, params }: { method: string; params?: unknown }) => {
        if (method === "eth_call") calls.push((params as [{ to: string; data: string }])[0]);
        return connection.provider.request({ method, params: params ?? [] });
      },
    }),
  });
  const contracts = {
    workflows: (await workflows.getAddress()) as Address,
    registry: (await registry.getAddress()) as Address,
  };
  const domain: TypedDataDomain = await workflowsDomain(client_, contracts.workflows);

  /**
   * The body and headers of `body` (a StepRequest, its input in clear) sealed and signed as the keeper does, as
   * `options` say; a raw string, or a body one cannot seal and sign, goes as it is with UNSIGNED credentials.
   */
  const sign = async (body: unknown, options: PostOptions = {}) => {
    const keys = await encryptionKeys();
    const sealTo = { provider: options.providerKey ?? keys.provider.publicKey, reply: keys.keeper.publicKey };
    const isRequest = !options.raw && typeof body === "object" && body !== null && "input" in body;
    let text = options.raw ? (body as string) : JSON.stringify(body);
    let headers: Record<string, string>;
    try {
      if (!isRequest) throw new Error("not a step request");
      const signed = await signedStepRequest(options.key ?? KEEPER_KEY, domain, body as StepRequest, sealTo, options);
      text = signed.body;
      headers = signed.headers;
    } catch {
      // Not a step request one can seal and sign as it is (bad JSON, schema, input): the provider refuses it before
      // or after the signature. A request whose input or blind cannot be hashed still goes sealed, as a keeper would
      // seal it, and signed by the keeper (or `options.key`) with inputHash 0, as a keeper that could not hash it
      // would sign it: the provider opens it (the signature and the chain check out) and names the field at fault.
      if (isRequest) {
        try {
          text = JSON.stringify(await sealStepRequest(domain, body as StepRequest, sealTo));
        } catch {
          // No execution id or step to seal for: the body goes as it is (the schema refuses it first).
        }
      }
      headers = signedAnyway(text, options);
    }
    return { body: text, headers: { ...headers, ...options.headers } };
  };

  /** Headers signing `text` for its executionId and step with inputHash 0, or UNSIGNED ones if it names neither. */
  const signedAnyway = (text: string, options: PostOptions): Record<string, string> => {
    const expiry = options.expiry ?? BigInt(Math.floor(Date.now() / 1000) + 60);
    const nonce = options.nonce ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    let signature: Hex = UNSIGNED;
    try {
      const { executionId, step } = JSON.parse(text) as { executionId: unknown; step: unknown };
      if (typeof executionId === "string" && /^\d{1,70}$/.test(executionId) && typeof step === "number") {
        const message = { executionId: BigInt(executionId), step, inputHash: ZERO_HASH, expiry, nonce };
        signature = signStepRequest(options.key ?? KEEPER_KEY, domain, {
          ...message,
          bodyHash: keccak256(stringToBytes(text)),
        });
      }
    } catch {
      // Not JSON, or fields out of their types' range: unsigned.
    }
    return {
      "content-type": "application/json",
      authorization: `AITBC-Keeper ${signature}`,
      "x-aitbc-expiry": expiry.toString(),
      "x-aitbc-nonce": nonce,
      "x-aitbc-input-hash": ZERO_HASH,
    };
  };

  /**
   * POSTs `body` to `url`/v1/steps, sealed and signed by the keeper (or `options.key`). A 200 answer's body gets its
   * output opened with the keeper's key as `output`, next to `sealedOutput`.
   */
  const post = async (url: string, body: unknown, options: PostOptions = {}): Promise<Reply> => {
    const signed = await sign(body, options);
    const res = await fetch(`${url}/v1/steps`, { method: "POST", headers: signed.headers, body: signed.body });
    const answer: unknown = await res.json();
    const parsed = res.status === 200 ? stepResponseSchema.safeParse(answer) : undefined;
    if (parsed?.success !== true) return { status: res.status, headers: res.headers, body: answer };
    const opened = await openStepResponse((await encryptionKeys()).keeper, domain, parsed.data);
    return { status: res.status, headers: res.headers, body: { ...(answer as object), output: opened.output } };
  };

  return {
    connection,
    protocol,
    client: client_,
    contracts,
    domain,
    executions: { running, pending, finished, strangers },
    keeper: keeper.address as Address,
    stranger: stranger.address as Address,
    /** Every eth_call the client made, in order. */
    calls,
    sign,
    post,
    /** A 200 StepResponse of stepRequest(overrides), signed by the keeper, schema-checked, its output opened. */
    async step(
      url: string,
      overrides: Partial<StepRequest> = {},
      options: PostOptions = {},
    ): Promise<OpenedStepResponse> {
      const reply = await post(url, stepRequest(overrides), options);
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      const sealed = { ...(reply.body as Record<string, unknown>) };
      delete sealed.output; // opened by post; the schema takes the answer as it came
      return openStepResponse((await encryptionKeys()).keeper, domain, stepResponseSchema.parse(sealed));
    },
    /** An authenticator over this chain, with the provider's default auth config (some fields replaced). */
    auth(
      config: Partial<AuthConfig> = {},
      options: { now?: () => number; metrics?: Pick<ProviderMetrics, "chainReads"> } = {},
    ): StepAuth {
      return createStepAuth({ client: client_, contracts, domain, config: authConfigSchema.parse(config), ...options });
    },
  };
}

export type KeeperChain = Awaited<ReturnType<typeof keeperChain>>;
