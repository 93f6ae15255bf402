/**
 * The README's walkthroughs run as written: its marked shell blocks (the task example, then governance from
 * proposal to execution and a veto) in order, by bash, from a sandbox of the repository (test/helpers/docs.ts)
 * against a separate `hardhat node` process (chain 31337, the README's `--network localhost`, on a free port).
 * The chain is checked after each block. The workflow example needs a keeper and providers running (the Daemons
 * section) and is not run here; the end-to-end tests run workflows through the daemons.
 */
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider } from "ethers";

import { readAddresses, type Addresses } from "../../protocol/addresses.js";
import { devAccount } from "../../scripts/lib/devnet.js";
import { roleHash } from "../../scripts/lib/roles.js";
import { AgentRegistry__factory, AITBCGovernor__factory } from "../../typechain-types/index.js";
import {
  docBlocksById,
  makeSandbox,
  readerEnv,
  runBlock,
  startNode,
  type Node,
  type Sandbox,
} from "../helpers/docs.js";

const PAGE = "README.md";
const RUNNER = "test/docs/readme.test.ts";
const AITBC = 10n ** 18n;

describe("README walkthroughs, run as written on a hardhat node process", function () {
  this.timeout(1_200_000);
  const blocks = docBlocksById(PAGE, RUNNER, ["tasks", "governance"]);
  let node: Node;
  let sandbox: Sandbox;
  let provider: JsonRpcProvider;
  let addresses: Addresses;
  const timings: string[] = [];

  const run = async (id: string, timeoutMs = 900_000) => {
    const block = blocks.get(id);
    if (!block) throw new Error(`no block ${id}`);
    const result = await runBlock(PAGE, block, {
      cwd: sandbox.dir,
      env: readerEnv({ HOME: sandbox.home }),
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
  });

  after(async function () {
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
