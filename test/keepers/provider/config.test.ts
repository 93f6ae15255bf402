/**
 * The provider's configuration (keepers/provider/config.ts loadProviderConfig and providerConfigSchema): the
 * example file, defaults and the environment over the file, and every bad field named in a ConfigError.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { ConfigError } from "../../../keepers/common/config.js";
import { createBackend, SharedResources } from "../../../keepers/provider/backends/index.js";
import { loadProviderConfig, providerConfigSchema } from "../../../keepers/provider/config.js";
import { account, AGENT_KEY, AITBC, OPERATOR } from "../../helpers/keepers.js";

describe("provider configuration", function () {
  const dir = mkdtempSync(path.join(tmpdir(), "aitbc-provider-"));
  const file = (name: string, content: unknown) => {
    const at = path.join(dir, name);
    writeFileSync(at, JSON.stringify(content));
    return at;
  };
  const base = () => ({
    rpc: { urls: ["http://127.0.0.1:8545"] },
    agent: { privateKey: AGENT_KEY, operator: OPERATOR },
    services: [
      { name: "iris", stepType: "inference", backend: "iris", price: "1" },
      { name: "data", stepType: "data-processing", backend: "data", price: "0.1" },
    ],
  });
  const errorOf = (config: unknown, env: NodeJS.ProcessEnv = {}): string => {
    try {
      loadProviderConfig({ file: file("config.json", config), env });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error("the configuration was accepted");
  };

  it("loads the example file with its defaults", function () {
    const config = loadProviderConfig({ file: "keepers/provider/provider.example.json", env: {} });
    expect(config.services.map((s) => [s.name, s.backend, s.price, s.capacity])).to.deep.equal([
      ["iris-inference", "iris", AITBC, 4],
      ["data-ops", "data", AITBC / 10n, 4],
    ]);
    expect(config.agent.stake).to.equal(2_000n * AITBC);
    expect(config.agent.expectedDailyVolume).to.equal(10_000n * AITBC);
    expect(config.chaos).to.deep.equal({ tamperOutputRate: 0, badSignatureRate: 0, extraDelayMs: 0 });
    expect(config.auth).to.deep.equal({
      maxExpirySeconds: 300,
      chainCacheMs: 3_000,
      cacheSize: 10_000,
      maxLookups: 16,
      keeperRate: 50,
      keeperBurst: 100,
    });
  });

  it("applies defaults and the environment over the file", function () {
    const config = loadProviderConfig({
      file: file("ok.json", { ...base(), agent: { operator: OPERATOR } }),
      env: {
        AITBC_PROVIDER_KEY: AGENT_KEY,
        AITBC_RPC_URLS: "http://a:1, ws://b:2",
        AITBC_PROVIDER_PORT: "8601",
        AITBC_ADDRESSES: "/tmp/addresses.json",
      },
    });
    expect(config.agent.privateKey).to.equal(AGENT_KEY);
    expect(config.rpc.urls).to.deep.equal(["http://a:1", "ws://b:2"]);
    expect(config.server).to.deep.equal({
      host: "127.0.0.1",
      port: 8601,
      maxBodyBytes: 1_048_576,
      capacity: 4,
      requestTimeoutMs: 60_000,
      retryAfterSeconds: 1,
    });
    expect(config.auth).to.deep.equal(providerConfigSchema.parse(base()).auth); // always on, with its defaults
    expect(config.addressesFile).to.equal("/tmp/addresses.json");
    expect(config.agent).to.include({ metadataURI: "", version: "1.0.0" });
    expect(config.agent.endpoint).to.equal(undefined);
  });

  const openai = { name: "llm", stepType: "inference", backend: "openai", price: "1" };
  const cases: [string, (c: ReturnType<typeof base>) => unknown, NodeJS.ProcessEnv, RegExp][] = [
    ["a bad RPC URL", (c) => ({ ...c, rpc: { urls: ["localhost:8545"] } }), {}, /rpc\.urls\[0\]: must be an http/],
    ["no RPC URL", (c) => ({ ...c, rpc: { urls: [] } }), {}, /rpc\.urls: at least one RPC URL/],
    [
      "a bad RPC URL from the environment",
      (c) => c,
      { AITBC_RPC_URLS: "http://ok:1,nope" },
      /rpc\.urls\[1\]: .*\(from AITBC_RPC_URLS\)/,
    ],
    [
      "a bad key from the environment",
      (c) => c,
      { AITBC_PROVIDER_KEY: "0x1234" },
      /agent\.privateKey: .*\(from AITBC_PROVIDER_KEY\)/,
    ],
    [
      "a bad port from the environment",
      (c) => c,
      { AITBC_PROVIDER_PORT: "70000" },
      /server\.port: .*\(from AITBC_PROVIDER_PORT\)/,
    ],
    [
      "a non-numeric port from the environment",
      (c) => c,
      { AITBC_PROVIDER_PORT: "http" },
      /server\.port: .*\(from AITBC_PROVIDER_PORT\)/,
    ],
    [
      "the agent as its own operator",
      (c) => ({ ...c, agent: { ...c.agent, operator: account.address } }),
      {},
      /agent\.operator: must differ/,
    ],
    [
      "a bad operator",
      (c) => ({ ...c, agent: { ...c.agent, operator: "0x12" } }),
      {},
      /agent\.operator: must be a 20-byte/,
    ],
    [
      "a bad stake",
      (c) => ({ ...c, agent: { ...c.agent, stake: "-5" } }),
      {},
      /agent\.stake: must be a decimal amount/,
    ],
    [
      "a bad endpoint",
      (c) => ({ ...c, agent: { ...c.agent, endpoint: "ftp://x" } }),
      {},
      /agent\.endpoint: must be an http/,
    ],
    ["no service", (c) => ({ ...c, services: [] }), {}, /services: at least one service/],
    [
      "an expiry window under the keepers' 60 s",
      (c) => ({ ...c, auth: { maxExpirySeconds: 30 } }),
      {},
      /auth\.maxExpirySeconds: .*>=60/,
    ],
    ["a zero keeper rate", (c) => ({ ...c, auth: { keeperRate: 0 } }), {}, /auth\.keeperRate: .*>0/],
    ["no chain reads at all", (c) => ({ ...c, auth: { maxLookups: 0 } }), {}, /auth\.maxLookups: .*>=1/],
    [
      "a way to switch authentication off",
      (c) => ({ ...c, auth: { enabled: false } }),
      {},
      /auth: Unrecognized key: "enabled"/,
    ],
    [
      "a training service",
      (c) => ({
        ...c,
        services: [{ ...openai, stepType: "training", backend: "openai", upstream: { url: "http://u", model: "m" } }],
      }),
      {},
      /services\[0\]\.backend: no backend runs training/,
    ],
    [
      "iris for data processing",
      (c) => ({ ...c, services: [{ name: "i", stepType: "data-processing", backend: "iris", price: "1" }] }),
      {},
      /services\[0\]\.stepType: backend "iris" serves "inference"/,
    ],
    [
      "data for inference",
      (c) => ({ ...c, services: [{ name: "d", stepType: "inference", backend: "data", price: "1" }] }),
      {},
      /services\[0\]\.stepType: backend "data" serves "data-processing"/,
    ],
    [
      "openai without upstream",
      (c) => ({ ...c, services: [...c.services, openai] }),
      {},
      /services\[2\]\.upstream: required by backend "openai"/,
    ],
    [
      "an upstream on iris",
      (c) => ({ ...c, services: [{ ...c.services[0], upstream: { url: "http://u", model: "m" } }] }),
      {},
      /services\[0\]\.upstream: not used/,
    ],
    [
      "a bad upstream URL",
      (c) => ({ ...c, services: [{ ...openai, upstream: { url: "u", model: "m" } }] }),
      {},
      /services\[0\]\.upstream\.url: must be an http/,
    ],
    [
      "a bad upstream kind",
      (c) => ({ ...c, services: [{ ...openai, upstream: { url: "http://u", model: "m", kind: "audio" } }] }),
      {},
      /services\[0\]\.upstream\.kind/,
    ],
    [
      "a bad apiKeyEnv",
      (c) => ({ ...c, services: [{ ...openai, upstream: { url: "http://u", model: "m", apiKeyEnv: "MY KEY" } }] }),
      {},
      /services\[0\]\.upstream\.apiKeyEnv: must be an environment variable name/,
    ],
    [
      "a duplicate service name",
      (c) => ({ ...c, services: [c.services[0], { ...c.services[1], name: "iris" }] }),
      {},
      /services\[1\]\.name: duplicate/,
    ],
    [
      "two services for one model",
      (c) => ({ ...c, services: [c.services[0], { ...c.services[0], name: "iris2" }] }),
      {},
      /services\[1\]\.backend: another service already serves/,
    ],
    [
      "a zero price",
      (c) => ({ ...c, services: [{ ...c.services[0], price: "0" }] }),
      {},
      /services\[0\]\.price: must be above 0/,
    ],
    [
      "a bad price",
      (c) => ({ ...c, services: [{ ...c.services[0], price: "one" }] }),
      {},
      /services\[0\]\.price: must be a decimal amount/,
    ],
    [
      "a long service name",
      (c) => ({ ...c, services: [{ ...c.services[0], name: "x".repeat(65) }] }),
      {},
      /services\[0\]\.name: must be at most 64 bytes/,
    ],
    [
      "a zero capacity",
      (c) => ({ ...c, services: [{ ...c.services[0], capacity: 0 }] }),
      {},
      /services\[0\]\.capacity/,
    ],
    ["a chaos rate above 1", (c) => ({ ...c, chaos: { tamperOutputRate: 2 } }), {}, /chaos\.tamperOutputRate/],
    ["a negative delay", (c) => ({ ...c, chaos: { extraDelayMs: -1 } }), {}, /chaos\.extraDelayMs/],
    ["a zero server capacity", (c) => ({ ...c, server: { capacity: 0 } }), {}, /server\.capacity/],
    ["an unknown field", (c) => ({ ...c, server: { threads: 4 } }), {}, /server: Unrecognized key: "threads"/],
  ];
  for (const [title, edit, env, expected] of cases) {
    it(`refuses ${title}`, function () {
      expect(errorOf(edit(base()), env)).to.match(expected);
    });
  }

  it("refuses an upstream API key variable that is not set, at start", function () {
    const config = providerConfigSchema.parse({
      ...base(),
      services: [
        {
          name: "llm",
          stepType: "inference",
          backend: "openai",
          price: "1",
          upstream: { url: "http://u", model: "m", apiKeyEnv: "NOPE_KEY" },
        },
      ],
    });
    const [service] = config.services;
    if (service === undefined) throw new Error("no service");
    expect(() => createBackend(service, new SharedResources(), {})).to.throw(/upstream\.apiKeyEnv names NOPE_KEY/);
  });
});
