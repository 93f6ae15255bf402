/**
 * Keeps the documentation honest: every markdown file the repository ships (git's tracked and not ignored files)
 * links only to files inside the repository, and those files exist.
 *
 * Checked, outside fenced code blocks:
 * - markdown links and images `[text](target)`, reference definitions `[ref]: target`, autolinks `<https://…>`
 *   and bare URLs: a relative target must resolve inside the repository to a file or folder git knows of (a
 *   clone has no other), `#anchors` must name a heading of their file; an http(s) URL must be loopback (a
 *   local chain or daemon), any other URL or scheme fails, so nothing points at a page a reader may not have;
 * - inline code that is a plain relative path (`keepers/README.md`, `build/manifest.json` beside
 *   circuits/README.md) starting with a folder that exists at the top level or beside the file: it must exist.
 *   Paths with placeholders or globs (`I<Name>.sol`, `*.t.sol`) are not paths and are skipped;
 * - table rows stay under MAX_TABLE_ROW characters, so a table reads in an editor and a diff.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

const MAX_TABLE_ROW = 160;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();

/** Files a clone would have: tracked, plus new files not ignored (so a new page counts before its commit). */
function repositoryFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: root,
    encoding: "utf8",
  });
  return out.split("\0").filter((f) => f !== "" && existsSync(path.join(root, f)));
}

/** The repository as the checks see it: its files and every folder that holds one. */
interface Repository {
  files: Set<string>;
  folders: Set<string>;
  /** Markdown text by path, read lazily for anchor checks. */
  read: (file: string) => string;
}

function repositoryOf(files: Iterable<string>, read: (file: string) => string): Repository {
  const fileSet = new Set(files);
  const folders = new Set<string>([""]);
  for (const file of fileSet) {
    for (let dir = path.posix.dirname(file); dir !== "."; dir = path.posix.dirname(dir)) folders.add(dir);
  }
  return { files: fileSet, folders, read };
}

/** A markdown text with fenced code blocks blanked (line numbers kept). */
function withoutFences(text: string): string[] {
  let fence: string | undefined;
  return text.split("\n").map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (marker !== undefined) fence = marker;
      return marker === undefined ? line : "";
    }
    if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    return "";
  });
}

/** GitHub's anchors for a markdown text's headings (github-slugger's rules, duplicates numbered). */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(text)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1] ?? "");
  }
  return anchors;
}

function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** What is wrong with one link target written in `file`, or undefined. */
function checkTarget(repo: Repository, file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return `${target}: not a valid URL`;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return `${target}: points outside the repository`;
    return isLoopback(url) ? undefined : `${target}: a page outside the repository (only loopback URLs are allowed)`;
  }
  const hash = target.indexOf("#");
  const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : target.slice(hash + 1);
  const resolved =
    pathPart === ""
      ? file
      : pathPart.startsWith("/")
        ? path.posix.normalize(pathPart.slice(1))
        : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
  const clean = resolved.replace(/\/+$/, "");
  if (clean === ".." || clean.startsWith("../") || path.posix.isAbsolute(clean)) {
    return `${target}: points outside the repository`;
  }
  const isFile = repo.files.has(clean);
  if (!isFile && !repo.folders.has(clean === "." ? "" : clean)) return `${target}: no such file or folder`;
  if (anchor !== undefined && anchor !== "" && isFile && clean.endsWith(".md")) {
    if (!anchorsOf(repo.read(clean)).has(anchor.toLowerCase())) return `${target}: no heading #${anchor} in ${clean}`;
  }
  return undefined;
}

/** Every problem with the links of markdown `text` written at `file`, as "file:line: what". */
function linkProblems(repo: Repository, file: string, text: string): string[] {
  const problems: string[] = [];
  const topFolders = new Set([...repo.folders].filter((d) => d !== "" && !d.includes("/")));
  const here = path.posix.dirname(file);
  withoutFences(text).forEach((line, index) => {
    const at = `${file}:${index + 1}`;
    const report = (problem: string | undefined) => {
      if (problem !== undefined) problems.push(`${at}: ${problem}`);
    };
    // Inline code first: links inside it are not links, paths inside it may be.
    const codeSpans = [...line.matchAll(/(`+)(.+?)\1/g)].map((m) => (m[2] ?? "").trim());
    const prose = line.replace(/(`+)(.+?)\1/g, "``");
    for (const span of codeSpans) {
      if (!/^[\w.-]+(\/[\w.-]+)+\/?$/.test(span)) continue;
      const first = span.split("/")[0] ?? "";
      const candidates: string[] = [];
      if (topFolders.has(first)) candidates.push(span);
      if (here !== "." && repo.folders.has(`${here}/${first}`)) candidates.push(`${here}/${span}`);
      if (candidates.length === 0) continue;
      const found = candidates.some((c) => {
        const p = c.replace(/\/+$/, "");
        return repo.files.has(p) || repo.folders.has(p);
      });
      if (!found) report(`\`${span}\`: no such file or folder`);
    }
    const targets: string[] = [];
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g)) targets.push(m[1] ?? "");
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose)?.[1];
    if (definition !== undefined) targets.push(definition);
    for (const m of prose.matchAll(/<([a-z][a-z0-9+.-]*:[^>\s]+)>/gi)) targets.push(m[1] ?? "");
    const linked = new Set(targets);
    for (const m of prose.matchAll(/\bhttps?:\/\/[^\s)\]>"'`]+/g)) {
      if (!linked.has(m[0])) targets.push(m[0].replace(/[.,;:]+$/, ""));
    }
    for (const target of targets) report(target === "" ? "empty link target" : checkTarget(repo, file, target));
    const width = Array.from(line).length; // characters, not UTF-16 units: `…` and `→` count once
    if (/^\s*\|/.test(line) && width > MAX_TABLE_ROW) {
      report(`table row of ${width} characters (at most ${MAX_TABLE_ROW})`);
    }
  });
  return problems;
}

const files = repositoryFiles();
const repo = repositoryOf(files, (file) => readFileSync(path.join(root, file), "utf8"));
const markdown = files.filter((f) => f.endsWith(".md")).sort();

describe("documentation links", function () {
  it("finds the README, the docs/ pages and the folders' READMEs", function () {
    expect(markdown).to.include.members(["README.md", "docs/design.md", "docs/status.md", "keepers/README.md"]);
  });

  for (const file of markdown) {
    it(`${file}: links resolve inside the repository`, function () {
      const problems = linkProblems(repo, file, repo.read(file));
      expect(problems, problems.join("\n")).to.deep.equal([]);
    });
  }

  describe("the checker", function () {
    const fake = repositoryOf(["README.md", "docs/design.md", "keepers/README.md", "keepers/keeper/keeper.ts"], (f) =>
      f === "docs/design.md" ? "# Design\n\n## Where it comes from\n" : "# Title\n",
    );
    const problems = (text: string, file = "README.md") => linkProblems(fake, file, text);

    it("accepts links to files, folders and headings inside the repository, and loopback URLs", function () {
      const text = [
        "[design](../docs/design.md#where-it-comes-from), [keeper](keeper/), [up](../README.md#title)",
        "`keepers/keeper/keeper.ts`, `keeper/keeper.ts`, `contracts/interfaces/I<Name>.sol`, http://127.0.0.1:8700",
        "```",
        "[ignored in a fenced block](../shared/DESIGN.md) https://example.com",
        "```",
      ].join("\n");
      expect(problems(text, "keepers/README.md")).to.deep.equal([]);
    });

    it("rejects targets outside the repository, missing files and headings, and outside URLs", function () {
      const text = [
        "[design](../shared/DESIGN.md) [gone](docs/gone.md) [heading](docs/design.md#nowhere)",
        "[web](https://example.com/page) <https://github.com/x/y> see http://example.org.",
        "`keepers/keeper/gone.ts` [mail](mailto:someone@example.com)",
        `| ${"x".repeat(MAX_TABLE_ROW)} |`,
      ].join("\n");
      expect(problems(text)).to.deep.equal([
        "README.md:1: ../shared/DESIGN.md: points outside the repository",
        "README.md:1: docs/gone.md: no such file or folder",
        "README.md:1: docs/design.md#nowhere: no heading #nowhere in docs/design.md",
        "README.md:2: https://example.com/page: a page outside the repository (only loopback URLs are allowed)",
        "README.md:2: https://github.com/x/y: a page outside the repository (only loopback URLs are allowed)",
        "README.md:2: http://example.org: a page outside the repository (only loopback URLs are allowed)",
        "README.md:3: `keepers/keeper/gone.ts`: no such file or folder",
        "README.md:3: mailto:someone@example.com: points outside the repository",
        `README.md:4: table row of ${MAX_TABLE_ROW + 4} characters (at most ${MAX_TABLE_ROW})`,
      ]);
    });
  });
});
