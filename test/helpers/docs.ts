/**
 * Documentation that runs: the fenced shell blocks of a markdown file that a test marks as its own, run as written
 * by bash against a separate `hardhat node` process, from a sandbox of the repository.
 *
 * A block is run when the line above its fence (blank lines aside) is `<!-- run by <test file>: <block id> -->`; the test names
 * itself, so a reader of the page knows which test breaks when a command changes, and the test fails when a block it
 * expects is missing. Blocks run one by one, each in its own `bash -euo pipefail`, in page order; the variables a
 * block exports reach the later blocks (its `export -p` is sourced by the next), its working directory is the
 * sandbox's root, as a reader's is the clone's.
 *
 * A block of long-running commands (daemons a reader starts "a terminal each") is started with `startTerminals`: each
 * command of the block in a bash of its own, left running until the test stops it.
 *
 * The sandbox is a temporary folder holding a symbolic link to each top-level entry of the repository (contracts,
 * circuits, node_modules, ...) but these: `deploy/deployments` (Ignition's journal of what the blocks deploy stays in
 * the sandbox, not in the clone), the TypeScript the commands run (COPIED, with deploy/modules), the build's outputs
 * (BUILT: copied, and `cache/` with the clone's compile cache only, its entries renamed to the sandbox's paths:
 * Hardhat names each source by its absolute path, so without them `ignition deploy` compiled every contract again,
 * minutes of CPU, and wrote the results and its chain-instance file through links into the clone's `artifacts/` and
 * `cache/`, which another test process may be reading) and `hardhat.config.ts`, copied with the `localhost`
 * network's URL pointed at the test's node (a free loopback port, never 8545, which a reader's own node may hold). Its `package-lock.json` is a copy dated as the
 * installed `node_modules/.package-lock.json`, so `./npmw` in a block finds the dependencies installed (as they are
 * on the reader's machine after `./npmw test`) and never reinstalls them into the clone's `node_modules`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const LOCALHOST_URL = "http://127.0.0.1:8545";
/**
 * The TypeScript the commands run, copied rather than linked: Node imports a linked module from its real path, so
 * protocol/addresses.ts would read the clone's deploy/deployments instead of the sandbox's.
 */
const COPIED = ["protocol", "scripts", "keepers"];
/** What a build writes, copied so that a command's build writes in the sandbox; `cache/` is made apart. */
const BUILT = ["artifacts", "typechain-types"];

/** Variables a spawned Hardhat must not see: the test runner's (HH_TEST), CI's (Hardhat then shows stack traces). */
const DROPPED = new Set([
  "HH_TEST",
  "GITHUB_ACTIONS",
  "NOW",
  "DEPLOYMENT_ID",
  "CODEBUILD_BUILD_NUMBER",
  "CI",
  "CONTINUOUS_INTEGRATION",
  "BUILD_NUMBER",
  "RUN_ID",
  // A reader starts without the protocol's or the tests' settings.
  "AITBC_ADDRESSES",
  "AITBC_PRIVATE_KEY",
  "AITBC_SIGNER",
  "AITBC_KEYSTORE_DIR",
  "AITBC_KEYSTORE_PASSWORD",
  "AITBC_IMPORT_KEY",
  "AITBC_RPC_URL",
]);

/** The environment a reader's shell has: this one without the test runner's and CI's variables, plus `extra`. */
export function readerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // HARDHAT_*: Hardhat's global options from the environment (the test runner's HARDHAT_CONFIG names the clone's
  // config, which would take the commands out of the sandbox).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !DROPPED.has(k) && !k.startsWith("HARDHAT_")),
  );
  // Ignition builds with the production profile (isolated compilation, minutes on a clone that never ran it) before
  // deploying; the tests' commands build with the default profile the suite has already compiled (same sources and
  // compiler settings), as `npx hardhat --build-profile default …` would.
  env.HARDHAT_BUILD_PROFILE = "default";
  // Node 22 first on PATH, as the README says (`npx hardhat` runs with it).
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ""}`;
  return { ...env, ...extra };
}

export interface DocBlock {
  /** The block's id in its marker. */
  id: string;
  /** Its first line's number in the page (1-based). */
  line: number;
  code: string;
}

const MARKER = /^<!-- run by (\S+): ([\w-]+) -->$/;

/** The shell blocks of `page` (a path from the repository's root) marked as run by `runner` (the test's path). */
export function docBlocks(page: string, runner: string): DocBlock[] {
  const lines = readFileSync(path.join(ROOT, page), "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i] ?? "");
    if (!marker || marker[1] !== runner) continue;
    let open = i + 1;
    while (lines[open]?.trim() === "") open++; // Prettier puts a blank line after the comment
    if (!/^```(sh|bash|shell)$/.test(lines[open] ?? ""))
      throw new Error(`${page}:${i + 1}: the marker must sit right above a \`\`\`sh block`);
    const end = lines.findIndex((l, j) => j > open && l === "```");
    if (end < 0) throw new Error(`${page}:${open + 1}: the block never ends`);
    blocks.push({ id: marker[2] ?? "", line: open + 2, code: lines.slice(open + 1, end).join("\n") });
  }
  return blocks;
}

/** The blocks of `page` for `runner` by id, failing when one of `ids` is missing or a marked block is not listed. */
export function docBlocksById(page: string, runner: string, ids: readonly string[]): Map<string, DocBlock> {
  const blocks = docBlocks(page, runner);
  const found = blocks.map((b) => b.id);
  if (found.join(",") !== ids.join(","))
    throw new Error(`${page}: blocks marked for ${runner} are [${found.join(", ")}], expected [${ids.join(", ")}]`);
  return new Map(blocks.map((b) => [b.id, b]));
}

export interface Sandbox {
  dir: string;
  /** A folder standing for the reader's home (keystores, the files the walkthrough writes). */
  home: string;
  remove: () => void;
}

/** A sandbox of the repository whose `localhost` network is `localhostUrl` (see the header). */
export function makeSandbox(localhostUrl: string): Sandbox {
  const base = mkdtempSync(path.join(os.tmpdir(), "aitbc-docs-"));
  const dir = path.join(base, "aitbc");
  const home = path.join(base, "home");
  mkdirSync(path.join(dir, "deploy"), { recursive: true });
  mkdirSync(home);
  for (const entry of readdirSync(ROOT)) {
    if ([".git", "deploy", "hardhat.config.ts", "package-lock.json", "cache", ...COPIED, ...BUILT].includes(entry))
      continue;
    symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  }
  const lock = path.join(dir, "package-lock.json");
  cpSync(path.join(ROOT, "package-lock.json"), lock);
  const installed = statSync(path.join(ROOT, "node_modules", ".package-lock.json")).mtime;
  utimesSync(lock, installed, installed);
  for (const entry of [...COPIED, ...BUILT]) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  mkdirSync(path.join(dir, "cache"));
  const compileCache = path.join(ROOT, "cache", "compile-cache.json");
  if (existsSync(compileCache)) {
    const entries = readFileSync(compileCache, "utf8").replaceAll(`"${ROOT}/`, `"${dir}/`);
    writeFileSync(path.join(dir, "cache", "compile-cache.json"), entries);
  }
  cpSync(path.join(ROOT, "deploy", "modules"), path.join(dir, "deploy", "modules"), { recursive: true });
  const config = readFileSync(path.join(ROOT, "hardhat.config.ts"), "utf8");
  if (!config.includes(`"${LOCALHOST_URL}"`))
    throw new Error(`hardhat.config.ts: no "${LOCALHOST_URL}" for the localhost network (docs helper)`);
  writeFileSync(path.join(dir, "hardhat.config.ts"), config.replace(`"${LOCALHOST_URL}"`, `"${localhostUrl}"`));
  const remove = () => {
    rmSync(base, { recursive: true, force: true });
  };
  return { dir, home, remove };
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });

export interface Node {
  url: string;
  port: number;
  /** Everything the node printed (stdout and stderr), last 200 kB. */
  output: () => string;
  stop: () => Promise<void>;
}

/** A `hardhat node` process on a free loopback port; both of its pipes are read to the end (a full pipe stalls it). */
export async function startNode(chainId: number): Promise<Node> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [HARDHAT, "node", "--chain-id", String(chainId), "--port", String(port), "--hostname", "127.0.0.1"],
    { cwd: ROOT, env: readerEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const read = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on("data", read);
  child.stderr?.on("data", read);
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const ready = () => {
      if (out.includes("JSON-RPC server at")) resolve();
    };
    child.stdout?.on("data", ready);
    child.stderr?.on("data", ready);
    child.once("exit", (code) => {
      reject(new Error(`hardhat node exited (${code}): ${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}

/** A JSON-RPC call to a node. */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export interface BlockRun {
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs one block as written with bash -euo pipefail in `cwd`, after the variables earlier blocks exported
 * (`stateFile`), and saves its exports for the next. A failure names the block and shows its output.
 */
export async function runBlock(
  page: string,
  block: DocBlock,
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    stateFile: string;
    timeoutMs?: number;
    /**
     * The block's bash, which leads its own process group: what a block leaves running in the background (a
     * daemon) stays in that group, which the caller ends with `process.kill(-pid)` when it is done.
     */
    onSpawn?: (pid: number) => void;
  },
): Promise<BlockRun> {
  const script = [
    "set -euo pipefail",
    `if [ -f ${JSON.stringify(options.stateFile)} ]; then source ${JSON.stringify(options.stateFile)}; fi`,
    block.code,
    `export -p > ${JSON.stringify(options.stateFile)}`,
  ].join("\n");
  const started = Date.now();
  const child = spawn("bash", ["-c", script], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  }, options.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  const ms = Date.now() - started;
  if (code !== 0) {
    throw new Error(
      `${page}:${block.line} block "${block.id}" exited with ${code} after ${ms} ms\n--- block\n${block.code}\n` +
        `--- stdout\n${stdout.slice(-6000)}\n--- stderr\n${stderr.slice(-6000)}`,
    );
  }
  return { stdout, stderr, ms };
}

export interface Terminal {
  /** The command, as the block writes it. */
  command: string;
  /** Everything it printed (stdout and stderr), last 200 kB. */
  output: () => string;
  /** Resolves when its output matches `pattern`; fails when it exits first or after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<void>;
  /** SIGTERM to its process group (npm, the daemon), then SIGKILL after 20 s; resolves when it has exited. */
  stop: () => Promise<void>;
}

/**
 * The commands of `block` (one per line, `\` continuations joined; comments and blank lines skipped), each started
 * as written in a bash of its own that leads its own process group, as a reader runs each in a terminal.
 */
export function startTerminals(block: DocBlock, options: { cwd: string; env: NodeJS.ProcessEnv }): Terminal[] {
  const commands = block.code
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  return commands.map((command) => {
    const child = spawn("bash", ["-c", command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    const listeners = new Set<() => void>();
    const read = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-200_000);
      for (const listener of listeners) listener();
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    const exited = new Promise<void>((resolve) => {
      child.once("close", () => {
        resolve();
      });
    });
    const signal = (name: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, name);
      } catch {
        // the group is gone
      }
    };
    return {
      command,
      output: () => out,
      waitFor: (pattern, timeoutMs) =>
        new Promise<void>((resolve, reject) => {
          const done = (error?: Error) => {
            clearTimeout(timer);
            listeners.delete(check);
            if (error) reject(error);
            else resolve();
          };
          const check = () => {
            if (pattern.test(out)) done();
          };
          const timer = setTimeout(() => {
            done(new Error(`${command}: no ${pattern} within ${timeoutMs} ms\n${out.slice(-6000)}`));
          }, timeoutMs);
          listeners.add(check);
          void exited.then(() => {
            if (!pattern.test(out)) done(new Error(`${command}: exited before ${pattern}\n${out.slice(-6000)}`));
          });
          check();
        }),
      stop: async () => {
        signal("SIGTERM");
        const timer = setTimeout(() => {
          signal("SIGKILL");
        }, 20_000);
        await exited;
        clearTimeout(timer);
      },
    };
  });
}
