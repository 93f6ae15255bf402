/**
 * The keeper's HTTP API (keepers/keeper/api.ts) and who may use it (keepers/keeper/auth.ts), against a real keeper
 * and a real provider node (processes, scripts/lib/devnet.ts) on the protocol deployed to an in-process chain. Every
 * signer is a real key; each attack is made the way an outsider would make it:
 * - inputs run only when the execution's client on chain signed them (an outsider's copy is refused or unused);
 * - results are read by the execution's client, readers it granted (that execution only) and users of its
 *   restricted listing; anyone else gets 403, no signature 401, never an output;
 * - signed requests expire, and a signature for one route does not open another;
 * - reports and the admin route are the operator's (or the configured admin's);
 * - /healthz and /metrics stay open and carry no execution data.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

import { expect } from "chai";
import { MaxUint256, type Signer, type TypedDataDomain } from "ethers";
import hre from "hardhat";

import { parseBlind, valueHashHex, type Json } from "../../../protocol/values.js";
import { authorizationHeader, sealedResultSchema, unixNow } from "../../../protocol/keeper-api.js";
import { domainOf, signExecutionInputs, signResultsGrant, signResultsRevoke } from "../../../scripts/lib/eip712.js";
import { followExecution, KeeperApiError, KeeperClient, keeperEncryptionKey } from "../../../scripts/lib/executions.js";
import { open as openSealed, resultSubject, seal, sealedSchema } from "../../../protocol/sealed.js";
import { devAccount, ROLES, startDevnet, type Daemon, type Devnet } from "../../../scripts/lib/devnet.js";
import { blindToHex } from "../../../circuits/lib/field.js";
import { oneStepWorkflow } from "../../helpers/keepers.js";
import { TEST_BLIND } from "../../helpers/proofs.js";

/** IWorkflows.ExecutionStatus. */
const PENDING = 1n;
const COMPLETED = 3n;
const OUTSIDER = devAccount(19);
const READER = devAccount(18);
const ADMIN = devAccount(17);
const LISTING_USER = devAccount(16);
const LISTING_CLIENT = devAccount(15);
const REVOKED_READER = devAccount(14);

const ONE_STEP = oneStepWorkflow();
const ROOT = path.join(import.meta.dirname, "../../..");
const HARDHAT = path.join(ROOT, "node_modules/hardhat/dist/src/cli.js");
const run = promisify(execFile);

async function waitUntil(test: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

/** The refusal a call ends in (a KeeperApiError), or a failure if it succeeds. */
async function refusal(call: Promise<unknown>): Promise<KeeperApiError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof KeeperApiError) return error;
    throw error;
  }
  expect.fail("the keeper answered 2xx");
}

describe("keepers: the keeper's API and its authentication (real keeper and provider processes)", function () {
  this.timeout(300_000);
  let devnet: Devnet;
  let keeper: Daemon;
  let url: string;
  let domain: TypedDataDomain;
  let workflowId: bigint;
  /** The keeper's encryption key as published on chain: inputs are sealed to it. */
  let keeperKey: `0x${string}`;
  /**
   * `inputs` and `blind`, `{ inputs, blind }`, sealed to the keeper for their hash under the blind, as a client does
   * (scripts/lib/executions.ts postInputs).
   */
  const sealIn = (inputs: Json, blind = TEST_BLIND) =>
    seal(
      keeperKey,
      { inputs, blind: blindToHex(blind) },
      as.client.context("inputs", valueHashHex(inputs, blind).toLowerCase()),
    );
  /** KeeperClients by role, each signing with its own key. */
  const as: Record<
    "client" | "outsider" | "reader" | "operator" | "admin" | "listingUser" | "listingClient",
    KeeperClient
  > = {} as never;

  const signer = (address: string): Promise<Signer> => devnet.connection.ethers.getSigner(address);

  /** The client requests an execution of `workflow` with `inputsHash` naming the keeper, without posting inputs. */
  async function request(from: Signer, workflow: bigint, inputsHash: string, listingId = 0n): Promise<bigint> {
    const { workflows } = devnet.protocol;
    const receipt = await (
      await workflows.connect(from).requestExecution({
        workflowId: workflow,
        inputsHash,
        budget: 10n ** 18n,
        listingId,
        keeper: ROLES.keeper.address,
        maxListingFee: 0n,
        maxKeeperFee: 0n,
      })
    ).wait();
    const event = receipt?.logs
      .map((l) => workflows.interface.parseLog(l))
      .find((e) => e?.name === "ExecutionRequested");
    if (!event) throw new Error("no ExecutionRequested event");
    return event.args[0] as bigint;
  }

  async function status(executionId: bigint): Promise<bigint> {
    return (await devnet.protocol.workflows.getExecution(executionId)).status;
  }

  /** Waits until the execution is completed on chain and in the keeper's view as `reader` sees it. */
  async function completed(executionId: bigint, reader = as.client): Promise<void> {
    const final = await followExecution(devnet.protocol.workflows, executionId, {
      keeper: reader,
      intervalMs: 100,
      timeoutMs: 120_000,
    });
    expect([final.status, final.keeperState], `execution ${executionId}`).to.deep.equal(["completed", "done"]);
  }

  before(async function () {
    devnet = await startDevnet(hre);
    await devnet.startProvider(0);
    keeper = await devnet.startKeeper({}, "keeper", { AITBC_KEEPER_ADMIN: ADMIN.address });
    url = String((await keeper.ready()).url);
    domain = await domainOf(devnet.protocol.workflows);
    const client = (address: string) => signer(address).then((s) => new KeeperClient(url, s, domain));
    as.client = await client(ROLES.client.address);
    as.outsider = await client(OUTSIDER.address);
    as.reader = await client(READER.address);
    as.operator = await client(ROLES.keeperOperator.address);
    as.admin = await client(ADMIN.address);
    as.listingUser = await client(LISTING_USER.address);
    as.listingClient = await client(LISTING_CLIENT.address);
    workflowId = await devnet.defineWorkflow(ONE_STEP);
    await devnet.fundClient(100n);
    keeperKey = await keeperEncryptionKey(devnet.protocol.registry, ROLES.keeper.address);
  });

  after(async function () {
    await devnet.stop();
  });

  describe("POST /v1/inputs", function () {
    it("attack: an outsider's inputs for the client's upcoming execution (same value hash) are refused unsigned and never used signed", async function () {
      const inputs: Json = { values: [3, 1, 4] };
      const inputsHash = valueHashHex(inputs, TEST_BLIND);
      // Unsigned, as the API took inputs before.
      const unsigned = await fetch(`${url}/v1/inputs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(inputs),
      });
      // Signed by the outsider itself: a valid signature, by someone who is not the execution's client.
      const expiry = unixNow() + 600;
      const outsiderPost = await as.outsider
        .request("POST", "/v1/inputs", {
          signed: false,
          body: {
            sealed: await sealIn(inputs),
            inputsHash,
            client: OUTSIDER.address,
            expiry,
            signature: await signExecutionInputs(await signer(OUTSIDER.address), domain, inputsHash, expiry),
          },
        })
        .catch((error: unknown) => error);

      const executionId = await request(await signer(ROLES.client.address), workflowId, inputsHash);
      const seen = keeper.lines.length;
      await waitUntil(
        async () =>
          (await status(executionId)) !== PENDING ||
          keeper.lines.slice(seen).some((l) => l.event === "inputs-not-from-client"),
        20_000,
        "the keeper acting on the request",
      );
      await sleep(2500); // a sweep (every 2 s) re-drives it
      expect(await status(executionId), "the execution stays unclaimed: no inputs from its client").to.equal(PENDING);
      expect(unsigned.status, "unsigned inputs").to.equal(401);
      expect(((await unsigned.json()) as { error: { message: string } }).error.message).to.match(/signature/);
      expect(outsiderPost, "the outsider's own signed inputs are stored (as the outsider's)").to.deep.equal({
        inputsHash,
        client: OUTSIDER.address,
      });
      const why = keeper.lines.find(
        (l) => l.event === "inputs-not-from-client" && l.executionId === executionId.toString(),
      );
      expect(String(why?.signers)).to.match(new RegExp(OUTSIDER.address, "i"));
      expect(String(why?.client)).to.match(new RegExp(ROLES.client.address, "i"));

      // The client's own signed post starts it.
      expect(await as.client.postInputs(inputs, keeperKey, 600, TEST_BLIND)).to.equal(inputsHash);
      await completed(executionId);
      expect((await as.client.execution(executionId)).result).to.deep.equal({
        count: 3,
        max: 4,
        mean: 8 / 3,
        min: 1,
        spread: 3,
      });
    });

    it("refuses inputs with no, an expired or another signer's signature (401), and a bad body naming the field (400)", async function () {
      const inputs: Json = { values: [2, 7] };
      const inputsHash = valueHashHex(inputs, TEST_BLIND);
      const client = await signer(ROLES.client.address);
      const post = (body: object) => as.client.request("POST", "/v1/inputs", { signed: false, body });
      const past = unixNow() - 1;
      const sealed = await sealIn(inputs);
      const expired = await refusal(
        post({
          sealed,
          inputsHash,
          client: ROLES.client.address,
          expiry: past,
          signature: await signExecutionInputs(client, domain, inputsHash, past),
        }),
      );
      expect([expired.status, expired.code]).to.deep.equal([401, "signature-expired"]);
      const later = unixNow() + 600;
      const byOutsider = await signExecutionInputs(await signer(OUTSIDER.address), domain, inputsHash, later);
      const forged = await refusal(
        post({ sealed, inputsHash, client: ROLES.client.address, expiry: later, signature: byOutsider }),
      );
      expect([forged.status, forged.code]).to.deep.equal([401, "bad-signature"]);
      // The outsider signed its own address as `client`; checked as the client's, it recovers to neither.
      expect(forged.message).to.match(
        new RegExp(`recovers to 0x[0-9a-f]{40}, not to client ${ROLES.client.address}`, "i"),
      );
      expect(forged.field).to.equal("signature");
      const otherInputs = await refusal(
        post({
          sealed: await sealIn({ values: [2, 8] }),
          inputsHash: valueHashHex({ values: [2, 8] }, TEST_BLIND),
          client: ROLES.client.address,
          expiry: later,
          signature: await signExecutionInputs(client, domain, inputsHash, later),
        }),
      );
      expect([otherInputs.status, otherInputs.code]).to.deep.equal([401, "bad-signature"]);
      // The client's valid signature over inputsHash, with other inputs sealed: they do not hash to it.
      const swapped = await refusal(
        post({
          sealed: await seal(
            keeperKey,
            { inputs: { values: [2, 8] }, blind: blindToHex(TEST_BLIND) },
            as.client.context("inputs", inputsHash.toLowerCase()),
          ),
          inputsHash,
          client: ROLES.client.address,
          expiry: later,
          signature: await signExecutionInputs(client, domain, inputsHash, later),
        }),
      );
      expect([swapped.status, swapped.field]).to.deep.equal([400, "sealed"]);
      expect(swapped.message).to.match(
        /^keeper POST \/v1\/inputs: 400 sealed: the inputs hash to 0x[0-9a-f]{64}, not to inputsHash/,
      );
      // Sealed for another inputsHash (the context binds it): does not open.
      const replayed = await refusal(
        post({
          sealed: await seal(
            keeperKey,
            { inputs, blind: blindToHex(TEST_BLIND) },
            as.client.context("inputs", valueHashHex({ values: [2, 8] }, TEST_BLIND)),
          ),
          inputsHash,
          client: ROLES.client.address,
          expiry: later,
          signature: await signExecutionInputs(client, domain, inputsHash, later),
        }),
      );
      expect([replayed.status, replayed.field]).to.deep.equal([400, "sealed"]);
      expect(replayed.message).to.match(/does not open/);
      // The blind travels only inside the seal: the right inputs under another blind do not hash to inputsHash, and
      // a sealed blind that is missing, zero or 32 bytes is refused naming `blind`.
      const otherBlind = await refusal(
        post({
          sealed: await seal(
            keeperKey,
            { inputs, blind: blindToHex(TEST_BLIND + 1n) },
            as.client.context("inputs", inputsHash.toLowerCase()),
          ),
          inputsHash,
          client: ROLES.client.address,
          expiry: later,
          signature: await signExecutionInputs(client, domain, inputsHash, later),
        }),
      );
      expect([otherBlind.status, otherBlind.field]).to.deep.equal([400, "sealed"]);
      expect(otherBlind.message).to.match(/the inputs hash to 0x[0-9a-f]{64}, not to inputsHash/);
      for (const [bad, message] of [
        [undefined, /400 blind: /],
        [`0x${"00".repeat(31)}`, /400 blind: a blind must not be 0/],
        [`0x${"ab".repeat(32)}`, /400 blind: must be 0x and 62 hex digits/],
      ] as const) {
        const r = await refusal(
          post({
            sealed: await seal(
              keeperKey,
              { inputs, blind: bad },
              as.client.context("inputs", inputsHash.toLowerCase()),
            ),
            inputsHash,
            client: ROLES.client.address,
            expiry: later,
            signature: await signExecutionInputs(client, domain, inputsHash, later),
          }),
        );
        expect([r.status, r.field], r.message).to.deep.equal([400, "blind"]);
        expect(r.message).to.match(message);
      }
      const inClear = await refusal(
        post({
          sealed,
          inputsHash,
          blind: blindToHex(TEST_BLIND),
          client: ROLES.client.address,
          expiry: later,
          signature: await signExecutionInputs(client, domain, inputsHash, later),
        }),
      );
      expect([inClear.status, inClear.field], "no blind in clear next to the seal").to.deep.equal([400, "blind"]);
      const badClient = await refusal(
        post({ sealed, inputsHash, client: "0x1234", expiry: later, signature: byOutsider }),
      );
      expect([badClient.status, badClient.code]).to.deep.equal([400, "bad-request"]);
      expect(badClient.message).to.match(/client: must be a 0x-prefixed 20-byte address/);
      expect(badClient.field).to.equal("client");
      expect(expired.field).to.equal("expiry");
      const missing = await refusal(post({ sealed, inputsHash, client: ROLES.client.address, expiry: later }));
      expect([missing.status, missing.code]).to.deep.equal([401, "no-signature"]);
    });
  });

  describe("GET /v1/executions (results)", function () {
    let first: bigint;
    let second: bigint;
    const RESULT = { count: 2, max: 9, mean: 7, min: 5, spread: 4 };

    before(async function () {
      first = await devnet.requestExecution(workflowId, { values: [5, 9] }, url);
      second = await devnet.requestExecution(workflowId, { values: [6, 6, 1] }, url);
      await completed(first);
      await completed(second);
    });

    it("attack: another client (a real signer) cannot read the results (403), and no signature shows no outputs (401)", async function () {
      const other = await refusal(as.outsider.execution(first));
      expect(other.status, "a signer that is not the execution's client").to.equal(403);
      expect(other.message).to.match(new RegExp(`client ${ROLES.client.address}`, "i"));
      const open = await fetch(`${url}/v1/executions?id=${first}`);
      const text = await open.text();
      expect(open.status, "no signature").to.equal(401);
      expect(text).to.not.match(/"result"|"steps"|"blind"|spread|mean/);
      expect((await as.client.execution(first)).result).to.deep.equal(RESULT);
    });

    it("a grant by the client lets the named reader read that execution, and only that one; a grant by anyone else is refused", async function () {
      expect((await refusal(as.reader.execution(first))).status, "before the grant").to.equal(403);
      const expiry = unixNow() + 600;
      const issuedAt = Date.now();
      const byOutsider = await signResultsGrant(
        await signer(OUTSIDER.address),
        domain,
        first,
        READER.address,
        expiry,
        issuedAt,
      );
      const forged = await refusal(
        as.outsider.request("POST", "/v1/grants", {
          signed: false,
          body: { executionId: first.toString(), reader: READER.address, expiry, issuedAt, signature: byOutsider },
        }),
      );
      expect(forged.status, "a grant signed by someone else").to.equal(403);
      expect((await refusal(as.reader.execution(first))).status, "after the forged grant").to.equal(403);

      await as.client.grant(first, READER.address, expiry);
      expect((await as.reader.execution(first)).result).to.deep.equal(RESULT);
      expect((await refusal(as.reader.execution(second))).status, "another execution of the same client").to.equal(403);
      expect((await refusal(as.outsider.execution(first))).status, "someone the grant does not name").to.equal(403);
      const lapsed = await refusal(as.client.grant(second, READER.address, unixNow() - 1));
      expect([lapsed.status, lapsed.code]).to.deep.equal([401, "signature-expired"]);
    });

    it("attack: a reader whose grant the client revoked reads no more, at once", async function () {
      // A reader of its own: no grant from the other tests.
      const readerClient = new KeeperClient(url, await signer(REVOKED_READER.address), domain);
      expect((await refusal(readerClient.execution(second))).status, "before the grant").to.equal(403);
      const client = await signer(ROLES.client.address);
      const grantExpiry = unixNow() + 600;
      const grantedAt = Date.now() - 1;
      const oldGrant = {
        executionId: second.toString(),
        reader: REVOKED_READER.address,
        expiry: grantExpiry,
        issuedAt: grantedAt,
        signature: await signResultsGrant(client, domain, second, REVOKED_READER.address, grantExpiry, grantedAt),
      };
      await as.client.request("POST", "/v1/grants", { signed: false, body: oldGrant });
      expect((await readerClient.execution(second)).result, "granted").to.deep.equal({
        count: 3,
        max: 6,
        mean: 13 / 3,
        min: 1,
        spread: 5,
      });
      // The client revokes: ResultsRevoke(executionId, reader, issuedAt) signed by the client, posted to the keeper.
      const issuedAt = Date.now();
      const revokeTypes = {
        ResultsRevoke: [
          { name: "executionId", type: "uint256" },
          { name: "reader", type: "address" },
          { name: "issuedAt", type: "uint64" },
        ],
      };
      const signature = await (
        await signer(ROLES.client.address)
      ).signTypedData(domain, revokeTypes, { executionId: second, reader: REVOKED_READER.address, issuedAt });
      const posted = await as.client
        .request("POST", "/v1/revocations", {
          signed: false,
          body: { executionId: second.toString(), reader: REVOKED_READER.address, issuedAt, signature },
        })
        .then(
          () => 201,
          (error: unknown) => (error instanceof KeeperApiError ? error.status : 0),
        );
      const after = await readerClient.execution(second).then(
        () => 200,
        (error: unknown) => (error instanceof KeeperApiError ? error.status : 0),
      );
      expect(after, "the revoked reader's read").to.equal(403);
      expect(posted, "the revocation").to.equal(201);

      // The old grant posted again stays void: refused, and the reader is still refused.
      const replayed = await refusal(as.client.request("POST", "/v1/grants", { signed: false, body: oldGrant }));
      expect([replayed.status, replayed.code, replayed.field]).to.deep.equal([409, "grant-revoked", "issuedAt"]);
      expect((await refusal(readerClient.execution(second))).status, "after the replayed grant").to.equal(403);
      // Only the execution's client revokes: another signer's revocation is refused, a bad one names its field.
      const byOutsider = await signResultsRevoke(
        await signer(OUTSIDER.address),
        domain,
        first,
        READER.address,
        issuedAt,
      );
      const forged = await refusal(
        as.outsider.request("POST", "/v1/revocations", {
          signed: false,
          body: { executionId: first.toString(), reader: READER.address, issuedAt, signature: byOutsider },
        }),
      );
      expect([forged.status, forged.code]).to.deep.equal([403, "forbidden"]);
      expect((await as.reader.execution(first)).result, "the outsider's revocation changed nothing").to.deep.equal(
        RESULT,
      );
      const badBodies: [object, string][] = [
        [{ executionId: second.toString(), reader: REVOKED_READER.address, issuedAt: 1.5, signature }, "issuedAt"],
        [{ executionId: second.toString(), reader: "0x12", issuedAt, signature }, "reader"],
        [{ executionId: second.toString(), reader: REVOKED_READER.address, issuedAt }, "signature"],
      ];
      for (const [body, field] of badBodies) {
        const bad = await refusal(as.client.request("POST", "/v1/revocations", { signed: false, body }));
        expect([bad.status, bad.field], field).to.deep.equal([400, field]);
      }
      const future = Date.now() + 3_600_000;
      const ahead = await refusal(
        as.client.request("POST", "/v1/revocations", {
          signed: false,
          body: {
            executionId: second.toString(),
            reader: REVOKED_READER.address,
            issuedAt: future,
            signature: await signResultsRevoke(client, domain, second, REVOKED_READER.address, future),
          },
        }),
      );
      expect([ahead.status, ahead.field], "an issuedAt an hour ahead").to.deep.equal([400, "issuedAt"]);
      // A grant issued after the revocation reads again; the client's revoke (KeeperClient) ends it again.
      await as.client.grant(second, REVOKED_READER.address, unixNow() + 600);
      expect((await readerClient.execution(second)).state, "granted anew").to.equal("done");
      await as.client.revoke(second, REVOKED_READER.address);
      expect((await refusal(readerClient.execution(second))).status, "revoked again").to.equal(403);
    });

    it("workflow revoke (task): the client revokes a reader on the command line, an outsider cannot", async function () {
      const reader = devAccount(13);
      const readerClient = new KeeperClient(url, await signer(reader.address), domain);
      const task = (args: string[], key: string) =>
        run(process.execPath, [HARDHAT, "workflow", ...args, "--network", "custom", "--keeper-url", url], {
          cwd: ROOT,
          env: {
            ...process.env,
            AITBC_RPC_URL: devnet.url,
            AITBC_PRIVATE_KEY: key,
            AITBC_ADDRESSES: devnet.addressesFile,
          },
        });
      const args = ["--execution", first.toString(), "--reader", reader.address];
      await as.client.grant(first, reader.address, unixNow() + 600); // the task is run in test/e2e/daemons.test.ts
      expect((await readerClient.execution(first)).result, "granted").to.deep.equal(RESULT);
      const byOutsider = await task(["revoke", ...args], OUTSIDER.privateKey).then(
        () => undefined,
        (error: unknown) => error as { stdout: string; stderr: string; code: number },
      );
      expect(byOutsider?.code, "workflow revoke by an outsider").to.equal(1);
      expect(`${byOutsider?.stdout ?? ""}${byOutsider?.stderr ?? ""}`).to.match(/may revoke its grants/);
      expect((await readerClient.execution(first)).result, "still granted").to.deep.equal(RESULT);
      const revoked = await task(["revoke", ...args], ROLES.client.privateKey);
      expect(revoked.stdout).to.match(new RegExp(`execution #${first}: ${reader.address} may no longer read`));
      expect((await refusal(readerClient.execution(first))).status, "revoked").to.equal(403);
    });

    it("refuses an expired request signature, one replayed for another execution, one too far ahead, and a malformed header (401, saying which)", async function () {
      const key = (await as.client.encryptionKeys()).publicKey;
      const path = (id: bigint) => `/v1/executions?id=${id}&key=${key}`;
      const read = (id: bigint, authorization: string) => as.client.request("GET", path(id), { authorization });
      const expired = await refusal(read(first, await as.client.authorization("GET", path(first), unixNow() - 1)));
      expect([expired.status, expired.code]).to.deep.equal([401, "signature-expired"]);
      const forFirst = await as.client.authorization("GET", path(first), unixNow() + 60);
      const view = await read(first, forFirst);
      expect(JSON.stringify(view), "no blind in clear").to.not.match(/"blind"/);
      const { sealedResult } = view as { sealedResult: unknown };
      const subject = resultSubject(first, ROLES.client.address);
      const context = as.client.context("result", subject);
      const opened = sealedResultSchema.parse(
        await openSealed(await as.client.encryptionKeys(), sealedSchema.parse(sealedResult), context),
      );
      expect(opened.result).to.deep.equal(RESULT);
      // The sealed blind is the execution's: the result hashes under it to the chain's resultHash.
      const { resultHash } = await devnet.protocol.workflows.getExecution(first);
      expect(valueHashHex(opened.result as Json, parseBlind(opened.blind))).to.equal(resultHash);
      const replayed = await refusal(read(second, forFirst));
      expect([replayed.status, replayed.code], "execution 1's signature on execution 2").to.deep.equal([
        401,
        "bad-signature",
      ]);
      const far = await refusal(read(first, await as.client.authorization("GET", path(first), unixNow() + 3600)));
      expect([far.status, far.code]).to.deep.equal([401, "signature-expiry-too-far"]);
      const malformed = await refusal(read(first, forFirst.replace("expiry=", "expires=")));
      expect([malformed.status, malformed.code, malformed.field]).to.deep.equal([
        401,
        "bad-authorization",
        "authorization",
      ]);
      expect(malformed.message).to.match(/expiry/);
      const otherSigner = authorizationHeader({
        signer: OUTSIDER.address,
        expiry: Number(/expiry=(\d+)/.exec(forFirst)?.[1]),
        signature: /signature=(0x[0-9a-f]+)/i.exec(forFirst)?.[1] as `0x${string}`,
      });
      const claimed = await refusal(read(first, otherSigner));
      expect([claimed.status, claimed.code], "the client's signature claimed by another signer").to.deep.equal([
        401,
        "bad-signature",
      ]);
    });

    it("users of a restricted listing read its executions; a public listing opens no one else's results", async function () {
      const { workflows, token } = devnet.protocol;
      const owner = await signer(ROLES.client.address);
      const listingClient = await signer(LISTING_CLIENT.address);
      const listing = async (isPublic: boolean) => {
        const input = {
          title: "stats",
          description: "",
          tags: [],
          executionPrice: 0n,
          subscriptionPrice: 0n,
          isPublic,
        };
        const id = await workflows.connect(owner).createListing.staticCall(workflowId, input);
        await (await workflows.connect(owner).createListing(workflowId, input)).wait();
        return id;
      };
      const restricted = await listing(false);
      await (await workflows.connect(owner).setAccess(restricted, LISTING_CLIENT.address, true)).wait();
      await (await workflows.connect(owner).setAccess(restricted, LISTING_USER.address, true)).wait();
      const open = await listing(true);
      await devnet.fund(LISTING_CLIENT.address, 10n);
      await (await token.connect(listingClient).approve(await workflows.getAddress(), MaxUint256)).wait();

      const viaRestricted = await request(
        listingClient,
        workflowId,
        await as.listingClient.postInputs({ values: [1, 2] }, keeperKey),
        restricted,
      );
      const viaPublic = await request(
        listingClient,
        workflowId,
        await as.listingClient.postInputs({ values: [2, 3] }, keeperKey),
        open,
      );
      await completed(viaRestricted, as.listingClient);
      await completed(viaPublic, as.listingClient);
      expect((await as.listingUser.execution(viaRestricted)).state).to.equal("done");
      expect((await as.listingClient.execution(viaRestricted)).state).to.equal("done");
      expect((await refusal(as.outsider.execution(viaRestricted))).status, "no access to the listing").to.equal(403);
      expect(await workflows.hasAccess(open, OUTSIDER.address), "everyone has access to a public listing").to.equal(
        true,
      );
      const refused = await refusal(as.outsider.execution(viaPublic));
      expect(refused.status, "a public listing's execution, read by another").to.equal(403);
      expect((await refusal(as.listingUser.execution(viaPublic))).status).to.equal(403);
    });
  });

  describe("operator routes", function () {
    it("GET /v1/reports: the operator and the configured admin read it; anyone else gets 403, no signature 401", async function () {
      expect(await as.operator.reports()).to.be.an("array");
      expect(await as.admin.reports()).to.be.an("array");
      const other = await refusal(as.client.reports());
      expect(other.status, "the execution's client is no operator").to.equal(403);
      expect(other.message).to.match(new RegExp(ROLES.keeperOperator.address, "i"));
      expect((await fetch(`${url}/v1/reports`)).status).to.equal(401);
    });

    // Last: it freezes the keeper's agent to put it in safe mode.
    it("POST /v1/safe-mode/clear: refused to a non-operator (safe mode stays), done by the operator; /healthz and /metrics show no execution data", async function () {
      const { humanOverride } = devnet.protocol;
      const guardian = await signer(ROLES.guardian.address);
      await (await humanOverride.connect(guardian).freeze(ROLES.keeper.address, "api test")).wait();
      const executionId = await devnet.requestExecution(workflowId, { values: [4, 4] }, url);
      type Health = { ok: boolean; safeMode: Record<string, unknown> };
      const health = async () => (await (await fetch(`${url}/healthz`)).json()) as Health;
      await waitUntil(async () => (await health()).safeMode.on === true, 20_000, "the keeper entering safe mode");
      await (await humanOverride.connect(guardian).unfreeze(ROLES.keeper.address)).wait();

      const inSafeMode = await health();
      expect((await fetch(`${url}/healthz`)).status, "/healthz in safe mode").to.equal(503);
      expect(inSafeMode.safeMode.reason).to.equal("frozen");
      expect(Object.keys(inSafeMode).sort()).to.deep.equal(
        ["address", "agentId", "lag", "ok", "pendingTransactions", "running", "safeMode"].sort(),
      );
      expect(inSafeMode.safeMode, "no action details on the open route").to.have.keys(["on", "reason", "since"]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).to.not.match(/execution_?id|0x[0-9a-f]{40}|spread|"values"/i);

      const outsider = await refusal(as.outsider.clearSafeMode());
      expect(outsider.status).to.equal(403);
      const client = await refusal(as.client.clearSafeMode());
      expect(client.status).to.equal(403);
      expect((await fetch(`${url}/v1/safe-mode/clear`, { method: "POST" })).status).to.equal(401);
      expect((await health()).safeMode.on, "still in safe mode").to.equal(true);

      expect(await as.operator.clearSafeMode()).to.equal(true);
      expect((await health()).ok).to.equal(true);
      expect((await fetch(`${url}/healthz`)).status, "/healthz once cleared").to.equal(200);
      await completed(executionId);
      expect(await status(executionId)).to.equal(COMPLETED);
    });
  });
});
