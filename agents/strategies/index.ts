/**
 * The one place that turns a configured strategy into a Strategy (`strategy.kind` in the agent's config). A new
 * strategy is a class implementing agents/strategy.ts's Strategy, and a case here (docs/agents.md).
 */
import { randomInt } from "node:crypto";

import type { Strategy } from "../strategy.js";
import type { StrategyConfig } from "../config.js";
import { FixedPriceStrategy } from "./fixed-price.js";
import { MarketMakerStrategy } from "./market-maker.js";
import { ModelPolicyStrategy } from "./model-policy.js";
import { ThompsonPriceStrategy } from "./thompson-price.js";

export function createStrategy(config: StrategyConfig, env: NodeJS.ProcessEnv = process.env): Strategy {
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
      return new ModelPolicyStrategy(config, env);
  }
}
