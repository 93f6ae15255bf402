/**
 * The keeper's event follower: delivers the protocol contracts' events from a stored checkpoint, at least once and
 * in chain order, `confirmations` blocks behind the head, and notices reorgs.
 *
 * - Each poll processes [checkpoint + 1 .. head − confirmations] in batches of at most `batchBlocks`: one eth_getLogs
 *   over every contract address per batch, each log decoded with the ABI of the contract that emitted it (unknown
 *   events are skipped), handed to the handler in (block, logIndex) order. Only after the handler resolves are the
 *   batch's block hashes saved and the checkpoint advanced, in one SQLite transaction: a crash (or a throwing
 *   handler) re-delivers the batch, so handlers must be idempotent.
 * - Reorgs: each poll first compares the newest saved block hash with the chain's. On a mismatch it finds the
 *   highest saved block still on the chain (binary search over the saved hashes), calls the reorg handler with the
 *   fork block (the first block that is no longer what was processed), then forgets the saved hashes from there
 *   and rewinds the checkpoint: the new chain's events are delivered again. The handler runs before the rewind, so
 *   a crash inside it detects the same reorg again on restart. A reorg deeper than the saved hashes (kept for the
 *   last PRUNE_DEPTH blocks) rewinds PRUNE_DEPTH blocks (never before fromBlock).
 * - New blocks are watched (polling over HTTP, a subscription over WebSocket) to poll promptly, with the poll
 *   interval as a fallback. RPC and handler errors are logged with their kind (errors.ts: retryable or definitive),
 *   counted and retried with backoff, both kinds: delivery is at least once, so a batch is never skipped, and the
 *   loop never dies (a definitive failure repeats, visible as chain lag, until its cause is fixed).
 *
 * The block hashes table is shared by the store's followers (they are chain facts): run one follower per store.
 */
import {
  BlockNotFoundError,
  decodeEventLog,
  type Abi,
  type Address,
  type Chain,
  type DecodeEventLogReturnType,
  type Log,
  type PublicClient,
  type Transport,
  type Hex,
} from "viem";

import { shortMessage } from "./chain.js";
import { AitbcError, classify, RetryableError, type ErrorKind } from "./errors.js";
import type { Logger } from "./log.js";
import type { Store } from "./store.js";

export interface FollowedContract {
  address: Address;
  abi: Abi;
}

/** A decoded event with where it happened. With a narrow ABI type `eventName` and `args` are typed. */
export type FollowedLog<abi extends Abi = Abi> = (Abi extends abi
  ? { eventName: string; args: Record<string, unknown> | readonly unknown[] }
  : DecodeEventLogReturnType<abi>) & {
  address: Address;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
};

export type ErrorStage = "rpc" | "handler" | "reorg";

export interface EventFollowerOptions {
  /** The checkpoint's name in the store. */
  name: string;
  publicClient: PublicClient<Transport, Chain>;
  store: Store;
  logger: Logger;
  contracts: readonly FollowedContract[];
  /** Blocks to stay behind the head (default 0). */
  confirmations?: number;
  /** First block to follow when the store has no checkpoint (default 0). */
  fromBlock?: bigint;
  /** Most blocks per eth_getLogs (default 2000; halved automatically while a node refuses the range). */
  batchBlocks?: number;
  /** Poll interval when no new block is announced, and the block watcher's polling interval (ms, default 1000). */
  pollIntervalMs?: number;
  /** Called on every failed RPC request (for a metrics counter). */
  onRpcError?: (error: unknown) => void;
  /** Called on every failed poll, with where it failed and its kind (both kinds are retried). */
  onError?: (error: unknown, stage: ErrorStage, kind: ErrorKind) => void;
}

/** Saved block hashes older than this many blocks behind the checkpoint are pruned. */
export const PRUNE_DEPTH = 1000n;
const MAX_BACKOFF_MS = 30_000;

/** A handler's failure, told apart from RPC failures in logs and counters; its kind is its cause's. */
class StageError extends AitbcError {
  override name = "StageError";
  constructor(
    readonly stage: ErrorStage,
    readonly error: unknown,
  ) {
    super(`${stage} failed: ${shortMessage(error)}`, { cause: error });
  }

  get retryable(): boolean {
    return classify(this.error) === "retryable";
  }
}

export class EventFollower<abi extends Abi = Abi> {
  readonly #o: EventFollowerOptions;
  readonly #logger: Logger;
  readonly #abis = new Map<string, Abi>();
  readonly #fromBlock: bigint;
  readonly #confirmations: bigint;
  readonly #pollIntervalMs: number;
  #batchBlocks: bigint;
  #onLogs: ((logs: FollowedLog<abi>[]) => Promise<void>) | undefined;
  #onReorg: ((forkBlock: bigint) => Promise<void>) | undefined;
  #head: bigint | undefined;
  #polling: Promise<unknown> = Promise.resolve();
  #loop: Promise<void> | undefined;
  #unwatch: (() => void) | undefined;
  #stopping = false;
  /** A new block arrived while no sleep was pending: the next wakeable sleep returns at once. */
  #woken = false;
  #interrupt: ((force: boolean) => void) | undefined;
  #errors = 0;

  constructor(options: EventFollowerOptions) {
    if (options.contracts.length === 0) throw new Error(`follower ${options.name}: no contracts to follow`);
    this.#o = options;
    this.#logger = options.logger.child({ module: "follower", follower: options.name });
    for (const { address, abi } of options.contracts) {
      const known = this.#abis.get(address.toLowerCase());
      this.#abis.set(address.toLowerCase(), known ? [...known, ...abi] : abi);
    }
    this.#fromBlock = options.fromBlock ?? 0n;
    this.#confirmations = BigInt(options.confirmations ?? 0);
    this.#batchBlocks = BigInt(Math.max(1, options.batchBlocks ?? 2000));
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  /** Sets the handler of each batch's events (awaited before the checkpoint moves). */
  onLogs(handler: (logs: FollowedLog<abi>[]) => Promise<void>): this {
    this.#onLogs = handler;
    return this;
  }

  /** Sets the handler called with the first orphaned block when a reorg is detected (before events are re-delivered). */
  onReorg(handler: (forkBlock: bigint) => Promise<void>): this {
    this.#onReorg = handler;
    return this;
  }

  /** The last block processed (the stored checkpoint, else fromBlock − 1). */
  checkpoint(): bigint {
    return this.#o.store.checkpoint(this.#o.name) ?? this.#fromBlock - 1n;
  }

  /** Blocks between the chain head last seen and the last block processed (0 before the first poll). */
  lag(): number {
    if (this.#head === undefined) return 0;
    const lag = this.#head - this.checkpoint();
    return lag > 0n ? Number(lag) : 0;
  }

  /** Failed polls so far (RPC or handler). */
  get errors(): number {
    return this.#errors;
  }

  /** Starts following in the background; stop() ends it. */
  start(): void {
    if (this.#loop) return;
    if (!this.#onLogs) throw new Error(`follower ${this.#o.name}: set the onLogs handler before start()`);
    this.#stopping = false;
    this.#unwatch = this.#o.publicClient.watchBlockNumber({
      emitOnBegin: false,
      pollingInterval: this.#pollIntervalMs,
      onBlockNumber: (head) => {
        this.#head = head;
        this.#wake(false);
      },
      onError: (error) => {
        this.#o.onRpcError?.(error);
        this.#logger.debug({ err: shortMessage(error) }, "block watcher failed; polling on the interval");
      },
    });
    this.#loop = this.#run();
    this.#logger.info({ from: (this.checkpoint() + 1n).toString() }, "following events");
  }

  /** Stops the block watcher and the loop (the batch in progress finishes first). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#wake(true);
    await this.#loop;
    this.#loop = undefined;
  }

  /** One round (reorg check, then every batch up to head − confirmations); returns the number of events delivered. */
  poll(): Promise<number> {
    const round = this.#polling.then(() => this.#pollOnce());
    this.#polling = round.catch(() => undefined);
    return round;
  }

  // ---------------------------------------------------------------- the loop

  /** Polls until stopped: on the interval or at each new block; after a failure, backs off exponentially. */
  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      try {
        await this.poll();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.#failed(error);
      }
      const delay =
        failures === 0 ? this.#pollIntervalMs : Math.min(this.#pollIntervalMs * 2 ** failures, MAX_BACKOFF_MS);
      await this.#sleep(delay, failures === 0);
    }
  }

  #failed(error: unknown): void {
    const stage = error instanceof StageError ? error.stage : "rpc";
    const cause = error instanceof StageError ? error.error : error;
    const kind = classify(cause);
    this.#errors += 1;
    if (stage === "rpc") this.#o.onRpcError?.(cause);
    this.#o.onError?.(cause, stage, kind);
    this.#logger.warn({ stage, kind, err: shortMessage(cause) }, "poll failed; retrying with backoff");
  }

  /** Waits `ms`; a new block ends a wakeable wait early (not a backoff); stop() ends any wait. */
  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#stopping || (wakeable && this.#woken)) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.#interrupt = (force) => {
        if (force || wakeable) finish();
      };
    });
  }

  #wake(force: boolean): void {
    if (this.#interrupt) this.#interrupt(force);
    else this.#woken = true;
  }

  // ---------------------------------------------------------------- one poll

  async #pollOnce(): Promise<number> {
    const head = await this.#o.publicClient.getBlockNumber({ cacheTime: 0 });
    this.#head = head;
    await this.#detectReorg(head);
    const target = head - this.#confirmations;
    let delivered = 0;
    for (let from = this.checkpoint() + 1n; from <= target && !this.#stopping; from = this.checkpoint() + 1n) {
      const end = from + this.#batchBlocks - 1n;
      delivered += await this.#processBatch(from, end < target ? end : target);
    }
    const floor = this.checkpoint() - PRUNE_DEPTH;
    if (floor > 0n) this.#o.store.pruneBlocksBelow(floor);
    return delivered;
  }

  /**
   * Fetches, decodes and delivers the events of [from, to]; then saves the hashes of the blocks that had events
   * and of `to`, and moves the checkpoint to `to` (all in one SQLite transaction).
   */
  async #processBatch(from: bigint, to: bigint): Promise<number> {
    const { logs, to: end } = await this.#fetch(from, to);
    const endHash = await this.#hashAt(end);
    if (endHash === undefined) throw new RetryableError(`block ${end} is gone (reorg under way); retrying`);
    const hashes = blockHashes(logs, end, endHash);
    const decoded = this.#decode(logs);
    if (decoded.length > 0 && this.#onLogs) {
      try {
        await this.#onLogs(decoded);
      } catch (error) {
        throw new StageError("handler", error);
      }
    }
    this.#o.store.transaction(() => {
      for (const [block, hash] of hashes) this.#o.store.saveBlockHash(block, hash);
      this.#o.store.setCheckpoint(this.#o.name, end);
    });
    if (decoded.length > 0) {
      this.#logger.debug({ from: from.toString(), to: end.toString(), events: decoded.length }, "events delivered");
    }
    return decoded.length;
  }

  /**
   * eth_getLogs over every followed address. A node that refuses the range (too many blocks or results) gets
   * half of it, down to one block; the smaller size sticks for later batches.
   */
  async #fetch(from: bigint, to: bigint): Promise<{ logs: Log[]; to: bigint }> {
    const address = [...this.#abis.keys()] as Address[];
    for (let end = to; ;) {
      try {
        return { logs: await this.#o.publicClient.getLogs({ address, fromBlock: from, toBlock: end }), to: end };
      } catch (error) {
        if (end === from || !RANGE_ERROR.test(shortMessage(error) + " " + detailsOf(error))) throw error;
        end = from + (end - from) / 2n;
        this.#batchBlocks = end - from + 1n;
        this.#logger.info({ batchBlocks: this.#batchBlocks.toString() }, "node refused the log range; smaller batches");
      }
    }
  }

  /** Decodes each log with the ABI of the contract that emitted it; skips what no ABI knows; sorts by position. */
  #decode(logs: readonly Log[]): FollowedLog<abi>[] {
    const out: FollowedLog<abi>[] = [];
    for (const log of logs) {
      const abi = this.#abis.get(log.address.toLowerCase());
      if (
        !abi ||
        log.blockNumber === null ||
        log.blockHash === null ||
        log.transactionHash === null ||
        log.logIndex === null
      )
        continue;
      let event: { eventName: string | undefined; args: unknown };
      try {
        event = decodeEventLog({ abi, data: log.data, topics: log.topics });
      } catch {
        continue; // an event the ABI does not declare (or malformed): not ours to handle
      }
      out.push({
        eventName: event.eventName,
        args: event.args,
        address: log.address,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        transactionHash: log.transactionHash,
        logIndex: log.logIndex,
      } as unknown as FollowedLog<abi>);
    }
    return out.sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
  }

  // ---------------------------------------------------------------- reorgs

  /**
   * Compares the newest saved block hash with the chain's; on a mismatch, finds the fork, lets the reorg handler
   * run, then forgets the orphaned hashes and rewinds the checkpoint to just before the fork.
   */
  async #detectReorg(head: bigint): Promise<void> {
    const store = this.#o.store;
    const checkpoint = this.checkpoint();
    const newest = store.blocksFrom(checkpoint)[0] ?? store.blocksFrom(0n)[0];
    if (!newest || (await this.#matches(newest, head))) return;
    const saved = store.blocksFrom(0n);
    const forkBlock = await this.#findFork(saved, head, checkpoint);
    this.#logger.warn(
      { forkBlock: forkBlock.toString(), checkpoint: checkpoint.toString(), head: head.toString() },
      "reorg: processed blocks are no longer on the chain",
    );
    if (this.#onReorg) {
      try {
        await this.#onReorg(forkBlock);
      } catch (error) {
        throw new StageError("reorg", error);
      }
    }
    store.transaction(() => {
      store.forgetBlocksFrom(forkBlock);
      if (forkBlock - 1n < checkpoint) store.setCheckpoint(this.#o.name, forkBlock - 1n);
    });
  }

  /**
   * The first block no longer on the chain: one past the highest saved block that still matches (saved blocks
   * match up to some height and not above it, so a binary search finds it). When none matches, the fork is below
   * every saved hash: rewind as far as hashes were kept (PRUNE_DEPTH behind the checkpoint, or the oldest saved
   * block if older), but not before fromBlock: a young follower re-reads everything, an old one a bounded stretch.
   */
  async #findFork(saved: readonly { number: bigint; hash: Hex }[], head: bigint, checkpoint: bigint): Promise<bigint> {
    // saved is highest first; saved[0] does not match. Find the lowest index that matches.
    let low = 1;
    let high = saved.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      const block = saved[mid];
      if (block && (await this.#matches(block, head))) high = mid;
      else low = mid + 1;
    }
    const match = saved[low];
    if (match) return match.number + 1n;
    let floor = checkpoint - PRUNE_DEPTH;
    const oldest = saved[saved.length - 1];
    if (oldest && oldest.number < floor) floor = oldest.number;
    return floor > this.#fromBlock ? floor : this.#fromBlock;
  }

  async #matches(block: { number: bigint; hash: Hex }, head: bigint): Promise<boolean> {
    if (block.number > head) return false;
    return (await this.#hashAt(block.number)) === block.hash;
  }

  /** The chain's hash at a height, undefined if the chain is not that high (any more). */
  async #hashAt(number: bigint): Promise<Hex | undefined> {
    try {
      return (await this.#o.publicClient.getBlock({ blockNumber: number })).hash;
    } catch (error) {
      if (error instanceof BlockNotFoundError) return undefined;
      throw error;
    }
  }
}

/** Nodes word it differently: "query returned more than 10000 results", "block range is too wide", ... */
const RANGE_ERROR = /range|too many|more than|limit|exceed|too large|too wide|response size/i;

function detailsOf(error: unknown): string {
  const details = (error as { details?: unknown } | null)?.details;
  return typeof details === "string" ? details : "";
}

/**
 * The hashes to save for a batch: each block with events, and the batch's last block. Events of one block that
 * disagree on its hash (or with the last block's) mean the chain moved during the batch: it is fetched again.
 */
function blockHashes(logs: readonly Log[], end: bigint, endHash: Hex): Map<bigint, Hex> {
  const hashes = new Map<bigint, Hex>([[end, endHash]]);
  for (const log of logs) {
    if (log.blockNumber === null || log.blockHash === null) continue;
    const known = hashes.get(log.blockNumber);
    if (known !== undefined && known !== log.blockHash) {
      throw new RetryableError(
        `block ${log.blockNumber} changed while its events were fetched (reorg under way); retrying`,
      );
    }
    hashes.set(log.blockNumber, log.blockHash);
  }
  return hashes;
}
