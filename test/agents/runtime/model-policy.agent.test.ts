/**
 * The model policy in a running agent, on a devnet, with the repo's OpenAI-compatible test server as the model
 * (`"strategy": { "kind": "model-policy", ... }`): a proposal within the limits is bid on chain; a proposal over the
 * rule layer's limit and a garbage answer are refused, the reason in the agent's skip line, and nothing reaches the
 * chain.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import hre from "hardhat";

import { ROLES, startDevnet, type Devnet } from "../../../scripts/lib/devnet.js";
import { agentConfig, fundClient, post, startAgent, type InProcessAgent } from "../../helpers/agent-devnet.js";
import { Upstream } from "../../helpers/upstream.js";

const AGENT = ROLES.providers[4];

describe("model policy in a running agent (devnet, OpenAI-compatible test server)", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  let upstream: Upstream;
  let agent: InProcessAgent;

  before(async function () {
    if (AGENT === undefined) throw new Error("no provider account");
    upstream = await new Upstream().start();
    devnet = await startDevnet(hre);
    await devnet.fund(AGENT.agent.address, 2000n);
    await fundClient(devnet, ROLES.client);
    const strategy = {
      kind: "model-policy",
      url: upstream.url,
      model: "pricing-model",
      timeoutMs: 2_000,
      limits: { minMarginBps: 1_000, maxPricePerUnit: "1.2" },
    };
    agent = await startAgent(devnet, "model-policy", agentConfig(devnet, AGENT, { strategy }));
  });

  after(async function () {
    await agent.close();
    await devnet.stop();
    await upstream.close();
  });

  it("bids what the model proposes within the limits", async function () {
    upstream.behavior = { content: '{"action":"bid","pricePerUnit":"0.9","reason":"undercut"}' };
    const job = await post(devnet, [agent], { op: "stats", data: [1, 2] });
    const bid = await agent.line("bid", job.workloadId);
    expect(BigInt(String(bid.price))).to.equal(parseEther("0.9"));
    const [onChain] = await devnet.protocol.marketplace.getBids(job.workloadId);
    expect(onChain?.pricePerUnit).to.equal(parseEther("0.9"));
    const asked = upstream.received.at(-1)?.body.messages as { content: string }[];
    const prompt = JSON.parse(asked[1]?.content ?? "{}") as { workload?: { id?: string } };
    expect(prompt.workload?.id).to.equal(String(job.workloadId));
  });

  it("refuses a proposal over limits.maxPricePerUnit and garbage: the reason logged, no bid on chain", async function () {
    upstream.behavior = { content: '{"action":"bid","pricePerUnit":"1.4","reason":"the client can pay 1.5"}' };
    const over = await post(devnet, [agent], { op: "stats", data: [3] });
    const refused = await agent.line("skip", over.workloadId);
    expect(refused.reason).to.equal("model-refused: price 1.4 is over limits.maxPricePerUnit 1.2");
    expect(await devnet.protocol.marketplace.getBids(over.workloadId)).to.have.length(0);

    upstream.behavior = { content: "BUY BUY BUY" };
    const garbage = await post(devnet, [agent], { op: "stats", data: [4] });
    const skipped = await agent.line("skip", garbage.workloadId);
    expect(String(skipped.reason)).to.match(/^model-garbage: not JSON/);
    expect(await devnet.protocol.marketplace.getBids(garbage.workloadId)).to.have.length(0);
  });
});
