/**
 * The keeper's configuration (keepers/keeper/config.ts loadKeeperConfig): defaults, every bad field named,
 * environment overrides (and a bad value naming its variable), unknown keys, files that are not JSON objects.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { ConfigError } from "../../../keepers/common/config.js";
import { keeperDatabase, keeperKeyFile, loadKeeperConfig, type KeeperConfig } from "../../../keepers/keeper/config.js";

const KEY: `0x${string}` = `0x${"11".repeat(32)}`;
const OTHER_KEY: `0x${string}` = `0x${"22".repeat(32)}`;
const OPERATOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
const AITBC = 10n ** 18n;
const MINIMAL = { rpc: { urls: ["http://127.0.0.1:8545"] }, agent: { privateKey: KEY } };

const DEFAULTS: KeeperConfig = {
  rpc: { urls: ["http://127.0.0.1:8545"], pollingIntervalMs: 500, timeoutMs: 10_000, connectAttempts: 6 },
  agent: { privateKey: KEY },
  database: { leasePollMs: 1000 },
  encryption: {},
  follower: { startBlock: 0, confirmations: 0, batchBlocks: 2000, pollIntervalMs: 1000 },
  orchestrator: {
    concurrencyPerExecution: 4,
    defaultStepTimeoutMs: 60_000,
    quarantineMs: 600_000,
    providerBackoffMs: 10_000,
    providerMaxBackoffMs: 600_000,
    recordBatch: 16,
    keeperFee: 0n,
    claimOpen: true,
  },
  safety: { maxActionsPerHour: 1500, valueFactor: 10, baselineActions: 10, expectedActionTypes: [9, 10] },
  server: { host: "127.0.0.1", port: 0, maxBodyBytes: 1_048_576 },
  jobs: { sweep: "*/5 * * * * *", providers: "*/30 * * * * *" },
};

describe("keepers: loadKeeperConfig", function () {
  let dir: string;
  let n = 0;
  /** Writes `content` (JSON unless a string) to a new file and returns its path. */
  const file = (content: unknown): string => {
    const name = path.join(dir, `keeper-${n++}.json`);
    writeFileSync(name, typeof content === "string" ? content : JSON.stringify(content));
    return name;
  };
  /** The ConfigError message of loading `content` with `env`. */
  const problems = (content: unknown, env: NodeJS.ProcessEnv = {}): string => {
    const name = file(content);
    try {
      loadKeeperConfig(name, env);
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error("the configuration was accepted");
  };

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "aitbc-keeper-config-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("fills every default around the two required fields", function () {
    expect(loadKeeperConfig(file(MINIMAL), {})).to.deep.equal(DEFAULTS);
  });

  it("reads keepers/keeper/keeper.example.json, action type names as numbers and token amounts as wei", function () {
    const config = loadKeeperConfig("keepers/keeper/keeper.example.json", {});
    expect(config.agent.register).to.deep.equal({
      operator: OPERATOR,
      stake: 2000n * AITBC,
      expectedDailyVolume: 10_000n * AITBC,
      endpoint: "",
    });
    expect(config.server.port).to.equal(8700);
    expect(config.orchestrator.keeperFee, "the keeper's fee, as wei").to.equal(AITBC / 10n);
    const custom = loadKeeperConfig(
      file({
        ...MINIMAL,
        agent: { privateKey: KEY, register: { operator: OPERATOR, stake: "12.5" } },
        safety: { expectedActionTypes: ["transfer", "upkeep", "define-workflow"] },
      }),
      {},
    );
    expect(custom.agent.register?.stake).to.equal(12n * AITBC + AITBC / 2n);
    expect(custom.agent.register?.expectedDailyVolume).to.equal(10_000n * AITBC);
    expect(custom.safety.expectedActionTypes).to.deep.equal([0, 10, 8]);
  });

  it("names every bad field in one message", function () {
    const message = problems({
      rpc: { urls: ["ftp://node"], pollingIntervalMs: 10 },
      agent: { privateKey: "0x12", register: { operator: "0x1", stake: "1.2.3" } },
      database: { path: "" },
      follower: { startBlock: -1, confirmations: 1001 },
      orchestrator: { concurrencyPerExecution: 0 },
      safety: { valueFactor: 0.5, expectedActionTypes: ["mint"] },
      server: { port: 70_000 },
      jobs: { sweep: "* * *" },
    });
    const lines = message.split("\n");
    expect(lines[0]).to.equal(`invalid ${path.join(dir, `keeper-${n - 1}.json`)}:`);
    expect(lines.slice(1).map((l) => l.trim().split(":")[0])).to.deep.equal([
      "rpc.urls[0]",
      "rpc.pollingIntervalMs",
      "agent.privateKey",
      "agent.register.operator",
      "agent.register.stake",
      "database.path",
      "follower.startBlock",
      "follower.confirmations",
      "orchestrator.concurrencyPerExecution",
      "safety.valueFactor",
      "safety.expectedActionTypes[0]",
      "server.port",
      "jobs.sweep",
    ]);
    expect(lines).to.include.members([
      "  rpc.urls[0]: must be an http(s):// or ws(s):// URL",
      "  agent.privateKey: must be a 32-byte hex private key (0x + 64 hex digits)",
      "  agent.register.operator: must be a 20-byte hex address",
      '  agent.register.stake: must be a decimal amount of AITBC, e.g. "12.5"',
      "  jobs.sweep: must be a six-field cron expression (with seconds)",
    ]);
    expect(message).to.match(/\n {2}follower\.confirmations: .*1000/);
    expect(message).to.match(/\n {2}safety\.expectedActionTypes\[0\]: .*"run-workflow"/);
  });

  it("requires rpc.urls and a key (agent.privateKey or agent.keystore)", function () {
    expect(
      problems({ rpc: { urls: [] }, agent: {} })
        .split("\n")
        .slice(1),
    ).to.deep.equal([
      "  rpc.urls: at least one RPC URL",
      "  agent.privateKey: give exactly one of agent.privateKey (local chains only) and agent.keystore",
    ]);
  });

  it("rejects unknown keys at every level, naming where", function () {
    const message = problems({ ...MINIMAL, rpc: { ...MINIMAL.rpc, retries: 3 }, bogus: true });
    expect(message.split("\n").slice(1)).to.deep.equal([
      '  rpc: Unrecognized key: "retries"',
      '  (root): Unrecognized key: "bogus"',
    ]);
    expect(problems({ ...MINIMAL, jobs: { cleanup: "* * * * * *" } })).to.include('jobs: Unrecognized key: "cleanup"');
  });

  // Regression test (found in review).
  it("rejects a six-field cron expression node-cron cannot schedule, naming jobs.sweep", function () {
    expect(problems({ ...MINIMAL, jobs: { sweep: "61 * * * * *" } })).to.include("jobs.sweep: ");
    expect(problems({ ...MINIMAL, jobs: { providers: "a b c d e f" } })).to.include("jobs.providers: ");
  });

  it("lets the environment override the file", function () {
    const config = loadKeeperConfig(file(MINIMAL), {
      AITBC_KEEPER_KEY: OTHER_KEY,
      AITBC_RPC_URLS: " http://a:1 , ws://b:2 ,",
      AITBC_KEEPER_PORT: "8701",
      AITBC_CONFIRMATIONS: "12",
      AITBC_KEEPER_DB: "/var/lib/aitbc/keeper.db",
      AITBC_ADDRESSES: "addresses.json",
      AITBC_UNRELATED: "x",
    });
    expect(config).to.deep.equal({
      ...DEFAULTS,
      rpc: { ...DEFAULTS.rpc, urls: ["http://a:1", "ws://b:2"] },
      addressesFile: "addresses.json",
      agent: { privateKey: OTHER_KEY },
      database: { path: "/var/lib/aitbc/keeper.db", leasePollMs: 1000 },
      follower: { ...DEFAULTS.follower, confirmations: 12 },
      server: { ...DEFAULTS.server, port: 8701 },
    });
  });

  it("runs on the environment alone (no file); empty variables are ignored", function () {
    const config = loadKeeperConfig(undefined, {
      AITBC_KEEPER_KEY: KEY,
      AITBC_RPC_URLS: "http://127.0.0.1:8545",
      AITBC_KEEPER_PORT: "",
    });
    expect(config).to.deep.equal(DEFAULTS);
    expect(() => loadKeeperConfig(undefined, {})).to.throw(ConfigError, /^invalid configuration:\n {2}rpc: /);
  });

  it("takes a PostgreSQL database by URL (file or AITBC_KEEPER_DATABASE_URL), and names a misplaced one", function () {
    const url = "postgres://keeper:secret@db.internal:5432/aitbc";
    const fromFile = loadKeeperConfig(file({ ...MINIMAL, database: { url, leasePollMs: 250 } }), {});
    expect(fromFile.database).to.deep.equal({ url, leasePollMs: 250 });
    expect(keeperDatabase(fromFile, "/data")).to.equal(url);
    expect(keeperKeyFile(fromFile, url, "/data"), "not next to a URL").to.equal("/data/keeper.encryption-key");
    const fromEnv = loadKeeperConfig(file(MINIMAL), { AITBC_KEEPER_DATABASE_URL: url });
    expect(fromEnv.database.url).to.equal(url);
    expect(keeperKeyFile(DEFAULTS, "/data/keeper.db", "/data")).to.equal("/data/keeper.db.encryption-key");

    expect(problems({ ...MINIMAL, database: { path: url } })).to.include(
      "database.path: a PostgreSQL URL goes in database.url, not database.path",
    );
    expect(problems({ ...MINIMAL, database: { url: "/var/lib/keeper.db" } })).to.include(
      "database.url: expected a postgres:// or postgresql:// URL (a SQLite file goes in database.path)",
    );
    expect(problems({ ...MINIMAL, database: { path: "/k.db", url } })).to.include(
      "database.url: set database.path (SQLite) or database.url (PostgreSQL), not both",
    );
    expect(problems({ ...MINIMAL, database: { leasePollMs: 5 } })).to.include("database.leasePollMs");
  });

  it("names the variable a bad value came from", function () {
    const message = problems(MINIMAL, {
      AITBC_KEEPER_KEY: "nope",
      AITBC_RPC_URLS: "http://ok:1,ftp://bad",
      AITBC_KEEPER_PORT: "http",
      AITBC_CONFIRMATIONS: "-1",
    });
    expect(message.split("\n").slice(1)).to.deep.equal([
      "  rpc.urls[1]: must be an http(s):// or ws(s):// URL (from AITBC_RPC_URLS)",
      "  agent.privateKey: must be a 32-byte hex private key (0x + 64 hex digits) (from AITBC_KEEPER_KEY)",
      "  follower.confirmations: Too small: expected number to be >=0 (from AITBC_CONFIRMATIONS)",
      "  server.port: Invalid input: expected number, received string (from AITBC_KEEPER_PORT)",
    ]);
    expect(problems(MINIMAL, { AITBC_KEEPER_PORT: "70000" })).to.match(/server\.port: .* \(from AITBC_KEEPER_PORT\)$/);
  });

  describe("governance (the voter's policy)", function () {
    const RULE = {
      name: "min-stake-range",
      target: "registry",
      function: "setMinStake",
      params: { minStake: { min: "500 AITBC", max: "5000 AITBC" } },
      vote: "for",
      otherwise: "against",
    };

    it("is absent unless configured; a section gets defaults, rule names and bounds in wei", function () {
      expect(loadKeeperConfig(file(MINIMAL), {}).governance).to.be.undefined;
      expect(loadKeeperConfig(file({ ...MINIMAL, governance: {} }), {}).governance).to.deep.equal({
        enabled: false,
        rules: [],
        default: "skip",
        schedule: "*/10 * * * * *",
        gasEstimate: 300_000,
      });
      const config = loadKeeperConfig(
        file({
          ...MINIMAL,
          governance: {
            enabled: true,
            default: "against",
            rules: [
              RULE,
              { target: "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", function: "0x12345678", vote: "abstain" },
            ],
          },
        }),
        {},
      );
      expect(config.governance?.rules).to.deep.equal([
        { ...RULE, params: { minStake: { min: 500n * AITBC, max: 5000n * AITBC } } },
        {
          name: "rules[1]",
          target: "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
          function: "0x12345678",
          vote: "abstain",
        },
      ]);
      expect(config.governance?.default).to.equal("against");
    });

    it("reads the example's policy", function () {
      const governance = loadKeeperConfig("keepers/keeper/keeper.example.json", {}).governance;
      expect(governance?.enabled).to.be.true;
      expect(governance?.default).to.equal("abstain");
      expect(governance?.rules.map((r) => r.name)).to.include.members(["min-stake-range", "no-role-changes"]);
    });

    it("names every bad field of the policy", function () {
      const message = problems({
        ...MINIMAL,
        governance: {
          enabled: "yes",
          default: "for",
          schedule: "daily",
          rules: [
            { target: "registri", function: "setMinStake", vote: "yes" },
            { target: "registry", function: "setMinStak", vote: "for" },
            { target: "registry", function: "setMinStake", params: { minStak: { max: 1 } }, vote: "for" },
            { function: "setMinStake", params: { minStake: { min: "ten", max: 1 } }, vote: "for" },
            { function: "setMinStake", params: { minStake: { min: 5, max: 1 } }, vote: "for" },
            { function: "setMinStake", params: { minStake: {} }, vote: "for" },
            { vote: "for" },
            { target: "registry", params: { minStake: { max: 1 } }, vote: "for" },
            { function: "setMinStake", vote: "for", otherwise: "against" },
            { name: "twice", function: "setMinStake", vote: "for" },
            { name: "twice", function: "setBondBps", vote: "for" },
            { function: "set min stake", vote: "for", bogus: 1 },
            { function: "grantRole", vote: "for" },
          ],
        },
      });
      const fields = message
        .split("\n")
        .slice(1)
        .map((l) => l.trim().split(": ")[0]);
      expect(fields).to.include.members([
        "governance.enabled",
        "governance.default",
        "governance.schedule",
        "governance.rules[0].target",
        "governance.rules[0].vote",
        "governance.rules[1].function",
        "governance.rules[2].params.minStak",
        "governance.rules[3].params.minStake.min",
        "governance.rules[4].params.minStake",
        "governance.rules[5].params.minStake",
        "governance.rules[6]",
        "governance.rules[7].params",
        "governance.rules[8].otherwise",
        "governance.rules[11]",
        "governance.rules[11].function",
        "governance.rules[12].target",
      ]);
      expect(message).to.include('governance.rules[12].target: a rule that can vote "for" needs a target');
      expect(message).to.include("governance.rules[1].function: no function setMinStak in registry");
      expect(message).to.include("governance.rules[2].params.minStak: no parameter minStak in setMinStake(minStake_)");
      expect(message).to.include("governance.rules[4].params.minStake: min is above max");
      expect(message).to.include("governance.rules[6]: needs a target, a function, or both");
    });

    it("names a duplicate rule name once the rules are valid", function () {
      const message = problems({
        ...MINIMAL,
        governance: {
          rules: [
            { name: "twice", target: "registry", function: "setMinStake", vote: "for" },
            { name: "twice", target: "registry", function: "setBondBps", vote: "for" },
          ],
        },
      });
      expect(message).to.include("governance.rules[1].name: duplicate rule name twice");
    });
  });

  it("rejects a file that is not a JSON object, or that cannot be read", function () {
    const cases: [string, RegExp][] = [
      ["{rpc", /: not valid JSON \(.*JSON/],
      ["", /: not valid JSON \(/],
      ["[1, 2]", /: not valid JSON \(the top level must be an object\)$/],
      ["null", /: not valid JSON \(the top level must be an object\)$/],
    ];
    for (const [text, message] of cases) {
      const name = file(text);
      expect(() => loadKeeperConfig(name, {}), text).to.throw(
        ConfigError,
        new RegExp(`^config file ${name}${message.source}`),
      );
    }
    const missing = path.join(dir, "missing.json");
    expect(() => loadKeeperConfig(missing, {})).to.throw(ConfigError, `config file ${missing}: cannot read it (ENOENT`);
  });
});
