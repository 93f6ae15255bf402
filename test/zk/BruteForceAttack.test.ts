/**
 * The outside review's attack on the zk commitments (issue 13, "Trust boundaries"): the Iris features are 4 x 8 bits,
 * so from chain data alone an observer enumerates feature vectors, hashes each the way the circuit commits to them
 * and compares with what the chain holds; a match gives the features, and the model (public) then gives the class
 * and scores, which the output commitment confirms.
 *
 * The chain data comes from a real run on the in-process chain: a Zk marketplace workload (the client's inputHash
 * in storage, the provider's proven result: ResultProven's outputHash) and a workflow execution requested on the
 * client's inputs (ExecutionRequested's inputsHash, computed by the client's code, protocol/values.ts). The test reads
 * them back from storage and events only.
 *
 * The search: every feature vector in a window of SEARCH_WIDTH values per feature centred on the true one (the
 * reviewer also searched a realistic sub-range that contains it), each hashed as the attacker would: Poseidon of the
 * features (the unblinded commitment) and Poseidon of the features and a zero blind (the only blind an observer
 * can guess). The reviewer's budget was about 2^20 hashes (100 s single-threaded); this one is 8^4 vectors x 2
 * hashes = 2^13 hashes (under 15 s on this shared 2-core machine), the same search on a window 2^7 times smaller:
 * the test shows whether the true value is found inside the window, which a larger window cannot change.
 *
 * It must find nothing: the on-chain commitments carry a secret blind. As a control, the same search over the same
 * window must find an unblinded commitment of the same features, so the search itself is not broken.
 */
import { expect } from "chai";
import { id, MaxUint256, ZeroHash } from "ethers";
import { network } from "hardhat";

import { fieldToBytes32, poseidonHash, randomBlind, signedToField } from "../../circuits/lib/field.js";
import { irisInfer, irisModelHash, loadIrisModel, quantizeFeatures } from "../../circuits/lib/iris.js";
import { Prover } from "../../circuits/lib/prover.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { valueHashHex, type Json } from "../../protocol/values.js";
import { AITBC, mintAitbc, registerAndStake } from "../helpers/agents.js";
import {
  offer,
  PROVIDER_STAKE,
  PROVIDER_VOLUME,
  signResult,
  VERIFICATION as MARKET_VERIFICATION,
  workloadRequest,
} from "../helpers/market.js";
import { proveIris } from "../helpers/proofs.js";
import { chainSpec, executionRequest } from "../helpers/workflows.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;

/** A versicolor of the Iris data set (cm): the client's secret. */
const FLOWER = [6.1, 2.8, 4.7, 1.2];
/** Values tried per feature: 8^4 = 4,096 vectors, each hashed twice (2^13 hashes). */
const SEARCH_WIDTH = 8;
const SERVICE = id("service: agent, iris");
const PRICE = 5n * AITBC;

/**
 * The attacker's search: every vector in the window around `centre`, hashed as above, compared with every target
 * (one pass). Returns, per target found, the features that hash to it, and the number of hashes computed.
 */
function bruteForce(
  centre: readonly bigint[],
  targets: readonly bigint[],
): { found: Map<bigint, bigint[]>; hashes: number } {
  const half = BigInt(SEARCH_WIDTH / 2);
  const lo = centre.map((c) => (c >= half ? c - half : 0n));
  const wanted = new Set(targets);
  const found = new Map<bigint, bigint[]>();
  let hashes = 0;
  const width = BigInt(SEARCH_WIDTH);
  for (let a = 0n; a < width; a++) {
    for (let b = 0n; b < width; b++) {
      for (let c = 0n; c < width; c++) {
        for (let d = 0n; d < width; d++) {
          const f = [(lo[0] ?? 0n) + a, (lo[1] ?? 0n) + b, (lo[2] ?? 0n) + c, (lo[3] ?? 0n) + d];
          for (const h of [poseidonHash(f), poseidonHash([...f, 0n])]) {
            hashes += 1;
            if (wanted.has(h)) found.set(h, f);
          }
        }
      }
    }
  }
  return { found, hashes };
}

/** Poseidon(class, scores) and Poseidon(class, scores, 0): what the attacker checks a recovered output against. */
function outputCandidates(features: readonly bigint[]): bigint[] {
  const r = irisInfer(loadIrisModel(), features);
  const pre = [BigInt(r.predictedClass), ...r.scores.map(signedToField)];
  return [poseidonHash(pre), poseidonHash([...pre, 0n])];
}

/**
 * The protocol; `agent` lists the Iris model on the marketplace; the client posts a Zk workload on FLOWER, awards
 * it, and `agent` submits its proven result; a Basic workflow is defined and the client requests an execution of it
 * on FLOWER's feature vector (the inputs the workflow's keeper receives).
 */
async function attackFixture() {
  const core = await deployProtocol(connection);
  const { token, marketplace, workflows, operator, agent, client } = core;
  await registerAndStake(core, agent, operator, PROVIDER_STAKE, { expectedDailyVolume: PROVIDER_VOLUME });
  await mintAitbc(core, client.address, 10_000n);
  for (const spender of [await marketplace.getAddress(), await workflows.getAddress()])
    await (await token.connect(client).approve(spender, MaxUint256)).wait();

  const model = loadIrisModel();
  const modelHash = fieldToBytes32(irisModelHash(model));
  const features = quantizeFeatures(FLOWER);
  const prover = new Prover();
  // The client's secret blind for the workload (it hands it to the provider with the features, off chain).
  const inference = await proveIris(prover, model, features, randomBlind()).finally(() => prover.close());

  await (await marketplace.connect(agent).listService(offer(SERVICE, { modelHash }))).wait();
  const request = workloadRequest(BigInt(await networkHelpers.time.latest()), {
    serviceType: ZeroHash,
    modelHash,
    verification: MARKET_VERIFICATION.zk,
    inputHash: fieldToBytes32(inference.inputHash),
  });
  const workloadId = await marketplace.connect(client).postWorkload.staticCall(request);
  await (await marketplace.connect(client).postWorkload(request)).wait();
  await (await marketplace.connect(agent).bid(workloadId, SERVICE, PRICE, id("proposal"))).wait();
  await (await marketplace.connect(client).award(workloadId, 0n, await core.registry.agentIdOf(agent.address))).wait();
  const leaf = fieldToBytes32(inference.leaf);
  const signature = await signResult(agent, marketplace, workloadId, 0n, leaf);
  await (
    await marketplace
      .connect(agent)
      .submitProvenResult(workloadId, leaf, signature, inference.outputHash, inference.proof)
  ).wait();

  await (await workflows.connect(client).defineWorkflow(chainSpec(1))).wait();
  const inputs: Json = { kind: "iris-features", features: features.map(Number) };
  // The client's inputsHash as KeeperClient.postInputs computes it (scripts/lib/executions.ts), a fresh blind each.
  const inputsHash = valueHashHex(inputs, randomBlind());
  await (await workflows.connect(client).requestExecution(executionRequest(1n, inputsHash, AITBC))).wait();
  return { ...core, workloadId };
}

describe("Brute force of the zk input and output commitments from chain data (issue 13)", function () {
  it("finds neither the Zk workload's features (storage, ResultProven) nor the execution's inputs (ExecutionRequested) in the window that holds them; the same search finds an unblinded commitment of the same features", async function () {
    this.timeout(120_000);
    const f = await networkHelpers.loadFixture(attackFixture);

    // Chain data only: the workload's stored inputHash, ResultProven's outputHash, ExecutionRequested's inputsHash.
    const workloadInput = BigInt((await f.marketplace.getWorkload(f.workloadId)).inputHash);
    const [proven] = await f.marketplace.queryFilter(f.marketplace.filters.ResultProven(f.workloadId));
    const [requested] = await f.workflows.queryFilter(f.workflows.filters.ExecutionRequested());
    if (proven === undefined || requested === undefined) throw new Error("the run left no events");
    const outputOnChain = proven.args.outputHash;
    const executionInputs = BigInt(requested.args.inputsHash);

    const truth = quantizeFeatures(FLOWER);
    // The control: an unblinded commitment of the same features, searched for in the same pass.
    const unblinded = poseidonHash(truth);
    const started = Date.now();
    const { found, hashes } = bruteForce(truth, [workloadInput, executionInputs, unblinded]);
    const millis = Date.now() - started;
    console.log(`        brute force: ${hashes} hashes in ${millis} ms (${((1000 * hashes) / millis).toFixed(0)}/s)`);

    expect(hashes).to.equal(2 * SEARCH_WIDTH ** 4);
    expect(found.get(unblinded), "the same search finds an unblinded commitment of the features").to.deep.equal(truth);
    for (const [what, target] of [
      ["the Zk workload's inputHash", workloadInput],
      ["the execution's inputsHash", executionInputs],
    ] as const) {
      const features = found.get(target);
      if (features === undefined) continue;
      const output = outputCandidates(features).includes(outputOnChain)
        ? ", and with them the proven class and scores (ResultProven's outputHash)"
        : "";
      expect.fail(`recovered the features ${features.join(", ")} from ${what} in ${hashes} hashes${output}`);
    }
    expect(outputCandidates(truth), "the output commitment opens without the blind").not.to.include(outputOnChain);
  });
});
