import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  followExecution,
  KeeperClient,
  keeperAddress,
  keeperEncryptionKey,
  readInputsFile,
  readResult,
} from "../../lib/executions.js";
import { parseInteger, required } from "../../lib/args.js";
import { runTask } from "../context.js";
import request from "./request.js";

interface Args {
  from: string;
  workflow: string;
  inputs: string;
  keeperUrl: string;
  budget: string;
  listing: string;
  keeper: string;
  maxFee: string;
  keeperFee: string;
  timeout: string;
}

/**
 * Runs a workflow end to end as a client (`--from`): posts the inputs file to the keeper, sealed to the keeper's
 * published encryption key and signed by the client,
 * requests the execution naming that keeper (escrowing the budget), then follows it live (reading the keeper's view
 * with signed requests) until it completes or fails, and prints the result (`workflow result`'s lines).
 */
export default async function run(args: Args, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  const keeperUrl = required("keeperUrl", args.keeperUrl);
  const inputs = readInputsFile(required("inputs", args.inputs));
  const timeout = args.timeout === "" ? 600n : parseInteger("timeout", args.timeout, { min: 1n });
  const keeper = args.keeper !== "" ? args.keeper : await keeperAddress(keeperUrl);
  const keeperClient = await runTask(hre, args.from, async ({ signer, protocol }) => {
    const client = await KeeperClient.connect(keeperUrl, signer, protocol.workflows);
    // Sealed to the key the keeper published on chain (not to one its URL names).
    const inputsHash = await client.postInputs(inputs, await keeperEncryptionKey(protocol.registry, keeper));
    console.log(`inputs posted to ${keeperUrl} sealed to keeper ${keeper}, signed by ${signer.address}: ${inputsHash}`);
    return { client, inputsHash };
  });
  const executionId = await request({ ...args, inputs: keeperClient.inputsHash, keeper }, hre);
  await runTask(hre, args.from, async ({ protocol }) => {
    const final = await followExecution(protocol.workflows, executionId, {
      keeper: keeperClient.client,
      timeoutMs: Number(timeout) * 1000,
      onChange: (line) => {
        console.log(line);
      },
    });
    if (final.status !== "completed")
      throw new Error(`execution #${executionId} ${final.status}${final.reason ? `: ${final.reason}` : ""}`);
    console.log((await readResult(keeperClient.client, protocol.workflows, executionId)).lines.join("\n"));
  });
  return executionId;
}
