import { readFileSync } from "node:fs";

import { expect } from "chai";

import { KeeperMetrics, METRIC_PREFIX } from "../../../keepers/keeper/metrics.js";

const DASHBOARD = new URL("../../../keepers/dashboards/keeper.json", import.meta.url);

/** The value of the sample `series` (name and labels exactly as exposed) in a text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Words of PromQL that look like identifiers but are not metric names. */
const PROMQL_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or"]);
PROMQL_KEYWORDS.add("unless").add("bool").add("offset");

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers, ranges and
 * grouping clauses are removed, minus function calls and keywords.
 */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names: string[] = [];
  for (const match of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (name !== undefined && call === undefined && !PROMQL_KEYWORDS.has(name)) names.push(name);
  }
  return names;
}

interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  panels: { title: string; type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  templating: { list: { name: string; definition?: string }[] };
}

function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
}

/** Every metric name the dashboard queries: panel targets, and the metric of label_values() variables. */
function dashboardMetricNames(dashboard: Dashboard): Set<string> {
  const names = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) metricNamesIn(target.expr).forEach((n) => names.add(n));
  }
  for (const variable of dashboard.templating.list) {
    const metric = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/.exec(variable.definition ?? "")?.[1];
    if (metric !== undefined) names.add(metric);
  }
  return names;
}

describe("keepers: KeeperMetrics", function () {
  it("exposes every keeper metric with what was observed", async function () {
    const metrics = new KeeperMetrics();
    metrics.step("done");
    metrics.step("done");
    metrics.step("rejected");
    metrics.stepDuration("provider", 0.2);
    metrics.stepDuration("keeper", 0.004);
    metrics.proofDuration("workflow", 3.5);
    metrics.chainLag(7n);
    metrics.rpcError();
    metrics.pendingTransactions(2);
    metrics.transaction("mined");
    metrics.execution("completed");
    metrics.executionsRunning(3);
    metrics.safeMode(true);
    metrics.alert("value-spike");
    metrics.slashReport();
    metrics.providerFailure("timeout");
    const text = await metrics.metrics();

    const expected: [string, number][] = [
      ['aitbc_keeper_steps_total{outcome="done"}', 2],
      ['aitbc_keeper_steps_total{outcome="rejected"}', 1],
      ['aitbc_keeper_steps_total{outcome="failed"}', 0],
      ['aitbc_keeper_step_duration_seconds_bucket{le="0.005",phase="keeper"}', 1],
      ['aitbc_keeper_step_duration_seconds_bucket{le="0.1",phase="provider"}', 0],
      ['aitbc_keeper_step_duration_seconds_bucket{le="0.25",phase="provider"}', 1],
      ['aitbc_keeper_step_duration_seconds_bucket{le="120",phase="provider"}', 1],
      ['aitbc_keeper_step_duration_seconds_count{phase="provider"}', 1],
      ['aitbc_keeper_proof_duration_seconds_count{circuit="workflow"}', 1],
      ['aitbc_keeper_proof_duration_seconds_sum{circuit="workflow"}', 3.5],
      ["aitbc_keeper_chain_lag_blocks", 7],
      ["aitbc_keeper_rpc_errors_total", 1],
      ["aitbc_keeper_pending_transactions", 2],
      ['aitbc_keeper_transactions_total{outcome="mined"}', 1],
      ['aitbc_keeper_transactions_total{outcome="reverted"}', 0],
      ['aitbc_keeper_executions_total{outcome="completed"}', 1],
      ["aitbc_keeper_executions_running", 3],
      ["aitbc_keeper_safe_mode", 1],
      ['aitbc_keeper_alerts_total{rule="value-spike"}', 1],
      ["aitbc_keeper_slash_reports_total", 1],
      ['aitbc_keeper_provider_failures_total{reason="timeout"}', 1],
    ];
    for (const [series, value] of expected) expect(sample(text, series), series).to.equal(value);
    expect(text).to.match(/^process_resident_memory_bytes \d+/m);
    expect(metrics.contentType).to.match(/^text\/plain/);
  });

  it("exposes the known outcome series at 0 before any event, and gauges follow the latest value", async function () {
    const metrics = new KeeperMetrics({ defaultMetrics: false });
    let text = await metrics.metrics();
    for (const outcome of ["done", "failed", "retried", "rejected"]) {
      expect(sample(text, `aitbc_keeper_steps_total{outcome="${outcome}"}`)).to.equal(0);
    }
    expect(sample(text, 'aitbc_keeper_executions_total{outcome="failed"}')).to.equal(0);
    expect(sample(text, "aitbc_keeper_safe_mode")).to.equal(0);
    expect(text).not.to.contain("process_resident_memory_bytes");
    metrics.safeMode(true);
    metrics.safeMode(false);
    metrics.executionsRunning(4);
    metrics.executionsRunning(1);
    text = await metrics.metrics();
    expect(sample(text, "aitbc_keeper_safe_mode")).to.equal(0);
    expect(sample(text, "aitbc_keeper_executions_running")).to.equal(1);
  });

  it("keeps separate registries per instance and adds default labels", async function () {
    const a = new KeeperMetrics({ labels: { keeper: "a" } });
    const b = new KeeperMetrics({ labels: { keeper: "b" } });
    a.rpcError();
    expect(sample(await a.metrics(), 'aitbc_keeper_rpc_errors_total{keeper="a"}')).to.equal(1);
    expect(sample(await b.metrics(), 'aitbc_keeper_rpc_errors_total{keeper="b"}')).to.equal(0);
  });

  describe("the Grafana dashboard (keepers/dashboards/keeper.json)", function () {
    it("is a dashboard model with a ${DS_PROMETHEUS} input used by every panel", function () {
      const dashboard = loadDashboard();
      expect(dashboard.schemaVersion).to.be.within(36, 41);
      expect(dashboard.__inputs).to.deep.include({
        name: "DS_PROMETHEUS",
        label: "Prometheus",
        description: "The Prometheus that scrapes the keepers' /metrics",
        type: "datasource",
        pluginId: "prometheus",
        pluginName: "Prometheus",
      });
      const queried = dashboard.panels.filter((p) => p.type !== "row");
      expect(queried).to.have.length.above(10);
      for (const panel of queried) {
        expect(panel.datasource?.uid, panel.title).to.equal("${DS_PROMETHEUS}");
        expect(panel.targets, panel.title).to.have.length.above(0);
      }
    });

    it("queries only metrics that KeeperMetrics exposes, and every one of them", function () {
      const exposed = new KeeperMetrics().seriesNames();
      const queried = dashboardMetricNames(loadDashboard());
      expect(queried.size).to.be.above(10);
      for (const name of queried) expect(exposed.has(name), `dashboard queries ${name}`).to.be.true;
      expect(queried).to.include("process_resident_memory_bytes");
      // The other way round: no keeper metric is left off the dashboard.
      const keeperMetrics = [...exposed].filter((n) => n.startsWith(METRIC_PREFIX) && !/_(sum|count)$/.test(n));
      const histogramBases = new Set([...queried].map((n) => n.replace(/_bucket$/, "")));
      for (const name of keeperMetrics) {
        expect(queried.has(name) || histogramBases.has(name), `dashboard omits ${name}`).to.be.true;
      }
    });

    it("finds metric names in PromQL the way the check above needs", function () {
      expect(
        metricNamesIn(
          'histogram_quantile(0.95, sum by (le, phase) (rate(aitbc_keeper_step_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
        ),
      ).to.deep.equal(["aitbc_keeper_step_duration_seconds_bucket"]);
      expect(metricNamesIn("sum(rate(a_total[5m])) / on (job) b_total > bool 0")).to.deep.equal(["a_total", "b_total"]);
    });
  });
});
