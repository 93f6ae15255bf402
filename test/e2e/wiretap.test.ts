/**
 * Confidential payloads, shown on the wire: a real client -> keeper -> providers execution (the daemons as child
 * processes on the devnet, scripts/lib/devnet.ts) with a loopback TCP proxy (helpers/wiretap.ts) in front of the
 * keeper's API, of each provider node and of the chain's JSON-RPC as the daemons use it, recording every byte both
 * ways. The execution's inputs carry a distinctive marker that its result repeats; the test asserts that the marker
 * (as text, hex, base64 or base64url), and the execution's secret blind (as hex, decimal or base64), appear on none
 * of the wires, in none of the daemons' log lines, in no column of any table of the keeper's SQLite database and in
 * no transaction or log on the chain, while the client, opening what the keeper sealed to it, reads the result with
 * the marker and the blind.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import { expect } from "chai";
import hre from "hardhat";

import type { Json } from "../../protocol/values.js";
import { startDevnet, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";
import { leaksIn, startWiretap, type Wiretap } from "../helpers/wiretap.js";

/** A two-step basic workflow: the inputs' secret formatted into a note, the note into the result. */
const SECRET_WORKFLOW: Json = {
  name: "wiretap",
  maxExecutionTime: "1h",
  maxBudget: "10",
  verification: "basic",
  steps: [
    {
      id: "note",
      type: "data-processing",
      model: "aitbc.data.v1",
      input: { op: "format", template: "note: {secret}", data: "$in" },
      timeout: 20,
      maxRetries: 1,
      retryBackoff: 1,
    },
    {
      id: "final",
      type: "data-processing",
      model: "aitbc.data.v1",
      dependsOn: ["note"],
      input: { op: "format", template: "result: {v}", data: { v: "$note" } },
      timeout: 20,
      maxRetries: 1,
      retryBackoff: 1,
    },
  ],
};

/** Every value of every column of every table, as text (blobs as latin1). */
function databaseText(file: string): string {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    const out: string[] = [];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${String(name)}"`).all())
        for (const value of Object.values(row))
          out.push(value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : String(value));
    }
    return out.join("\n");
  } finally {
    db.close();
  }
}

describe("wiretap: no plaintext payload on the wire, in the logs, in the database or on chain", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  const taps: { name: string; tap: Wiretap }[] = [];
  const daemons: Daemon[] = [];

  before(async function () {
    devnet = await startDevnet(hre);
    const rpc = await startWiretap(devnet.url);
    taps.push({ name: "rpc", tap: rpc });
    for (const i of [0, 1]) {
      const tap = await startWiretap();
      taps.push({ name: `provider-${i}`, tap });
      const provider = await devnet.startProvider(i, { endpoint: tap.url, rpcUrl: rpc.url });
      tap.setTarget(String((await provider.ready()).url));
      daemons.push(provider);
    }
    const keeper = await devnet.startKeeper({ rpc: { urls: [rpc.url], pollingIntervalMs: 100 } });
    const keeperTap = await startWiretap(String((await keeper.ready()).url));
    taps.push({ name: "keeper", tap: keeperTap });
    daemons.push(keeper);
  });

  after(async function () {
    await devnet.stop();
    await Promise.all(taps.map(({ tap }) => tap.close()));
  });

  it("runs an execution whose secret input and result cross every wire sealed", async function () {
    const marker = `WIRETAP-${randomBytes(12).toString("hex")}`;
    const keeperUrl = taps.find((t) => t.name === "keeper")?.tap.url ?? "";
    const workflowId = await devnet.defineWorkflow(SECRET_WORKFLOW);
    const executionId = await devnet.requestExecution(workflowId, { secret: marker }, keeperUrl);
    const final = await devnet.waitForExecution(executionId, { keeperUrl });
    expect(final.status).to.equal("completed");

    // The client reads the result (through the tap too): the marker is in it, so it went through every hop.
    const view = await (await devnet.keeperClient(keeperUrl)).execution(executionId);
    expect(view.result).to.equal(`result: note: ${marker}`);
    // The execution's blind came sealed with the result; it is a secret too: as hex (either case), decimal, base64.
    const blind = view.blind ?? "";
    expect(blind).to.match(/^0x[0-9a-f]{62}$/);
    const secrets = [
      marker,
      blind.slice(2),
      blind.slice(2).toUpperCase(),
      BigInt(blind).toString(),
      Buffer.from(blind.slice(2), "hex").toString("base64").slice(0, 40),
    ];
    /** The leak forms of the marker or the blind found in `haystack`. */
    const leaks = (haystack: string | Buffer) => secrets.flatMap((secret) => leaksIn(haystack, secret));

    // Every wire was tapped: the chain's, the keeper's, and the providers' (the two steps may go to one of them).
    const traffic = (prefix: string) =>
      taps.filter((t) => t.name.startsWith(prefix)).reduce((n, t) => n + t.tap.bytes().length, 0);
    for (const prefix of ["rpc", "keeper", "provider-"]) expect(traffic(prefix), `${prefix} traffic`).to.be.above(0);
    for (const { name, tap } of taps) expect(leaks(tap.bytes()), `${name}'s wire`).to.deep.equal([]);
    for (const daemon of daemons) {
      const log = `${daemon.lines.map((l) => JSON.stringify(l)).join("\n")}\n${daemon.stderr}`;
      expect(daemon.lines.length, `${daemon.name} logged`).to.be.above(0);
      expect(leaks(log), `${daemon.name}'s log`).to.deep.equal([]);
    }
    const db = databaseText(path.join(devnet.dir, "keeper.db"));
    expect(db).to.include("done"); // the tables were read
    expect(leaks(db), "the keeper's database").to.deep.equal([]);

    const { ethers } = devnet.connection;
    const chain: string[] = [];
    for (let n = 0; n <= (await ethers.provider.getBlockNumber()); n++) {
      const block = await ethers.provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        chain.push(tx.data);
        for (const log of (await ethers.provider.getTransactionReceipt(tx.hash))?.logs ?? []) chain.push(log.data);
      }
    }
    expect(leaks(chain.join("\n")), "the chain's transactions and logs").to.deep.equal([]);
  });
});
