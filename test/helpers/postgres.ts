/**
 * A private PostgreSQL server for the tests that need one, started through the project's own script
 * (scripts/services/postgres.sh: installs the server from the system packages when missing, then initdb and
 * pg_ctl start on a free loopback port). One server per mocha process, started on first use and stopped when the
 * process exits; each caller makes its own databases on it.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import pg from "pg";

const SCRIPT = path.join(import.meta.dirname, "../../scripts/services/postgres.sh");
const run = promisify(execFile);

export interface PostgresServer {
  /** The URL of the server's `postgres` database. */
  url: string;
  /** How long the script took (install when missing, initdb, start), in ms. */
  startMs: number;
  /** A new empty database; returns its URL. */
  createDatabase(prefix: string): Promise<string>;
}

let started: Promise<PostgresServer> | undefined;
let count = 0;

/** The process's server, started on first call. */
export function postgresServer(): Promise<PostgresServer> {
  started ??= start();
  return started;
}

async function start(): Promise<PostgresServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "aitbc-postgres-"));
  process.once("exit", () => {
    spawnSync("bash", [SCRIPT, "stop", dir], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  });
  const from = Date.now();
  const { stdout } = await run("bash", [SCRIPT, "start", dir], { timeout: 600_000 });
  const url = stdout.trim().split("\n").at(-1) ?? "";
  if (!url.startsWith("postgres://")) throw new Error(`postgres.sh printed no URL: ${stdout}`);
  const server: PostgresServer = {
    url,
    startMs: Date.now() - from,
    createDatabase: async (prefix) => {
      const name = `${prefix}_${process.pid}_${++count}`.replace(/[^a-z0-9_]/gi, "_").toLowerCase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      const database = new URL(url);
      database.pathname = `/${name}`;
      return database.toString();
    },
  };
  return server;
}
