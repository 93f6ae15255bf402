/**
 * The report of a run: `result.json` (everything), `series.csv` (one row a day, every series a column),
 * `agents.csv` (each agent's P&L), `report.html` (self-contained: SVG charts rendered in Node by Apache ECharts'
 * server-side renderer, no script and no network needed to view it), and a terminal summary.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import * as echarts from "echarts";

import type { RunResult } from "./engine.js";
import type { DayRow } from "./metrics.js";

export interface ReportFiles {
  json: string;
  seriesCsv: string;
  agentsCsv: string;
  html: string;
}

export function writeReport(result: RunResult, dir: string): ReportFiles {
  mkdirSync(dir, { recursive: true });
  const files = {
    json: path.join(dir, "result.json"),
    seriesCsv: path.join(dir, "series.csv"),
    agentsCsv: path.join(dir, "agents.csv"),
    html: path.join(dir, "report.html"),
  };
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files.seriesCsv, toCsv(result.series));
  writeFileSync(
    files.agentsCsv,
    toCsv(result.agents.map(({ name, kind, group, role, ...figures }) => ({ name, kind, group, role, ...figures }))),
  );
  writeFileSync(files.html, html(result));
  return files;
}

export function toCsv(rows: readonly Record<string, string | number>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined) => {
    const text = v === undefined ? "" : String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

interface Chart {
  title: string;
  unit: string;
  series: { name: string; key: string }[];
}

/** The charts of the page: named series over the days. */
export function charts(result: RunResult): Chart[] {
  const keys = Object.keys(result.series[0] ?? {});
  const family = (prefix: string) =>
    keys.filter((k) => k.startsWith(`${prefix}.`)).map((k) => ({ name: k.slice(prefix.length + 1), key: k }));
  return [
    { title: "Volume per service", unit: "AITBC", series: family("volume") },
    { title: "Average price per service", unit: "AITBC / unit", series: family("price") },
    {
      title: "Workloads",
      unit: "count",
      series: [
        { name: "posted", key: "posted" },
        { name: "awarded", key: "awarded" },
        { name: "settled", key: "settled" },
        { name: "failures", key: "failures" },
        { name: "disputes", key: "disputes" },
      ],
    },
    {
      title: "Auction",
      unit: "",
      series: [
        { name: "bids per workload", key: "bidsPerWorkload" },
        { name: "fill rate", key: "fillRate" },
        { name: "hours to award", key: "hoursToAward" },
      ],
    },
    { title: "Slashes", unit: "AITBC", series: [{ name: "slashed", key: "slashed" }] },
    {
      title: "Concentration (Gini)",
      unit: "",
      series: [
        { name: "reputation", key: "reputationGini" },
        { name: "voting power", key: "votingGini" },
      ],
    },
    {
      title: "Nakamoto coefficient",
      unit: "agents",
      series: [
        { name: "reputation", key: "reputationNakamoto" },
        { name: "voting power", key: "votingNakamoto" },
      ],
    },
    {
      title: "Token supply, treasury and escrow",
      unit: "AITBC",
      series: [
        { name: "supply", key: "tokenSupply" },
        { name: "treasury", key: "treasury" },
        { name: "escrow", key: "escrow" },
      ],
    },
    { title: "P&L per agent (cumulative)", unit: "AITBC", series: family("pnl") },
  ];
}

/** One chart as an SVG string, rendered by ECharts in Node (no DOM). */
export function renderChart(chart: Chart, rows: readonly DayRow[]): string {
  const instance = echarts.init(null, null, { renderer: "svg", ssr: true, width: 720, height: 320 });
  instance.setOption({
    animation: false,
    title: { text: chart.title, left: 10, top: 6, textStyle: { fontSize: 14 } },
    // Room between legend items: the layout measures text in Node, where it comes out narrower than a browser
    // draws it (the report's picture showed names running into the next item's marker).
    legend: { type: "scroll", bottom: 0, itemGap: 28 },
    // The grid starts low enough for the y axis's name (above the grid) to clear the title (a browser test checks).
    grid: { left: 60, right: 20, top: 62, bottom: 50 },
    xAxis: { type: "category", name: "day", data: rows.map((r) => String(r.day)) },
    yAxis: { type: "value", name: chart.unit },
    series: chart.series.map((s) => ({
      name: s.name,
      type: "line",
      showSymbol: rows.length < 40,
      data: rows.map((r) => r[s.key] ?? 0),
    })),
  });
  const svg = instance.renderToSVGString();
  instance.dispose();
  return svg;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

function html(result: RunResult): string {
  const svgs = charts(result)
    .filter((c) => c.series.length > 0)
    .map((c) => `<figure>${renderChart(c, result.series)}</figure>`)
    .join("\n");
  const agents = result.agents
    .map(
      (a) =>
        `<tr><td>${escape(a.name)}</td><td>${escape(a.kind)}</td><td>${escape(a.role)}</td>` +
        `<td>${a.wealthChange.toFixed(3)}</td><td>${a.gas.toFixed(4)}</td><td>${a.compute.toFixed(3)}</td>` +
        `<td>${a.pnl.toFixed(3)}</td></tr>`,
    )
    .join("\n");
  const verdicts = result.verdicts.map((v) => `<li>${escape(v.line)}</li>`).join("\n");
  const events = result.events.map((e) => `<li>${escape(e)}</li>`).join("\n");
  const invariants = result.invariants
    .map((i) => `<li>${i.ok ? "ok" : "BROKEN"}: ${escape(i.name)} (${escape(i.detail)})</li>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AITBC simulation: ${escape(result.scenario)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1500px}figure{display:inline-block;margin:0.5em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head>
<body>
<h1>AITBC simulation: ${escape(result.scenario)}</h1>
<p>Seed ${result.seed}, ${result.days} simulated days, ${result.agentCount} agents; ${result.perf.transactions}
transactions in ${result.perf.seconds.toFixed(1)} s.</p>
${verdicts === "" ? "" : `<h2>Verdicts</h2><ul>${verdicts}</ul>`}
<h2>Charts</h2>
${svgs}
<h2>P&amp;L by group</h2>
<table><tr><th>group</th><th>kind</th><th>agents</th><th>mean P&amp;L (AITBC)</th></tr>
${groupPnl(result)
  .map(
    (g) =>
      `<tr><td>${escape(g.group)}</td><td>${escape(g.kind)}</td><td>${g.agents}</td><td>${g.mean.toFixed(3)}</td></tr>`,
  )
  .join("\n")}
</table>
<h2>Agents</h2>
<table><tr><th>agent</th><th>kind</th><th>role</th><th>wealth change</th><th>gas</th><th>compute</th><th>P&amp;L (AITBC)</th></tr>
${agents}
</table>
<h2>Events</h2><ul>${events}</ul>
<h2>Invariants</h2><ul>${invariants}</ul>
</body></html>
`;
}

/**
 * P&L by scenario group (agents of one entry: one strategy, or one attack), best mean first: how the strategies
 * fared against each other (learning against fixed and rule-based ones).
 */
export function groupPnl(result: RunResult): { group: string; kind: string; agents: number; mean: number }[] {
  const byGroup = new Map<string, { kind: string; pnl: number[] }>();
  for (const a of result.agents) {
    const g = byGroup.get(a.group) ?? { kind: a.kind, pnl: [] };
    g.pnl.push(a.pnl);
    byGroup.set(a.group, g);
  }
  return [...byGroup]
    .map(([group, g]) => ({
      group,
      kind: g.kind,
      agents: g.pnl.length,
      mean: g.pnl.reduce((s, x) => s + x, 0) / g.pnl.length,
    }))
    .sort((a, b) => b.mean - a.mean);
}

/** The terminal summary: totals, P&L by group and by agent, verdicts, invariants, speed. */
export function summary(result: RunResult): string {
  const sum = (key: string) => result.series.reduce((s, r) => s + (r[key] ?? 0), 0);
  const last = result.series.at(-1) ?? {};
  const lines = [
    `scenario ${result.scenario}, seed ${result.seed}: ${result.days} days, ${result.agentCount} agents`,
    `  workloads posted ${sum("posted")}, awarded ${sum("awarded")}, settled ${sum("settled")}, ` +
      `failures ${sum("failures")}, disputes ${sum("disputes")}, slashed ${sum("slashed").toFixed(2)} AITBC`,
    `  token supply ${(last.tokenSupply ?? 0).toFixed(2)} AITBC, treasury ${(last.treasury ?? 0).toFixed(2)} AITBC, ` +
      `reputation Gini ${(last.reputationGini ?? 0).toFixed(3)}, voting Nakamoto ${last.votingNakamoto ?? 0}`,
    "  P&L by group (AITBC, mean per agent):",
    ...groupPnl(result).map(
      (g) => `    ${g.group.padEnd(22)} ${g.kind.padEnd(13)} ${g.mean.toFixed(3).padStart(12)}  (${g.agents} agents)`,
    ),
    "  P&L (AITBC):",
    ...[...result.agents]
      .sort((a, b) => b.pnl - a.pnl)
      .map((a) => `    ${a.name.padEnd(22)} ${a.kind.padEnd(13)} ${a.pnl.toFixed(3).padStart(12)}`),
    ...result.events.map((e) => `  event ${e}`),
    ...result.invariants.map((i) => `  invariant ${i.ok ? "ok" : "BROKEN"}: ${i.name} (${i.detail})`),
    `  ${result.perf.transactions} transactions (${result.perf.failedTransactions} refused) in ` +
      `${result.perf.seconds.toFixed(1)} s: ${result.perf.txPerSecond.toFixed(1)} tx/s, ` +
      `${result.perf.daysPerMinute.toFixed(2)} simulated days/min`,
    ...result.verdicts.map((v) => v.line),
  ];
  return lines.join("\n");
}
