/**
 * The agent's interface to the ServiceMarketplace contract (contracts/interfaces/IServiceMarketplace.sol): the reads a
 * decision needs (a workload, an offer's capacity and load, the fee, the challenge window, the chain's time) and the
 * provider's transactions (bid, submit a signed result, finalize), each sent through the shared transaction sender
 * (keepers/common/txs.ts) under an idempotency key naming it, so a crash never sends one twice.
 */
import type { Account, Chain, Hex, LocalAccount, PublicClient, Transport } from "viem";

import { marketplaceAbi } from "../protocol/abi.js";
import { WORK_RESULT_TYPES } from "../protocol/eip712.js";
import type { TxOutcome, TxSender } from "../keepers/common/txs.js";

export type Workload = Awaited<ReturnType<Marketplace["workload"]>>;
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
