/**
 * The agent's interface to the ServiceMarketplace contract (contracts/interfaces/IServiceMarketplace.sol): the reads a
 * decision needs (a workload, its bids, an offer's capacity and load, the fee, the challenge window, the chain's
 * time), the provider's transactions (bid, submit a signed result, finalize), the client's (approve the escrow,
 * post, award, accept, reject with the evidence's hash) and the validator's (resolve a dispute), each sent through
 * the shared transaction sender (keepers/common/txs.ts) under an idempotency key naming it, so a crash never sends
 * one twice.
 */
import {
  maxUint256,
  parseEventLogs,
  type Account,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type Transport,
} from "viem";

import { marketplaceAbi, tokenAbi } from "../protocol/abi.js";
import { WORK_RESULT_TYPES } from "../protocol/eip712.js";
import type { TxOutcome, TxSender } from "../keepers/common/txs.js";

export type Workload = Awaited<ReturnType<Marketplace["workload"]>>;
export type WorkloadBid = Awaited<ReturnType<Marketplace["bids"]>>[number];

/** IServiceMarketplace.WorkloadRequest. */
export interface WorkloadRequest {
  serviceType: Hex;
  modelHash: Hex;
  units: bigint;
  maxPricePerUnit: bigint;
  bidDeadline: bigint;
  executionDeadline: bigint;
  /** IServiceMarketplace.VerificationLevel: 0 Basic, 2 Zk. */
  verification: number;
  reopenOnTimeout: boolean;
  inputHash: Hex;
}

/** IServiceMarketplace.ServiceOffer, as getServiceStatus returns it. */
export type Offer = Awaited<ReturnType<Marketplace["offer"]>>;

/** IServiceMarketplace.WorkloadStatus. */
export const WORKLOAD_STATUS = {
  None: 0,
  Open: 1,
  Awarded: 2,
  Submitted: 3,
  Disputed: 4,
  Settled: 5,
  Refunded: 6,
  Cancelled: 7,
} as const;

export class Marketplace {
  readonly address: Hex;

  constructor(
    private readonly client: PublicClient<Transport, Chain>,
    address: Hex,
    private readonly sender: TxSender,
    private readonly account: LocalAccount & Account,
  ) {
    this.address = address;
  }

  async workload(workloadId: bigint) {
    return this.client.readContract({
      address: this.address,
      abi: marketplaceAbi,
      functionName: "getWorkload",
      args: [workloadId],
    });
  }

  /** The bids of the workload's current round, by index (what `award` names). */
  async bids(workloadId: bigint) {
    return this.client.readContract({
      address: this.address,
      abi: marketplaceAbi,
      functionName: "getBids",
      args: [workloadId],
    });
  }

  /** Whether `account` holds the marketplace's VALIDATOR_ROLE (one condition of resolving disputes as an agent). */
  async isValidatorRole(account: Hex): Promise<boolean> {
    const role = await this.client.readContract({
      address: this.address,
      abi: marketplaceAbi,
      functionName: "VALIDATOR_ROLE",
    });
    return this.client.readContract({
      address: this.address,
      abi: marketplaceAbi,
      functionName: "hasRole",
      args: [role, account],
    });
  }

  async offer(serviceId: Hex) {
    return this.client.readContract({
      address: this.address,
      abi: marketplaceAbi,
      functionName: "getServiceStatus",
      args: [serviceId],
    });
  }

  /** Whether `serviceId` is listed (a delisted offer takes no bids or awards). */
  async listed(serviceId: Hex): Promise<boolean> {
    const [, listed] = await this.client.readContract({
      address: this.address,
      abi: marketplaceAbi,
      functionName: "serviceOwner",
      args: [serviceId],
    });
    return listed;
  }

  /**
   * Lists again (a delisted offer), updates, or delists one of the agent's offers. `key` names the change (the
   * sender sends one transaction per key); the offer's load is the marketplace's (the value passed is ignored).
   */
  changeOffer(key: string, change: { kind: "list" | "update"; offer: Offer } | { kind: "delist"; serviceId: Hex }) {
    if (change.kind === "delist")
      return this.sender.send({
        key,
        address: this.address,
        abi: marketplaceAbi,
        functionName: "delistService",
        args: [change.serviceId],
      });
    if (change.kind === "list")
      return this.sender.send({
        key,
        address: this.address,
        abi: marketplaceAbi,
        functionName: "listService",
        args: [change.offer],
      });
    return this.sender.send({
      key,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "updateService",
      args: [change.offer.serviceId, change.offer],
    });
  }

  async feeBps(): Promise<number> {
    return Number(
      await this.client.readContract({ address: this.address, abi: marketplaceAbi, functionName: "protocolFeeBps" }),
    );
  }

  /** The chain's time (the latest block's timestamp, unix s): what deadlines are measured against. */
  async now(): Promise<bigint> {
    return (await this.client.getBlock({ blockTag: "latest" })).timestamp;
  }

  bid(workloadId: bigint, round: number, serviceId: Hex, pricePerUnit: bigint, proposalHash: Hex): Promise<TxOutcome> {
    return this.sender.send({
      key: `bid:${workloadId}:${round}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "bid",
      args: [workloadId, serviceId, pricePerUnit, proposalHash],
    });
  }

  /** Signs WorkResult(workloadId, round, resultHash) under the marketplace's EIP-712 domain and submits it. */
  async submit(workloadId: bigint, round: number, resultHash: Hex): Promise<TxOutcome> {
    const signature = await this.account.signTypedData({
      domain: {
        name: "AITBC Marketplace",
        version: "1",
        chainId: this.client.chain.id,
        verifyingContract: this.address,
      },
      types: WORK_RESULT_TYPES,
      primaryType: "WorkResult",
      message: { workloadId, round, resultHash },
    });
    return this.sender.send({
      key: `submit:${workloadId}:${round}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "submitResult",
      args: [workloadId, resultHash, signature],
    });
  }

  finalize(workloadId: bigint): Promise<TxOutcome> {
    return this.sender.send({
      key: `finalize:${workloadId}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "finalize",
      args: [workloadId],
    });
  }

  // ---------------------------------------------------------------- client

  /** Lets the marketplace take escrow from the agent's balance (once; `postWorkload` pulls units × maxPrice). */
  async approveEscrow(token: Hex): Promise<TxOutcome> {
    return this.sender.send({
      key: `approve:${this.address.toLowerCase()}`,
      address: token,
      abi: tokenAbi,
      functionName: "approve",
      args: [this.address, maxUint256],
    });
  }

  /**
   * Posts a workload under the idempotency key `post:<key>` (the client's own name for it, e.g. its sequence number):
   * a restart re-sending the same key gets the same transaction back, and the id is read from its WorkloadPosted log.
   */
  async post(key: string, request: WorkloadRequest): Promise<{ workloadId: bigint; outcome: TxOutcome }> {
    const outcome = await this.sender.send({
      key: `post:${key}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "postWorkload",
      args: [request],
    });
    const receipt = await this.client.getTransactionReceipt({ hash: outcome.hash });
    const [posted] = parseEventLogs({ abi: marketplaceAbi, eventName: "WorkloadPosted", logs: receipt.logs });
    if (posted === undefined) throw new Error(`post:${key}: transaction ${outcome.hash} has no WorkloadPosted log`);
    return { workloadId: posted.args.workloadId, outcome };
  }

  /** Awards the bid at `bidIndex` of the round `round`, which must be provider `providerId`'s. */
  award(workloadId: bigint, round: number, bidIndex: number, providerId: bigint): Promise<TxOutcome> {
    return this.sender.send({
      key: `award:${workloadId}:${round}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "award",
      args: [workloadId, BigInt(bidIndex), providerId],
    });
  }

  /** The client accepts a submitted result: it settles at once. */
  accept(workloadId: bigint, round: number): Promise<TxOutcome> {
    return this.sender.send({
      key: `accept:${workloadId}:${round}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "accept",
      args: [workloadId],
    });
  }

  /** The client disputes a submitted result; `evidenceHash` commits to the evidence it serves the validators. */
  reject(workloadId: bigint, round: number, evidenceHash: Hex): Promise<TxOutcome> {
    return this.sender.send({
      key: `reject:${workloadId}:${round}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "reject",
      args: [workloadId, evidenceHash],
    });
  }

  /** Cancels an unawarded workload (the whole escrow back). */
  cancel(workloadId: bigint): Promise<TxOutcome> {
    return this.sender.send({
      key: `cancel:${workloadId}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "cancelWorkload",
      args: [workloadId],
    });
  }

  // ---------------------------------------------------------------- validator

  /** A validator agent's ruling on a dispute. */
  resolve(workloadId: bigint, providerWins: boolean): Promise<TxOutcome> {
    return this.sender.send({
      key: `resolve:${workloadId}`,
      address: this.address,
      abi: marketplaceAbi,
      functionName: "resolveDispute",
      args: [workloadId, providerWins],
    });
  }

  /** Ether (wei) paid for gas by the transactions `hashes` that were mined (unknown ones count 0). */
  async gasPaid(hashes: readonly Hex[]): Promise<bigint> {
    let total = 0n;
    for (const hash of hashes) {
      const receipt = await this.client.getTransactionReceipt({ hash }).catch(() => undefined);
      if (receipt !== undefined) total += receipt.gasUsed * receipt.effectiveGasPrice;
    }
    return total;
  }
}
