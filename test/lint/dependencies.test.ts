/**
 * The dependency rules of .dependency-cruiser.cjs (run by `npm run lint`) bite: a scratch tree with one wrong
 * import per rule, and a few right ones, is cruised with the repository's configuration; every wrong import is
 * reported under its rule and no right one is. And the repository itself has no violation.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const DEPCRUISE = path.join(ROOT, "node_modules", ".bin", "depcruise");
const CONFIG = path.join(ROOT, ".dependency-cruiser.cjs");
const FOLDERS = ["hardhat.config.ts", "protocol", "circuits", "deploy", "keepers", "agents", "sim", "scripts", "test"];

/** file -> the files it imports (paths relative to the scratch root, without extension). */
const TREE: Record<string, string[]> = {
  // wrong
  "protocol/codec": ["keepers/keeper/orchestrator"],
  "circuits/lib/hash": ["protocol/codec"],
  "deploy/modules/Core": ["keepers/common/chain"],
  "keepers/common/chain": ["keepers/keeper/orchestrator"],
  "keepers/keeper/orchestrator": ["keepers/provider/server", "scripts/lib/format"],
  "keepers/keeper/plan": ["keepers/keeper/steps"],
  "keepers/keeper/steps": ["keepers/keeper/plan"],
  "scripts/lib/format": ["scripts/tasks/show"],
  "scripts/bench/gas": ["test/helpers/fixture"],
  "agents/runtime": ["keepers/keeper/orchestrator", "sim/engine"],
  "sim/engine": [
    "keepers/keeper/orchestrator",
    "agents/memory",
    "scripts/lib/deploy",
    "deploy/modules/Protocol",
    "keepers/common/log",
  ],
  "keepers/common/catalog": ["agents/memory"],
  // right
  "agents/memory": ["keepers/common/log", "keepers/provider/backends/index", "protocol/enums"],
  "keepers/provider/backends/index": ["keepers/common/log"],
  "keepers/provider/server": ["keepers/common/log", "protocol/enums"],
  "keepers/common/log": ["protocol/enums"],
  "scripts/tasks/show": ["scripts/lib/deploy", "keepers/common/log"],
  "scripts/lib/deploy": ["deploy/modules/Protocol"],
  "deploy/modules/Protocol": ["protocol/enums"],
  "test/helpers/fixture": ["scripts/lib/deploy", "keepers/provider/server"],
  "protocol/enums": [],
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

function depcruise(cwd: string, outputType: "json" | "err", folders: string[]) {
  return spawnSync(DEPCRUISE, ["--config", CONFIG, "--output-type", outputType, ...folders], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The violations in `folders` of `cwd` (the json reporter), and the exit code of the run lint makes (err). */
function cruise(cwd: string, folders: string[]): { status: number | null; violations: Violation[] } {
  const output = JSON.parse(depcruise(cwd, "json", folders).stdout) as { summary: { violations: Violation[] } };
  return { status: depcruise(cwd, "err", folders).status, violations: output.summary.violations };
}

describe("dependency rules (.dependency-cruiser.cjs)", function () {
  this.timeout(60_000);
  let scratch: string;
  let violations: Violation[];
  let status: number | null;

  before(function () {
    scratch = mkdtempSync(path.join(os.tmpdir(), "aitbc-deps-"));
    for (const [file, imports] of Object.entries(TREE)) {
      const at = path.join(scratch, `${file}.ts`);
      mkdirSync(path.dirname(at), { recursive: true });
      const lines = imports.map((target, i) => {
        let spec = path.relative(path.dirname(file), target);
        if (!spec.startsWith(".")) spec = `./${spec}`;
        return `import * as m${i} from "${spec}.js";\nexport const use${i} = m${i};`;
      });
      writeFileSync(at, `${lines.join("\n")}\nexport const name = "${file}";\n`);
    }
    writeFileSync(
      path.join(scratch, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "node16", moduleResolution: "node16", strict: true } }),
    );
    ({ status, violations } = cruise(scratch, [
      "protocol",
      "circuits",
      "deploy",
      "keepers",
      "agents",
      "sim",
      "scripts",
      "test",
    ]));
  });

  after(function () {
    rmSync(scratch, { recursive: true, force: true });
  });

  const found = (rule: string, from: string, to: string) =>
    violations.some((v) => v.rule.name === rule && v.from === `${from}.ts` && v.to === `${to}.ts`);

  const WRONG: [rule: string, from: string, to: string][] = [
    ["protocol-is-neutral", "protocol/codec", "keepers/keeper/orchestrator"],
    ["circuits-stand-alone", "circuits/lib/hash", "protocol/codec"],
    ["deploy-on-protocol", "deploy/modules/Core", "keepers/common/chain"],
    ["keepers-common-below-daemons", "keepers/common/chain", "keepers/keeper/orchestrator"],
    ["daemons-apart", "keepers/keeper/orchestrator", "keepers/provider/server"],
    ["scripts-only-from-scripts-and-test", "keepers/keeper/orchestrator", "scripts/lib/format"],
    ["scripts-lib-is-a-library", "scripts/lib/format", "scripts/tasks/show"],
    ["test-only-from-test", "scripts/bench/gas", "test/helpers/fixture"],
    ["agents-on-common", "agents/runtime", "keepers/keeper/orchestrator"],
    ["keepers-common-below-daemons", "keepers/common/catalog", "agents/memory"],
    ["sim-on-top", "agents/runtime", "sim/engine"],
    ["sim-uses-the-libraries", "sim/engine", "keepers/keeper/orchestrator"],
  ];
  for (const [rule, from, to] of WRONG) {
    it(`${rule}: refuses ${from} -> ${to}`, function () {
      expect(found(rule, from, to), JSON.stringify(violations, null, 1)).to.equal(true);
    });
  }

  it("no-cycle: refuses an import cycle, naming its modules", function () {
    const cycle = violations.find((v) => v.rule.name === "no-cycle" && v.from === "keepers/keeper/plan.ts");
    expect(cycle?.cycle?.map((c) => c.name)).to.deep.equal(["keepers/keeper/steps.ts", "keepers/keeper/plan.ts"]);
  });

  it("fails the lint run (exit code 1 or more), and reports nothing for the allowed imports", function () {
    expect(status).to.be.greaterThan(0);
    const reported = new Set(violations.map((v) => v.from));
    for (const right of [
      "keepers/provider/server",
      "keepers/common/log",
      "scripts/tasks/show",
      "scripts/lib/deploy",
      "agents/memory",
      "keepers/provider/backends/index",
    ])
      expect(reported.has(`${right}.ts`), right).to.equal(false);
    expect(reported.has("test/helpers/fixture.ts")).to.equal(false);
    // sim/ on the libraries: only its one wrong import is reported.
    expect(violations.filter((v) => v.from === "sim/engine.ts")).to.have.length(1);
    // Each wrong import once under its rule, plus the cycle once.
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).to.have.length(WRONG.length + 1);
  });

  it("finds no violation in the repository", function () {
    const result = cruise(ROOT, FOLDERS);
    expect(result.violations, JSON.stringify(result.violations, null, 1)).to.deep.equal([]);
    expect(result.status).to.equal(0);
  });

  it("is what `npm run lint` runs", function () {
    const { scripts } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(scripts["lint:deps"]).to.include("depcruise --config .dependency-cruiser.cjs");
    expect(scripts.lint).to.include("npm run lint:deps");
  });
});
