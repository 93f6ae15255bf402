import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { pino } from "pino";
import {
  createWalletClient,
  encodeAbiParameters,
  keccak256,
  parseAbi,
  zeroAddress,
  type Address,
  type Hex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { Store } from "../../../keepers/common/store.js";
import {
  TxDroppedError,
  TxRevertedError,
  TxSender,
  type SendRequest,
  type TxSenderOptions,
} from "../../../keepers/common/txs.js";
import { RECIPIENT, tokenChain } from "../../helpers/keepers.js";

const tokenAbi = parseAbi([
  "function mint(address to, uint256 amount)",
  "function transfer(address to, uint256 amount) returns (bool)",
  "function balanceOf(address account) view returns (uint256)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
]);

type Forward = () => Promise<unknown>;

/** A fresh in-process chain with BaselineERC20 deployed, and viem clients whose broadcasts a test can intercept. */
async function chainEnv() {
  const env = {
    /** When set, eth_sendRawTransaction goes through it (forward() performs the real call). */
    onSendRaw: undefined as ((forward: Forward) => Promise<unknown>) | undefined,
  };
  const base = await tokenChain((method, _params, forward) =>
    method === "eth_sendRawTransaction" && env.onSendRaw ? env.onSendRaw(forward) : undefined,
  );
  return { ...base, env };
}
type Env = Awaited<ReturnType<typeof chainEnv>>;

function senderFor(e: Env, store: Store, options: Partial<TxSenderOptions> = {}): TxSender {
  return new TxSender({
    publicClient: e.publicClient,
    walletClient: e.walletClient,
    store,
    logger: pino({ level: "silent" }),
    pollingIntervalMs: 20,
    rebroadcastMs: 1_000,
    receiptTimeoutMs: 20_000,
    errorAbi: tokenAbi,
    ...options,
  });
}

function mint(e: Env, key: string, amount: bigint, to: Address = RECIPIENT): SendRequest {
  return { key, address: e.token, abi: tokenAbi, functionName: "mint", args: [to, amount] };
}

async function nonceOf(e: Env, address: Address = e.walletClient.account.address): Promise<number> {
  return e.publicClient.getTransactionCount({ address, blockTag: "pending" });
}

async function transfers(e: Env): Promise<bigint[]> {
  const logs = await e.publicClient.getContractEvents({
    address: e.token,
    abi: tokenAbi,
    eventName: "Transfer",
    fromBlock: 0n,
  });
  return logs.map((log) => log.args.value ?? -1n);
}

/** Signs and stores a mint under `key` exactly as TxSender does, without broadcasting it (a crash right after). */
async function storeSignedMint(e: Env, store: Store, key: string, amount: bigint): Promise<Hex> {
  const sender = senderFor(e, store);
  const reached = new Promise<void>((resolve) => {
    e.env.onSendRaw = () => {
      resolve();
      return new Promise(() => undefined); // the process "dies" inside the broadcast call
    };
  });
  void sender.send(mint(e, key, amount));
  await reached;
  e.env.onSendRaw = undefined;
  const row = store.tx(key);
  if (!row) throw new Error("the sender stored nothing");
  return row.hash;
}

/** Balance slot of an OpenZeppelin v5 ERC20 (mapping _balances at slot 0). */
function balanceSlot(owner: Address): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [owner, 0n]));
}

describe("keepers: TxSender", function () {
  let dir: string;
  let file: string;
  let e: Env;
  let store: Store;

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "aitbc-txs-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async function () {
    e = await chainEnv();
    file = path.join(dir, `${String(this.currentTest?.title.replace(/\W+/g, "-").slice(0, 60))}.db`);
    store = new Store(file);
  });
  afterEach(async function () {
    store.close();
    await e.conn.close();
  });

  it("gives parallel sends gapless nonces, broadcasts them in nonce order and mines them all", async function () {
    const sender = senderFor(e, store);
    await sender.start();
    const first = await nonceOf(e);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sender.send(mint(e, `mint:${i}`, BigInt(i + 1)))),
    );

    const nonces = outcomes.map((o) => o.nonce).sort((a, b) => a - b);
    expect(nonces).to.deep.equal(Array.from({ length: 200 }, (_, i) => first + i));
    expect(outcomes.every((o) => o.status === "success" && o.fresh)).to.equal(true);
    // Automine: one block per transaction, so block order is broadcast order.
    const byNonce = [...outcomes].sort((a, b) => a.nonce - b.nonce);
    for (let i = 1; i < byNonce.length; i++)
      expect(byNonce[i]?.blockNumber).to.be.greaterThan(byNonce[i - 1]?.blockNumber ?? 0n);
    expect(await nonceOf(e)).to.equal(first + 200);
    expect(store.txsIn("mined")).to.have.length(200);
    expect(sender.pendingCount()).to.equal(0);
  });

  it("sends one transaction per key, however often and concurrently the key is sent", async function () {
    const sender = senderFor(e, store);
    await sender.start();
    const before = await nonceOf(e);
    const [a, b] = await Promise.all([sender.send(mint(e, "claim:7", 5n)), sender.send(mint(e, "claim:7", 5n))]);
    const c = await sender.send(mint(e, "claim:7", 5n));
    // A new sender (a restart) on the same store also returns the stored transaction.
    const d = await senderFor(e, store).send(mint(e, "claim:7", 5n));

    expect([a.hash, b.hash, c.hash, d.hash].every((h) => h === a.hash)).to.equal(true);
    expect([a.fresh, b.fresh, c.fresh, d.fresh].filter(Boolean)).to.have.length(1);
    expect(await nonceOf(e)).to.equal(before + 1);
    expect(await transfers(e)).to.deep.equal([5n]);
  });

  it("fails a reverting call with the decoded custom error before using a nonce", async function () {
    const sender = senderFor(e, store);
    await sender.start();
    const before = await nonceOf(e);

    const error = await sender.send(mint(e, "bad:1", 1n, zeroAddress)).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(TxRevertedError);
    const reverted = error as TxRevertedError;
    expect(reverted.errorName).to.equal("ERC20InvalidReceiver");
    expect(reverted.args).to.deep.equal([zeroAddress]);
    expect(reverted.hash).to.equal(undefined);
    expect(reverted.message).to.contain("bad:1").and.contain("ERC20InvalidReceiver");

    const transfer: SendRequest = {
      key: "bad:2",
      address: e.token,
      abi: tokenAbi,
      functionName: "transfer",
      args: [RECIPIENT, 10n],
    };
    const insufficient = (await sender.send(transfer).catch((err: unknown) => err)) as TxRevertedError;
    expect(insufficient.errorName).to.equal("ERC20InsufficientBalance");
    expect(insufficient.args).to.deep.equal([e.walletClient.account.address, 0n, 10n]);

    expect(store.tx("bad:1")).to.equal(undefined);
    expect(await nonceOf(e)).to.equal(before);
    const next = await sender.send(mint(e, "good", 1n));
    expect(next.nonce).to.equal(before);
  });

  it("records an on-chain revert, keeps the key reverted until retired, and decodes the error", async function () {
    const sender = senderFor(e, store);
    await sender.start();
    const me = e.walletClient.account.address;
    await sender.send(mint(e, "fund", 100n, me));
    // Two transfers of the whole balance in one block: both simulate fine, the second reverts when mined.
    await e.rpc("evm_setAutomine", [false]);
    const transfer = (key: string): SendRequest => ({
      key,
      address: e.token,
      abi: tokenAbi,
      functionName: "transfer",
      args: [RECIPIENT, 100n],
      gas: 100_000n,
    });
    const first = sender.send(transfer("pay:1"));
    const second = sender.send(transfer("pay:2")).catch((err: unknown) => err);
    while (sender.pendingCount() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sender.pendingCount()).to.equal(2);
    await e.rpc("evm_mine");
    await e.rpc("evm_setAutomine", [true]);

    expect((await first).status).to.equal("success");
    const error = (await second) as TxRevertedError;
    expect(error).to.be.instanceOf(TxRevertedError);
    expect(error.hash).to.be.a("string");
    expect(error.errorName).to.equal("ERC20InsufficientBalance");
    expect(store.tx("pay:2")?.state).to.equal("reverted");

    // The key is not retried blindly...
    const nonce = await nonceOf(e);
    const again = (await sender.send(transfer("pay:2")).catch((err: unknown) => err)) as TxRevertedError;
    expect(again).to.be.instanceOf(TxRevertedError);
    expect(again.hash).to.equal(error.hash);
    expect(await nonceOf(e)).to.equal(nonce);
    // ...until the caller retires it (the chain says the balance is gone, so the new simulation fails).
    expect(sender.retire("pay:2")).to.equal(true);
    const retried = (await sender.send(transfer("pay:2")).catch((err: unknown) => err)) as TxRevertedError;
    expect(retried.hash).to.equal(undefined);
    expect(retried.errorName).to.equal("ERC20InsufficientBalance");
    expect(() => sender.retire("never-sent")).to.not.throw();
  });

  it("after a crash between storing and broadcasting, a new sender broadcasts the same bytes once", async function () {
    const before = await nonceOf(e);
    const hash = await storeSignedMint(e, store, "record:7:0-4", 7n);
    expect(store.tx("record:7:0-4")?.state).to.equal("signed");
    expect(await nonceOf(e)).to.equal(before);

    const reopened = new Store(file); // the restarted process opens the same database
    const sender = senderFor(e, reopened);
    const reports = await sender.start();
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ key: "record:7:0-4", hash, state: "mined" });
    expect(reopened.tx("record:7:0-4")?.state).to.equal("mined");
    expect(await nonceOf(e)).to.equal(before + 1);

    const again = await sender.send(mint(e, "record:7:0-4", 7n));
    expect(again).to.include({ hash, fresh: false });
    expect(await transfers(e)).to.deep.equal([7n]);
    // The counter continues after the recovered nonce.
    expect((await sender.send(mint(e, "next", 1n))).nonce).to.equal(before + 1);
    reopened.close();
  });

  it("after a crash between broadcasting and recording, a new sender records the receipt without a second transaction", async function () {
    const first = store;
    const before = await nonceOf(e);
    const crashed = senderFor(e, first);
    const mined = new Promise<void>((resolve) => {
      e.env.onSendRaw = async (forward) => {
        await forward(); // the node takes (and automines) it...
        resolve();
        return new Promise(() => undefined); // ...and the keeper dies before hearing back
      };
    });
    void crashed.send(mint(e, "claim:9", 9n));
    await mined;
    e.env.onSendRaw = undefined;
    expect(first.tx("claim:9")?.state).to.equal("signed");

    const reopened = new Store(file); // the restarted process opens the same database
    const reports = await senderFor(e, reopened).start();
    expect(reports.map((r) => [r.key, r.state])).to.deep.equal([["claim:9", "mined"]]);
    expect(reopened.tx("claim:9")?.blockNumber).to.be.a("bigint");
    expect(await nonceOf(e)).to.equal(before + 1);
    expect(await transfers(e)).to.deep.equal([9n]);
    reopened.close();
  });

  it("a recovered transaction whose nonce another transaction took is dropped and its key retired", async function () {
    const before = await nonceOf(e);
    const hash = await storeSignedMint(e, store, "claim:3", 3n);
    // Another process on the same account uses the nonce first.
    await e.walletClient.sendTransaction({ to: RECIPIENT, value: 1n });
    const sender = senderFor(e, store);
    const reports = await sender.start();
    expect(reports.map((r) => [r.hash, r.state])).to.deep.equal([[hash, "dropped"]]);
    expect(store.tx("claim:3")).to.equal(undefined);
    const retry = await sender.send(mint(e, "claim:3", 3n));
    expect(retry.nonce).to.equal(before + 1);
    expect(await transfers(e)).to.deep.equal([3n]);
  });

  it("reconcile re-broadcasts a transaction a reorg orphaned; it is mined again exactly once", async function () {
    const sender = senderFor(e, store);
    await sender.start();
    await sender.send(mint(e, "before", 1n));
    const snapshot = await e.rpc("evm_snapshot");
    const sent = await sender.send(mint(e, "complete:5", 5n));
    await e.rpc("evm_mine");
    const nonce = await nonceOf(e);
    await e.rpc("evm_revert", [snapshot]);
    expect(await nonceOf(e)).to.equal(nonce - 1);

    const reports = await sender.reconcile(sent.blockNumber);
    expect(reports.map((r) => [r.key, r.hash, r.state])).to.deep.equal([["complete:5", sent.hash, "mined"]]);
    expect(await nonceOf(e)).to.equal(nonce);
    expect(await transfers(e)).to.deep.equal([1n, 5n]);
    expect(await sender.reconcile(sent.blockNumber)).to.deep.equal([]);
    expect((await sender.send(mint(e, "complete:5", 5n))).hash).to.equal(sent.hash);
    expect((await sender.send(mint(e, "after", 2n))).nonce).to.equal(nonce);
  });

  it("reconcile reports an orphaned transaction that reverts on the new chain", async function () {
    const sender = senderFor(e, store);
    await sender.start();
    const me = e.walletClient.account.address;
    await sender.send(mint(e, "fund", 50n, me));
    const snapshot = await e.rpc("evm_snapshot");
    const pay: SendRequest = {
      key: "pay",
      address: e.token,
      abi: tokenAbi,
      functionName: "transfer",
      args: [RECIPIENT, 50n],
    };
    const sent = await sender.send(pay);
    await e.rpc("evm_revert", [snapshot]);
    // On the new chain the balance is gone (no transaction of ours involved: the storage is rewritten).
    await e.rpc("hardhat_setStorageAt", [e.token, balanceSlot(me), `0x${"0".repeat(64)}`]);

    const reports = await sender.reconcile(sent.blockNumber);
    expect(reports).to.have.length(1);
    expect(reports[0]?.state).to.equal("reverted");
    expect(reports[0]?.outcome?.status).to.equal("reverted");
    expect((reports[0]?.error as TxRevertedError).errorName).to.equal("ERC20InsufficientBalance");
    expect(store.tx("pay")?.state).to.equal("reverted");
  });

  it("a definitive broadcast failure drops the key and leaves no nonce hole", async function () {
    const poor = privateKeyToAccount(generatePrivateKey());
    const wallet = createWalletClient({ account: poor, chain: e.chain, transport: e.transport });
    const sender = senderFor(e, store, { walletClient: wallet });
    await sender.start();

    const error = await sender.send(mint(e, "claim:1", 1n)).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(TxDroppedError);
    expect((error as TxDroppedError).reason).to.match(/funds/);
    expect(store.tx("claim:1")).to.equal(undefined);
    expect(sender.pendingCount()).to.equal(0);

    await e.rpc("hardhat_setBalance", [poor.address, "0xde0b6b3a7640000"]);
    const retried = await sender.send(mint(e, "claim:1", 1n));
    const next = await sender.send(mint(e, "claim:2", 2n));
    expect([retried.nonce, next.nonce]).to.deep.equal([0, 1]);
    expect(await nonceOf(e, poor.address)).to.equal(2);
  });

  it("re-signs with the next nonce when an outside transaction took it, and retries transient broadcast errors", async function () {
    let rpcErrors = 0;
    const sender = senderFor(e, store, { onRpcError: () => (rpcErrors += 1) });
    await sender.start();
    const before = await nonceOf(e);
    await e.walletClient.sendTransaction({ to: RECIPIENT, value: 1n }); // bypasses the sender's counter
    const outcome = await sender.send(mint(e, "a", 1n));
    expect(outcome.nonce).to.equal(before + 1);

    let failures = 0;
    e.env.onSendRaw = (forward) => (failures++ < 2 ? Promise.reject(new Error("socket hang up")) : forward());
    const flaky = await sender.send(mint(e, "b", 2n));
    e.env.onSendRaw = undefined;
    expect(flaky.nonce).to.equal(before + 2);
    expect(rpcErrors).to.be.at.least(2);
    expect(sender.rpcErrors).to.equal(rpcErrors);
    expect(await transfers(e)).to.deep.equal([1n, 2n]);
  });

  it("with confirmations, resolves only once enough blocks are mined over the transaction", async function () {
    const sender = senderFor(e, store, { confirmations: 2 });
    await sender.start();
    let done = false;
    const sending = sender.send(mint(e, "deep", 1n)).then((o) => {
      done = true;
      return o;
    });
    while (store.tx("deep")?.state !== "sent") await new Promise((resolve) => setTimeout(resolve, 10));
    await e.rpc("evm_mine");
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(done).to.equal(false);
    await e.rpc("evm_mine");
    const outcome = await sending;
    expect(outcome.status).to.equal("success");
  });
});
