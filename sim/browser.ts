/**
 * The report in a real browser: Debian's Chromium (found, or installed from the system packages when missing, by
 * scripts/services/chromium.sh), driven over the DevTools protocol by playwright-core (which downloads no browser
 * of its own). Used by the report's browser test (test/sim/report-browser.test.ts) and by `npm run sim:screenshot`
 * (sim/screenshot.ts), so the test checks the page the screenshot shows.
 *
 * {renderedCharts} reads the page as Chromium laid it out, not the HTML text: each chart's SVG element and its size
 * on the page, the line series' paths with their points and their lengths as drawn, and the text labels with
 * their rendered widths (0 for a label that did not render).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { chromium, type Browser, type Page } from "playwright-core";

const SCRIPT = path.join(import.meta.dirname, "..", "scripts", "services", "chromium.sh");

/**
 * The Chromium binary: scripts/services/chromium.sh's last line (the script installs Debian's package when it is
 * missing, which takes about half a minute). Throws with the script's message when it cannot.
 */
export function chromiumPath(): string {
  const out = execFileSync("bash", [SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const binary = out.trim().split("\n").at(-1);
  if (binary === undefined || binary === "") throw new Error(`${SCRIPT} printed no binary`);
  return binary;
}

/**
 * Chromium headless with the flags a closed network needs (no background connections, no component updates), a
 * throw-away profile; no sandbox when running as root (Chromium refuses to start sandboxed as root).
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    chromiumSandbox: process.getuid?.() !== 0,
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Opens the report file `html` in a new page of `browser` (a window of `viewport`) and waits for it to load. */
export async function openReport(
  browser: Browser,
  html: string,
  viewport = { width: 1600, height: 1000 },
): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(pathToFileURL(path.resolve(html)).href, { waitUntil: "load" });
  return page;
}

/** A rectangle on the page, CSS pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Whether two boxes overlap (touching edges do not count). */
export function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** A line series as Chromium laid it out. */
export interface RenderedLine {
  /** The stroke colour (the legend's marker has the same). */
  stroke: string;
  /** The points of the path (its data, in the SVG's user units: x to the right, y downwards). */
  points: { x: number; y: number }[];
  /** The path's length as Chromium computed its geometry (0 when nothing is drawn). */
  length: number;
}

/** One chart (a `<figure>` of the report) as Chromium laid it out. */
export interface RenderedChart {
  /** The title (the chart's only bold text) and where it landed on the page. */
  title: string;
  titleBox: Box;
  /** The SVG's size on the page, CSS pixels. */
  width: number;
  height: number;
  lines: RenderedLine[];
  /** Every other text of the chart (axis labels, axis names, legend): its rendered width, where it landed. */
  labels: { text: string; width: number; box: Box }[];
}

/**
 * The little of the DOM that {renderedCharts} uses, typed here so the project's type check needs no DOM library
 * (which would let product code use browser globals unnoticed).
 */
interface DomRect {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface DomElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): DomRect;
  querySelectorAll(selector: string): Iterable<DomElement>;
}
interface DomSvgPath extends DomElement {
  getTotalLength(): number;
}
interface DomSvgText extends DomElement {
  getComputedTextLength(): number;
}

/**
 * Every chart of the open report, read from the page's DOM as laid out (SVG geometry computed by Chromium). The
 * function runs in the page: it names no inner function (tsx would wrap it in a helper the page lacks).
 */
export async function renderedCharts(page: Page): Promise<RenderedChart[]> {
  return page.evaluate(() =>
    [...(globalThis as unknown as { document: DomElement }).document.querySelectorAll("figure > svg")].map((svg) => {
      const box = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll("text")] as DomSvgText[];
      const title = texts.find((t) => t.getAttribute("style")?.includes("font-weight:bold") === true);
      // ECharts draws each line series as one path inside a clipped group (the grid); markers and the legend
      // are outside such groups.
      const lines = ([...svg.querySelectorAll("g[clip-path] > path")] as DomSvgPath[]).map((path) => {
        const points: { x: number; y: number }[] = [];
        for (const [, x, y] of (path.getAttribute("d") ?? "").matchAll(/[ML]\s*(-?[\d.]+)[\s,]+(-?[\d.]+)/g))
          points.push({ x: Number(x), y: Number(y) });
        return { stroke: path.getAttribute("stroke") ?? "", points, length: path.getTotalLength() };
      });
      const titleRect = title?.getBoundingClientRect();
      return {
        title: title?.textContent ?? "",
        titleBox: {
          x: titleRect?.x ?? 0,
          y: titleRect?.y ?? 0,
          width: titleRect?.width ?? 0,
          height: titleRect?.height ?? 0,
        },
        width: box.width,
        height: box.height,
        lines,
        labels: texts
          .filter((t) => t !== title)
          .map((t) => {
            const r = t.getBoundingClientRect();
            return {
              text: t.textContent ?? "",
              width: t.getComputedTextLength(),
              box: { x: r.x, y: r.y, width: r.width, height: r.height },
            };
          }),
      };
    }),
  );
}
