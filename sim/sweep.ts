/**
 * Parameter sweeps as data (radCAD's way): `--sweep seeds=1,2,3 --sweep protocol.protocolFeeBps=50,100,200` is the
 * grid of every seed × every value; each point runs in its own child process (`sim/cli.ts --json`, a fresh
 * in-process chain), as many at once as the machine has cores, and the table gives per point: honest P&L, attacker
 * profit, settled workloads, slashes, and speed.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";

import { ConfigError } from "../keepers/common/config.js";
import type { RunResult } from "./engine.js";

export interface Grid {
  seeds: number[];
  /** Parameter path -> values. */
  parameters: [string, string[]][];
}

export interface SweepRow {
  seed: number;
  set: string[];
  honestPnl: number;
  attackerProfit: number | undefined;
  settled: number;
  slashed: number;
  seconds: number;
}

export function parseSweep(specs: readonly string[], defaultSeed: number): Grid {
  const grid: Grid = { seeds: [defaultSeed], parameters: [] };
  for (const spec of specs) {
    const at = spec.indexOf("=");
    if (at <= 0) throw new ConfigError(`--sweep ${spec}: expected name=v1,v2,...`);
    const name = spec.slice(0, at);
    const values = spec
      .slice(at + 1)
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (values.length === 0) throw new ConfigError(`--sweep ${name}: no values`);
    if (name === "seeds") {
      if (values.some((v) => !/^\d+$/.test(v))) throw new ConfigError(`--sweep seeds: whole numbers only`);
      grid.seeds = values.map(Number);
    } else grid.parameters.push([name, values]);
  }
  return grid;
}

/** Every point of the grid: a seed and the `path=value` overrides. */
export function points(grid: Grid): { seed: number; set: string[] }[] {
  let combos: string[][] = [[]];
  for (const [name, values] of grid.parameters) {
    combos = combos.flatMap((c) => values.map((v) => [...c, `${name}=${v}`]));
  }
  return grid.seeds.flatMap((seed) => combos.map((set) => ({ seed, set })));
}

export async function runSweep(options: {
  scenarioFile: string;
  days: number;
  agents?: number;
  set: readonly string[];
  grid: Grid;
}): Promise<SweepRow[]> {
  const todo = points(options.grid).map((p, index) => ({ ...p, index }));
  const rows: SweepRow[] = [];
  const workers = Math.max(1, Math.min(availableParallelism(), todo.length));
  const cli = path.join(path.dirname(new URL(import.meta.url).pathname), "cli.ts");
  const next = async (): Promise<void> => {
    const point = todo.shift();
    if (point === undefined) return;
    const out = path.join("sim", "out", "sweep", String(point.index));
    const args = [
      "--import",
      "tsx",
      cli,
      "--scenario",
      options.scenarioFile,
      "--seed",
      String(point.seed),
      "--days",
      String(options.days),
      "--out",
      out,
      "--json",
      "--quiet",
      ...(options.agents === undefined ? [] : ["--agents", String(options.agents)]),
      ...[...options.set, ...point.set].flatMap((s) => ["--set", s]),
    ];
    const stdout = await runChild(process.execPath, args);
    const line = stdout.trim().split("\n").at(-1) ?? "";
    const { result: file } = JSON.parse(line) as { result: string };
    const result = JSON.parse(readFileSync(file, "utf8")) as RunResult;
    const attackers = result.agents.filter((a) => a.role === "attacker");
    rows[point.index] = {
      seed: point.seed,
      set: point.set,
      honestPnl: result.agents.filter((a) => a.role === "honest" && a.kind !== "client").reduce((s, a) => s + a.pnl, 0),
      attackerProfit: attackers.length === 0 ? undefined : attackers.reduce((s, a) => s + a.pnl, 0),
      settled: result.series.reduce((s, r) => s + (r.settled ?? 0), 0),
      slashed: result.series.reduce((s, r) => s + (r.slashed ?? 0), 0),
      seconds: result.perf.seconds,
    };
    return next();
  };
  await Promise.all(Array.from({ length: workers }, () => next()));
  return rows;
}

function runChild(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`sweep point ${args.join(" ")} exited ${code}: ${stderr.trim().split("\n").slice(-5).join("\n")}`),
        );
    });
  });
}

/** The sweep as a Markdown table. */
export function sweepTable(rows: readonly SweepRow[]): string {
  const header = "| seed | parameters | honest providers' P&L | attacker profit | settled | slashed | seconds |";
  const lines = rows.map(
    (r) =>
      `| ${r.seed} | ${r.set.join(" ") || "(scenario)"} | ${r.honestPnl.toFixed(3)} | ` +
      `${r.attackerProfit === undefined ? "-" : r.attackerProfit.toFixed(3)} | ${r.settled} | ${r.slashed.toFixed(2)} | ` +
      `${r.seconds.toFixed(1)} |`,
  );
  return [header, "| --- | --- | --- | --- | --- | --- | --- |", ...lines].join("\n");
}
