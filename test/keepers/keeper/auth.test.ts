/**
 * The keeper API's signature checks (keepers/keeper/auth.ts) in process, on the keeper's own clock: the expiry
 * window's boundaries, a remembered (verified) header never outliving its expiry, and the method and path being part
 * of what is signed. Who may read or administer is checked against a real keeper in api.test.ts.
 */
import { expect } from "chai";
import { createPublicClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { EXECUTION_INPUTS_TYPES, KEEPER_REQUEST_TYPES } from "../../../protocol/eip712.js";
import {
  authorizationHeader,
  executionInputsMessage,
  keeperRequestMessage,
  REQUEST_MAX_TTL_SECONDS,
} from "../../../protocol/keeper-api.js";
import { encryptionKeysFrom, seal, sealContext, type EncryptionKeys } from "../../../protocol/sealed.js";
import { valueHashHex } from "../../../protocol/values.js";
import { HttpError } from "../../../keepers/common/http.js";
import { Store } from "../../../keepers/common/store.js";
import { ApiAuth } from "../../../keepers/keeper/auth.js";
import { AGENT_KEY, DOMAIN, OUTSIDER_KEY } from "../../helpers/keepers.js";
import { blindToHex } from "../../../circuits/lib/field.js";
import { TEST_BLIND } from "../../helpers/proofs.js";

const T = 1_900_000_000;
const signer = privateKeyToAccount(AGENT_KEY);
const outsider = privateKeyToAccount(OUTSIDER_KEY);

async function header(method: string, path: string, expiry: number, account = signer): Promise<string> {
  const signature = await account.signTypedData({
    domain: DOMAIN,
    types: KEEPER_REQUEST_TYPES,
    primaryType: "KeeperRequest",
    message: keeperRequestMessage(method, path, account.address, expiry),
  });
  return authorizationHeader({ signer: account.address, expiry, signature });
}

async function refused(call: Promise<unknown>): Promise<HttpError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  expect.fail("accepted");
}

describe("keepers: the keeper API's signature checks (auth.ts)", function () {
  let now = T;
  let store: Store;
  let auth: ApiAuth;

  let keys: EncryptionKeys;

  before(async function () {
    keys = await encryptionKeysFrom(`0x${"d4".repeat(32)}`);
  });

  beforeEach(function () {
    now = T;
    store = new Store(":memory:");
    auth = new ApiAuth({
      keys,
      // The signature checks read no chain; this client is never called here.
      client: createPublicClient({ transport: http("http://127.0.0.1:9") }),
      addresses: { workflows: DOMAIN.verifyingContract as Hex, registry: DOMAIN.verifyingContract as Hex },
      domain: DOMAIN,
      agentId: 1n,
      store,
      now: () => now,
    });
  });

  afterEach(function () {
    store.close();
  });

  it("takes an expiry up to REQUEST_MAX_TTL_SECONDS ahead, refuses one more second and an expiry now or past", async function () {
    const path = "/v1/executions?id=7";
    expect(await auth.requestSigner("GET", path, await header("GET", path, T + REQUEST_MAX_TTL_SECONDS))).to.equal(
      signer.address,
    );
    const far = await refused(
      auth.requestSigner("GET", path, await header("GET", path, T + REQUEST_MAX_TTL_SECONDS + 1)),
    );
    expect([far.status, far.code]).to.deep.equal([401, "signature-expiry-too-far"]);
    const atNow = await refused(auth.requestSigner("GET", path, await header("GET", path, T)));
    expect([atNow.status, atNow.code]).to.deep.equal([401, "signature-expired"]);
  });

  it("a verified header is remembered only until it expires", async function () {
    const path = "/v1/reports";
    const value = await header("GET", path, T + 60);
    expect(await auth.requestSigner("GET", path, value)).to.equal(signer.address);
    now = T + 59;
    expect(await auth.requestSigner("GET", path, value)).to.equal(signer.address);
    now = T + 60;
    const expired = await refused(auth.requestSigner("GET", path, value));
    expect([expired.status, expired.code]).to.deep.equal([401, "signature-expired"]);
  });

  it("signs the method and the path with its query: a header opens no other route, and names no other signer", async function () {
    const value = await header("GET", "/v1/executions?id=7", T + 60);
    expect(await auth.requestSigner("GET", "/v1/executions?id=7", value)).to.equal(signer.address);
    for (const [method, path] of [
      ["GET", "/v1/executions?id=8"],
      ["GET", "/v1/executions?id=7&x=1"],
      ["POST", "/v1/executions?id=7"],
      ["GET", "/v1/reports"],
    ] as const) {
      const e = await refused(auth.requestSigner(method, path, value));
      expect([e.status, e.code], `${method} ${path}`).to.deep.equal([401, "bad-signature"]);
    }
    const claimed = value.replace(signer.address, outsider.address);
    const e = await refused(auth.requestSigner("GET", "/v1/executions?id=7", claimed));
    expect([e.status, e.code, e.field]).to.deep.equal([401, "bad-signature", "authorization"]);
    expect(e.message).to.match(new RegExp(`recovers to 0x[0-9a-f]{40}, not to signer ${outsider.address}`, "i"));
  });

  it("names what is wrong with a header, and the input field at fault", async function () {
    const missing = await refused(auth.requestSigner("GET", "/v1/reports", undefined));
    expect([missing.code, missing.field]).to.deep.equal(["no-signature", "authorization"]);
    expect(missing.message).to.match(/GET \/v1\/reports needs a signed request/);
    expect((await refused(auth.requestSigner("GET", "/v1/reports", "Bearer abc"))).message).to.match(
      /scheme must be AITBC-EIP712/,
    );
    const bad = await refused(
      auth.requestSigner("GET", "/v1/reports", "AITBC-EIP712 signer=0x12, expiry=1, signature=0x"),
    );
    expect([bad.code, bad.message]).to.deep.equal([
      "bad-authorization",
      "authorization: signer: must be a 0x-prefixed 20-byte address",
    ]);

    const inputs = { values: [1, 2] };
    const inputsHash = valueHashHex(inputs, TEST_BLIND);
    const signature = await signer.signTypedData({
      domain: DOMAIN,
      types: EXECUTION_INPUTS_TYPES,
      primaryType: "ExecutionInputs",
      message: executionInputsMessage(inputsHash, signer.address, T + 10),
    });
    const blind = blindToHex(TEST_BLIND);
    const context = sealContext(DOMAIN, "inputs", inputsHash);
    const sealed = await seal(keys.publicKey, { inputs, blind }, context);
    expect(
      await auth.signedInputs({ sealed, inputsHash, client: signer.address, expiry: T + 10, signature }),
    ).to.deep.equal({ inputs, blind: TEST_BLIND, inputsHash, client: signer.address, sealed });
    const noSealed = await refused(
      auth.signedInputs({ inputsHash, client: signer.address, expiry: T + 10, signature }),
    );
    expect([noSealed.status, noSealed.field]).to.deep.equal([400, "sealed"]);
    const noInputs = await refused(
      auth.signedInputs({
        sealed: await seal(keys.publicKey, { blind }, context),
        inputsHash,
        client: signer.address,
        expiry: T + 10,
        signature,
      }),
    );
    expect([noInputs.status, noInputs.field, noInputs.message]).to.deep.equal([
      400,
      "sealed",
      "sealed: inputs: is required",
    ]);
    // The blind, sealed with the inputs: required, 31 bytes, not zero; and the signed hash commits to it (another
    // blind, another hash).
    for (const [bad, message] of [
      [undefined, /^blind: /],
      [`0x${"00".repeat(31)}`, /^blind: a blind must not be 0/],
      [`0x${"ab".repeat(32)}`, /^blind: must be 0x and 62 hex digits/],
    ] as const) {
      const r = await refused(
        auth.signedInputs({
          sealed: await seal(keys.publicKey, { inputs, blind: bad }, context),
          inputsHash,
          client: signer.address,
          expiry: T + 10,
          signature,
        }),
      );
      expect([r.status, r.field], r.message).to.deep.equal([400, "blind"]);
      expect(r.message).to.match(message);
    }
    const otherBlind = await refused(
      auth.signedInputs({
        sealed: await seal(keys.publicKey, { inputs, blind: blindToHex(TEST_BLIND + 1n) }, context),
        inputsHash,
        client: signer.address,
        expiry: T + 10,
        signature,
      }),
    );
    expect([otherBlind.status, otherBlind.field]).to.deep.equal([400, "sealed"]);
    expect(otherBlind.message).to.match(/^sealed: the inputs hash to 0x[0-9a-f]{64}, not to inputsHash/);
    // Signed over the hash under another blind: the signature does not cover this inputsHash.
    const resigned = await refused(
      auth.signedInputs({
        sealed,
        inputsHash: valueHashHex(inputs, TEST_BLIND + 1n),
        client: signer.address,
        expiry: T + 10,
        signature,
      }),
    );
    expect([resigned.status, resigned.code]).to.deep.equal([401, "bad-signature"]);
    // A blind in clear next to the seal is refused: it travels only sealed.
    const inClear = await refused(
      auth.signedInputs({ sealed, inputsHash, blind, client: signer.address, expiry: T + 10, signature }),
    );
    expect([inClear.status, inClear.field]).to.deep.equal([400, "blind"]);
    // A value the hashing refuses (as a JSON body can carry it, sealed): the field is named.
    const badValue = await refused(
      auth.signedInputs({
        sealed: await seal(keys.publicKey, { inputs: JSON.parse('{"__proto__": 1}') as unknown, blind }, context),
        inputsHash,
        client: signer.address,
        expiry: T + 10,
        signature,
      }),
    );
    expect([badValue.status, badValue.field]).to.deep.equal([400, "sealed"]);
    // Sealed to another key (another keeper's): does not open.
    const other = await encryptionKeysFrom(`0x${"e5".repeat(32)}`);
    const elsewhere = await refused(
      auth.signedInputs({
        sealed: await seal(other.publicKey, inputs, sealContext(DOMAIN, "inputs", inputsHash)),
        inputsHash,
        client: signer.address,
        expiry: T + 10,
        signature,
      }),
    );
    expect([elsewhere.status, elsewhere.field]).to.deep.equal([400, "sealed"]);
    expect(elsewhere.message).to.match(/^sealed: does not open with key/);
    const extra = await refused(
      auth.signedInputs({ sealed, inputsHash, client: signer.address, expiry: T + 10, signature, more: 1 }),
    );
    expect([extra.status, extra.field]).to.deep.equal([400, "more"]);
  });
});
