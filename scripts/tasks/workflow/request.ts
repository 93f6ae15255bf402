import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ZeroAddress } from "ethers";

import { parseAddress, parseHash, parseInteger, parseTokenAmount } from "../../lib/args.js";
import { aitbc } from "../../lib/format.js";
import { sendWithExactApproval } from "../../lib/payment.js";
import { confirm, runTask } from "../context.js";

interface Args {
  from: string;
  workflow: string;
  inputs: string;
  budget: string;
  listing: string;
  keeper: string;
  maxFee: string;
  keeperFee: string;
}

/** Requests an execution of a workflow and escrows its budget (plus the listing's price). */
export default async function request(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  return runTask(hre, args.from, async ({ ethers, signer, protocol }) => {
    const workflowId = parseInteger("workflow", args.workflow, { min: 1n });
    const inputsHash = parseHash("inputs", args.inputs);
    const budget = parseTokenAmount("budget", args.budget);
    const listingId = args.listing === "" ? 0n : parseInteger("listing", args.listing, { min: 1n });
    const keeper = args.keeper === "" ? ZeroAddress : parseAddress("keeper", args.keeper);
    const { token, workflows } = protocol;
    const price = listingId === 0n ? 0n : (await workflows.getListing(listingId)).executionPrice;
    // By default accept the price seen now; an owner raising it before this lands makes the request revert.
    const maxListingFee = args.maxFee === "" ? price : parseTokenAmount("maxFee", args.maxFee, { allowZero: true });
    // The most the keeper may take from the budget as its fee when it completes (0: none).
    const maxKeeperFee =
      args.keeperFee === "" ? 0n : parseTokenAmount("keeperFee", args.keeperFee, { allowZero: true });
    // Simulated before the approval of exactly budget + fee: a request Workflows refuses approves nothing.
    const call = await workflows.requestExecution.populateTransaction({
      workflowId,
      inputsHash,
      budget,
      listingId,
      keeper,
      maxListingFee,
      maxKeeperFee,
    });
    const address = await workflows.getAddress();
    const receipt = await sendWithExactApproval(
      ethers,
      signer,
      token,
      address,
      budget + price,
      "requestExecution",
      call,
      () =>
        workflows.requestExecution({ workflowId, inputsHash, budget, listingId, keeper, maxListingFee, maxKeeperFee }),
      confirm,
    );
    const event = receipt.logs
      .map((log) => workflows.interface.parseLog(log))
      .find((parsed) => parsed?.name === "ExecutionRequested");
    const executionId = event?.args[0] as bigint | undefined;
    if (executionId === undefined) throw new Error("no ExecutionRequested event");
    const who = keeper === ZeroAddress ? "any active keeper agent" : `keeper ${keeper}`;
    console.log(
      `execution #${executionId} of workflow #${workflowId}: budget ${aitbc(budget)} escrowed, waiting for ${who}`,
    );
    return executionId;
  });
}
