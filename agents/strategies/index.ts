/**
 * The one place that turns a configured strategy into a Strategy (`strategy.kind` in the agent's config). A new
 * strategy is a class implementing agents/strategy.ts's Strategy, and a case here (docs/agents.md).
 */
import { randomInt } from "node:crypto";

import type { AgentStrategy, Strategy } from "../strategy.js";
import type { StrategyConfig } from "../config.js";
import { FixedPriceStrategy } from "./fixed-price.js";
import { MarketMakerStrategy } from "./market-maker.js";
import { ModelPolicyStrategy } from "./model-policy.js";
import { ThompsonPriceStrategy } from "./thompson-price.js";

/** The synchronous strategies (what the controlled market and the simulation run). */
export function createStrategy(config: StrategyConfig): Strategy {
  switch (config.kind) {
    case "fixed-price":
      return new FixedPriceStrategy(config.price);
    case "thompson-price":
      return new ThompsonPriceStrategy({
        arms: config.arms,
        seed: config.seed ?? randomInt(2 ** 31),
        learning: config.learning,
      });
    case "market-maker":
      return new MarketMakerStrategy(config);
    case "model-policy":
      throw new Error(
        "strategy.kind: model-policy decides asynchronously; only an agent runs it (createAgentStrategy)",
      );
  }
}

/** What an agent runs: any strategy, the model policy included. */
export function createAgentStrategy(config: StrategyConfig, env: NodeJS.ProcessEnv): AgentStrategy {
  return config.kind === "model-policy" ? new ModelPolicyStrategy(config, env) : createStrategy(config);
}
