/**
 * The agent runtime on a local chain (the second half of `npm run bench:agents`): one provider agent (fixed price,
 * in process, as `aitbc agent` wires it) on a devnet (an in-process Hardhat chain behind JSON-RPC, automining).
 *
 * - Latency: a client posts workloads one at a time; the time from the WorkloadPosted transaction mined to the
 *   agent's bid mined (the agent's `bid` line is written once the sender has the bid's receipt). The follower polls
 *   every 200 ms, so about half of that is in every figure.
 * - Throughput: a burst of workloads posted back to back; decisions per second of the agent (from the first post
 *   to its last bid: reads, strategy, safety layer, memory, bid mined), one agent.
 * - Growth: the process's heap over the burst, and the agent's whole store file after its write-ahead log is
 *   checkpointed at close, over all the workloads, each per workload and scaled to 1,000 workloads. The store holds each bid's transaction (signed, before it is
 *   broadcast), its bid row and the follower's checkpoint.
 * It prints figures with the load average (the machine may be shared); it asserts nothing.
 *
 *   npx hardhat run scripts/bench/agent-chain.ts     (AGENT_BENCH_WORKLOADS=N for the burst; default 100)
 */
import { statSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";

import hre from "hardhat";

import { agentConfig, fundClient, post, startAgent } from "../lib/agent-run.js";
import { ROLES, startDevnet } from "../lib/devnet.js";

const SEQUENTIAL = 20;
const BURST = Number(process.env.AGENT_BENCH_WORKLOADS ?? 100);

const provider = ROLES.providers[5];
if (provider === undefined) throw new Error("no provider account");
const devnet = await startDevnet(hre);
await devnet.fund(provider.agent.address, 2000n);
await fundClient(devnet, ROLES.client, 100_000n);
const config = agentConfig(devnet, provider, {
  services: [{ name: "json-stats", backend: "data", price: "1", capacity: 100_000, costPerUnit: "0.2" }],
  safety: { maxActionsPerHour: 100_000 },
});
const agent = await startAgent(devnet, "bench", config);
const store = (config as { store: { path: string } }).store.path;
const storeSize = () =>
  ["", "-wal"].reduce((n, s) => n + (statSync(store + s, { throwIfNoEntry: false })?.size ?? 0), 0);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");

try {
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const job = await post(devnet, [], { op: "stats", data: [i] }, { units: 1n });
    const posted = performance.now();
    await agent.line("bid", job.workloadId);
    latencies.push(performance.now() - posted);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  console.log(
    `WorkloadPosted mined -> bid mined, ${SEQUENTIAL} workloads one at a time: median ${pct(0.5).toFixed(0)} ms, ` +
      `p90 ${pct(0.9).toFixed(0)} ms, max ${pct(1).toFixed(0)} ms (follower poll 200 ms; load ${load()})`,
  );

  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const ids: bigint[] = [];
  for (let i = 0; i < BURST; i++)
    ids.push((await post(devnet, [], { op: "stats", data: [i] }, { units: 1n })).workloadId);
  for (const id of ids) await agent.line("bid", id, 600_000);
  const seconds = (performance.now() - t0) / 1000;
  global.gc?.();
  const heap = process.memoryUsage().heapUsed - heap0;
  await agent.close(); // its last connection checkpoints the write-ahead log into the file
  const grown = storeSize();
  const handled = SEQUENTIAL + BURST;
  console.log(
    `burst of ${BURST} workloads: ${(BURST / seconds).toFixed(1)} decisions (bids mined) per second, one agent ` +
      `(posting included; load ${load()})`,
  );
  console.log(
    `growth per 1,000 workloads: store ${((grown * 1000) / handled / 1024).toFixed(0)} KiB (the whole file over ${handled} workloads), heap ${((heap * 1000) / BURST / 1024 / 1024).toFixed(1)} MiB ` +
      `(chain and agent in one process; heap ${global.gc === undefined ? "without" : "after"} a forced GC)`,
  );
  console.log(`(store: ${path.basename(store)}; load ${load()})`);
} finally {
  await agent.close();
  await devnet.stop();
}
