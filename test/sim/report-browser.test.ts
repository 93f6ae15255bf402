/**
 * The simulation's HTML report in a real browser: a smoke run's report opened in Debian's Chromium (installed by
 * scripts/services/chromium.sh when missing, driven by playwright-core: sim/browser.ts), and every chart checked
 * as Chromium laid it out against the run's own series: one drawn line per series with one point per day, the
 * points ordered as the data are, the days on the x axis and numbers on the y axis rendered as text of non-zero
 * width, the legend naming the series, the title clear of the other labels.
 *
 * Waiting-bound (test/run.sh's second group): on a machine without Chromium its `before` waits on apt-get, and
 * then on the browser process.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import type { Browser } from "playwright-core";

import { launchChromium, openReport, overlap, renderedCharts, type RenderedChart } from "../../sim/browser.js";
import { runScenario, type RunResult } from "../../sim/engine.js";
import { charts, writeReport } from "../../sim/report.js";
import { loadScenario } from "../../sim/scenario.js";

const DAYS = 3;

describe("sim: the HTML report in headless Chromium", function () {
  this.timeout(600_000);
  let browser: Browser;
  let result: RunResult;
  let rendered: RenderedChart[];

  before(async function () {
    result = await runScenario(loadScenario("sim/scenarios/smoke.json"), { seed: 3, days: DAYS });
    const files = writeReport(result, mkdtempSync(path.join(tmpdir(), "aitbc-sim-browser-")));
    browser = await launchChromium();
    const page = await openReport(browser, files.html);
    rendered = await renderedCharts(page);
  });

  after(async function () {
    await browser.close();
  });

  it("renders every chart of the report, with its title, at its size", function () {
    const expected = charts(result).filter((c) => c.series.length > 0);
    expect(rendered.map((c) => c.title)).to.deep.equal(expected.map((c) => c.title));
    for (const chart of rendered) {
      expect(chart.width, chart.title).to.equal(720);
      expect(chart.height, chart.title).to.equal(320);
    }
  });

  it("draws one line per series, one point per day, ordered as the run's figures", function () {
    const expected = charts(result).filter((c) => c.series.length > 0);
    let rising = 0;
    for (const [i, chart] of expected.entries()) {
      const drawn = rendered[i] as RenderedChart;
      expect(drawn.lines, chart.title).to.have.length(chart.series.length);
      for (const [j, series] of chart.series.entries()) {
        const line = drawn.lines[j];
        if (line === undefined) throw new Error(`${chart.title}: no line for ${series.name}`);
        const what = `${chart.title}: ${series.name}`;
        expect(line.points, what).to.have.length(DAYS);
        expect(line.length, what).to.be.greaterThan(0);
        const values = result.series.map((r) => r[series.key] ?? 0);
        for (let a = 0; a < DAYS; a++) {
          const pa = line.points[a] as { x: number; y: number };
          if (a > 0) expect(pa.x, what).to.be.greaterThan((line.points[a - 1] as { x: number }).x);
          for (let b = 0; b < DAYS; b++) {
            const pb = line.points[b] as { x: number; y: number };
            // A larger value is drawn higher (a smaller y); equal values at one height.
            if ((values[a] as number) > (values[b] as number)) expect(pa.y, what).to.be.at.most(pb.y);
            if (values[a] === values[b]) expect(Math.abs(pa.y - pb.y), what).to.be.lessThan(0.5);
          }
        }
        if ((values.at(-1) as number) !== (values[0] as number)) rising += 1;
      }
    }
    // Real data: figures that moved over the days (supply, volume, P&L...) are drawn as lines that move.
    expect(rising).to.be.greaterThan(5);
  });

  it("labels the axes: the days along x, numbers along y, the legend's series names, all rendered", function () {
    const expected = charts(result).filter((c) => c.series.length > 0);
    for (const [i, chart] of expected.entries()) {
      const drawn = rendered[i] as RenderedChart;
      const shown = drawn.labels.filter((l) => l.width > 0).map((l) => l.text);
      for (let day = 0; day < DAYS; day++) expect(shown, `${chart.title}: day ${day}`).to.include(String(day));
      expect(shown, chart.title).to.include("day");
      const numbers = shown.filter((t) => /^-?[\d.,]+$/.test(t)).length;
      expect(numbers, `${chart.title}: y labels`).to.be.at.least(DAYS + 2);
      for (const series of chart.series) expect(shown, `${chart.title}: legend`).to.include(series.name);
    }
  });

  it("lays the title out clear of every label", function () {
    for (const chart of rendered) {
      expect(chart.titleBox.width, chart.title).to.be.greaterThan(0);
      const hit = chart.labels.filter((l) => overlap(l.box, chart.titleBox)).map((l) => l.text);
      expect(hit, `${chart.title}: labels over the title`).to.deep.equal([]);
    }
  });
});
