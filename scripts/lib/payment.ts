/**
 * Paying a protocol contract from the signer's wallet (a stake, an escrow, a budget) without approving a call that
 * would fail and without leaving an allowance behind:
 *
 * - `sendWithPermit` for functions that take an EIP-2612 permit (postWorkloadWithPermit): a permit for exactly the
 *   amount is signed, the call simulated with it, then sent; one transaction, no allowance before or after.
 * - `sendWithExactApproval` for the others (stake, requestExecution): the call is simulated first as if the
 *   allowance were already there (eth_call with the token's allowance storage slot overridden, found once by
 *   probing), so every check the contract makes runs before anything is approved; then exactly the amount is
 *   approved and the call sent, which spends it all. On a node without eth_call state overrides it approves,
 *   simulates, and takes the approval back (approve 0) when the simulation fails.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  AbiCoder,
  keccak256,
  Signature,
  toBeHex,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";

import { PERMIT_TYPES } from "../../protocol/eip712.js";
import type { AIToken } from "../../typechain-types/index.js";
import { domainOf, forEthers } from "./eip712.js";

type Confirm = (label: string, tx: Promise<ContractTransactionResponse>) => Promise<ContractTransactionReceipt>;

/** A call the signer makes (to, calldata), as ethers' `populateTransaction` gives it. */
export interface Call {
  to: string;
  data: string;
}

const coder = AbiCoder.defaultAbiCoder();
const slotOf = (owner: string, spender: string, base: bigint) =>
  keccak256(
    coder.encode(["address", "bytes32"], [spender, keccak256(coder.encode(["address", "uint256"], [owner, base]))]),
  );

/** token address -> the storage slot of its allowances mapping (null: the node takes no state overrides). */
const allowanceSlots = new Map<string, bigint | null>();

async function allowanceSlot(ethers: HardhatEthers, token: AIToken, owner: string, spender: string) {
  const address = await token.getAddress();
  if (allowanceSlots.has(address)) return allowanceSlots.get(address) ?? null;
  const marker = 0x5eed_a11e_5eedn;
  const data = token.interface.encodeFunctionData("allowance", [owner, spender]);
  let found: bigint | null = null;
  for (let base = 0n; base < 16n && found === null; base++) {
    try {
      const override = { [address]: { stateDiff: { [slotOf(owner, spender, base)]: toBeHex(marker, 32) } } };
      const out: unknown = await ethers.provider.send("eth_call", [{ to: address, data }, "latest", override]);
      if (BigInt(out as string) === marker) found = base;
    } catch {
      break; // no state overrides on this node
    }
  }
  allowanceSlots.set(address, found);
  return found;
}

/**
 * Sends `call` (`send` sends it; it pulls `amount` of AITBC from the signer into `spender`) after simulating it as
 * if the allowance were granted, approving exactly `amount` in between.
 */
export async function sendWithExactApproval(
  ethers: HardhatEthers,
  signer: HardhatEthersSigner,
  token: AIToken,
  spender: string,
  amount: bigint,
  label: string,
  call: Call,
  send: () => Promise<ContractTransactionResponse>,
  confirm: Confirm,
): Promise<ContractTransactionReceipt> {
  const tx = { from: signer.address, to: call.to, data: call.data };
  const base = await allowanceSlot(ethers, token, signer.address, spender);
  const approve = async (value: bigint) => {
    if ((await token.allowance(signer.address, spender)) !== value) {
      await confirm(value === 0n ? "approve 0 (taken back)" : "approve", token.approve(spender, value));
    }
  };
  if (base !== null) {
    const override = {
      [await token.getAddress()]: { stateDiff: { [slotOf(signer.address, spender, base)]: toBeHex(amount, 32) } },
    };
    await ethers.provider.send("eth_call", [tx, "latest", override]); // throws the contract's revert, if any
    await approve(amount);
  } else {
    await approve(amount);
    try {
      await ethers.provider.call(tx);
    } catch (error) {
      await approve(0n);
      throw error;
    }
  }
  return confirm(label, send());
}

/** An EIP-2612 permit for exactly `amount` to `spender`, valid for an hour of chain time. */
export async function signPermit(
  ethers: HardhatEthers,
  signer: HardhatEthersSigner,
  token: AIToken,
  spender: string,
  amount: bigint,
) {
  const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
  const deadline = now + 3600n;
  const message = {
    owner: signer.address,
    spender,
    value: amount,
    nonce: await token.nonces(signer.address),
    deadline,
  };
  const sig = Signature.from(await signer.signTypedData(await domainOf(token), forEthers(PERMIT_TYPES), message));
  return { deadline, v: sig.v, r: sig.r, s: sig.s };
}
