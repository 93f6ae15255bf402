import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";
import { pino } from "pino";
import { createPublicClient, custom, type Hex } from "viem";

import { constitutionAbi } from "../../../protocol/abi.js";
import { KeeperMetrics } from "../../../keepers/keeper/metrics.js";
import {
  clearSafeModeIn,
  SafetyError,
  SafetyMonitor,
  type ChainReader,
  type SafetyReason,
  type SafetyRules,
} from "../../../keepers/common/safety.js";
import { Store } from "../../../keepers/common/store.js";
import {
  AITBC,
  ALL_ACTIONS,
  bit,
  constraints,
  DECLARED_VOLUME,
  HOUR,
  mintAitbc,
  nextUtcDay,
  registerAndStake,
  requiredStakeFor,
} from "../../helpers/agents.js";
import { deployCore } from "../../../scripts/lib/deploy.js";

const conn = await network.create();
const { networkHelpers } = conn;
const { time } = networkHelpers;
const publicClient = createPublicClient({ transport: custom(conn.provider) });

/** ActionTypes.sol. */
const TRANSFER = 0;
const RUN_WORKFLOW = 9;
const UPKEEP = 10;
const MINUTE_MS = 60_000;

/** The core with `agent` registered (operator `operator`), staked, and able to move DECLARED_VOLUME a day. */
async function safetyFixture() {
  const core = await deployCore(conn);
  const { agent, operator } = core;
  await registerAndStake(core, agent, operator, requiredStakeFor(DECLARED_VOLUME), {
    expectedDailyVolume: DECLARED_VOLUME,
  });
  return {
    ...core,
    addresses: {
      constitution: (await core.constitution.getAddress()) as Hex,
      humanOverride: (await core.humanOverride.getAddress()) as Hex,
    },
  };
}

type Fixture = Awaited<ReturnType<typeof safetyFixture>>;

const load = () => networkHelpers.loadFixture(safetyFixture);

/** A pino logger whose JSON lines are kept for assertions. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

interface Harness {
  safety: SafetyMonitor;
  store: Store;
  metrics: KeeperMetrics;
  lines: Record<string, unknown>[];
}

/** A monitor for the fixture's agent over `store` (a fresh in-memory one by default). */
function monitor(
  f: Fixture,
  options: { store?: Store; rules?: Partial<SafetyRules>; client?: ChainReader; humanOverride?: Hex } = {},
): Harness {
  const store = options.store ?? new Store(":memory:");
  const metrics = new KeeperMetrics({ defaultMetrics: false });
  const { logger, lines } = capturingLogger();
  const safety = new SafetyMonitor({
    publicClient: options.client ?? publicClient,
    addresses: { ...f.addresses, ...(options.humanOverride ? { humanOverride: options.humanOverride } : {}) },
    agent: f.agent.address as Hex,
    store,
    logger,
    metrics,
    rules: options.rules,
  });
  return { safety, store, metrics, lines };
}

const action = (actionType: number, value = 0n, gasEstimate = 200_000n) => ({
  actionType,
  value,
  gasEstimate,
  label: `test:${actionType}`,
});

/** Awaits a check that must be refused for `reason`; returns the error. */
async function refused(check: Promise<void>, reason: SafetyReason): Promise<SafetyError> {
  try {
    await check;
  } catch (error) {
    expect(error).to.be.instanceOf(SafetyError);
    const safetyError = error as SafetyError;
    expect(safetyError.reason, safetyError.message).to.equal(reason);
    return safetyError;
  }
  expect.fail(`the check passed; expected a refusal (${reason})`);
}

async function safeModeGauge(metrics: KeeperMetrics): Promise<string | undefined> {
  return /^aitbc_keeper_safe_mode (\d)/m.exec(await metrics.metrics())?.[1];
}

async function usageOf(f: Fixture) {
  return publicClient.readContract({
    address: f.addresses.constitution,
    abi: constitutionAbi,
    functionName: "usageOf",
    args: [f.agent.address as Hex],
  });
}

describe("keepers: SafetyMonitor", function () {
  it("passes an allowed action, logs it and keeps the action log", async function () {
    const f = await load();
    const { safety, store, lines } = monitor(f);
    await safety.check(action(RUN_WORKFLOW));
    safety.record({ actionType: RUN_WORKFLOW, value: 5n });
    expect(store.actionStats(RUN_WORKFLOW)).to.deep.equal({ count: 1, total: 5n });
    expect(safety.safeMode()).to.deep.equal({ on: false });
    expect(lines.some((l) => l.msg === "safety: action allowed" && l.label === `test:${RUN_WORKFLOW}`)).to.be.true;
    expect(store.alerts()).to.deep.equal([]);
  });

  it("refuses during an emergency stop without entering safe mode, and passes after resume", async function () {
    const f = await load();
    const { safety, store } = monitor(f);
    await (await f.humanOverride.connect(f.guardian).emergencyStop("incident")).wait();
    const error = await refused(safety.check(action(RUN_WORKFLOW)), "emergency-stop");
    expect(error.message).to.contain(`test:${RUN_WORKFLOW}`).and.contain("emergency-stopped");
    expect(safety.safeMode().on).to.be.false;
    expect(store.alerts()).to.deep.equal([]);
    await (await f.humanOverride.connect(f.guardian).resume()).wait();
    await safety.check(action(RUN_WORKFLOW));
  });

  it("enters safe mode when the humans freeze the agent; safe mode survives a restart until cleared", async function () {
    const f = await load();
    const file = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-safety-")), "keeper.db");
    const first = monitor(f, { store: new Store(file) });
    await (await f.humanOverride.connect(f.guardian).freeze(f.agent.address, "suspicious")).wait();

    await refused(first.safety.check(action(RUN_WORKFLOW)), "frozen");
    expect(first.safety.safeMode()).to.include({ on: true, reason: "frozen" });
    expect(first.store.alerts().map((a) => a.rule)).to.deep.equal(["frozen"]);
    expect(first.lines.some((l) => l.alert === "frozen" && l.level === 50)).to.be.true;
    expect(await safeModeGauge(first.metrics)).to.equal("1");
    first.store.close();

    // A restart: a new monitor over the same file, after the humans unfroze the agent, still refuses.
    await (await f.humanOverride.connect(f.guardian).unfreeze(f.agent.address)).wait();
    const second = monitor(f, { store: new Store(file) });
    expect(await safeModeGauge(second.metrics)).to.equal("1");
    const error = await refused(second.safety.check(action(RUN_WORKFLOW)), "safe-mode");
    expect(error.message).to.contain("frozen");

    expect(second.safety.clearSafeMode("ops@example")).to.be.true;
    expect(second.safety.safeMode()).to.deep.equal({ on: false });
    expect(await safeModeGauge(second.metrics)).to.equal("0");
    const alerts = second.store.alerts();
    expect(alerts.map((a) => a.rule)).to.deep.equal(["frozen", "safe-mode-cleared"]);
    expect(alerts[1]?.details).to.include({ by: "ops@example", reason: "frozen" });
    await second.safety.check(action(RUN_WORKFLOW));
    expect(second.safety.clearSafeMode("ops@example")).to.be.false;
    second.store.close();
  });

  it("refuses an action type a guardian denies, and only that one", async function () {
    const f = await load();
    const { safety } = monitor(f);
    await (await f.humanOverride.connect(f.guardian).deny(f.agent.address, RUN_WORKFLOW, HOUR)).wait();
    await refused(safety.check(action(RUN_WORKFLOW)), "denied");
    expect(safety.safeMode().on).to.be.false;
    await safety.check(action(UPKEEP));
    await time.increase(HOUR);
    await safety.check(action(RUN_WORKFLOW));
  });

  it("refuses action types the constitution does not allow", async function () {
    const f = await load();
    const { safety } = monitor(f);
    const allowed = ALL_ACTIONS & ~bit(UPKEEP);
    await (
      await f.constitution.connect(f.operator).setConstraints(f.agent.address, constraints({ allowedActions: allowed }))
    ).wait();
    const error = await refused(safety.check(action(UPKEEP)), "not-allowed");
    expect(error.message).to.contain(`action type ${UPKEEP}`);
    await refused(safety.check(action(60)), "not-allowed");
    await safety.check(action(RUN_WORKFLOW));
  });

  it("requires a live human grant for action types that need approval", async function () {
    const f = await load();
    const { safety } = monitor(f);
    const approval = constraints({ humanApprovalActions: bit(RUN_WORKFLOW) });
    await (await f.constitution.connect(f.operator).setConstraints(f.agent.address, approval)).wait();
    await refused(safety.check(action(RUN_WORKFLOW)), "approval-required");
    await safety.check(action(UPKEEP));

    await (await f.humanOverride.connect(f.guardian).grant(f.agent.address, RUN_WORKFLOW, HOUR)).wait();
    await safety.check(action(RUN_WORKFLOW));
    await time.increase(HOUR);
    await refused(safety.check(action(RUN_WORKFLOW)), "approval-required");
  });

  it("refuses what would exceed the daily volume, counting only today's usage", async function () {
    const f = await load();
    const { safety } = monitor(f);
    await mintAitbc(f, f.agent.address, 500n);
    await (await f.token.connect(f.agent).transfer(f.outsider.address, 300n * AITBC)).wait();
    const used = (await usageOf(f)).volume;
    expect(used).to.equal(300n * AITBC);
    const limits = constraints({ maxDailyVolume: used + 100n * AITBC });
    await (await f.constitution.connect(f.operator).setConstraints(f.agent.address, limits)).wait();

    await safety.check(action(TRANSFER, 100n * AITBC));
    const error = await refused(safety.check(action(TRANSFER, 100n * AITBC + 1n)), "daily-volume");
    expect(error.details).to.deep.equal({
      used: used.toString(),
      requested: (100n * AITBC + 1n).toString(),
      limit: limits.maxDailyVolume.toString(),
    });
    expect(safety.safeMode().on).to.be.false;

    // The next UTC day bucket starts from zero.
    await time.increaseTo(nextUtcDay(await time.latest()));
    await safety.check(action(TRANSFER, 100n * AITBC + 1n));
    await refused(safety.check(action(TRANSFER, limits.maxDailyVolume + 1n)), "daily-volume");
  });

  it("counts the daily volume the agent's stake backs, as the constitution does (a slash lowers it)", async function () {
    const f = await load();
    const { safety } = monitor(f);
    await (await f.registry.connect(f.deployer).grantRole(await f.registry.SLASHER_ROLE(), f.deployer.address)).wait();
    // 11,000 staked - 5,000 = 6,000: backs (6,000 - 1,000) / 10 % = 50,000 AITBC a day, under the 100,000 declared.
    await (await f.registry.connect(f.deployer).slash(1n, 5_000n * AITBC, "test")).wait();
    const backed = 50_000n * AITBC;
    expect(await f.constitution.bondedVolumeOf(f.agent.address)).to.equal(backed);
    await safety.check(action(TRANSFER, backed));
    const error = await refused(safety.check(action(TRANSFER, backed + 1n)), "daily-volume");
    expect(error.details).to.deep.equal({ used: "0", requested: (backed + 1n).toString(), limit: backed.toString() });
  });

  it("refuses what would exceed the daily gas", async function () {
    const f = await load();
    const { safety } = monitor(f);
    const used = (await usageOf(f)).gas;
    expect(used).to.be.above(0n);
    const limits = constraints({ maxGasPerDay: used + 50_000n });
    await (await f.constitution.connect(f.operator).setConstraints(f.agent.address, limits)).wait();
    await safety.check(action(RUN_WORKFLOW, 0n, 50_000n));
    const error = await refused(safety.check(action(RUN_WORKFLOW, 0n, 50_001n)), "daily-gas");
    expect(error.message).to.contain(`${used} used today + 50001 estimated > ${limits.maxGasPerDay}`);
  });

  it("enters safe mode on more than maxActionsPerHour actions within the last hour", async function () {
    const f = await load();
    const { safety, store, lines, metrics } = monitor(f, { rules: { maxActionsPerHour: 5 } });
    const now = Date.now();
    for (let i = 0; i < 20; i++) safety.record({ actionType: RUN_WORKFLOW, value: 0n, at: now - 120 * MINUTE_MS });
    for (let i = 0; i < 4; i++) safety.record({ actionType: RUN_WORKFLOW, value: 0n, at: now - 10 * MINUTE_MS });
    await safety.check(action(RUN_WORKFLOW)); // 4 in the hour + this one = 5
    safety.record({ actionType: RUN_WORKFLOW, value: 0n });

    const error = await refused(safety.check(action(RUN_WORKFLOW)), "too-many-actions");
    expect(error.message).to.contain("6 actions within an hour > 5");
    expect(safety.safeMode()).to.include({ on: true, reason: "too-many-actions" });
    const [alert] = store.alerts();
    expect(alert).to.include({ rule: "too-many-actions" });
    expect(alert?.details).to.include({ count: 6, max: 5, actionType: RUN_WORKFLOW });
    expect(lines.some((l) => l.alert === "too-many-actions" && l.level === 50)).to.be.true;
    expect(await metrics.metrics()).to.match(/^aitbc_keeper_alerts_total\{rule="too-many-actions"\} 1$/m);
    await refused(safety.check(action(RUN_WORKFLOW)), "safe-mode");
  });

  it("after the operator clears a too-many-actions safe mode, the actions before the clear no longer count (it does not trip again at once)", async function () {
    const f = await load();
    let now = Date.now();
    const file = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-safety-")), "keeper.db");
    const store = new Store(file);
    const first = monitor(f, { store, rules: { maxActionsPerHour: 5 } });
    for (let i = 0; i < 5; i++) first.safety.record({ actionType: RUN_WORKFLOW, value: 0n, at: now - MINUTE_MS });
    await refused(first.safety.check(action(RUN_WORKFLOW)), "too-many-actions");
    // The way out an operator takes before restarting the keeper (`aitbc keeper --clear-safe-mode`): the store alone.
    now = Date.now();
    expect(clearSafeModeIn(store, "ops@example", now)).to.include({ on: true, reason: "too-many-actions" });
    expect(clearSafeModeIn(store, "ops@example", now), "a second clear finds nothing").to.equal(undefined);
    const second = monitor(f, { store, rules: { maxActionsPerHour: 5 } });
    for (let i = 0; i < 5; i++) {
      await second.safety.check(action(RUN_WORKFLOW));
      second.safety.record({ actionType: RUN_WORKFLOW, value: 0n });
    }
    // The rule still holds for what comes after the clear: a sixth action within the hour trips it again.
    const again = await refused(second.safety.check(action(RUN_WORKFLOW)), "too-many-actions");
    expect(again.message).to.contain("6 actions within an hour > 5");
    expect(store.alerts().map((a) => a.rule)).to.deep.equal([
      "too-many-actions",
      "safe-mode-cleared",
      "too-many-actions",
    ]);
    // The API's clear (SafetyMonitor.clearSafeMode) resets the window the same way.
    expect(second.safety.clearSafeMode("ops@example")).to.equal(true);
    await second.safety.check(action(RUN_WORKFLOW));
    store.close();
  });

  it("enters safe mode on a value above 10x the average of earlier actions of its type", async function () {
    const f = await load();
    const { safety, store } = monitor(f);
    for (const value of [10n, 20n, 30n]) safety.record({ actionType: TRANSFER, value });
    // Zero-value actions of the type (a claim, a completion) do not count in the average.
    for (let i = 0; i < 20; i++) safety.record({ actionType: TRANSFER, value: 0n });
    // Average 20: 200 is 10x (allowed), 201 is above.
    await safety.check(action(TRANSFER, 200n));
    // Another type's history, with a zero average, never fires the rule.
    safety.record({ actionType: RUN_WORKFLOW, value: 0n });
    await safety.check(action(RUN_WORKFLOW, 1_000n));

    const error = await refused(safety.check(action(TRANSFER, 201n)), "value-spike");
    expect(error.message).to.contain("value 201 > 10 × average 20 (3 earlier actions)");
    expect(store.alerts().map((a) => a.rule)).to.deep.equal(["value-spike"]);
    expect(safety.safeMode()).to.include({ on: true, reason: "value-spike" });
  });

  it("enters safe mode on a new action type once the baseline is logged, unless it is expected", async function () {
    const f = await load();
    const rules = { baselineActions: 3 };
    const { safety, store } = monitor(f, { rules });
    safety.record({ actionType: RUN_WORKFLOW, value: 0n });
    safety.record({ actionType: RUN_WORKFLOW, value: 0n });
    await safety.check(action(UPKEEP)); // 2 logged < baseline 3: still learning
    safety.record({ actionType: RUN_WORKFLOW, value: 0n });
    const error = await refused(safety.check(action(UPKEEP)), "new-action-type");
    expect(error.message).to.contain(`action type ${UPKEEP} was never taken in 3 logged actions`);
    expect(store.alerts()[0]).to.include({ rule: "new-action-type" });

    const expected = monitor(f, { rules: { ...rules, expectedActionTypes: [UPKEEP] } });
    for (let i = 0; i < 3; i++) expected.safety.record({ actionType: RUN_WORKFLOW, value: 0n });
    await expected.safety.check(action(UPKEEP));
    expect(expected.store.alerts()).to.deep.equal([]);
  });

  it("enterSafeMode keeps the first reason and alerts every time", async function () {
    const f = await load();
    const { safety, store } = monitor(f);
    safety.enterSafeMode("manual", { note: "maintenance" });
    safety.enterSafeMode("value-spike", null, "later anomaly");
    expect(safety.safeMode()).to.include({ on: true, reason: "manual" });
    expect(safety.safeMode().details).to.deep.equal({ note: "maintenance" });
    expect(store.alerts().map((a) => [a.rule, a.message])).to.deep.equal([
      ["manual", "safe mode: manual"],
      ["value-spike", "later anomaly"],
    ]);
  });

  it("refuses as chain-unavailable when a chain read fails, naming the read", async function () {
    const f = await load();
    const down = createPublicClient({
      transport: custom(
        {
          request: () => Promise.reject(new Error("connection refused")),
        },
        { retryCount: 0 },
      ),
    });
    const offline = monitor(f, { client: down });
    const error = await refused(offline.safety.check(action(RUN_WORKFLOW)), "chain-unavailable");
    expect(error.message).to.contain("the latest block").and.contain("connection refused");
    expect(await offline.metrics.metrics()).to.match(/^aitbc_keeper_rpc_errors_total 1$/m);

    // A wrong address answers with no data: as unusable as no answer.
    const wrong = monitor(f, { humanOverride: f.outsider.address as Hex });
    const wrongError = await refused(wrong.safety.check(action(RUN_WORKFLOW)), "chain-unavailable");
    expect(wrongError.message).to.contain("HumanOverride.gate");
    expect(wrong.safety.safeMode().on).to.be.false;
  });

  it("rejects invalid actions and rules", async function () {
    const f = await load();
    const { safety } = monitor(f);
    await refused(safety.check(action(256)), "invalid-action");
    await refused(safety.check(action(RUN_WORKFLOW, -1n)), "invalid-action");
    expect(() => monitor(f, { rules: { maxActionsPerHour: 0 } })).to.throw(RangeError, "maxActionsPerHour");
    expect(() => monitor(f, { rules: { valueFactor: Number.NaN } })).to.throw(RangeError, "valueFactor");
    expect(() => monitor(f, { rules: { expectedActionTypes: [1.5] } })).to.throw(SafetyError, "expectedActionTypes");
  });
});
