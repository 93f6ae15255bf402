/** What every task action starts with: a connection, the signer it acts as, and the protocol's contracts. */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { describeError, loadProtocol, resolveSigner, type Protocol, type TaskSigner } from "../lib/protocol.js";

export interface TaskContext {
  ethers: HardhatEthers;
  signer: TaskSigner;
  protocol: Protocol;
}

/**
 * Runs `body` with a task context; any failure (bad argument, revert) becomes one readable line:
 * reverts are decoded into the contract's custom error and its arguments (a plain Error: on the command line
 * cliAction prints its message alone).
 */
export async function runTask<T>(
  hre: HardhatRuntimeEnvironment,
  from: string,
  body: (ctx: TaskContext) => Promise<T>,
): Promise<T> {
  const { ethers, networkName } = await hre.network.getOrCreate();
  let protocol: Protocol | undefined;
  try {
    const signer = await resolveSigner(ethers, from, { name: networkName, env: process.env });
    protocol = await loadProtocol(ethers, signer, networkName);
    return await body({ ethers, signer, protocol });
  } catch (error) {
    const message = protocol ? describeError(error, protocol) : error instanceof Error ? error.message : String(error);
    throw new Error(message, { cause: error });
  }
}

/** Waits for a transaction, prints its hash, block and gas, and returns its receipt. */
export async function confirm(
  label: string,
  tx: Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error(`${label}: no receipt`);
  console.log(`${label}: tx ${receipt.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
  return receipt;
}
