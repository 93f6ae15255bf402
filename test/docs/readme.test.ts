/**
 * The README's walkthroughs run as written: its marked shell blocks (the task example; the workflow example on a
 * provider node and a keeper; governance from proposal to execution and a veto) in order, by bash, from a sandbox
 * of the repository (test/helpers/docs.ts) against a separate `hardhat node` process (chain 31337, the README's
 * `--network localhost`, on a free port). The chain is checked after each block.
 *
 * The daemons are started as the README's Daemons block starts them, each command in a process of its own (a
 * reader's terminal), with their example configs. What the test supplies, as a reader's environment would: the
 * node's URL (`AITBC_RPC_URLS`), free ports for the provider and the keeper (`AITBC_PROVIDER_PORT`,
 * `AITBC_KEEPER_PORT`: a reader's own daemons may hold 8600 and 8700) and a home folder for their data directories.
 * They are stopped once the workflow example is done, before governance.
 */
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider } from "ethers";

import { readAddresses, type Addresses } from "../../protocol/addresses.js";
import { devAccount } from "../../scripts/lib/devnet.js";
import { roleHash } from "../../scripts/lib/roles.js";
import {
  AgentRegistry__factory,
  AIToken__factory,
  AITBCGovernor__factory,
  Workflows__factory,
} from "../../typechain-types/index.js";
import {
  docBlocksById,
  makeSandbox,
  readerEnv,
  freePort,
  runBlock,
  startNode,
  startTerminals,
  type Node,
  type Sandbox,
  type Terminal,
} from "../helpers/docs.js";

const PAGE = "README.md";
const RUNNER = "test/docs/readme.test.ts";
const AITBC = 10n ** 18n;

describe("README walkthroughs, run as written on a hardhat node process", function () {
  this.timeout(1_200_000);
  const blocks = docBlocksById(PAGE, RUNNER, ["tasks", "fund-daemons", "workflow", "governance", "daemons"]);
  let node: Node;
  let sandbox: Sandbox;
  let env: NodeJS.ProcessEnv;
  let daemons: Terminal[] = [];
  let provider: JsonRpcProvider;
  let addresses: Addresses;
  const timings: string[] = [];

  const run = async (id: string, timeoutMs = 900_000) => {
    const block = blocks.get(id);
    if (!block) throw new Error(`no block ${id}`);
    const result = await runBlock(PAGE, block, {
      cwd: sandbox.dir,
      env,
      stateFile: path.join(sandbox.home, ".walkthrough-state"),
      timeoutMs,
    });
    timings.push(`${id} ${(result.ms / 1000).toFixed(1)} s`);
    return result;
  };

  before(async function () {
    node = await startNode(31337);
    sandbox = makeSandbox(node.url);
    provider = new JsonRpcProvider(node.url, 31337, { staticNetwork: true });
    env = readerEnv({
      HOME: sandbox.home,
      AITBC_RPC_URLS: node.url,
      AITBC_PROVIDER_PORT: String(await freePort()),
      AITBC_KEEPER_PORT: String(await freePort()),
    });
  });

  const stopDaemons = async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    daemons = [];
  };

  after(async function () {
    await stopDaemons();
    provider.destroy();
    await node.stop();
    console.log(`      blocks: ${timings.join(", ")}`);
    sandbox.remove();
  });

  it("the task example: deploy, register agent 4, a receipt mints its AITBC, it stakes", async function () {
    const { stdout } = await run("tasks");
    addresses = readAddresses(31337, path.join(sandbox.dir, "deploy/deployments/chain-31337/deployed_addresses.json"));
    const registry = AgentRegistry__factory.connect(addresses.registry, provider);
    const agent = await registry.getAgent(1n);
    expect(agent.agent).to.equal(devAccount(4).address);
    expect(agent.operator).to.equal(devAccount(3).address);
    expect(agent.stake).to.equal(2000n * AITBC);
    expect(stdout).to.contain(`registered ${devAccount(4).address} as agent #1`);
  });

  it("the workflow example: the daemons of the Daemons block, a zk workflow run, its result read by a granted reader", async function () {
    await run("fund-daemons");
    const token = AIToken__factory.connect(addresses.token, provider);
    const [providerAgent, keeperAgent] = [devAccount(5).address, devAccount(6).address];
    expect(await token.balanceOf(providerAgent)).to.equal(2500n * AITBC);
    expect(await token.balanceOf(keeperAgent)).to.equal(2500n * AITBC);

    const daemonsBlock = blocks.get("daemons");
    if (!daemonsBlock) throw new Error("no block daemons");
    daemons = startTerminals(daemonsBlock, { cwd: sandbox.dir, env });
    expect(daemons.map((d) => d.command)).to.have.length(2);
    const [providerNode, keeper] = daemons;
    if (!providerNode || !keeper) throw new Error("the Daemons block starts a provider and a keeper");
    expect(providerNode.command).to.match(/npmw run provider/);
    expect(keeper.command).to.match(/npmw run keeper/);
    await Promise.all([
      providerNode.waitFor(/"event":"provider-ready"/, 300_000),
      keeper.waitFor(/"event":"keeper-ready"/, 300_000),
    ]);
    const registry = AgentRegistry__factory.connect(addresses.registry, provider);
    for (const [agent, operator] of [
      [providerAgent, devAccount(4).address],
      [keeperAgent, devAccount(7).address],
    ] as const) {
      const agentId = await registry.agentIdOf(agent);
      expect(agentId, `${agent} registered`).to.be.greaterThan(0n);
      const record = await registry.getAgent(agentId);
      expect(record.operator).to.equal(operator);
      expect(record.stake).to.equal(2000n * AITBC);
    }

    const { stdout } = await run("workflow");
    const workflows = Workflows__factory.connect(addresses.workflows, provider);
    const execution = await workflows.getExecution(1n);
    expect(execution.client).to.equal(devAccount(4).address);
    expect(execution.keeperId).to.equal(await registry.agentIdOf(keeperAgent));
    expect(execution.status).to.equal(3n); // Completed
    const steps = await workflows.queryFilter(workflows.filters.StepRecorded(1n));
    expect(steps.map((e) => Number(e.args.step)).sort()).to.deep.equal([0, 1, 2, 3, 4]);
    expect(steps.every((e) => e.args.provider === providerAgent)).to.equal(true);
    expect(await workflows.queryFilter(workflows.filters.TranscriptChunkProven(1n))).to.have.length(1);
    // The result, printed twice: at the end of `workflow run` (the client) and by `workflow result` (account 9).
    expect(stdout.match(/virginica/g)?.length ?? 0).to.be.at.least(2);
    await stopDaemons();
  });

  it("governance: handover, propose, vote, queue and execute over `chain advance`; a guardian vetoes", async function () {
    const { stdout } = await run("governance");
    const registry = AgentRegistry__factory.connect(addresses.registry, provider);
    expect(await registry.minStake()).to.equal(1500n * AITBC);
    expect(await registry.hasRole(roleHash("DEFAULT_ADMIN_ROLE"), addresses.timelock)).to.equal(true);
    expect(await registry.hasRole(roleHash("DEFAULT_ADMIN_ROLE"), devAccount(0).address)).to.equal(false);
    const governor = AITBCGovernor__factory.connect(addresses.governor, provider);
    const created = await governor.queryFilter(governor.filters.ProposalCreated());
    expect(created).to.have.length(2);
    expect(await governor.state(created[0]?.args.proposalId ?? 0n)).to.equal(7n); // Executed
    expect(await governor.state(created[1]?.args.proposalId ?? 0n)).to.equal(2n); // Canceled (vetoed)
    expect(stdout).to.match(/: executed/);
    expect(stdout).to.contain(`${devAccount(4).address} (agent #1)`); // gov power --account 1
  });
});
