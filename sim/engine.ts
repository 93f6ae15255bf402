/**
 * The loop: deploy, set the population up, then for each simulated day, in this order:
 *
 *   1. the clock moves to the day's start; scheduled events begin (outages, price shocks, proposals)
 *   2. governance moves on (voters vote on active proposals; passed ones are queued, then executed)
 *   3. the keeper's upkeep: missed deadlines claimed (slash), disputes resolved by the guardian
 *   4. clients post the day's demand; attackers make their own moves
 *   5. providers bid as their strategies decide (in a seeded order)
 *   6. (an emergency stop, if scheduled: stop, time passes, resume)
 *   7. the bidding deadline passes; self-awards, then the keeper auto-awards by the contract's rule; unawarded
 *      workloads are cancelled by their clients
 *   8. providers deliver signed results; clients accept or reject
 *   9. the chain's events of the day are read back: settlements and failures teach the strategies; settled
 *      receipts are attested and minted (the token's only supply)
 *  10. the day's figures (metrics.ts) are recorded from chain reads
 *
 * Everything random comes from one seeded source (the World's), so a seed fixes the run.
 */
import { id, type Log } from "ethers";

import { receiptDomain, signReceipt } from "../scripts/lib/receipts.js";
import { ProviderAgent, CompetitorBook } from "./agents/provider.js";
import { ClientAgent } from "./agents/client.js";
import { DAY, GENESIS, SimChain } from "./chain.js";
import { gini, mean, nakamoto, type DayRow } from "./metrics.js";
import type { SimAgent } from "./agent.js";
import { createPopulation } from "./population.js";
import type { EventSpec, Scenario } from "./scenario.js";
import { aitbc, scale, World, type DayWorkload } from "./world.js";

export interface RunOptions {
  seed: number;
  days: number;
  /** Rescale the honest population to about this many agents. */
  agents?: number;
  /** Leave the attackers out (the baseline an attack's harm is measured against). */
  withoutAttackers?: boolean;
  log?: (line: string) => void;
}

export interface AgentRow {
  name: string;
  kind: string;
  group: string;
  role: string;
  /**
   * AITBC: wealth change (balance, stake, pending withdrawal), gas at the scenario's price, compute, P&L (wealth
   * change − gas − compute, plus for a client the value of the work settled to it: units × its ceiling).
   */
  wealthChange: number;
  gas: number;
  compute: number;
  pnl: number;
}

export interface Verdict {
  attack: string;
  kind: string;
  /** AITBC; negative: the protocol held. */
  attackerProfit: number;
  /** Honest agents' P&L in the same run without the attackers, minus theirs with them (AITBC; > 0: harmed). */
  honestHarm: number;
  line: string;
}

export interface RunResult {
  scenario: string;
  seed: number;
  days: number;
  agentCount: number;
  series: DayRow[];
  agents: AgentRow[];
  verdicts: Verdict[];
  invariants: { name: string; ok: boolean; detail: string }[];
  events: string[];
  perf: {
    seconds: number;
    transactions: number;
    failedTransactions: number;
    txPerSecond: number;
    daysPerMinute: number;
  };
}

interface Tracked {
  workload: DayWorkload;
  provider?: ProviderAgent;
  executionDeadline?: bigint;
  awardedAt?: bigint;
}

interface Proposal {
  id: bigint;
  targets: string[];
  values: bigint[];
  calldatas: string[];
  descriptionHash: string;
  label: string;
  done: boolean;
}

/** Runs `scenario` once; with attackers, also the baseline without them for the verdicts. */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const result = await runOnce(scenario, options);
  if (scenario.attackers.length === 0 || options.withoutAttackers) return result;
  const baseline = await runOnce(scenario, { ...options, withoutAttackers: true, log: undefined });
  const honest = (r: RunResult) => r.agents.filter((a) => a.role === "honest").reduce((s, a) => s + a.pnl, 0);
  const harm = honest(baseline) - honest(result);
  // With a proposal in the scenario, what became of it with the attackers and without them (a capture shows here,
  // whatever it cost).
  const governance = scenario.events.some((e) => e.kind === "proposal")
    ? `; proposals with the attack: ${proposalOutcomes(result.events)}, without: ${proposalOutcomes(baseline.events)}`
    : "";
  result.verdicts = scenario.attackers.map((spec) => {
    const profit = result.agents.filter((a) => a.group === spec.name).reduce((s, a) => s + a.pnl, 0);
    const held = profit < 0 ? "the protocol held" : "THE ATTACK PAID";
    const line =
      `verdict ${spec.name} (${spec.kind}): attacker profit ${profit.toFixed(3)} AITBC (${held}); ` +
      `harm to honest agents ${harm.toFixed(3)} AITBC${governance}`;
    return { attack: spec.name, kind: spec.kind, attackerProfit: profit, honestHarm: harm, line };
  });
  return result;
}

/** Each proposal's last state in a run's event log: "made" (still voting), defeated, passed (queued), executed. */
function proposalOutcomes(events: readonly string[]): string {
  const last = new Map<string, string>();
  for (const line of events) {
    const m = /(proposal "[^"]*") (made|passed|executed|defeated|cancelled|expired)/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) last.set(m[1], m[2]);
  }
  return last.size === 0 ? "none made" : [...last].map(([label, state]) => `${label} ${state}`).join(", ");
}

async function runOnce(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const { protocol } = scenario;
  const chain = await SimChain.start({
    AITBCCore: { minStake: protocol.minStake },
    AITBCProtocol: {
      protocolFeeBps: BigInt(protocol.protocolFeeBps),
      timeoutSlashBps: BigInt(protocol.timeoutSlashBps),
      challengeWindow: BigInt(protocol.challengeWindowHours) * 3_600n,
    },
  });
  try {
    const world = new World(chain, options.withoutAttackers ? { ...scenario, attackers: [] } : scenario, options.seed);
    const population = createPopulation(world.scenario, options.seed, options.agents);
    const keeper = await chain.wallet("keeper");
    for (const agent of population.all) await agent.setup(world);
    const providers = population.all.filter((a): a is ProviderAgent => a instanceof ProviderAgent);
    const byAgentId = new Map(providers.map((p) => [p.agentId, p]));
    const startWealth = new Map<SimAgent, bigint>();
    for (const agent of population.all) startWealth.set(agent, await world.wealth(agent.addresses()));
    const startGas = new Map(population.all.map((a) => [a, world.gasCost(a.addresses())]));
    const clientsByAddress = new Map(
      population.all.filter((a): a is ClientAgent => a.kind === "client").map((c) => [c.wallet.address, c]),
    );
    const competitors = new CompetitorBook();
    const tracked = new Map<bigint, Tracked>();
    const proposals: Proposal[] = [];
    const eventLog: string[] = [];
    const series: DayRow[] = [];
    const { marketplace, registry, token, agentVotes, humanOverride, governor } = world.p;
    const treasury = await registry.treasury();
    let txBefore = chain.txCount;
    let gasBefore = 0n;

    for (let day = 0; day < options.days; day++) {
      world.day = day;
      await chain.advanceTo(GENESIS + BigInt(day) * DAY);
      const fromBlock = (await chain.connection.ethers.provider.getBlockNumber()) + 1;
      const todays = world.scenario.events.filter((e) => e.day === day);
      applyConditions(world, day);
      for (const e of todays) eventLog.push(`day ${day}: ${describe(e)}`);

      // 1-2. governance
      for (const e of todays) {
        if (e.kind === "proposal") {
          const proposer = providers.find((p) => p.role === "honest");
          if (proposer !== undefined) {
            const made = await propose(world, proposer, e.protocolFeeBps, day);
            if (made !== undefined) proposals.push(made);
            eventLog.push(`day ${day}: ${made === undefined ? "the proposal was refused" : `${made.label} made`}`);
          }
        }
      }
      for (const proposal of proposals.filter((x) => !x.done)) {
        const state = await governor.state(proposal.id);
        if (state === 1n) {
          for (const p of providers) {
            const support = p.options.stance === "for" ? 1 : p.options.stance === "against" ? 0 : 2;
            if (await governor.hasVoted(proposal.id, p.wallet.address)) continue;
            await chain.send(p.wallet.address, () => governor.connect(p.wallet).castVote(proposal.id, support));
          }
        } else if (state === 4n) {
          const r = await chain.send(keeper.address, () => governor.connect(keeper)["queue(uint256)"](proposal.id));
          eventLog.push(`day ${day}: ${proposal.label} passed, ${r.ok ? "queued" : `not queued (${r.error})`}`);
        } else if (state === 5n) {
          const r = await chain.send(keeper.address, () => governor.connect(keeper)["execute(uint256)"](proposal.id));
          if (r.ok) {
            proposal.done = true;
            eventLog.push(`day ${day}: ${proposal.label} executed (fee now ${await marketplace.protocolFeeBps()} bps)`);
          }
        } else if (state === 3n || state === 2n || state === 6n) {
          proposal.done = true;
          eventLog.push(
            `day ${day}: ${proposal.label} ${["", "", "cancelled", "defeated", "", "", "expired"][Number(state)]}`,
          );
        }
      }

      // 3. upkeep: missed deadlines, disputes
      for (const [workloadId, t] of tracked) {
        const w = await marketplace.getWorkload(workloadId);
        const status = Number(w.status);
        if (status === 2 && w.executionDeadline < chain.clock) {
          await chain.send(keeper.address, () => marketplace.connect(keeper).claimTimeout(workloadId));
        } else if (status === 4) {
          await chain.send(chain.roles.guardian.address, () =>
            marketplace.connect(chain.roles.guardian).resolveDispute(workloadId, true),
          );
        } else if (status === 3 && t.provider !== undefined) {
          const p = t.provider;
          await chain.send(p.wallet.address, () => marketplace.connect(p.wallet).finalize(workloadId));
        }
      }

      // 4. demand and the attackers' moves
      world.posted = [];
      for (const demand of world.scenario.demand) {
        const burst = demand.bursts.filter((b) => b.day === day).reduce((m, b) => m * b.multiplier, 1);
        const expected = demand.workloadsPerDay * burst;
        const count = Math.floor(expected) + (world.random.next() < expected - Math.floor(expected) ? 1 : 0);
        const ceilingFactor = world.ceiling.get(demand.service) ?? 1;
        for (let i = 0; i < count; i++) {
          const client = population.clients[world.random.int(0, population.clients.length - 1)] as ClientAgent;
          const units = BigInt(world.random.int(demand.units[0], demand.units[1]));
          const ceiling = world.random.uniform(demand.maxPricePerUnit[0], demand.maxPricePerUnit[1]) * ceilingFactor;
          const w = await client.post(world, demand.service, units, scale(10n ** 18n, ceiling));
          if (w !== undefined) world.posted.push(w);
        }
      }
      for (const attacker of population.attackers) await attacker.act?.(world, day);
      const attackerClients = population.attackers
        .flatMap((a) => a.members)
        .filter((m): m is ClientAgent => m.kind === "client");
      const today = world.posted;
      for (const w of today) tracked.set(w.workloadId, { workload: w });

      // 5. bids, in a seeded order
      await competitors.refresh(world, providers);
      for (const p of world.random.shuffle(providers)) await p.bid(world, world.posted, competitors);

      // 6. an emergency stop in the middle of the day's auctions
      for (const e of todays) {
        if (e.kind !== "emergency-stop") continue;
        const g = chain.roles.guardian;
        await chain.send(g.address, () => humanOverride.connect(g).emergencyStop("aitbc-sim: scheduled stop"));
        await chain.advanceTo(chain.clock + BigInt(e.hours) * 3_600n);
        await chain.send(g.address, () => humanOverride.connect(g).resume());
      }

      // 7. awards
      const lastDeadline = today.reduce((m, w) => (w.bidDeadline > m ? w.bidDeadline : m), 0n);
      await chain.advanceTo(lastDeadline + 1n);
      for (const attacker of population.attackers) await attacker.awardOwn?.(world);
      for (const w of today) {
        const current = await marketplace.getWorkload(w.workloadId);
        if (Number(current.status) === 1 && (await marketplace.getBids(w.workloadId)).length > 0) {
          await chain.send(keeper.address, () => marketplace.connect(keeper).autoAward(w.workloadId));
        }
        const after = await marketplace.getWorkload(w.workloadId);
        const t = tracked.get(w.workloadId) as Tracked;
        if (Number(after.status) === 2) {
          const winner = byAgentId.get(after.providerId);
          t.provider = winner;
          t.executionDeadline = after.executionDeadline;
          for (const p of providers) p.awarded(w.workloadId, after.providerId);
        } else {
          for (const p of providers) p.unawarded(w.workloadId);
          const client = population.all.find((a) => a.addresses()[0] === w.client) as ClientAgent | undefined;
          if (client !== undefined && Number(after.status) === 1) {
            await chain.send(client.wallet.address, () =>
              marketplace.connect(client.wallet).cancelWorkload(w.workloadId),
            );
            client.mine.delete(w.workloadId);
          }
          tracked.delete(w.workloadId);
        }
      }

      // 8. delivery and review
      for (const p of providers) await p.deliver(world);
      for (const c of [...population.clients, ...attackerClients]) await c.review(world);

      // 9. what the chain decided today
      const toBlock = await chain.connection.ethers.provider.getBlockNumber();
      const logs: Log[] = await chain.connection.ethers.provider.getLogs({
        address: await marketplace.getAddress(),
        fromBlock,
        toBlock,
      });
      const parsed = logs.map((l) => ({ log: l, event: marketplace.interface.parseLog(l) }));
      const counts = { bids: 0, awarded: 0, failures: 0, disputes: 0, settled: 0, slashed: 0n };
      const awardHours: number[] = [];
      const volume = new Map<string, { paid: bigint; units: bigint }>();
      const receipts: bigint[] = [];
      for (const { log, event } of parsed) {
        if (event === null) continue;
        const workloadId = event.args[0] as bigint;
        const t = tracked.get(workloadId);
        switch (event.name) {
          case "BidPlaced":
            counts.bids += 1;
            break;
          case "WorkloadAwarded": {
            counts.awarded += 1;
            const block = await chain.connection.ethers.provider.getBlock(log.blockNumber);
            if (t !== undefined && block !== null)
              awardHours.push(Number(BigInt(block.timestamp) - t.workload.postedAt) / 3600);
            break;
          }
          case "WorkloadSettled": {
            counts.settled += 1;
            const paid = event.args[2] as bigint;
            const fee = event.args[3] as bigint;
            if (t !== undefined) {
              const v = volume.get(t.workload.service) ?? { paid: 0n, units: 0n };
              v.paid += paid + fee;
              v.units += t.workload.units;
              volume.set(t.workload.service, v);
              t.provider?.settled(workloadId, paid, 0n, world);
              const client = clientsByAddress.get(t.workload.client);
              if (client !== undefined) client.valueReceived += t.workload.units * t.workload.maxPricePerUnit;
              tracked.delete(workloadId);
            }
            receipts.push(workloadId);
            break;
          }
          case "AssignmentFailed": {
            counts.failures += 1;
            const slashed = event.args[2] as bigint;
            counts.slashed += slashed;
            t?.provider?.settled(workloadId, 0n, slashed, world);
            tracked.delete(workloadId);
            break;
          }
          case "ResultRejected":
            counts.disputes += 1;
            break;
          case "DisputeExpired":
            tracked.delete(workloadId);
            break;
        }
      }
      await mintReceipts(world, receipts, byAgentId);

      // 10. the day's figures
      const reputations: number[] = [];
      const power: number[] = [];
      for (const p of providers) {
        reputations.push(Number(await registry.reputationOf(p.agentId)));
        power.push(aitbc(await agentVotes.getVotes(p.wallet.address)));
      }
      const gasTotal = [...chain.gasBySender.values()].reduce((s, g) => s + g, 0n);
      const row: DayRow = {
        day,
        posted: today.length,
        awarded: counts.awarded,
        fillRate: today.length === 0 ? 0 : counts.awarded / today.length,
        bidsPerWorkload: today.length === 0 ? 0 : counts.bids / today.length,
        hoursToAward: mean(awardHours),
        settled: counts.settled,
        failures: counts.failures,
        disputes: counts.disputes,
        slashed: aitbc(counts.slashed),
        reputationGini: gini(reputations),
        reputationNakamoto: nakamoto(reputations),
        votingGini: gini(power),
        votingNakamoto: nakamoto(power),
        tokenSupply: aitbc(await token.totalSupply()),
        treasury: aitbc(await token.balanceOf(treasury)),
        escrow: aitbc(await marketplace.totalEscrowed()),
        gasPerDay: Number(gasTotal - gasBefore),
        txPerDay: chain.txCount - txBefore,
      };
      gasBefore = gasTotal;
      txBefore = chain.txCount;
      for (const s of world.scenario.services) {
        const v = volume.get(s.name);
        row[`volume.${s.name}`] = aitbc(v?.paid ?? 0n);
        row[`price.${s.name}`] = v === undefined || v.units === 0n ? 0 : aitbc(v.paid / v.units);
      }
      for (const agent of population.all) {
        row[`pnl.${agent.name}`] = aitbc(await pnlOf(world, agent, startWealth, startGas));
      }
      series.push(row);
      eventLog.push(...world.notes.splice(0));
      log(
        `day ${day}: posted ${row.posted}, awarded ${row.awarded}, settled ${row.settled}, failures ${row.failures}, ` +
          `bids/workload ${(row.bidsPerWorkload ?? 0).toFixed(2)}, supply ${(row.tokenSupply ?? 0).toFixed(1)}`,
      );
    }

    const agents: AgentRow[] = [];
    for (const agent of population.all) {
      const wealthChange = (await world.wealth(agent.addresses())) - (startWealth.get(agent) ?? 0n);
      const gas = world.gasCost(agent.addresses()) - (startGas.get(agent) ?? 0n);
      const compute = computeOf(agent);
      agents.push({
        name: agent.name,
        kind: agent.kind,
        group: agent.group,
        role: agent.role,
        wealthChange: aitbc(wealthChange),
        gas: aitbc(gas),
        compute: aitbc(compute),
        pnl: aitbc(wealthChange - gas - compute + valueOf(agent)),
      });
    }
    const seconds = (Date.now() - started) / 1000;
    return {
      scenario: scenario.name,
      seed: options.seed,
      days: options.days,
      agentCount: population.all.length,
      series,
      agents,
      verdicts: [],
      invariants: await invariants(world),
      events: eventLog,
      perf: {
        seconds,
        transactions: chain.txCount,
        failedTransactions: chain.failedTx,
        txPerSecond: chain.txCount / seconds,
        daysPerMinute: (options.days * 60) / seconds,
      },
    };
  } finally {
    await chain.close();
  }
}

/** Outages and price shocks in force on `day`. */
function applyConditions(world: World, day: number): void {
  world.offline.clear();
  world.failing.clear();
  world.ceiling.clear();
  world.cost.clear();
  for (const e of world.scenario.events) {
    if (e.kind === "outage" && day === e.day) world.failing.add(e.agent);
    if (e.kind === "outage" && day > e.day && day <= e.day + e.days) world.offline.add(e.agent);
    if (e.kind === "price-shock" && day >= e.day && day < e.day + e.days) {
      world.ceiling.set(e.service, (world.ceiling.get(e.service) ?? 1) * e.ceilingMultiplier);
      world.cost.set(e.service, (world.cost.get(e.service) ?? 1) * e.costMultiplier);
    }
  }
}

function describe(e: EventSpec): string {
  switch (e.kind) {
    case "outage":
      return `${e.agent} goes down after the auctions, for ${e.days} day(s)`;
    case "emergency-stop":
      return `emergency stop for ${e.hours} h, then resume`;
    case "proposal":
      return `governance proposal: protocol fee to ${e.protocolFeeBps} bps`;
    case "price-shock":
      return `price shock on ${e.service} for ${e.days} day(s): ceilings ×${e.ceilingMultiplier}, costs ×${e.costMultiplier}`;
  }
}

/** The attestor vouches for each settled workload's receipt; its provider mints the reward (supply grows). */
async function mintReceipts(world: World, workloadIds: readonly bigint[], byAgentId: Map<bigint, ProviderAgent>) {
  const { marketplace, token } = world.p;
  const domain = await receiptDomain(token);
  for (const workloadId of workloadIds) {
    const data = await marketplace.receiptOf(workloadId);
    const provider = byAgentId.get((await marketplace.getWorkload(workloadId)).providerId);
    // A receipt rewards the units its protocol fee backs (units × rate <= fee): a small fee backs none.
    if (provider === undefined || data.units === 0n) continue;
    const receipt = {
      receiptId: data.receiptId,
      provider: data.provider,
      client: data.client,
      units: data.units,
      workHash: data.workHash,
      resultHash: data.resultHash,
      deadline: world.chain.clock + 7n * DAY,
    };
    const signature = await signReceipt(world.chain.roles.attestor, domain, receipt);
    await world.chain.send(provider.wallet.address, () =>
      token.connect(provider.wallet).mintFromReceipt(receipt, signature),
    );
  }
}

async function pnlOf(
  world: World,
  agent: SimAgent,
  startWealth: Map<SimAgent, bigint>,
  startGas: Map<SimAgent, bigint>,
): Promise<bigint> {
  const wealth = (await world.wealth(agent.addresses())) - (startWealth.get(agent) ?? 0n);
  const gas = world.gasCost(agent.addresses()) - (startGas.get(agent) ?? 0n);
  return wealth - gas - computeOf(agent) + valueOf(agent);
}

/** A provider's cost of the work it ran. */
function computeOf(agent: SimAgent): bigint {
  return agent instanceof ProviderAgent ? agent.computeCost : 0n;
}

/**
 * An honest client's value of the work settled to it (its P&L is its surplus). An attacker's own client gets no
 * value from work it bought from itself: its profit is what the chain moved.
 */
function valueOf(agent: SimAgent): bigint {
  return agent instanceof ClientAgent && agent.role === "honest" ? agent.valueReceived : 0n;
}

/** A governance proposal to set the marketplace's protocol fee, made by `proposer`. */
async function propose(world: World, proposer: ProviderAgent, feeBps: number, day: number) {
  const { marketplace, governor } = world.p;
  const target = await marketplace.getAddress();
  const calldata = marketplace.interface.encodeFunctionData("setParameters", [
    BigInt(feeBps),
    await marketplace.challengeWindow(),
    await marketplace.timeoutSlashBps(),
  ]);
  const description = `aitbc-sim day ${day}: protocol fee to ${feeBps} bps`;
  const r = await world.chain.send(proposer.wallet.address, () =>
    governor.connect(proposer.wallet).propose([target], [0n], [calldata], description),
  );
  if (!r.ok) return undefined;
  const descriptionHash = id(description);
  const proposalId = await governor.hashProposal([target], [0n], [calldata], descriptionHash);
  return {
    id: proposalId,
    targets: [target],
    values: [0n],
    calldatas: [calldata],
    descriptionHash,
    label: `proposal "fee to ${feeBps} bps"`,
    done: false,
  };
}

/** The books must balance at the end: the marketplace holds exactly its escrow; the registry its stakes. */
async function invariants(world: World) {
  const { marketplace, token, registry } = world.p;
  const market = await token.balanceOf(await marketplace.getAddress());
  const escrow = await marketplace.totalEscrowed();
  const held = await token.balanceOf(await registry.getAddress());
  const staked = (await registry.totalStaked()) + (await registry.totalPending());
  return [
    { name: "marketplace balance = escrow", ok: market === escrow, detail: `${aitbc(market)} vs ${aitbc(escrow)}` },
    { name: "registry balance = stakes + pending", ok: held === staked, detail: `${aitbc(held)} vs ${aitbc(staked)}` },
  ];
}
