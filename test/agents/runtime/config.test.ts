/**
 * The agent's configuration (agents/config.ts): the example reads; every bad field stops the start with a
 * ConfigError naming it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { loadAgentConfig, providerPart } from "../../../agents/config.js";
import { createStrategy } from "../../../agents/strategies/index.js";
import { ConfigError } from "../../../keepers/common/config.js";

const EXAMPLE = "agents/agent.example.json";

function withConfig(patch: (c: Record<string, unknown>) => void): string {
  const config = JSON.parse(JSON.stringify(loadRaw())) as Record<string, unknown>;
  patch(config);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-agent-config-")), "agent.json");
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function loadRaw(): unknown {
  return JSON.parse(readFileSync(EXAMPLE, "utf8")) as unknown;
}

describe("agents: configuration", function () {
  it("reads agents/agent.example.json: amounts as wei, defaults filled, a working strategy", function () {
    const config = loadAgentConfig({ file: EXAMPLE, env: {} });
    expect(providerPart(config).services[0]?.costPerUnit).to.equal(2n * 10n ** 17n);
    expect(config.breakers.maxSlashes).to.equal(0);
    expect(config.safety.maxActionsPerHour).to.equal(100);
    const strategy = createStrategy(providerPart(config).strategy);
    expect(strategy.name).to.equal("thompson-price");
  });

  const BAD: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    ["an empty price grid", (c) => ((c.strategy as Record<string, unknown>).arms = []), /strategy\.arms: at least one/],
    ["an unknown strategy", (c) => (c.strategy = { kind: "yolo" }), /strategy\.kind/],
    [
      "a cost at or above the listed price",
      (c) =>
        ((c.services as Record<string, unknown>[])[0] = { name: "x", backend: "data", price: "1", costPerUnit: "1" }),
      /services\[0\]\.costPerUnit: must be below the listed price/,
    ],
    [
      "an unknown backend",
      (c) => ((c.services as Record<string, unknown>[])[0] = { name: "x", backend: "gpu", price: "1" }),
      /services\[0\]\.backend/,
    ],
    ["no store", (c) => delete c.store, /store/],
    ["a negative breaker limit", (c) => (c.breakers = { maxDisputes: -1 }), /breakers\.maxDisputes/],
    ["an unknown role", (c) => (c.role = "arbiter"), /role/],
    ["a provider with another role's section", (c) => (c.validator = { services: [] }), /validator: only for role/],
    ["a client without its section", (c) => (c.role = "client"), /client: required for role "client"/],
    ["a client with a provider's services", (c) => (c.role = "client"), /services: only for role "provider"/],
  ];
  it("reads agents/client.example.json and agents/validator.example.json: each role's section, defaults filled", function () {
    const client = loadAgentConfig({ file: EXAMPLE.replace("agent.example", "client.example"), env: {} });
    expect(client.role).to.equal("client");
    expect(client.client?.maxPricePerUnit).to.equal(15n * 10n ** 17n);
    expect(client.client?.awardAtBids).to.be.greaterThan(0);
    expect(client.services).to.equal(undefined);
    const validator = loadAgentConfig({ file: EXAMPLE.replace("agent.example", "validator.example"), env: {} });
    expect(validator.role).to.equal("validator");
    expect(validator.validator?.services.map((s) => s.backend)).to.deep.equal(["iris", "data"]);
    expect(loadAgentConfig({ file: EXAMPLE, env: {} }).role, "provider stays the default").to.equal("provider");
  });

  it("refuses a bad client field, naming it", function () {
    const file = withConfig((c) => {
      delete c.services;
      delete c.strategy;
      c.role = "client";
      c.client = { service: "iris-inference", backend: "iris", workloads: 0, maxPricePerUnit: "1" };
    });
    expect(() => loadAgentConfig({ file, env: {} }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/client\.workloads/);
  });

  for (const [what, patch, message] of BAD) {
    it(`refuses ${what}, naming the field`, function () {
      const file = withConfig(patch);
      expect(() => loadAgentConfig({ file, env: {} }))
        .to.throw(ConfigError)
        .with.property("message")
        .that.matches(message);
    });
  }
});
