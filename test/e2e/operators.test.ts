/**
 * The operators' walkthrough (docs/operators.md) run as written: its marked shell blocks, in order, by bash, from a
 * sandbox of the repository (test/helpers/docs.ts), against a separate `hardhat node` process with chain id 11155111
 * (Sepolia's: not a local chain to the tasks, Ignition and the daemons, so plain keys, time moves and development
 * verifier keys are refused there as on a real network). Blocks are mined every second, as a real chain makes them,
 * so the governance periods pass in wall-clock time; the rehearsal's periods are 10 s, 60 s and 10 s (a minute to
 * vote: on a loaded machine each `npx hardhat` command takes 15 to 20 s, and a 30 s period closed before the
 * walkthrough's `gov vote`).
 *
 * What the test supplies, as a reader does: the RPC URL, the keystores' password, the deployer's funded key (Hardhat's
 * account 0), the native coin for the other keys (sent from account 1, as a reader sends it from a wallet), the
 * answer to Ignition's confirmation, free ports for the daemons. Between blocks it checks the chain itself: after
 * the handover the deployer holds no role of any protocol contract and is refused every privileged call it could
 * make before, and the guardian, attestor, treasury, overseer and the timelock hold theirs and use them.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, parseEther, type BaseContract } from "ethers";

import { readAddresses, type Addresses } from "../../protocol/addresses.js";
import { devAccount } from "../../scripts/lib/devnet.js";
import { ROLE_NAMES, roleHash, rolesOf } from "../../scripts/lib/roles.js";
import {
  AgentConstitution__factory,
  AgentRegistry__factory,
  AgentVotes__factory,
  AIToken__factory,
  HumanOverride__factory,
  ReceiptMinter__factory,
  ServiceMarketplace__factory,
  AITBCTimelock__factory,
} from "../../typechain-types/index.js";
import {
  docBlocksById,
  freePort,
  makeSandbox,
  readerEnv,
  rpc,
  runBlock,
  startNode,
  type BlockRun,
  type Node,
  type Sandbox,
} from "../helpers/docs.js";

const PAGE = "docs/operators.md";
const RUNNER = "test/e2e/operators.test.ts";
const BLOCKS = [
  "keys",
  "addresses",
  "params",
  "deploy",
  "handover",
  "check",
  "fund",
  "provider",
  "keeper",
  "governance",
  "guardian",
  "stop",
] as const;
const CHAIN_ID = 11155111;
const PASSWORD = "a rehearsal password";
const AITBC = 10n ** 18n;
const KEYS = ["deployer", "guardian", "attestor", "treasury", "overseer", "operator", "provider", "keeper"] as const;

interface RoleContract extends BaseContract {
  hasRole(role: string, account: string): Promise<boolean>;
}

describe("the operators' walkthrough (docs/operators.md) on a hardhat node process, chain 11155111", function () {
  this.timeout(1_500_000);
  const blocks = docBlocksById(PAGE, RUNNER, BLOCKS);
  let node: Node;
  let sandbox: Sandbox;
  let env: NodeJS.ProcessEnv;
  let producer: NodeJS.Timeout | undefined;
  const groups: number[] = [];
  const timings: string[] = [];
  const outputs = new Map<string, BlockRun>();
  let keys: Record<(typeof KEYS)[number], string>;
  let addresses: Addresses;
  let provider: JsonRpcProvider;

  const run = async (id: (typeof BLOCKS)[number], timeoutMs = 900_000) => {
    const block = blocks.get(id);
    if (!block) throw new Error(`no block ${id}`);
    const result = await runBlock(PAGE, block, {
      cwd: sandbox.dir,
      env,
      stateFile: path.join(sandbox.home, ".walkthrough-state"),
      timeoutMs,
      onSpawn: (pid) => groups.push(pid),
    });
    outputs.set(id, result);
    timings.push(`${id} ${(result.ms / 1000).toFixed(1)} s`);
    return result;
  };

  before(async function () {
    node = await startNode(CHAIN_ID);
    sandbox = makeSandbox(node.url);
    env = readerEnv({
      HOME: sandbox.home,
      AITBC_RPC_URL: node.url,
      AITBC_KEYSTORE_PASSWORD: PASSWORD,
      AITBC_IMPORT_KEY: devAccount(0).privateKey,
      HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "1",
      REHEARSAL_VOTING_DELAY: "10",
      REHEARSAL_VOTING_PERIOD: "60",
      REHEARSAL_TIMELOCK_DELAY: "10",
      PROVIDER_PORT: String(await freePort()),
      KEEPER_PORT: String(await freePort()),
    });
    // A block a second with the wall clock's time, as a real chain makes them (the node mines only on demand).
    producer = setInterval(() => {
      rpc(node.url, "evm_mine").catch(() => undefined);
    }, 1000);
    provider = new JsonRpcProvider(node.url, CHAIN_ID, { staticNetwork: true });
  });

  after(async function () {
    clearInterval(producer);
    // The daemons the blocks started in the background share their block's process group.
    for (const group of groups) {
      try {
        process.kill(-group, "SIGTERM");
      } catch {
        // the group is gone
      }
    }
    provider.destroy();
    await node.stop();
    console.log(`      blocks: ${timings.join(", ")}`);
    if (this.currentTest?.state === "failed" || process.env.AITBC_DOCS_KEEP)
      console.log(`      sandbox ${sandbox.dir}`);
    else sandbox.remove();
  });

  const contracts = () => ({
    token: AIToken__factory.connect(addresses.token, provider),
    registry: AgentRegistry__factory.connect(addresses.registry, provider),
    constitution: AgentConstitution__factory.connect(addresses.constitution, provider),
    humanOverride: HumanOverride__factory.connect(addresses.humanOverride, provider),
    marketplace: ServiceMarketplace__factory.connect(addresses.marketplace, provider),
    receiptMinter: ReceiptMinter__factory.connect(addresses.receiptMinter, provider),
    agentVotes: AgentVotes__factory.connect(addresses.agentVotes, provider),
    timelock: AITBCTimelock__factory.connect(addresses.timelock, provider),
  });

  it("keys: one keystore per job, none holding a plain key; then the coin for gas from a wallet", async function () {
    const keysRun = await run("keys");
    expect(keysRun.stdout).to.contain(`deployer (custom): ${devAccount(0).address}`);
    const listing = await run("addresses");
    const dir = path.join(sandbox.home, ".aitbc", "keystores", "custom");
    expect(readdirSync(dir).sort()).to.deep.equal(KEYS.map((k) => `${k}.json`).sort());
    keys = Object.fromEntries(
      KEYS.map((name) => {
        const line = listing.stdout.split("\n").find((l) => l.trim().startsWith(`${name} `));
        const address = /0x[0-9a-fA-F]{40}/.exec(line ?? "")?.[0];
        if (!address) throw new Error(`key list shows no ${name}: ${listing.stdout}`);
        return [name, address];
      }),
    ) as typeof keys;
    expect(new Set(Object.values(keys).map((a) => a.toLowerCase())).size).to.equal(KEYS.length);
    expect(readFileSync(path.join(dir, "deployer.json"), "utf8")).to.not.contain(devAccount(0).privateKey.slice(2));
    // The reader's wallet: Hardhat's account 1 sends each new key some coin.
    const wallet = new Wallet(devAccount(1).privateKey, provider);
    let nonce = await provider.getTransactionCount(wallet.address, "pending");
    for (const name of KEYS.filter((k) => k !== "deployer" && k !== "treasury")) {
      await (await wallet.sendTransaction({ to: keys[name], value: parseEther("10"), nonce: nonce++ })).wait();
    }
    delete env.AITBC_IMPORT_KEY; // the block unset it; the reader's shell no longer has it
  });

  it("deploy: the protocol with distinct guardian, attestor and treasury, and Handover.ts", async function () {
    await run("params");
    const params = JSON.parse(readFileSync(path.join(sandbox.home, "aitbc-ops", "params.json"), "utf8")) as {
      AITBCCore: Record<string, string>;
    };
    expect(params.AITBCCore.guardian?.toLowerCase()).to.equal(keys.guardian.toLowerCase());
    const deployed = await run("deploy");
    expect(deployed.stderr).to.contain("DEPLOYING DEVELOPMENT VERIFIER KEYS to custom (chain 11155111)"); // loudly
    const file = path.join(sandbox.dir, "deploy", "deployments", `chain-${CHAIN_ID}`, "deployed_addresses.json");
    expect(existsSync(file), "Ignition's record stays in the sandbox").to.equal(true);
    addresses = readAddresses(CHAIN_ID, file);
    const c = contracts();
    expect(await c.humanOverride.hasRole(roleHash("GUARDIAN_ROLE"), keys.guardian)).to.equal(true);
    expect(await c.humanOverride.hasRole(roleHash("GUARDIAN_ROLE"), keys.deployer)).to.equal(false);
    expect(await c.token.hasRole(roleHash("ATTESTOR_ROLE"), keys.attestor)).to.equal(true);
    expect(await c.receiptMinter.hasRole(roleHash("ATTESTOR_ROLE"), keys.attestor)).to.equal(true);
    expect((await c.registry.treasury()).toLowerCase()).to.equal(keys.treasury.toLowerCase());
  });

  it("handover: the deployer holds no role anywhere and is refused; the new holders act", async function () {
    await run("handover");
    const c = contracts();
    // Every role of every protocol contract with roles: none left with the deployer.
    const held: string[] = [];
    for (const [name, contract] of Object.entries(c) as [string, RoleContract][]) {
      for (const role of rolesOf(contract)) {
        if (await contract.hasRole(roleHash(role), keys.deployer)) held.push(`${role} on ${name}`);
      }
    }
    expect(held, "roles the deployer still holds").to.deep.equal([]);
    expect(rolesOf(c.humanOverride)).to.include.members(["DEFAULT_ADMIN_ROLE", "GUARDIAN_ROLE"]);
    expect(ROLE_NAMES).to.include("DEFAULT_ADMIN_ROLE");
    const admin = roleHash("DEFAULT_ADMIN_ROLE");
    for (const name of ["token", "registry", "constitution", "marketplace", "receiptMinter", "agentVotes"] as const)
      expect(await c[name].hasRole(admin, addresses.timelock), `timelock administers ${name}`).to.equal(true);
    expect(await c.humanOverride.hasRole(admin, keys.overseer)).to.equal(true);
    expect(await c.timelock.hasRole(admin, keys.deployer)).to.equal(false);

    // The deployer's own key, straight to the contracts: every call it made at deployment time now reverts.
    const deployer = new Wallet(devAccount(0).privateKey, provider);
    const refused = async (label: string, call: () => Promise<unknown>) => {
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      expect(error, `${label} went through`).to.be.instanceOf(Error);
      expect((error as Error).message, label).to.match(/AccessControlUnauthorizedAccount/);
    };
    const as = {
      registry: c.registry.connect(deployer),
      humanOverride: c.humanOverride.connect(deployer),
      token: c.token.connect(deployer),
      marketplace: c.marketplace.connect(deployer),
    };
    await refused("setMinStake", () => as.registry.setMinStake.staticCall(1n));
    await refused("registry grantRole", () =>
      as.registry.grantRole.staticCall(roleHash("SLASHER_ROLE"), keys.deployer),
    );
    await refused("humanOverride grantRole", () =>
      as.humanOverride.grantRole.staticCall(roleHash("GUARDIAN_ROLE"), keys.deployer),
    );
    await refused("emergencyStop", () => as.humanOverride.emergencyStop.staticCall("no"));
    await refused("token grantRole", () => as.token.grantRole.staticCall(roleHash("ATTESTOR_ROLE"), keys.deployer));
    await refused("marketplace grantRole", () =>
      as.marketplace.grantRole.staticCall(roleHash("VALIDATOR_ROLE"), keys.deployer),
    );

    // The walkthrough's own check: the tasks refuse the deployer, naming the role; the overseer appoints.
    const checked = await run("check");
    const said = (checked.stdout + checked.stderr).toLowerCase(); // addresses: checksummed by the tasks
    const deployerAddress = deployer.address.toLowerCase();
    expect(said).to.contain(`${deployerAddress} does not hold default_admin_role on registry`);
    expect(said).to.contain(`${deployerAddress} does not hold default_admin_role on humanoverride`);
    expect(said).to.contain(`granted guardian_role on humanoverride to ${keys.operator.toLowerCase()}`);
    expect(said).to.contain(`revoked guardian_role on humanoverride from ${keys.operator.toLowerCase()}`);
    expect(await c.humanOverride.hasRole(roleHash("GUARDIAN_ROLE"), keys.operator)).to.equal(false);
  });

  it("funding: the attestor's receipts mint the agents' stake", async function () {
    const funded = await run("fund");
    const c = contracts();
    expect(await c.token.balanceOf(keys.provider)).to.equal(2500n * AITBC);
    expect(await c.token.balanceOf(keys.keeper)).to.equal(2500n * AITBC);
    expect(funded.stdout).to.match(/wallet +2500\.0 AITBC/);
  });

  it("daemons: the provider and the keeper start from keystores, register with the operator and stake", async function () {
    await run("provider");
    await run("keeper");
    const c = contracts();
    for (const name of ["provider", "keeper"] as const) {
      const id = await c.registry.agentIdOf(keys[name]);
      expect(id, `${name} registered`).to.be.greaterThan(0n);
      const agent = await c.registry.getAgent(id);
      expect(agent.operator.toLowerCase()).to.equal(keys.operator.toLowerCase());
      expect(agent.stake).to.equal(2000n * AITBC);
    }
  });

  it("governance in real time: propose, the keeper votes by policy, queue, execute through the timelock", async function () {
    const c = contracts();
    expect(await c.registry.minStake()).to.equal(1000n * AITBC);
    const governed = await run("governance");
    expect(await c.registry.minStake()).to.equal(1500n * AITBC);
    expect(governed.stdout).to.match(/: executed/);
    const keeperLog = readFileSync(path.join(sandbox.home, "aitbc-ops", "keeper.log"), "utf8");
    expect(keeperLog).to.match(/min-stake-range/); // the keeper voted by its rule
  });

  it("day to day: the guardian freezes and unfreezes; the daemons stop on SIGTERM", async function () {
    const guarded = await run("guardian");
    expect(guarded.stdout).to.contain("rehearsal");
    const c = contracts();
    expect(await c.humanOverride.isFrozen(keys.provider)).to.equal(false);
    const events = await c.humanOverride.queryFilter(c.humanOverride.filters.AgentFrozen());
    expect(events.map((e) => e.args[0].toLowerCase())).to.include(keys.provider.toLowerCase());
    await run("stop");
    for (const name of ["provider", "keeper"]) {
      const pid = Number(readFileSync(path.join(sandbox.home, "aitbc-ops", `${name}.pid`), "utf8"));
      const deadline = Date.now() + 20_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(alive(pid), `${name} stopped`).to.equal(false);
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
