import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { resolveAccount } from "../../lib/protocol.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  to: string;
  amount: string;
}

/** Sends AITBC from --from to --to (an address or an account index). */
export default async function transfer(args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const to = await resolveAccount(ethers, "to", args.to);
    const amount = parseTokenAmount("amount", args.amount);
    const { token } = protocol;
    const held = await token.balanceOf(signer.address);
    if (held < amount)
      throw new ArgumentError("amount", `${aitbc(amount)} is more than ${signer.address} holds (${aitbc(held)})`);
    await confirm("transfer", token.transfer(to, amount));
    console.log(
      `sent ${aitbc(amount)} to ${to}; ${signer.address} now holds ${aitbc(await token.balanceOf(signer.address))}`,
    );
  });
}
