/**
 * The whole protocol, end to end, on the embedded default (an in-process Hardhat network): deploy the core
 * with its Ignition module, then walk an agent through register -> receipt mint -> stake -> constitution ->
 * human override -> freeze and exit -> slash -> emergency stop; then a marketplace workload (list, post, bid,
 * award, signed result, settlement) and a workflow execution, using the same Hardhat tasks an operator runs; then
 * the zero-knowledge layer: a Zk workload whose result is an Iris inference proven on chain, private minting of
 * its receipt with a receipt proof, and a Zk workflow recorded with a workflow proof and an inference proof.
 *
 *   ./npmw run tour
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import hre from "hardhat";
import { runTaskById } from "./tasks/cli.js";

import { fieldToBytes32, randomBlind } from "../circuits/lib/field.js";
import {
  irisInfer,
  irisInputHash,
  irisModelHash,
  irisProofInput,
  loadIrisModel,
  quantizeFeatures,
  readIrisWeightsFile,
} from "../circuits/lib/iris.js";
import { Prover } from "../circuits/lib/prover.js";
import {
  jobFromReceiptId,
  noteUnits,
  receiptNoteProofInput,
  receiptNotes,
  ReceiptTree,
  type ReceiptMintStatement,
} from "../circuits/lib/receipt.js";
import { buildTranscript } from "../circuits/lib/workflow.js";
import ProtocolModule from "../deploy/modules/Protocol.js";
import { signStepResult, signWorkResult, type StepResult } from "./lib/eip712.js";
import { proofStruct, proveChunk } from "../protocol/proofs.js";
import { valueHash } from "../protocol/values.js";
import { aitbc } from "./lib/format.js";
import { describeError, protocolAt, writeAddresses, type Protocol } from "./lib/protocol.js";

const connection = await hre.network.getOrCreate();
const { ethers, ignition, networkHelpers } = connection;
const signers = await ethers.getSigners();
const account = (i: number): HardhatEthersSigner => {
  const signer = signers[i];
  if (!signer) throw new Error(`demo: the network needs account #${i}`);
  return signer;
};
const [deployer, guardian, attestor, operator, agent, client, treasury] = [0, 1, 2, 3, 4, 5, 6].map(account) as [
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
  HardhatEthersSigner,
];
const from = (s: { address: string }) => String(signers.findIndex((x) => x.address === s.address));

const step = (title: string) => {
  console.log(`\n=== ${title}`);
};
const run = (id: string[], args: Record<string, unknown>) => runTaskById(hre, id, args);
step("1. Deploy the protocol (Ignition module deploy/modules/Protocol.ts) to the in-process network");
const deployed = await ignition.deploy(ProtocolModule, {
  parameters: {
    AITBCCore: {
      guardian: guardian.address,
      attestor: attestor.address,
      treasury: treasury.address,
      unbondingDelay: 3600n,
    },
    AITBCZk: { attestor: attestor.address },
  },
});
const protocol: Protocol = await protocolAt(ethers, deployed);
async function expectBlocked(what: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    console.log(`blocked, as it must be: ${what}\n  -> ${describeError(error, protocol)}`);
    return;
  }
  throw new Error(`demo: "${what}" should have been blocked`);
}

const addressesFile = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-demo-")), "deployed_addresses.json");
await writeAddresses(addressesFile, protocol);
process.env.AITBC_ADDRESSES = addressesFile; // the tasks below find the deployment here
console.log(`AIToken           ${await protocol.token.getAddress()}`);
console.log(`AgentRegistry     ${await protocol.registry.getAddress()}`);
console.log(`AgentConstitution ${await protocol.constitution.getAddress()}`);
console.log(`HumanOverride     ${await protocol.humanOverride.getAddress()}`);
console.log(
  `guardian ${guardian.address}, attestor ${attestor.address}, operator ${operator.address}, agent ${agent.address}`,
);

step("2. An AI agent registers (service provider, declares 10,000 AITBC daily volume -> 1,000 bond)");
await run(["agent", "register"], {
  from: from(agent),
  operator: operator.address,
  type: "service-provider",
  metadataUri: "ipfs://bafy-demo-agent",
  endpoint: "http://127.0.0.1:9100",
  agentVersion: "1.0.0",
  capabilities: "inference,iris-mlp",
  expectedDailyVolume: "10000",
});

step("3. It does GPU work; an attestor signs the compute receipt; anyone submits it; AITBC is minted");
const receiptFile = path.join(path.dirname(addressesFile), "receipt.json");
await run(["receipt", "sign"], {
  from: from(attestor),
  provider: agent.address,
  client: client.address,
  units: "3000",
  work: "iris-mlp inference x2500",
  result: "result-root-demo",
  receiptId: "",
  validFor: "1h",
  out: receiptFile,
});
await run(["receipt", "mint"], { from: from(client), files: receiptFile });
await expectBlocked("the same receipt minted twice", () =>
  run(["receipt", "mint"], { from: from(client), files: receiptFile }),
);

step("4. The agent stakes 2,000 AITBC (1,000 minimum + 1,000 bond) and becomes active");
await run(["agent", "stake"], { from: from(agent), amount: "2000" });

step("5. Its operator writes a constitution: 300 AITBC a day, transfers need a human's approval");
await run(["constitution", "set"], {
  from: from(operator),
  agent: agent.address,
  maxStake: "5000",
  maxDailyVolume: "300",
  maxGasPerDay: "2000000",
  allowed: "transfer,stake,update-profile",
  humanApproval: "transfer",
});
const { token } = protocol;
const AITBC = 10n ** 18n;
await expectBlocked("an agent transfer with no human grant", async () =>
  (await token.connect(agent).transfer(client.address, 100n * AITBC)).wait(),
);
await expectBlocked("the agent granting itself 'transfer'", () =>
  run(["override", "grant"], { from: from(agent), agent: agent.address, action: "transfer", duration: "1h" }),
);

step("6. A guardian grants 'transfer' for one hour: the transfer goes through; the daily limit still holds");
await run(["override", "grant"], { from: from(guardian), agent: agent.address, action: "transfer", duration: "1h" });
await (await token.connect(agent).transfer(client.address, 100n * AITBC)).wait();
console.log(`agent -> client 100 AITBC: ok (client balance ${aitbc(await token.balanceOf(client.address))})`);
await expectBlocked("250 more AITBC today (100 + 250 > 300)", async () =>
  (await token.connect(agent).transfer(client.address, 250n * AITBC)).wait(),
);

step("7. Anomaly: a guardian freezes the agent (safe mode); it may only exit");
await run(["override", "freeze"], { from: from(guardian), agent: agent.address, reason: "unusual transfer pattern" });
await expectBlocked("staking while frozen", () => run(["agent", "stake"], { from: from(agent), amount: "1" }));
await run(["agent", "unstake"], { from: from(operator), agentId: "1", amount: "all" });

step("8. Unstaking does not dodge a slash: pending stake is still slashable");
await run(["role", "grant"], {
  from: from(deployer),
  contract: "registry",
  role: "slasher",
  account: guardian.address,
});
await run(["agent", "slash"], { from: from(guardian), agentId: "1", amount: "500", reason: "unsafe behaviour (demo)" });
await expectBlocked("withdrawing before the unbonding delay", () =>
  run(["agent", "withdraw"], { from: from(operator), agentId: "1" }),
);
await networkHelpers.time.increase(3600);
await run(["agent", "withdraw"], { from: from(operator), agentId: "1" });

step("9. Emergency stop: every module stops; guardians resume");
await run(["override", "stop"], { from: from(guardian), reason: "incident drill" });
await expectBlocked("minting while stopped", async () => {
  await run(["receipt", "sign"], {
    from: from(attestor),
    provider: client.address,
    client: client.address,
    units: "1",
    work: "w",
    result: "r",
    receiptId: "",
    validFor: "1h",
    out: receiptFile,
  });
  await run(["receipt", "mint"], { from: from(client), files: receiptFile });
});
await run(["override", "resume"], { from: from(guardian) });

step("10. Where the agent stands");
await run(["agent", "show"], { agent: agent.address });

/** An attestor signs a compute receipt for `who`'s work, and the client submits it: `amount` AITBC minted. */
async function pay(who: HardhatEthersSigner, amount: string, work: string): Promise<void> {
  const units = String((BigInt(amount) * 10n ** 18n) / (await protocol.token.rewardRate()));
  const file = path.join(path.dirname(addressesFile), `work-${who.address}-${units}.json`);
  await run(["receipt", "sign"], {
    from: from(attestor),
    provider: who.address,
    client: client.address,
    units,
    work,
    result: "ok",
    receiptId: "",
    validFor: "1h",
    out: file,
  });
  await run(["receipt", "mint"], { from: from(client), files: file });
}

step("11. The marketplace: two provider agents list Iris inference, a client posts a workload with escrow");
// A marketplace receipt rewards only the units its protocol fee backs (units × rate <= fee: wash work never pays),
// so the admin (later governance) sets the reward rate to the fee's scale: 0.001 AITBC a unit.
await (await protocol.token.connect(deployer).setRewardRate(10n ** 15n)).wait();
console.log("reward rate now 0.001 AITBC a unit: a receipt mints at most the protocol fee its settlement took");
const [provider1, provider2, keeper] = [account(7), account(8), account(9)];
/** Registers `who` (operator: the demo's operator), funds it with an attested receipt, stakes its bond. */
async function onboard(who: HardhatEthersSigner, type: string, units: string): Promise<void> {
  await run(["agent", "register"], {
    from: from(who),
    operator: operator.address,
    type,
    metadataUri: "",
    endpoint: "http://127.0.0.1:9200",
    agentVersion: "1.0.0",
    capabilities: "inference",
    expectedDailyVolume: "10000",
  });
  await pay(who, units, "onboarding work");
  await run(["agent", "stake"], { from: from(who), amount: "2000" });
}
await onboard(provider1, "service-provider", "2000");
await onboard(provider2, "service-provider", "2000");
for (const [who, id] of [
  [provider1, "p1-iris"],
  [provider2, "p2-iris"],
] as const) {
  await run(["market", "list-service"], {
    from: from(who),
    serviceId: id,
    name: "iris-mlp-inference",
    price: "0.1",
    capacity: "10000",
    model: "iris-mlp-v1",
    minAccuracy: "9000",
  });
}
await pay(client, "1000", "client's own earlier work");
const workloadId = (await run(["market", "post"], {
  from: from(client),
  serviceType: "iris-mlp-inference",
  model: "iris-mlp-v1",
  units: "500",
  maxPrice: "0.2",
  bidWindow: "1h",
  executionWindow: "1h",
  reopen: false,
})) as bigint;

step(
  "12. Both bid; the client awards the cheaper; the provider signs its result; the client accepts; an attestor signs the receipt",
);
await run(["market", "bid"], {
  from: from(provider1),
  workload: String(workloadId),
  serviceId: "p1-iris",
  price: "0.12",
  proposal: "batch of 500 on one GPU",
});
await run(["market", "bid"], {
  from: from(provider2),
  workload: String(workloadId),
  serviceId: "p2-iris",
  price: "0.15",
  proposal: "",
});
await expectBlocked("a bid from an account that is not a registered provider agent (the client)", () =>
  run(["market", "bid"], {
    from: from(client),
    workload: String(workloadId),
    serviceId: "p1-iris",
    price: "0.1",
    proposal: "",
  }),
);
// An award names the bid's provider as well as its index: on a full list a cheaper bid can take a bid's index.
const provider2Id = await protocol.registry.agentIdOf(provider2.address);
await expectBlocked("an award of bid #0 naming another provider than the bid's (a bid replaced since read)", () =>
  run(["market", "award"], {
    from: from(client),
    workload: String(workloadId),
    bid: "0",
    provider: String(provider2Id),
  }),
);
await run(["market", "award"], { from: from(client), workload: String(workloadId), bid: "0" });
await expectBlocked("a result from a provider that was not assigned", () =>
  run(["market", "submit"], { from: from(provider2), workload: String(workloadId), result: "forged" }),
);
await run(["market", "submit"], { from: from(provider1), workload: String(workloadId), result: "iris predictions v1" });
await run(["market", "accept"], { from: from(client), workload: String(workloadId) });
// Settlement issued a compute receipt; it mints AITBC only once an attestor vouches for the work.
const workloadReceipt = path.join(path.dirname(addressesFile), "workload-receipt.json");
await run(["receipt", "sign"], {
  from: from(attestor),
  workload: String(workloadId),
  validFor: "1h",
  out: workloadReceipt,
});
await run(["receipt", "mint"], { from: from(provider1), files: workloadReceipt });
await expectBlocked("settling the same workload twice", () =>
  run(["market", "accept"], { from: from(client), workload: String(workloadId) }),
);
await run(["market", "show"], { workload: String(workloadId) });

step("13. A workflow: a 3-step pipeline defined from JSON, executed by a keeper agent on two providers");
await onboard(keeper, "validator", "2000");
const specFile = path.join(path.dirname(addressesFile), "iris-pipeline.json");
writeFileSync(
  specFile,
  JSON.stringify({
    name: "iris-pipeline",
    maxExecutionTime: "1h",
    maxBudget: "50",
    steps: [
      { id: "normalize", type: "data-processing", output: "features" },
      {
        id: "classify",
        type: "inference",
        model: "iris-mlp-v1",
        dependsOn: ["normalize"],
        input: "normalize.features",
      },
      { id: "report", type: "data-processing", dependsOn: ["classify", "normalize"], input: "classify.output" },
    ],
  }),
);
const workflowId = (await run(["workflow", "define"], { from: from(client), file: specFile })) as bigint;
const executionId = (await run(["workflow", "request"], {
  from: from(client),
  workflow: String(workflowId),
  inputs: "iris rows 1-150",
  budget: "20",
  listing: "",
  keeper: keeper.address, // the client names its keeper: at the basic level it trusts it with the budget
})) as bigint;
// The keeper daemon (next issue) drives these three calls; here the demo plays the keeper.
const { workflows } = protocol;
await (await workflows.connect(keeper).claimExecution(executionId)).wait();
const plan = [
  { step: 0, provider: provider1, cost: 2n * AITBC },
  { step: 1, provider: provider2, cost: 5n * AITBC },
  { step: 2, provider: provider1, cost: 1n * AITBC },
];
const records = [];
for (const { step, provider, cost } of plan) {
  const r = { executionId, step, inputHash: ethers.id(`in-${step}`), outputHash: ethers.id(`out-${step}`), cost };
  records.push({ ...r, provider: provider.address, signature: await signStepResult(provider, workflows, r) });
}
const [, , lastStep] = records;
if (!lastStep) throw new Error("demo: three records expected");
await expectBlocked("recording step 2 before its dependencies", async () =>
  (await workflows.connect(keeper).recordSteps(executionId, [lastStep])).wait(),
);
await (await workflows.connect(keeper).recordSteps(executionId, records)).wait();
await (await workflows.connect(keeper).completeExecution(executionId, ethers.id("iris report"), 0n)).wait();
console.log("keeper: claimed, recorded 3 signed step results in one batch, completed");
await run(["workflow", "show"], { execution: String(executionId) });

step("14. Zero knowledge: a Zk workload whose result is a proven Iris inference, then minted privately");
const prover = new Prover();
const { marketplace, receiptMinter } = protocol;
const gasOf = async (tx: Promise<{ wait: () => Promise<{ gasUsed: bigint } | null> }>) =>
  (await (await tx).wait())?.gasUsed ?? 0n;
const irisModel = loadIrisModel();
const modelHash = fieldToBytes32(irisModelHash(irisModel));
const features = quantizeFeatures([6.3, 2.9, 5.6, 1.8]); // one flower, in cm
// The client's secret blind for this workload: it hands it to the provider with the features, off chain.
const blind = randomBlind();
const featuresHash = fieldToBytes32(irisInputHash(features, blind));
console.log(`Iris model commitment (Poseidon of the quantized weights): ${modelHash}`);
await run(["market", "list-service"], {
  from: from(provider1),
  serviceId: "p1-iris-zk",
  name: "iris-mlp-proven",
  price: "0.1",
  capacity: "10000",
  model: modelHash,
  minAccuracy: "9000",
});
const zkWorkload = (await run(["market", "post"], {
  from: from(client),
  serviceType: "iris-mlp-proven",
  model: modelHash,
  units: "100",
  maxPrice: "0.2",
  bidWindow: "1h",
  executionWindow: "1h",
  reopen: false,
  verification: "zk",
  inputHash: featuresHash,
})) as bigint;
await run(["market", "bid"], {
  from: from(provider1),
  workload: String(zkWorkload),
  serviceId: "p1-iris-zk",
  price: "0.1",
  proposal: "",
});
await run(["market", "award"], { from: from(client), workload: String(zkWorkload), bid: "0" });
const inference = await prover.prove("inference", irisProofInput(irisModel, features, blind));
const [, , outputHash, leaf] = inference.publicSignals;
if (outputHash === undefined || leaf === undefined) throw new Error("demo: inference public signals");
const predicted = readIrisWeightsFile().classes[irisInfer(irisModel, features).predictedClass] ?? "?";
const leafHex = fieldToBytes32(leaf);
await expectBlocked("a proven result with the proof of another output", async () =>
  (
    await marketplace
      .connect(provider1)
      .submitProvenResult(
        zkWorkload,
        leafHex,
        await signWorkResult(provider1, marketplace, { workloadId: zkWorkload, round: 0n, resultHash: leafHex }),
        outputHash + 1n,
        proofStruct(inference.calldata),
      )
  ).wait(),
);
const submitGas = await gasOf(
  marketplace
    .connect(provider1)
    .submitProvenResult(
      zkWorkload,
      leafHex,
      await signWorkResult(provider1, marketplace, { workloadId: zkWorkload, round: 0n, resultHash: leafHex }),
      outputHash,
      proofStruct(inference.calldata),
    ),
);
console.log(
  `provider: ${predicted} for the client's flower, proven in ${inference.millis.toFixed(0)} ms; ` +
    `submitProvenResult verified it on chain (${submitGas} gas)`,
);
await run(["market", "accept"], { from: from(client), workload: String(zkWorkload) });

// The attestor puts the receipt's commitment in its tree and publishes the root; the provider mints the receipt as
// notes of 2^k units (one per set bit of its units), each to a fresh address, without revealing which receipt: a
// note's amount is shared by every receipt under the root that holds that denomination.
const onChainReceipt = await marketplace.receiptOf(zkWorkload);
const privateReceipt = {
  job: jobFromReceiptId(onChainReceipt.receiptId),
  provider: BigInt(onChainReceipt.provider),
  units: onChainReceipt.units,
  price: (await marketplace.getWorkload(zkWorkload)).pricePerUnit,
  resultHash: BigInt(onChainReceipt.resultHash),
  salt: BigInt(ethers.hexlify(ethers.randomBytes(31))),
};
const receiptTree = new ReceiptTree();
receiptTree.insertReceipt(privateReceipt);
await (await receiptMinter.connect(attestor).publishRoot(receiptTree.root)).wait();
const rewardRate = await token.rewardRate();
const notes = receiptNotes(privateReceipt.units);
let firstNote: { proof: ReturnType<typeof proofStruct>; statement: ReceiptMintStatement } | undefined;
for (const denomination of notes) {
  const payee = ethers.Wallet.createRandom().address;
  const { statement, input } = receiptNoteProofInput(
    privateReceipt,
    denomination,
    receiptTree,
    BigInt(payee),
    rewardRate,
  );
  const receiptProof = await prover.prove("receipt", input);
  const proof = proofStruct(receiptProof.calldata);
  firstNote ??= { proof, statement };
  const mintGas = await gasOf(
    receiptMinter.mint(proof, statement.root, statement.nullifier, payee, statement.denomination),
  );
  console.log(
    `minted a note of 2^${denomination} units (${aitbc(noteUnits(denomination) * rewardRate)}) to ${payee} ` +
      `(${receiptProof.millis.toFixed(0)} ms, ${mintGas} gas); the chain saw a root, a nullifier and a denomination`,
  );
}
console.log(`the ${privateReceipt.units}-unit receipt minted as ${notes.length} note(s)`);
if (firstNote !== undefined) {
  const { proof, statement } = firstNote;
  await expectBlocked("minting the same note twice (its nullifier is spent)", async () =>
    (
      await receiptMinter.mint(
        proof,
        statement.root,
        statement.nullifier,
        `0x${statement.recipient.toString(16).padStart(40, "0")}`,
        statement.denomination,
      )
    ).wait(),
  );
}

step("15. A Zk workflow: a proven inference, then two steps, recorded with a workflow proof");
const zkSpecFile = path.join(path.dirname(addressesFile), "iris-proven.json");
writeFileSync(
  zkSpecFile,
  JSON.stringify({
    name: "iris-proven",
    maxExecutionTime: "1h",
    maxBudget: "50",
    verification: "zk",
    steps: [
      { id: "classify", type: "inference", model: modelHash, requiresProof: true },
      { id: "explain", type: "data-processing", dependsOn: ["classify"] },
      { id: "report", type: "data-processing", dependsOn: ["classify", "explain"] },
    ],
  }),
);
const zkWorkflowId = (await run(["workflow", "define"], { from: from(client), file: zkSpecFile })) as bigint;
const zkExecutionId = (await run(["workflow", "request"], {
  from: from(client),
  workflow: String(zkWorkflowId),
  inputs: featuresHash, // the flower's features are the workflow's input
  budget: "10",
  listing: "",
  keeper: keeper.address,
})) as bigint;
await (await workflows.connect(keeper).claimExecution(zkExecutionId)).wait();
const transcript = buildTranscript(BigInt(featuresHash), [
  { deps: [], outputHash },
  { deps: [0], outputHash: valueHash(`${predicted}: petal length dominates`, blind) },
  { deps: [0, 1], outputHash: valueHash(`report: ${predicted}`, blind) },
]);
const zkPlan = [provider1, provider2, provider1];
const zkRecords: (StepResult & { provider: string; signature: string })[] = [];
for (const [i, provider] of zkPlan.entries()) {
  const r = {
    executionId: zkExecutionId,
    step: i,
    inputHash: ethers.ZeroHash,
    outputHash: fieldToBytes32(transcript.leaves[i] ?? 0n),
    cost: AITBC,
  };
  zkRecords.push({ ...r, provider: provider.address, signature: await signStepResult(provider, workflows, r) });
}
const chunk = await proveChunk(prover, transcript, 0);
const inferences = [{ inputHash: BigInt(featuresHash), outputHash, proof: proofStruct(inference.calldata) }];
await expectBlocked("recording the proven steps without the inference proof", async () =>
  (await workflows.connect(keeper).recordProvenSteps(zkExecutionId, zkRecords, chunk.transcript, [])).wait(),
);
const recordGas = await gasOf(
  workflows.connect(keeper).recordProvenSteps(zkExecutionId, zkRecords, chunk.transcript, inferences),
);
await (
  await workflows.connect(keeper).completeExecution(zkExecutionId, fieldToBytes32(transcript.resultHash), 0n)
).wait();
console.log(
  `keeper: workflow proof in ${chunk.millis.toFixed(0)} ms; 3 records, the workflow proof and the inference proof ` +
    `verified on chain in one transaction (${recordGas} gas); completed with the proven result`,
);
await run(["workflow", "show"], { execution: String(zkExecutionId) });
await prover.close();

console.log(`\ntreasury holds ${aitbc(await token.balanceOf(treasury.address))} (slashing and marketplace fees)`);
console.log(`total supply ${aitbc(await token.totalSupply())}, all of it minted from compute receipts`);
console.log("\ndemo complete");
