import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { pino } from "pino";
import { parseAbi, type Hex } from "viem";

import { EventFollower, type EventFollowerOptions, type FollowedLog } from "../../../keepers/common/follower.js";
import { Store } from "../../../keepers/common/store.js";
import { TxSender } from "../../../keepers/common/txs.js";
import { RECIPIENT, tokenChain } from "../../helpers/keepers.js";

const tokenAbi = parseAbi([
  "function mint(address to, uint256 amount)",
  "function approve(address spender, uint256 value) returns (bool)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event Approval(address indexed owner, address indexed spender, uint256 value)",
]);
/** What the follower decodes: Transfer only (Approval is an event it does not know, to be skipped). */
const followedAbi = parseAbi(["event Transfer(address indexed from, address indexed to, uint256 value)"]);

/** A fresh in-process chain with BaselineERC20 deployed; eth_getLogs can be intercepted. */
async function chainEnv() {
  const hooks = {
    getLogs: undefined as ((params: unknown[], forward: () => Promise<unknown>) => Promise<unknown>) | undefined,
  };
  const base = await tokenChain((method, params, forward) =>
    method === "eth_getLogs" && hooks.getLogs ? hooks.getLogs(params, forward) : undefined,
  );
  const { publicClient, walletClient, token } = base;

  /** One Transfer event per call, each in its own block (automine). */
  async function mint(...amounts: bigint[]): Promise<bigint[]> {
    const blocks: bigint[] = [];
    for (const amount of amounts) {
      const hash = await walletClient.writeContract({
        address: token,
        abi: tokenAbi,
        functionName: "mint",
        args: [RECIPIENT, amount],
      });
      blocks.push((await publicClient.waitForTransactionReceipt({ hash })).blockNumber);
    }
    return blocks;
  }
  return { ...base, hooks, mint };
}
type Env = Awaited<ReturnType<typeof chainEnv>>;

/** A follower that records what it is given. */
function follow(e: Env, store: Store, options: Partial<EventFollowerOptions> = {}) {
  const delivered: FollowedLog[] = [];
  const reorgs: bigint[] = [];
  const follower = new EventFollower({
    name: "test",
    publicClient: e.publicClient,
    store,
    logger: pino({ level: "silent" }),
    contracts: [{ address: e.token, abi: followedAbi }],
    pollIntervalMs: 20,
    ...options,
  });
  follower.onLogs((logs) => {
    delivered.push(...logs);
    return Promise.resolve();
  });
  follower.onReorg((forkBlock) => {
    reorgs.push(forkBlock);
    return Promise.resolve();
  });
  return { follower, delivered, reorgs };
}

const amounts = (logs: readonly FollowedLog[]) => logs.map((l) => (l.args as { value: bigint }).value);
const blockOf = async (e: Env) => e.publicClient.getBlockNumber({ cacheTime: 0 });

describe("keepers: EventFollower", function () {
  let dir: string;
  let file: string;
  let e: Env;
  let store: Store;

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "aitbc-follower-"));
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

  it("delivers every event once, decoded, in (block, logIndex) order, in batches; skips unknown events", async function () {
    await e.mint(1n, 2n, 3n);
    await e.walletClient.writeContract({
      address: e.token,
      abi: tokenAbi,
      functionName: "approve",
      args: [RECIPIENT, 9n],
    });
    // Two events in one block.
    await e.rpc("evm_setAutomine", [false]);
    for (const amount of [4n, 5n]) {
      await e.walletClient.writeContract({
        address: e.token,
        abi: tokenAbi,
        functionName: "mint",
        args: [RECIPIENT, amount],
      });
    }
    await e.rpc("evm_mine");
    await e.rpc("evm_setAutomine", [true]);

    const { follower, delivered } = follow(e, store, { batchBlocks: 2 });
    expect(await follower.poll()).to.equal(5);
    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n, 4n, 5n]);
    const first = delivered[0];
    expect(first?.eventName).to.equal("Transfer");
    expect(first?.address.toLowerCase()).to.equal(e.token.toLowerCase());
    expect(first?.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    const [d, last] = [delivered[3], delivered[4]];
    expect(d?.blockNumber).to.equal(last?.blockNumber);
    expect(d?.logIndex).to.be.lessThan(last?.logIndex ?? 0);

    expect(await follower.poll()).to.equal(0);
    expect(delivered).to.have.length(5);
    const head = await blockOf(e);
    expect(follower.checkpoint()).to.equal(head);
    expect(follower.lag()).to.equal(0);
    expect(store.blockHash(last?.blockNumber ?? 0n)).to.equal(last?.blockHash);
  });

  it("a new follower on the same store (a restart) delivers nothing twice", async function () {
    await e.mint(1n, 2n);
    const first = follow(e, store);
    await first.follower.poll();
    await e.mint(3n, 4n);

    const reopened = new Store(file);
    const second = follow(e, reopened);
    await second.follower.poll();
    expect(amounts(first.delivered)).to.deep.equal([1n, 2n]);
    expect(amounts(second.delivered)).to.deep.equal([3n, 4n]);
    reopened.close();
  });

  it("holds back the last `confirmations` blocks until enough blocks are mined over them", async function () {
    const { follower, delivered } = follow(e, store, { confirmations: 2 });
    const [block] = await e.mint(7n);
    expect(await follower.poll()).to.equal(0);
    expect(follower.checkpoint()).to.equal((block ?? 0n) - 2n);
    expect(follower.lag()).to.equal(2);
    await e.rpc("evm_mine");
    expect(await follower.poll()).to.equal(0);
    await e.rpc("evm_mine");
    expect(await follower.poll()).to.equal(1);
    expect(amounts(delivered)).to.deep.equal([7n]);
    expect(follower.checkpoint()).to.equal(block);
  });

  it("re-delivers a batch whose handler threw, without moving the checkpoint", async function () {
    await e.mint(1n, 2n);
    const store2 = store;
    const follower = new EventFollower({
      name: "test",
      publicClient: e.publicClient,
      store: store2,
      logger: pino({ level: "silent" }),
      contracts: [{ address: e.token, abi: followedAbi }],
    });
    const seen: bigint[][] = [];
    let fail = true;
    follower.onLogs((logs) => {
      seen.push(amounts(logs));
      if (fail) return Promise.reject(new Error("database unavailable"));
      return Promise.resolve();
    });
    const before = follower.checkpoint();
    const error = await follower.poll().catch((err: unknown) => err);
    expect((error as Error).message).to.contain("database unavailable");
    expect(follower.checkpoint()).to.equal(before);
    fail = false;
    expect(await follower.poll()).to.equal(2);
    expect(seen).to.deep.equal([
      [1n, 2n],
      [1n, 2n],
    ]);
  });

  it("start(): follows new blocks, retries RPC and handler failures with backoff, and stop() ends the loop", async function () {
    const errors: string[] = [];
    let rpcErrors = 0;
    const { follower, delivered } = follow(e, store, {
      onError: (_error, stage) => errors.push(stage),
      onRpcError: () => (rpcErrors += 1),
    });
    let handlerFailures = 1;
    follower.onLogs((logs) => {
      if (handlerFailures-- > 0) return Promise.reject(new Error("busy"));
      delivered.push(...logs);
      return Promise.resolve();
    });
    let getLogsFailures = 1;
    e.hooks.getLogs = (_params, forward) =>
      getLogsFailures-- > 0 ? Promise.reject(new Error("fetch failed")) : forward();

    await e.mint(1n);
    follower.start();
    await e.mint(2n, 3n);
    const deadline = Date.now() + 10_000;
    while (delivered.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await follower.stop();

    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n]);
    expect(errors).to.deep.equal(["rpc", "handler"]);
    expect(rpcErrors).to.equal(1);
    expect(follower.errors).to.equal(2);
    const checkpoint = follower.checkpoint();
    await e.mint(4n);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(follower.checkpoint()).to.equal(checkpoint); // stopped: nothing more is processed
  });

  it("shrinks the log range while the node refuses it", async function () {
    await e.mint(1n, 2n, 3n, 4n, 5n);
    let refusals = 0;
    e.hooks.getLogs = (params, forward) => {
      const filter = params[0] as { fromBlock: Hex; toBlock: Hex };
      if (BigInt(filter.toBlock) - BigInt(filter.fromBlock) + 1n > 2n) {
        refusals += 1;
        return Promise.reject(Object.assign(new Error("block range is too wide"), { code: -32005 }));
      }
      return forward();
    };
    const { follower, delivered } = follow(e, store, { batchBlocks: 100 });
    expect(await follower.poll()).to.equal(5);
    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n, 4n, 5n]);
    expect(refusals).to.be.greaterThan(0);
  });

  it("on a reorg, calls onReorg with the fork block, rewinds and delivers the new chain's events", async function () {
    await e.mint(1n);
    const { follower, delivered, reorgs } = follow(e, store);
    const snapshot = await e.rpc("evm_snapshot");
    const [fork] = await e.mint(2n, 3n);
    await follower.poll();
    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n]);

    await e.rpc("evm_revert", [snapshot]);
    const blocks = await e.mint(20n, 30n, 40n);
    expect(blocks[0]).to.equal(fork);
    expect(await follower.poll()).to.equal(3);
    expect(reorgs).to.deep.equal([fork]);
    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n, 20n, 30n, 40n]);
    expect(follower.checkpoint()).to.equal(await blockOf(e));

    expect(await follower.poll()).to.equal(0);
    expect(reorgs).to.have.length(1);
  });

  it("a reorg that leaves the chain shorter is detected, and a failing reorg handler is retried", async function () {
    const { follower, delivered, reorgs } = follow(e, store);
    await e.mint(1n);
    const snapshot = await e.rpc("evm_snapshot");
    const [fork] = await e.mint(2n, 3n);
    await follower.poll();
    await e.rpc("evm_revert", [snapshot]);

    let fail = true;
    follower.onReorg((forkBlock) => {
      if (fail) return Promise.reject(new Error("reconcile failed"));
      reorgs.push(forkBlock);
      return Promise.resolve();
    });
    await follower.poll().catch(() => undefined);
    expect(reorgs).to.deep.equal([]);
    fail = false;
    expect(await follower.poll()).to.equal(0);
    expect(reorgs).to.deep.equal([fork]);
    expect(follower.checkpoint()).to.equal((fork ?? 0n) - 1n);
    await e.mint(9n);
    await follower.poll();
    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n, 9n]);
  });

  it("a reorg deeper than the saved hashes rewinds to fromBlock on a young follower", async function () {
    const { follower, delivered, reorgs } = follow(e, store);
    const snapshot = await e.rpc("evm_snapshot");
    await e.mint(1n, 2n, 3n);
    await follower.poll();
    // Forget every saved hash but the newest: nothing below it can be compared any more.
    store.pruneBlocksBelow(follower.checkpoint());
    expect(store.blocksFrom(0n)).to.have.length(1);

    await e.rpc("evm_revert", [snapshot]);
    await e.mint(10n, 20n, 30n, 40n);
    await follower.poll();
    expect(reorgs).to.deep.equal([0n]);
    expect(amounts(delivered)).to.deep.equal([1n, 2n, 3n, 10n, 20n, 30n, 40n]);
  });

  it("drives TxSender.reconcile: an orphaned transaction is mined again and its event re-delivered", async function () {
    const logger = pino({ level: "silent" });
    const txs = new TxSender({
      publicClient: e.publicClient,
      walletClient: e.walletClient,
      store,
      logger,
      pollingIntervalMs: 20,
    });
    await txs.start();
    const { follower, delivered } = follow(e, store);
    const reconciled: string[] = [];
    follower.onReorg(async (forkBlock) => {
      for (const report of await txs.reconcile(forkBlock)) reconciled.push(`${report.key}:${report.state}`);
    });
    const snapshot = await e.rpc("evm_snapshot");
    const sent = await txs.send({
      key: "mint:5",
      address: e.token,
      abi: tokenAbi,
      functionName: "mint",
      args: [RECIPIENT, 5n],
    });
    await follower.poll();
    await e.rpc("evm_revert", [snapshot]);
    await e.rpc("evm_mine"); // the new chain has another block where the transaction was

    await follower.poll(); // detects the reorg; reconcile re-broadcasts the transaction (automine mines it)
    await follower.poll();
    expect(reconciled).to.deep.equal(["mint:5:mined"]);
    expect(delivered.map((l) => l.transactionHash)).to.deep.equal([sent.hash, sent.hash]);
    expect(delivered[1]?.blockNumber).to.equal(sent.blockNumber + 1n);
    expect(store.tx("mint:5")?.blockNumber).to.equal(sent.blockNumber + 1n);
  });
});
