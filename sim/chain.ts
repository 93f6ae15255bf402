/**
 * The simulation's chain: Hardhat 3's in-process network (EDR), the whole protocol deployed through the production
 * Ignition modules (deploy/modules/Handover.ts: Protocol.ts, then the admin roles handed to the governance
 * timelock, so parameter changes go through proposals as on a real deployment), and a simulated clock.
 *
 * Determinism: every transaction goes through {SimChain.send}, which sets the next block's timestamp from the
 * simulated clock (one second per transaction) before sending, so block times, and everything computed from them,
 * depend on the seed and the scenario alone, never on the wall clock. Each transaction's gas is booked to its
 * sender (for the P&L at the scenario's gas price).
 */
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { id, Wallet } from "ethers";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";

import HandoverModule from "../deploy/modules/Handover.js";
import { protocolAt, type Protocol } from "../scripts/lib/protocol.js";

export const DAY = 86_400n;
export const HOUR = 3_600n;
/** Simulated day 0 starts here (2030-01-01T00:00:00Z), whatever the wall clock says. */
export const GENESIS = 1_893_456_000n;

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
  /** The revert's message (a custom error's name when the ABI knows it). */
  error?: string;
}

export class SimChain {
  /** The simulated time of the next block, Unix seconds. */
  clock = GENESIS;
  /** Gas used per sender address (lower case). */
  readonly gasBySender = new Map<string, bigint>();
  /** Transactions sent (mined, reverted or not) and reverted ones refused at estimation. */
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
    const wallet = (name: string) => new Wallet(id(`aitbc-sim role ${name}`), ethers.provider);
    const [deployer] = await ethers.getSigners();
    if (deployer === undefined) throw new Error("the in-process network has no accounts");
    const roles: Roles = {
      guardian: wallet("guardian"),
      attestor: wallet("attestor"),
      treasury: wallet("treasury"),
      operator: wallet("operator"),
    };
    for (const w of [roles.guardian, roles.attestor, roles.treasury, roles.operator]) {
      await setBalance(connection, w.address);
    }
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
  async wallet(name: string): Promise<Wallet> {
    const w = new Wallet(id(`aitbc-sim agent ${name}`), this.connection.ethers.provider);
    await setBalance(this.connection, w.address);
    return w;
  }

  /**
   * Sends one transaction from `from` at the simulated clock; a revert (at estimation or in the block) is returned
   * as `ok: false` with its reason, never thrown: agents try things the protocol refuses.
   */
  async send(from: string, tx: () => Promise<ContractTransactionResponse>): Promise<TxResult> {
    this.txCount += 1;
    await this.connection.ethers.provider.send("evm_setNextBlockTimestamp", [hex(this.clock)]);
    this.clock += 1n;
    try {
      const receipt = await (await tx()).wait();
      if (receipt === null) throw new Error("no receipt");
      const key = from.toLowerCase();
      this.gasBySender.set(key, (this.gasBySender.get(key) ?? 0n) + receipt.gasUsed);
      return { ok: true, receipt };
    } catch (error) {
      this.failedTx += 1;
      return { ok: false, error: revertName(error) };
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

/** A revert's custom error name (ethers decodes it when the contract's ABI has it), else its short message. */
function revertName(error: unknown): string {
  const e = error as { revert?: { name?: string; args?: unknown[] }; shortMessage?: string; message?: string };
  if (e.revert?.name) return e.revert.name;
  return e.shortMessage ?? e.message ?? String(error);
}
