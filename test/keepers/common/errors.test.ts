/**
 * keepers/common/errors.ts: every daemon error class has its kind, and `classify` walks real viem errors (made by a
 * viem client against a scripted JSON-RPC server, so they are wrapped exactly as in production) and Node's network
 * errors to the rule of its header.
 */
import { createServer, type Server } from "node:http";

import { expect } from "chai";
import {
  createPublicClient,
  encodeErrorResult,
  http,
  InternalRpcError,
  parseAbi,
  RpcRequestError,
  UnknownRpcError,
  type Hex,
} from "viem";

import { ConfigError } from "../../../keepers/common/config.js";
import {
  classify,
  DefinitiveError,
  explain,
  isRetryable,
  nodeMessage,
  RetryableError,
} from "../../../keepers/common/errors.js";
import { closeServer, HttpError, listen } from "../../../keepers/common/http.js";
import { RegistrationError } from "../../../keepers/common/registration.js";
import { SafetyError } from "../../../keepers/common/safety.js";
import { TxDroppedError, TxRevertedError, TxTimeoutError } from "../../../keepers/common/txs.js";
import { AttemptError } from "../../../keepers/keeper/dispatcher.js";
import { SpecUnavailableError } from "../../../keepers/keeper/workflow.js";

const abi = parseAbi([
  "function balanceOf(address account) view returns (uint256)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
]);
const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const HASH: Hex = `0x${"ab".repeat(32)}`;

/** What the scripted node does with one request: a JSON-RPC result or error, an HTTP status, or no answer. */
type Answer =
  { result: unknown } | { error: { code: number; message: string; data?: Hex } } | { status: number } | "hang";

/** A JSON-RPC node over HTTP whose answers a test scripts; `url` of a closed port for connection failures. */
async function scriptedNode(answer: (method: string) => Answer) {
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const { id, method } = JSON.parse(text) as { id: number; method: string };
      const a = answer(method);
      if (a === "hang") return;
      if ("status" in a) {
        res.writeHead(a.status, { "content-type": "text/plain" }).end("refused");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, ...a }));
    });
  });
  const url = await listen(server, "127.0.0.1", 0);
  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 300 }) });
  const close = async () => {
    server.closeAllConnections(); // requests left unanswered on purpose
    await closeServer(server);
  };
  return { url, client, close };
}

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a failure"),
    (error: unknown) => error,
  );
}

/** A closed local port: a connection to it is refused. */
async function closedPort(): Promise<string> {
  const server = createServer();
  const url = await listen(server, "127.0.0.1", 0);
  await closeServer(server);
  return url;
}

describe("keepers: error taxonomy (common/errors.ts)", function () {
  describe("the daemons' own errors say their kind", function () {
    const cases: [string, unknown, "retryable" | "definitive"][] = [
      ["TxRevertedError", new TxRevertedError({ key: "claim:1", functionName: "claim", errorName: "X" }), "definitive"],
      ["TxDroppedError", new TxDroppedError("claim:1", HASH, "insufficient funds"), "retryable"],
      ["TxTimeoutError", new TxTimeoutError("claim:1", HASH, 1000), "retryable"],
      ["SafetyError emergency-stop", new SafetyError("emergency-stop", "stopped"), "retryable"],
      ["SafetyError safe-mode", new SafetyError("safe-mode", "in safe mode"), "retryable"],
      ["SafetyError invalid-action", new SafetyError("invalid-action", "bad type"), "definitive"],
      ["SpecUnavailableError", new SpecUnavailableError("no spec"), "definitive"],
      ["RegistrationError", new RegistrationError("stake too low"), "definitive"],
      ["ConfigError", new ConfigError("rpc.urls[0]: bad"), "definitive"],
      ["HttpError 400", new HttpError(400, "bad-request", "x"), "definitive"],
      ["HttpError 422", new HttpError(422, "unsupported", "x"), "definitive"],
      ["HttpError 408", new HttpError(408, "timeout", "x"), "retryable"],
      ["HttpError 429", new HttpError(429, "busy", "x"), "retryable"],
      ["HttpError 503", new HttpError(503, "shutting-down", "x"), "retryable"],
      ["RetryableError", new RetryableError("later"), "retryable"],
      ["DefinitiveError", new DefinitiveError("never"), "definitive"],
    ];
    for (const kind of ["unavailable", "busy", "timeout", "refused", "invalid"] as const)
      cases.push([`AttemptError ${kind}`, new AttemptError(kind, kind), "retryable"]);
    for (const [name, error, kind] of cases) {
      it(`${name} is ${kind}`, function () {
        expect(classify(error)).to.equal(kind);
        expect(isRetryable(error)).to.equal(kind === "retryable");
        expect(explain(error).rule).to.equal("aitbc");
      });
    }

    it("the outermost daemon error in a cause chain decides, over what it wraps", function () {
      const wrapped = new Error("handler failed", { cause: new TxTimeoutError("k", HASH, 1) });
      expect(classify(wrapped)).to.equal("retryable");
      const outer = new DefinitiveError("gave up", {
        cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }),
      });
      expect(classify(outer)).to.equal("definitive");
    });
  });

  describe("viem errors, as a client wraps them", function () {
    let node: Awaited<ReturnType<typeof scriptedNode>>;
    let answer: (method: string) => Answer;
    before(async function () {
      node = await scriptedNode((method) => answer(method));
    });
    after(async function () {
      await node.close();
    });
    const read = () =>
      failure(node.client.readContract({ address: ACCOUNT, abi, functionName: "balanceOf", args: [ACCOUNT] }));

    it("a contract revert (decoded custom error) is definitive", async function () {
      const data = encodeErrorResult({ abi, errorName: "ERC20InsufficientBalance", args: [ACCOUNT, 1n, 2n] });
      answer = () => ({ error: { code: 3, message: "execution reverted", data } });
      const error = await read();
      expect((error as Error).name).to.equal("ContractFunctionExecutionError");
      expect(explain(error)).to.deep.equal({ kind: "definitive", rule: "revert" });
      expect(explain(error, { unrecognised: "retryable" }).kind).to.equal("definitive");
    });

    for (const status of [429, 500, 502, 503, 504]) {
      it(`an HTTP ${status} is retryable`, async function () {
        answer = () => ({ status });
        expect(explain(await read())).to.deep.equal({ kind: "retryable", rule: "transport" });
      });
    }
    for (const status of [400, 401, 403, 404]) {
      it(`an HTTP ${status} is definitive`, async function () {
        answer = () => ({ status });
        expect(explain(await read())).to.deep.equal({ kind: "definitive", rule: "http-status" });
      });
    }

    it("an RPC timeout (no answer) is retryable", async function () {
      answer = () => "hang";
      const error = await read();
      expect(nodeMessage(error)).to.match(/timed out/i);
      expect(explain(error)).to.deep.equal({ kind: "retryable", rule: "transport" });
    });

    it("a refused connection is retryable", async function () {
      const client = createPublicClient({ transport: http(await closedPort(), { retryCount: 0 }) });
      const error = await failure(client.getBlockNumber());
      expect(explain(error)).to.deep.equal({ kind: "retryable", rule: "transport" });
    });

    const codes: [number, string, "retryable" | "definitive"][] = [
      [-32603, "internal error", "retryable"],
      [-32005, "limit exceeded", "retryable"],
      [-32002, "resource unavailable", "retryable"],
      [429, "too many requests", "retryable"],
      [-32601, "the method eth_blockNumber does not exist", "definitive"],
      [-32602, "invalid params", "definitive"],
    ];
    for (const [code, message, kind] of codes) {
      it(`a JSON-RPC error ${code} is ${kind}`, async function () {
        answer = () => ({ error: { code, message } });
        const error = await failure(node.client.getBlockNumber());
        expect(classify(error)).to.equal(kind);
      });
    }

    it("a node refusing a transaction for good (its words) is definitive, whatever the code", async function () {
      for (const code of [-32000, -32603]) {
        answer = () => ({ error: { code, message: "insufficient funds for gas * price + value" } });
        const error = await failure(node.client.request({ method: "eth_sendRawTransaction", params: ["0x01"] }));
        expect(nodeMessage(error)).to.match(/insufficient funds/);
        expect(explain(error)).to.deep.equal({ kind: "definitive", rule: "node-refusal" });
      }
    });

    it("a receipt or block not there yet is retryable", async function () {
      answer = () => ({ result: null });
      expect(classify(await failure(node.client.getTransactionReceipt({ hash: HASH })))).to.equal("retryable");
      expect(classify(await failure(node.client.getBlock({ blockNumber: 7n })))).to.equal("retryable");
    });

    it("a viem error made from a thrown Error (a custom transport) is retryable by its code -1", function () {
      expect(classify(new UnknownRpcError(new Error("socket hang up")))).to.equal("retryable");
      expect(classify(new InternalRpcError(new Error("boom")))).to.equal("retryable");
      const raw = new RpcRequestError({ body: {}, error: { code: 3, message: "execution reverted" }, url: "x" });
      expect(explain(raw).rule).to.equal("unrecognised");
    });
  });

  describe("Node's network errors", function () {
    it("fetch to a closed port (TypeError with an ECONNREFUSED cause) is retryable", async function () {
      const error = await failure(fetch(await closedPort()));
      expect(error).to.be.instanceOf(TypeError);
      expect(classify(error)).to.equal("retryable");
    });

    it("socket error codes and an AbortSignal timeout are retryable", async function () {
      for (const code of ["ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "UND_ERR_SOCKET"])
        expect(classify(Object.assign(new Error(code), { code })), code).to.equal("retryable");
      const signal = AbortSignal.timeout(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(classify(signal.reason)).to.equal("retryable");
    });
  });

  describe("what is not understood", function () {
    const unknown: [string, unknown][] = [
      ["an Error", new Error("boom")],
      ["a TypeError", new TypeError("x is not a function")],
      ["a string", "boom"],
      ["undefined", undefined],
      ["an unknown error code", Object.assign(new Error("no such file"), { code: "ENOENT" })],
    ];
    for (const [name, error] of unknown) {
      it(`${name} is definitive, unless the caller says otherwise`, function () {
        expect(explain(error)).to.deep.equal({ kind: "definitive", rule: "unrecognised" });
        expect(classify(error, { unrecognised: "retryable" })).to.equal("retryable");
      });
    }
  });
});
