/**
 * The population: a scenario's list of agent kinds, each with its strategy, turned into simulated agents. This is
 * the one place a new agent kind plugs in (validator, market maker, arbitrageur, risk manager, as they land in
 * agents/): a schema in scenario.ts's `memberSchema`, a class implementing SimAgent (agent.ts) in sim/agents/, and a case in
 * {createMember}; the engine calls the phases a kind implements (see engine.ts) and the metrics add up its P&L.
 */
import { createStrategy } from "../agents/strategies/index.js";
import { createAttacker, type Attacker } from "./agents/attackers.js";
import { ClientAgent } from "./agents/client.js";
import { ProviderAgent } from "./agents/provider.js";
import type { MemberSpec, Scenario } from "./scenario.js";
import type { SimAgent } from "./agent.js";

export interface Population {
  providers: ProviderAgent[];
  clients: ClientAgent[];
  attackers: Attacker[];
  /** Every agent, honest and attacking, in creation order. */
  all: SimAgent[];
}

/**
 * Builds the population. `agents` (the CLI's --agents) rescales the honest groups' counts so they add up to about
 * that many agents (each group keeps at least one). Strategy seeds derive from `seed` and the agent's index.
 */
export function createPopulation(scenario: Scenario, seed: number, agents?: number): Population {
  const total = scenario.population.reduce((s, m) => s + m.count, 0);
  const factor = agents === undefined ? 1 : agents / total;
  const providers: ProviderAgent[] = [];
  const clients: ClientAgent[] = [];
  let index = 0;
  for (const member of scenario.population) {
    const count = Math.max(1, Math.round(member.count * factor));
    for (let i = 0; i < count; i++) {
      index += 1;
      const agent = createMember(member, `${member.name}-${i}`, seed * 1_000 + index);
      if (agent instanceof ProviderAgent) providers.push(agent);
      else clients.push(agent);
    }
  }
  const attackers = scenario.attackers.map((spec) => createAttacker(spec, scenario.protocol.minStake));
  return { providers, clients, attackers, all: [...providers, ...clients, ...attackers.flatMap((a) => a.members)] };
}

function createMember(member: MemberSpec, name: string, strategySeed: number): ProviderAgent | ClientAgent {
  switch (member.kind) {
    case "provider":
      return new ProviderAgent({
        name,
        group: member.name,
        role: "honest",
        services: member.services,
        capacity: member.capacity,
        stake: member.stake,
        dailyVolume: member.dailyVolume,
        // The runtime's own factory: the same strategies an `aitbc agent` runs.
        strategy: createStrategy(
          member.strategy.kind === "thompson-price"
            ? { ...member.strategy, seed: member.strategy.seed ?? strategySeed }
            : member.strategy,
        ),
        reliability: member.reliability,
        stance: member.stance,
      });
    case "client":
      return new ClientAgent({
        name,
        group: member.name,
        role: "honest",
        budget: member.budget,
        rejectRate: member.rejectRate,
      });
  }
}
