/**
 * The whole protocol, end to end, on the embedded default (an in-process Hardhat network): deploy the core
 * with its Ignition module, then walk an agent through register -> receipt mint -> stake -> constitution ->
 * human override -> freeze and exit -> slash -> emergency stop, using the same Hardhat tasks an operator runs.
 *
 *   ./npmw run demo
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import hre from "hardhat";

import ProtocolModule from "../deploy/modules/Protocol.js";
import { aitbc } from "./lib/format.js";
import { describeError, writeAddresses, type Protocol } from "./lib/protocol.js";

const connection = await hre.network.getOrCreate();
const { ethers, ignition, networkHelpers } = connection;
const [deployer, guardian, attestor, operator, agent, client, treasury] = await ethers.getSigners();
if (!deployer || !guardian || !attestor || !operator || !agent || !client || !treasury)
  throw new Error("need 7 accounts");
const signers = await ethers.getSigners();
const from = (s: { address: string }) => String(signers.findIndex((x) => x.address === s.address));

const step = (title: string) => {
  console.log(`\n=== ${title}`);
};
const run = (id: string[], args: Record<string, unknown>) => hre.tasks.getTask(id).run(args);
step("1. Deploy the protocol (Ignition module deploy/modules/Protocol.ts) to the in-process network");
const deployed = await ignition.deploy(ProtocolModule, {
  parameters: {
    AITBCCore: {
      guardian: guardian.address,
      attestor: attestor.address,
      treasury: treasury.address,
      unbondingDelay: 3600n,
    },
  },
});
const protocol: Protocol = {
  token: await ethers.getContractAt("AIToken", await deployed.token.getAddress()),
  registry: await ethers.getContractAt("AgentRegistry", await deployed.registry.getAddress()),
  constitution: await ethers.getContractAt("AgentConstitution", await deployed.constitution.getAddress()),
  humanOverride: await ethers.getContractAt("HumanOverride", await deployed.humanOverride.getAddress()),
  marketplace: await ethers.getContractAt("ServiceMarketplace", await deployed.marketplace.getAddress()),
  workflows: await ethers.getContractAt("Workflows", await deployed.workflows.getAddress()),
};
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
await (
  await protocol.registry.connect(deployer).grantRole(await protocol.registry.SLASHER_ROLE(), guardian.address)
).wait();
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
console.log(`\ntreasury received ${aitbc(await token.balanceOf(treasury.address))} from slashing`);
console.log(`total supply ${aitbc(await token.totalSupply())}, all of it minted from receipts`);
console.log("\ndemo complete");
