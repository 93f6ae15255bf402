/**
 * The simulation's chain: Hardhat 3's in-process network (EDR), the whole protocol deployed through the production
 * Ignition modules (deploy/modules/Handover.ts: Protocol.ts, then the admin roles handed to the governance
 * timelock, so parameter changes go through proposals as on a real deployment), and a simulated clock.
 *
 * Determinism: every transaction goes through {SimChain.send}, which sets the next block's timestamp from the
 * simulated clock (one second per transaction) before sending, so block times, and everything computed from them,
 * depend on the seed and the scenario alone, never on the wall clock. Each transaction's gas is booked to its
 * sender (for the P&L at the scenario's gas price).
 *
 * Speed: the simulation's accounts are impersonated on the in-process node, and their wallets ({SimWallet}) hand
 * each transaction to the node as it is (`eth_sendTransaction` with a fixed gas limit), so a transaction costs four
 * requests (the timestamp, the send, the transaction, its receipt), where ethers also asked for the nonce, the fee
 * data and a gas estimate, computed a signature in JavaScript and polled for the receipt. A transaction that
 * reverts is mined as a failed one (the node reports its revert data) where ethers' gas estimate refused it before:
 * the token state is the same either way (a failed transaction changes nothing but its sender's ether and nonce,
 * which no figure reads), and gas is booked for successful transactions only, as before. The wallets still sign
 * off chain what the protocol verifies (work results, compute receipts) with their keys.
 */
import type { ContractTransactionResponse, TransactionReceipt, TransactionRequest, TransactionResponse } from "ethers";
import { id, resolveAddress, Wallet } from "ethers";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";

import HandoverModule from "../deploy/modules/Handover.js";
import { describeError, protocolAt, type Protocol } from "../scripts/lib/protocol.js";

export const DAY = 86_400n;
export const HOUR = 3_600n;
/** Simulated day 0 starts here (2030-01-01T00:00:00Z), whatever the wall clock says. */
export const GENESIS = 1_893_456_000n;
/**
 * The gas limit of every simulated transaction: above what any protocol call uses, so none runs out; the gas a
 * transaction uses does not depend on it (no protocol contract reads `gasleft()`).
 */
const TX_GAS_LIMIT = 10_000_000n;

/** The humans around the protocol (the deployer is the network's first account, which Ignition deploys from). */
export interface Roles {
  guardian: Wallet;
  attestor: Wallet;
  treasury: Wallet;
  operator: Wallet;
}

export interface TxResult {
  ok: boolean;
  receipt?: TransactionReceipt;
  /** The revert, decoded by the protocol's ABIs: `ErrorName(arg=value, ...)` (describeError, scripts/lib). */
  error?: string;
}

/**
 * A simulated account's wallet: its key signs typed data as any wallet's does; its transactions are sent through
 * the node, which signs them for the impersonated address (see the header).
 */
export class SimWallet extends Wallet {
  constructor(
    key: string,
    private readonly connection: NetworkConnection,
  ) {
    super(key, connection.ethers.provider);
  }

  /** Impersonates the address on the node and funds it with ether. */
  async enable(): Promise<this> {
    await this.connection.provider.request({ method: "hardhat_impersonateAccount", params: [this.address] });
    await setBalance(this.connection, this.address);
    return this;
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const hash = (await this.connection.provider.request({
      method: "eth_sendTransaction",
      params: [
        {
          from: this.address,
          to: tx.to === null || tx.to === undefined ? undefined : await resolveAddress(tx.to),
          data: tx.data ?? undefined,
          value: tx.value === undefined || tx.value === null ? undefined : hex(BigInt(tx.value)),
          gas: hex(TX_GAS_LIMIT),
        },
      ],
    })) as string;
    const response = await this.connection.ethers.provider.getTransaction(hash);
    if (response === null) throw new Error(`the node does not know transaction ${hash}`);
    return response;
  }
}

export class SimChain {
  /** The simulated time of the next block, Unix seconds. */
  clock = GENESIS;
  /** Gas used per sender address (lower case). */
  readonly gasBySender = new Map<string, bigint>();
  /** Transactions sent, and those of them that reverted (mined as failed, their revert returned). */
  txCount = 0;
  failedTx = 0;

  private constructor(
    readonly connection: NetworkConnection,
    readonly protocol: Protocol,
    readonly roles: Roles,
  ) {}

  /**
   * Connects a fresh in-process chain and deploys the protocol with `parameters` (Ignition's, by module). The
   * named roles are deterministic wallets funded with ether.
   */
  static async start(parameters: Record<string, Record<string, unknown>>): Promise<SimChain> {
    const connection = await network.create();
    const { ethers, ignition } = connection;
    const wallet = (name: string) => new SimWallet(id(`aitbc-sim role ${name}`), connection).enable();
    const [deployer] = await ethers.getSigners();
    if (deployer === undefined) throw new Error("the in-process network has no accounts");
    const roles: Roles = {
      guardian: await wallet("guardian"),
      attestor: await wallet("attestor"),
      treasury: await wallet("treasury"),
      operator: await wallet("operator"),
    };
    await ethers.provider.send("evm_setNextBlockTimestamp", [hex(GENESIS - DAY)]);
    const deployed = await ignition.deploy(HandoverModule, {
      defaultSender: deployer.address,
      parameters: {
        ...parameters,
        AITBCCore: {
          guardian: roles.guardian.address,
          attestor: roles.attestor.address,
          treasury: roles.treasury.address,
          ...parameters.AITBCCore,
        },
        AITBCZk: { attestor: roles.attestor.address },
      } as never,
    });
    const protocol = await protocolAt(ethers, deployed);
    return new SimChain(connection, protocol, roles);
  }

  /** A deterministic wallet for agent `name`, funded with ether. */
  async wallet(name: string): Promise<SimWallet> {
    return new SimWallet(id(`aitbc-sim agent ${name}`), this.connection).enable();
  }

  /**
   * Sends one transaction from `from` at the simulated clock; a revert (at estimation or in the block) is returned
   * as `ok: false` with its reason, never thrown: agents try things the protocol refuses.
   */
  async send(from: string, tx: () => Promise<ContractTransactionResponse>): Promise<TxResult> {
    this.txCount += 1;
    await this.connection.provider.request({ method: "evm_setNextBlockTimestamp", params: [hex(this.clock)] });
    this.clock += 1n;
    try {
      // Mined when sent (automine): the receipt is there at once, no polling.
      const receipt = await this.connection.ethers.provider.getTransactionReceipt((await tx()).hash);
      if (receipt === null) throw new Error("no receipt");
      const key = from.toLowerCase();
      this.gasBySender.set(key, (this.gasBySender.get(key) ?? 0n) + receipt.gasUsed);
      return { ok: true, receipt };
    } catch (error) {
      this.failedTx += 1;
      return { ok: false, error: describeError(error, this.protocol) };
    }
  }

  /** Moves the simulated clock forward to `at` (never back); the next transaction's block carries it. */
  async advanceTo(at: bigint): Promise<void> {
    if (at <= this.clock) return;
    this.clock = at;
    await this.connection.ethers.provider.send("evm_setNextBlockTimestamp", [hex(at)]);
    await this.connection.ethers.provider.send("evm_mine", []);
    this.clock += 1n;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

async function setBalance(connection: NetworkConnection, address: string): Promise<void> {
  await connection.ethers.provider.send("hardhat_setBalance", [address, hex(10n ** 24n)]);
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}
