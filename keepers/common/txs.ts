/**
 * The keeper's transaction sender. Every on-chain action goes through `send()` under an idempotency key that names
 * the action ("claim:7", "record:7:0-4"); the key is what makes the keeper safe to kill at any point:
 *
 * - One live transaction per key: a key whose transaction is signed, sent or mined is never sent again, its
 *   transaction is awaited instead. A reverted one stays reverted (the call fails again with the same error) until
 *   the caller, having re-checked the chain, `retire`s the key.
 * - The signed raw transaction is stored before it is broadcast, so a restart (`start()`) re-broadcasts the very
 *   same bytes (same nonce, same hash) instead of signing a second transaction.
 * - Nonces come from a local counter: signing, storing and broadcasting run one at a time under a mutex, in nonce
 *   order, so hundreds of parallel sends get gapless nonces; simulation, gas and fee estimation and the wait for
 *   receipts run in parallel.
 * - A call that would revert is simulated first and fails with a decoded `TxRevertedError` without using a nonce.
 *   A broadcast the node rejects for good (insufficient funds, ...) is dropped, its key retired and the counter
 *   resynchronised from the chain, so it leaves no nonce hole.
 * - `reconcile(fromBlock)` re-broadcasts the transactions a reorg orphaned.
 *
 * Confirmations: `send` resolves `confirmations` blocks after inclusion (default 0). On an automining dev chain
 * (Hardhat, anvil) nothing mines a block by itself, so keep 0 there, or every send waits until its timeout.
 * One TxSender per account and store: the txs table has no sender column, and the store refuses another chain.
 * Transactions are never re-priced: one stuck under a too-low fee stays live (and times out) until it is mined.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  Eip1559FeesNotSupportedError,
  encodeFunctionData,
  keccak256,
  parseTransaction,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
  type Hex,
} from "viem";

import { DefinitiveError, explain, nodeMessage, RetryableError } from "./errors.js";
import type { Logger } from "./log.js";
import type { Store, TxRow, TxState } from "./store.js";

export interface SendRequest {
  /** Idempotency key naming the action: one live transaction per key, ever. */
  key: string;
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
  value?: bigint;
  /** Gas limit; default: the node's estimate × gasMultiplierPercent / 100. */
  gas?: bigint;
}

export interface TxOutcome {
  key: string;
  hash: Hex;
  nonce: number;
  blockNumber: bigint;
  gasUsed: bigint;
  status: "success" | "reverted";
  /** True when this call signed and sent the transaction; false when it returned one sent before under the key. */
  fresh: boolean;
}

/** What became of a transaction that `start()` recovered or `reconcile()` re-broadcast. */
export interface TxReport {
  key: string;
  hash: Hex;
  /** mined, reverted, dropped (its key was retired), or still signed/sent (it timed out; its key stays live). */
  state: TxState;
  outcome: TxOutcome | undefined;
  error: Error | undefined;
}

/** The metrics the sender feeds (KeeperMetrics has them). */
export interface TxMetrics {
  rpcError(): void;
  transaction(outcome: "mined" | "reverted" | "dropped"): void;
  pendingTransactions(count: number): void;
}

export interface TxSenderOptions {
  publicClient: PublicClient<Transport, Chain>;
  /** Its account must be local (a private key): the sender signs and stores transactions itself. */
  walletClient: WalletClient<Transport, Chain, Account>;
  store: Store;
  logger: Logger;
  metrics?: TxMetrics;
  /** Called on every failed RPC request, with the operation's name. */
  onRpcError?: (error: unknown, operation: string) => void;
  /** Blocks to wait after inclusion before resolving (default 0; keep 0 on automining dev chains). */
  confirmations?: number;
  /** How long a send waits for its receipt before failing with TxTimeoutError (ms, default 300 000). */
  receiptTimeoutMs?: number;
  /** While waiting, how often the raw transaction is broadcast again in case a node lost it (ms, default 30 000). */
  rebroadcastMs?: number;
  /** Receipt polling interval (ms; default: the public client's). */
  pollingIntervalMs?: number;
  /** Gas limit = estimate × this / 100 (default 120). */
  gasMultiplierPercent?: number;
  /** Decodes the revert data of transactions recovered or reconciled (send() decodes with its request's abi). */
  errorAbi?: Abi;
}

interface Revert {
  functionName?: string | undefined;
  errorName?: string | undefined;
  args?: readonly unknown[] | undefined;
  reason?: string | undefined;
  data?: Hex | undefined;
}

/**
 * A call that reverts (in simulation, or mined with status 0), with its error decoded when the ABI knows it.
 * Definitive: the same call reverts again until the chain's state changes.
 */
export class TxRevertedError extends DefinitiveError {
  override name = "TxRevertedError";
  readonly key: string;
  /** The custom error's name ("Error" for require(msg), "Panic" for assert), if it could be decoded. */
  readonly errorName: string | undefined;
  readonly args: readonly unknown[] | undefined;
  /** The require() message, if any. */
  readonly reason: string | undefined;
  /** The raw revert data, if known. */
  readonly data: Hex | undefined;
  /** Set when the transaction was mined and reverted; undefined when the simulation reverted. */
  readonly hash: Hex | undefined;
  readonly blockNumber: bigint | undefined;

  constructor(fields: Revert & { key: string; hash?: Hex; blockNumber?: bigint }) {
    const where =
      fields.hash === undefined
        ? `${fields.functionName ?? "call"} would revert`
        : `${fields.hash} reverted in block ${fields.blockNumber?.toString() ?? "?"}`;
    super(`tx ${fields.key}: ${where}: ${describeRevert(fields)}`);
    this.key = fields.key;
    this.errorName = fields.errorName;
    this.args = fields.args;
    this.reason = fields.reason;
    this.data = fields.data;
    this.hash = fields.hash;
    this.blockNumber = fields.blockNumber;
  }
}

/**
 * The transaction can never be mined (its nonce went to another one, or the node rejected it); its key is retired.
 * Retryable: nothing happened on chain, and the key is free for a new transaction.
 */
export class TxDroppedError extends RetryableError {
  override name = "TxDroppedError";
  constructor(
    readonly key: string,
    readonly hash: Hex,
    readonly reason: string,
  ) {
    super(`tx ${key}: ${hash} dropped: ${reason}`);
  }
}

/**
 * No receipt in time; the transaction stays live under its key (a later send with the key waits for it again).
 * Retryable: the next send under the key picks the transaction up where this one stopped.
 */
export class TxTimeoutError extends RetryableError {
  override name = "TxTimeoutError";
  constructor(
    readonly key: string,
    readonly hash: Hex,
    timeoutMs: number,
  ) {
    super(`tx ${key}: ${hash} not mined after ${timeoutMs} ms; it stays pending under its key`);
  }
}

type Pending = Pick<TxRow, "key" | "hash" | "nonce" | "raw">;
type Fees =
  { type: "eip1559"; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: "legacy"; gasPrice: bigint };
type Broadcast = { kind: "sent" | "pending" } | { kind: "dropped"; reason: string; slotLost: boolean };
interface Unsigned {
  to: Address;
  data: Hex;
  value: bigint;
  gas: bigint;
  fees: Fees;
}

const BROADCAST_ATTEMPTS = 3;
const BROADCAST_BACKOFF_MS = 250;
/** How often a send re-signs after an outside transaction took its nonce (the account is shared). */
const NONCE_RETRIES = 3;

export class TxSender {
  readonly #public: PublicClient<Transport, Chain>;
  readonly #wallet: WalletClient<Transport, Chain, Account>;
  readonly #account: LocalAccount;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #options: TxSenderOptions;
  readonly #mutex = new Mutex();
  readonly #inflight = new Map<string, Promise<TxOutcome>>();
  /** The next nonce to sign with; undefined = read it again from the chain and the store (under the mutex). */
  #nonce: number | undefined;
  #init: Promise<{ pending: TxRow[]; dropped: TxReport[] }> | undefined;
  #rpcErrors = 0;

  constructor(options: TxSenderOptions) {
    const account = options.walletClient.account;
    if (account.type !== "local") {
      throw new Error(
        `TxSender: ${account.address} is a ${account.type} account; it needs a local account (a private key) to sign and store transactions before broadcasting them`,
      );
    }
    this.#public = options.publicClient;
    this.#wallet = options.walletClient;
    this.#account = account;
    this.#store = options.store;
    this.#logger = options.logger.child({ module: "txs" });
    this.#options = options;
  }

  get address(): Address {
    return this.#account.address;
  }

  /** Failed RPC requests so far. */
  get rpcErrors(): number {
    return this.#rpcErrors;
  }

  /** Transactions signed or sent and not yet mined. */
  pendingCount(): number {
    return this.#store.txsIn("signed", "sent").length;
  }

  /**
   * Recovery after a restart: re-broadcasts every stored transaction that was signed or sent (the same bytes) and
   * waits for them. Call it once before sending; send() also runs the re-broadcast part if needed, but only
   * start() waits for the recovered transactions and reports them.
   */
  async start(): Promise<TxReport[]> {
    const { pending, dropped } = await this.#ready();
    const settled = await Promise.all(pending.map((row) => this.#report(row, this.#options.errorAbi)));
    return [...dropped, ...settled];
  }

  /**
   * Sends `functionName(args)` to `address` once per `key`: returns the key's transaction if it already has a live
   * one, else simulates, signs, stores, broadcasts and waits for the receipt. Throws TxRevertedError (simulation or
   * mined revert), TxDroppedError (key retired: safe to send again) or TxTimeoutError (still live).
   */
  send(request: SendRequest): Promise<TxOutcome> {
    return this.#track(request.key, () => this.#send(request));
  }

  /**
   * Forgets the key's reverted, dropped or mined transaction so that the next send() under the key sends a new
   * one. Returns false if the key has none. A pending transaction can't be retired: it may still be mined.
   */
  retire(key: string): boolean {
    const row = this.#store.tx(key);
    if (!row) return false;
    if (row.state === "signed" || row.state === "sent") {
      throw new Error(
        `tx ${key}: ${row.hash} (nonce ${row.nonce}) is still pending and may be mined; it can't be retired`,
      );
    }
    this.#store.retireTx(row.hash);
    this.#logger.info({ key, hash: row.hash, state: row.state }, "tx key retired");
    return true;
  }

  /**
   * After a reorg from `fromBlock`: every transaction recorded as mined (or reverted) at or after it whose receipt
   * is gone is broadcast again from its stored bytes (a real reorg returns it to the mempool; a dev node's
   * evm_revert does not) and awaited. Returns what became of each.
   *
   * With `rebroadcast: false` orphaned transactions are dropped instead (keys retired, nonce counter resynced), so
   * the caller decides again from the new chain. A keeper must do this: after a reorg the same ids can name other
   * requests (execution ids are counters), and replaying an action meant for the old one could apply it to the new.
   */
  async reconcile(fromBlock: bigint, options: { rebroadcast?: boolean } = {}): Promise<TxReport[]> {
    await this.#ready();
    const candidates = this.#store.txsMinedFrom(fromBlock);
    if (candidates.length === 0) return [];
    if (options.rebroadcast === false) return this.#mutex.run(() => this.#forgetOrphans(candidates));
    const { orphaned, dropped } = await this.#mutex.run(() => this.#rebroadcastOrphans(candidates));
    if (orphaned.length + dropped.length > 0) {
      this.#logger.warn(
        { fromBlock: fromBlock.toString(), orphaned: orphaned.length, dropped: dropped.length },
        "reorg orphaned transactions; re-broadcast them",
      );
    }
    const settled = await Promise.all(orphaned.map((row) => this.#report(row, this.#options.errorAbi)));
    return [...dropped, ...settled];
  }

  // ---------------------------------------------------------------- send

  /** One send, for a key that nobody in this process is sending right now. */
  async #send(request: SendRequest): Promise<TxOutcome> {
    await this.#ready();
    const existing = this.#live(request.key);
    if (existing) return this.#resume(existing, request);

    const data = encodeFunctionData({ abi: request.abi, functionName: request.functionName, args: request.args ?? [] });
    await this.#simulate(request);
    const gas =
      request.gas ?? ((await this.#estimateGas(request)) * BigInt(this.#options.gasMultiplierPercent ?? 120)) / 100n;
    const fees = await this.#rpc("estimateFeesPerGas", () => this.#fees());
    const unsigned: Unsigned = { to: request.address, data, value: request.value ?? 0n, gas, fees };

    const submitted = await this.#mutex.run(() => this.#submit(request.key, unsigned));
    if (!submitted.fresh) return this.#resume(submitted.row, request);
    const outcome = await this.#settle(submitted.row);
    if (outcome.status === "reverted") throw await this.#explain(submitted.row, outcome.blockNumber, request.abi);
    return { ...outcome, fresh: true };
  }

  /** Under the mutex: takes the next nonce, signs, stores the raw transaction ("signed"), then broadcasts it. */
  async #submit(key: string, unsigned: Unsigned): Promise<{ row: Pending; fresh: boolean }> {
    const raced = this.#live(key);
    if (raced) return { row: raced, fresh: false };
    for (let attempt = 1; ; attempt++) {
      this.#nonce ??= await this.#rpc("getTransactionCount", () => this.#chainNonce());
      const nonce = this.#nonce;
      const raw = await this.#account.signTransaction(
        {
          ...unsigned.fees,
          chainId: this.#wallet.chain.id,
          to: unsigned.to,
          data: unsigned.data,
          value: unsigned.value,
          gas: unsigned.gas,
          nonce,
        },
        { serializer: this.#wallet.chain.serializers?.transaction },
      );
      const row: Pending = { key, hash: keccak256(raw), nonce, raw };
      if (!this.#store.reviveTx(row.hash, key)) this.#store.addTx({ ...row, state: "signed" });
      this.#nonce = nonce + 1;
      const result = await this.#broadcast(row);
      if (result.kind !== "dropped") return { row, fresh: true };
      // Another sender on this account used the nonce: this transaction can never be mined, so a new one is safe.
      if (!result.slotLost || attempt >= NONCE_RETRIES) throw new TxDroppedError(key, row.hash, result.reason);
    }
  }

  /** A key that already has a transaction: returns its outcome, or waits for it; never signs another one. */
  async #resume(row: TxRow | Pending, request: SendRequest): Promise<TxOutcome> {
    this.#warnIfDifferent(row, request);
    const stored = this.#store.tx(row.key);
    if (stored?.hash === row.hash && stored.blockNumber !== null && stored.gasUsed !== null) {
      if (stored.state === "reverted") throw await this.#explain(stored, stored.blockNumber, request.abi);
      if (stored.state === "mined") return outcomeOf(stored, stored.blockNumber, stored.gasUsed, "success");
    }
    const outcome = await this.#settle(row);
    if (outcome.status === "reverted") throw await this.#explain(row, outcome.blockNumber, request.abi);
    return outcome;
  }

  /** The same key with other calldata is a caller bug (keys must name one action); the stored transaction wins. */
  #warnIfDifferent(row: Pending, request: SendRequest): void {
    const data = encodeFunctionData({ abi: request.abi, functionName: request.functionName, args: request.args ?? [] });
    const stored = parseTransaction(row.raw);
    if (stored.data !== data || stored.to?.toLowerCase() !== request.address.toLowerCase()) {
      this.#logger.warn(
        { key: row.key, hash: row.hash },
        "tx key reused for a different call; returning the key's transaction",
      );
    }
  }

  /** Runs the call against the latest state: a revert becomes a TxRevertedError before any nonce is used. */
  async #simulate(request: SendRequest): Promise<void> {
    try {
      await this.#public.simulateContract(this.#call(request));
    } catch (error) {
      throw this.#asRevert(error, request, "simulateContract");
    }
  }

  async #estimateGas(request: SendRequest): Promise<bigint> {
    try {
      return await this.#public.estimateContractGas(this.#call(request));
    } catch (error) {
      throw this.#asRevert(error, request, "estimateGas");
    }
  }

  /** The request as a contract call from the keeper's account (what simulation and estimation take). */
  #call(request: SendRequest) {
    return {
      account: this.#account,
      address: request.address,
      abi: request.abi,
      functionName: request.functionName,
      args: request.args ?? [],
      value: request.value,
    };
  }

  /** A contract revert becomes a TxRevertedError; anything else is an RPC failure, counted and rethrown. */
  #asRevert(error: unknown, request: SendRequest, operation: string): Error {
    const revert = revertOf(error);
    if (revert) return new TxRevertedError({ key: request.key, functionName: request.functionName, ...revert });
    this.#rpcFailed(error, operation);
    return error instanceof Error ? error : new Error(String(error));
  }

  /** EIP-1559 fees when the chain has a base fee, else a legacy gas price. */
  async #fees(): Promise<Fees> {
    try {
      const fees = await this.#public.estimateFeesPerGas({ type: "eip1559" });
      return { type: "eip1559", maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas };
    } catch (error) {
      if (!(error instanceof Eip1559FeesNotSupportedError)) throw error;
      return { type: "legacy", gasPrice: (await this.#public.estimateFeesPerGas({ type: "legacy" })).gasPrice };
    }
  }

  // ---------------------------------------------------------------- broadcast and wait

  /**
   * Broadcasts the stored raw transaction. A node that already has it, or has already mined it, counts as sent;
   * a definitive rejection drops it (key retired, nonce counter resynchronised); network trouble is retried, then
   * left to the wait loop, which broadcasts again ("pending").
   */
  async #broadcast(row: Pending): Promise<Broadcast> {
    for (let attempt = 1; attempt <= BROADCAST_ATTEMPTS; attempt++) {
      try {
        await this.#wallet.sendRawTransaction({ serializedTransaction: row.raw });
        this.#markSent(row);
        return { kind: "sent" };
      } catch (error) {
        const failure = classifyBroadcastError(error);
        if (failure === "known") {
          this.#markSent(row);
          return { kind: "sent" };
        }
        if (failure === "nonce-too-low") {
          if (await this.#known(row.hash)) {
            this.#markSent(row);
            return { kind: "sent" };
          }
          return this.#drop(row, `nonce ${row.nonce} was used by another transaction`, true);
        }
        this.#rpcFailed(error, "sendRawTransaction");
        if (failure === "definitive") return this.#drop(row, `rejected by the node: ${nodeMessage(error)}`, false);
        if (attempt < BROADCAST_ATTEMPTS) await sleep(BROADCAST_BACKOFF_MS * 2 ** (attempt - 1));
        else
          this.#logger.warn(
            { key: row.key, hash: row.hash, err: nodeMessage(error) },
            "broadcast failed; will retry while waiting",
          );
      }
    }
    return { kind: "pending" };
  }

  /**
   * Waits for the receipt (and confirmations) and records it. Every `rebroadcastMs` without one, checks whether
   * the nonce went to another transaction (then the transaction is dropped) and broadcasts it again.
   */
  async #settle(row: Pending): Promise<TxOutcome> {
    const timeoutMs = this.#options.receiptTimeoutMs ?? 300_000;
    const deadline = Date.now() + timeoutMs;
    for (let failures = 0; ;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TxTimeoutError(row.key, row.hash, timeoutMs);
      try {
        const receipt = await this.#public.waitForTransactionReceipt({
          hash: row.hash,
          confirmations: (this.#options.confirmations ?? 0) + 1,
          pollingInterval: this.#options.pollingIntervalMs ?? this.#public.pollingInterval,
          timeout: Math.min(this.#options.rebroadcastMs ?? 30_000, left),
          checkReplacement: false,
        });
        return this.#record(row, receipt);
      } catch (error) {
        if (!(error instanceof WaitForTransactionReceiptTimeoutError)) {
          this.#rpcFailed(error, "waitForTransactionReceipt");
          await sleep(Math.min(250 * 2 ** failures++, 10_000));
        }
      }
      try {
        await this.#recheck(row);
      } catch (error) {
        if (error instanceof TxDroppedError) throw error;
        this.#rpcFailed(error, "recheck");
      }
    }
  }

  /**
   * No receipt yet: drops the transaction if its nonce went to another one, else broadcasts it again. Under the
   * mutex, as the drop resets the nonce counter and broadcasts keep their order.
   */
  async #recheck(row: Pending): Promise<void> {
    if (await this.#receipt(row.hash)) return;
    const result = await this.#mutex.run(async () => {
      const used = await this.#public.getTransactionCount({ address: this.#account.address, blockTag: "latest" });
      if (used > row.nonce && !(await this.#known(row.hash))) {
        return this.#drop(row, `nonce ${row.nonce} was used by another transaction`, true);
      }
      return this.#broadcast(row);
    });
    if (result.kind === "dropped") throw new TxDroppedError(row.key, row.hash, result.reason);
  }

  /** Stores a receipt: "mined" (status 1) or "reverted" (status 0; the key stays taken). */
  #record(row: Pending, receipt: TransactionReceipt): TxOutcome {
    const state = receipt.status === "success" ? "mined" : "reverted";
    const before = this.#store.tx(row.key);
    this.#store.updateTx(row.hash, state, { blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed });
    if (before?.state !== state || before.blockNumber !== receipt.blockNumber) {
      this.#options.metrics?.transaction(state);
      this.#pendingChanged();
      const fields = {
        key: row.key,
        hash: row.hash,
        nonce: row.nonce,
        block: receipt.blockNumber.toString(),
        gasUsed: receipt.gasUsed.toString(),
      };
      if (state === "mined") this.#logger.info(fields, "tx mined");
      else this.#logger.warn(fields, "tx reverted on chain");
    }
    return outcomeOf(row, receipt.blockNumber, receipt.gasUsed, receipt.status);
  }

  #markSent(row: Pending): void {
    const stored = this.#store.tx(row.key);
    if (stored?.hash !== row.hash || stored.state !== "signed") return;
    this.#store.updateTx(row.hash, "sent");
    this.#pendingChanged();
    this.#logger.debug({ key: row.key, hash: row.hash, nonce: row.nonce }, "tx sent");
  }

  /** Retires the key (it may be sent again) and resynchronises the nonce counter so no hole is left. */
  #drop(row: Pending, reason: string, slotLost: boolean): Broadcast & { kind: "dropped" } {
    this.#store.retireTx(row.hash);
    this.#nonce = undefined;
    this.#options.metrics?.transaction("dropped");
    this.#pendingChanged();
    this.#logger.warn({ key: row.key, hash: row.hash, nonce: row.nonce, reason }, "tx dropped; key retired");
    return { kind: "dropped", reason, slotLost };
  }

  /**
   * Why a mined transaction reverted: replays it at its block (the state after it: best effort, a revert caused by a
   * transaction later in the same block may not reproduce) and decodes the revert data with the ABI.
   */
  async #explain(row: Pending, blockNumber: bigint, abi: Abi | undefined): Promise<TxRevertedError> {
    const tx = parseTransaction(row.raw);
    let revert: Revert;
    try {
      await this.#public.call({
        account: this.#account.address,
        to: tx.to,
        data: tx.data,
        value: tx.value,
        gas: tx.gas,
        blockNumber,
      });
      revert = { reason: "the replay did not revert (it depended on state that changed within its block)" };
    } catch (error) {
      revert = decodeRevert(revertData(error), abi ?? this.#options.errorAbi);
    }
    return new TxRevertedError({ key: row.key, hash: row.hash, blockNumber, ...revert });
  }

  // ---------------------------------------------------------------- recovery and reorgs

  /** Recovery runs once (again after a failure): the re-broadcast part of start(), and the nonce counter. */
  #ready(): Promise<{ pending: TxRow[]; dropped: TxReport[] }> {
    this.#init ??= this.#initialize().catch((error: unknown) => {
      this.#init = undefined;
      throw error;
    });
    return this.#init;
  }

  /** Under the mutex, in nonce order: re-broadcasts signed and sent transactions without a receipt. */
  async #initialize(): Promise<{ pending: TxRow[]; dropped: TxReport[] }> {
    await this.#rpc("checkChain", () => this.#checkChain());
    return this.#mutex.run(async () => {
      const pending: TxRow[] = [];
      const dropped: TxReport[] = [];
      for (const row of this.#store.txsIn("signed", "sent")) {
        const result = (await this.#rpc("getTransactionReceipt", () => this.#receipt(row.hash)))
          ? ({ kind: "sent" } as const)
          : await this.#broadcast(row);
        if (result.kind === "dropped") dropped.push(droppedReport(row, result.reason));
        else pending.push(row);
      }
      if (pending.length + dropped.length > 0) {
        this.#logger.info({ pending: pending.length, dropped: dropped.length }, "recovered unfinished transactions");
      }
      this.#nonce = await this.#rpc("getTransactionCount", () => this.#chainNonce());
      return { pending, dropped };
    });
  }

  /**
   * The store's transactions belong to one chain: refuses a store used on another one (chain id and genesis hash).
   * A reset dev chain keeps its genesis (Hardhat's is fixed), so it goes unnoticed: give it a new database.
   */
  async #checkChain(): Promise<void> {
    const chainId = await this.#public.getChainId();
    const genesis = (await this.#public.getBlock({ blockNumber: 0n })).hash;
    const identity = `${chainId}:${genesis}`;
    const flag = `txs:${this.#account.address.toLowerCase()}`;
    const stored = this.#store.flag(flag);
    if (stored === undefined) this.#store.setFlag(flag, identity);
    else if (stored !== identity) {
      throw new Error(
        `store: ${this.#account.address}'s transactions in it were sent on chain ${stored}, not on this one (${identity}); use a new database for a new (or reset) chain`,
      );
    }
  }

  /** Under the mutex: orphaned transactions go back to "sent" and are broadcast again, in nonce order. */
  async #rebroadcastOrphans(candidates: TxRow[]): Promise<{ orphaned: TxRow[]; dropped: TxReport[] }> {
    const orphaned: TxRow[] = [];
    const dropped: TxReport[] = [];
    for (const row of candidates) {
      const receipt = await this.#rpc("getTransactionReceipt", () => this.#receipt(row.hash));
      if (receipt) {
        if (receipt.blockNumber !== row.blockNumber) this.#record(row, receipt);
        continue;
      }
      this.#store.updateTx(row.hash, "sent");
      const result = await this.#broadcast(row);
      if (result.kind === "dropped") dropped.push(droppedReport(row, result.reason));
      else orphaned.push(row);
    }
    return { orphaned, dropped };
  }

  /** Under the mutex: drops every candidate whose receipt the reorg took away. */
  async #forgetOrphans(candidates: TxRow[]): Promise<TxReport[]> {
    const dropped: TxReport[] = [];
    for (const row of candidates) {
      const receipt = await this.#rpc("getTransactionReceipt", () => this.#receipt(row.hash));
      if (receipt) {
        if (receipt.blockNumber !== row.blockNumber) this.#record(row, receipt);
        continue;
      }
      const reason = "orphaned by a reorg; not replayed";
      this.#drop(row, reason, false);
      dropped.push(droppedReport(row, reason));
    }
    return dropped;
  }

  /** Settles a recovered or orphaned transaction into a report (never throws). */
  async #report(row: TxRow, abi: Abi | undefined): Promise<TxReport> {
    const base = { key: row.key, hash: row.hash };
    try {
      const outcome = await this.#track(row.key, () => this.#settle(row));
      if (outcome.status === "success") return { ...base, state: "mined", outcome, error: undefined };
      return { ...base, state: "reverted", outcome, error: await this.#explain(row, outcome.blockNumber, abi) };
    } catch (error) {
      const state = error instanceof TxDroppedError ? "dropped" : (this.#store.tx(row.key)?.state ?? "dropped");
      return { ...base, state, outcome: undefined, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  // ---------------------------------------------------------------- helpers

  /** One in-process operation per key: a second caller joins the first (and gets fresh: false). */
  #track(key: string, work: () => Promise<TxOutcome>): Promise<TxOutcome> {
    const running = this.#inflight.get(key);
    if (running) return running.then((outcome) => ({ ...outcome, fresh: false }));
    const promise = work().finally(() => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }

  /** The key's live transaction (signed, sent, mined or reverted), if any; a dropped one left unretired is retired. */
  #live(key: string): TxRow | undefined {
    const row = this.#store.tx(key);
    if (row?.state !== "dropped") return row;
    this.#store.retireTx(row.hash);
    return undefined;
  }

  /**
   * The next nonce: the chain's pending count, or past the highest stored transaction not yet mined (signed, or
   * sent to a node that lost it), whichever is higher. Mined ones don't count: the chain knows them, and after a
   * reorg (or a reset dev chain) their nonces may be free again; reusing one is safe, a nonce mines one transaction.
   */
  async #chainNonce(): Promise<number> {
    const pending = await this.#public.getTransactionCount({ address: this.#account.address, blockTag: "pending" });
    return Math.max(pending, (this.#store.maxTxNonce("signed", "sent") ?? -1) + 1);
  }

  async #receipt(hash: Hex): Promise<TransactionReceipt | undefined> {
    try {
      return await this.#public.getTransactionReceipt({ hash });
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return undefined;
      throw error;
    }
  }

  /** Whether a node knows the transaction (pending or mined); true when it can't tell (dropping is the risky side). */
  async #known(hash: Hex): Promise<boolean> {
    try {
      await this.#public.getTransaction({ hash });
      return true;
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return false;
      this.#rpcFailed(error, "getTransaction");
      return true;
    }
  }

  /** Runs an RPC call, counting its failure before rethrowing it. */
  async #rpc<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.#rpcFailed(error, operation);
      throw error;
    }
  }

  #rpcFailed(error: unknown, operation: string): void {
    this.#rpcErrors += 1;
    this.#options.metrics?.rpcError();
    this.#options.onRpcError?.(error, operation);
    this.#logger.debug({ operation, err: nodeMessage(error) }, "rpc request failed");
  }

  #pendingChanged(): void {
    this.#options.metrics?.pendingTransactions(this.pendingCount());
  }
}

/** Runs async critical sections one at a time, in call order. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function outcomeOf(row: Pending, blockNumber: bigint, gasUsed: bigint, status: "success" | "reverted"): TxOutcome {
  return { key: row.key, hash: row.hash, nonce: row.nonce, blockNumber, gasUsed, status, fresh: false };
}

function droppedReport(row: Pending, reason: string): TxReport {
  return {
    key: row.key,
    hash: row.hash,
    state: "dropped",
    outcome: undefined,
    error: new TxDroppedError(row.key, row.hash, reason),
  };
}

const KNOWN =
  /already known|known transaction|already imported|alreadyknown|transaction already exists|already in (the )?(mem)?pool/i;
const NONCE_TOO_LOW = /nonce too low|nonce has already been used|oldnonce|nonce is too low/i;

/**
 * What a failed eth_sendRawTransaction means. The node's message says whether it has the transaction already or its
 * nonce is taken (nodes differ in codes, not in words); otherwise retry or drop is decided by the shared rules
 * (errors.ts), with one difference: what they do not recognise is retried here, because dropping a transaction the
 * node may hold is the risky side (its key would be free for a second one).
 */
function classifyBroadcastError(error: unknown): "known" | "nonce-too-low" | "definitive" | "transient" {
  const text = nodeMessage(error);
  if (KNOWN.test(text)) return "known";
  if (NONCE_TOO_LOW.test(text)) return "nonce-too-low";
  const { kind, rule } = explain(error, { unrecognised: "retryable" });
  // Kept from before the shared rules: an HTTP error answer is retried whatever its status (the shared rules call
  // a 4xx other than 408 and 429 definitive).
  if (rule === "http-status") return "transient";
  return kind === "retryable" ? "transient" : "definitive";
}

/** A simulated call's revert, decoded by viem against the request's ABI; undefined if the error is no revert. */
function revertOf(error: unknown): Revert | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  return {
    errorName: reverted.data?.errorName,
    args: reverted.data?.args,
    reason: reverted.reason,
    data: reverted.raw,
  };
}

/** The revert data an eth_call error carries somewhere along its cause chain. */
function revertData(error: unknown): Hex | undefined {
  for (let e: unknown = error; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    const data = (e as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x")) return data as Hex;
    const nested = typeof data === "object" && data !== null ? (data as { data?: unknown }).data : undefined;
    if (typeof nested === "string" && nested.startsWith("0x")) return nested as Hex;
  }
  return undefined;
}

/** Decodes revert data with the ABI's custom errors (and Solidity's Error(string) and Panic(uint256)). */
function decodeRevert(data: Hex | undefined, abi: Abi | undefined): Revert {
  if (data === undefined || data === "0x") return { data };
  try {
    const decoded = decodeErrorResult({ abi: abi ?? [], data });
    const reason = decoded.errorName === "Error" ? String(decoded.args?.[0]) : undefined;
    return { errorName: decoded.errorName, args: decoded.args, reason, data };
  } catch {
    return { data };
  }
}

function describeRevert(revert: Revert): string {
  if (revert.errorName !== undefined) return `${revert.errorName}(${(revert.args ?? []).map(formatArg).join(", ")})`;
  if (revert.reason !== undefined) return revert.reason;
  if (revert.data !== undefined && revert.data !== "0x") return `unknown error ${revert.data.slice(0, 10)}`;
  return "no reason given";
}

function formatArg(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
