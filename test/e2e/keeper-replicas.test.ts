/**
 * Keeper replicas on PostgreSQL, with a private server started by scripts/services/postgres.sh (test/helpers/
 * postgres.ts): the store's behaviour on PostgreSQL (the same as on SQLite, test/helpers/store-behaviour.ts), the
 * keeper lease (one holder; freed when its holder goes; a holder that loses its connection hears of it and can write
 * nothing more), two keeper processes on one database with the lease holder killed (kill -9) mid-executions and the
 * standby finishing them, the kill -9 trials of test/e2e/daemons.test.ts on PostgreSQL, and a running keeper whose
 * connection is cut exiting. Every execution is checked on chain: each step recorded once, one claim and one
 * completion each, no reverted transaction, and the keeper's transactions on chain are exactly those of its intent
 * log.
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import hre from "hardhat";
import pg from "pg";

import { Store } from "../../keepers/common/store.js";
import { startDevnet, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";
import { expectCompletedOnce, killNineTrials, laneWorkflow, stepRecords } from "../helpers/keeper-trials.js";
import { postgresServer } from "../helpers/postgres.js";
import { shouldBehaveLikeAStore } from "../helpers/store-behaviour.js";

shouldBehaveLikeAStore({
  name: "PostgreSQL",
  fresh: async () => (await postgresServer()).createDatabase("store"),
  uniqueKeyError: /duplicate key value violates unique constraint "txs_key_key"/,
});

describe("keeper replicas on PostgreSQL", function () {
  this.timeout(900_000);

  before(async function () {
    const server = await postgresServer();
    console.log(`      (postgres.sh: install when missing + initdb + start took ${server.startMs} ms in this process)`);
  });

  describe("the keeper lease", function () {
    it("has one holder at a time and passes on when its holder closes", async function () {
      const url = await (await postgresServer()).createDatabase("lease");
      const a = new Store(url);
      const b = new Store(url);
      try {
        expect(a.tryLease("keeper")).to.equal(true);
        expect(a.tryLease("keeper"), "held again by its holder").to.equal(true);
        expect(b.tryLease("keeper")).to.equal(false);
        expect(b.tryLease("other"), "another lease is free").to.equal(true);
        a.close();
        expect(b.tryLease("keeper")).to.equal(true);
      } finally {
        a.close();
        b.close();
      }
    });

    it("tells a holder whose connection is cut at once; it can write nothing more, and the lease is free", async function () {
      const server = await postgresServer();
      const url = await server.createDatabase("cut");
      const a = new Store(url);
      const b = new Store(url);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        expect(a.tryLease("keeper")).to.equal(true);
        const lost = new Promise<string>((resolve) => {
          a.onLost(resolve);
        });
        const { rows } = await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = " +
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        expect(rows).to.have.length(1);
        await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
        expect(await Promise.race([lost, sleep(10_000).then(() => "no notice within 10 s")])).to.match(
          /connection|terminat/,
        );
        expect(() => {
          a.setFlag("x", "1");
        }).to.throw(/postgres: the database is lost/);
        expect(b.flag("x")).to.equal(undefined);
        expect(b.tryLease("keeper")).to.equal(true);
      } finally {
        await admin.end();
        a.close();
        b.close();
      }
    });
  });

  describe("two keeper processes on one database", function () {
    let devnet: Devnet;
    let url: string;
    let config: Record<string, unknown>;
    let keeper: Daemon;
    let keeperUrl: string;

    before(async function () {
      url = await (await postgresServer()).createDatabase("replicas");
      devnet = await startDevnet(hre);
      for (const i of [0, 1, 2]) await devnet.startProvider(i);
      // Both replicas: the same agent key (the execution's keeper is recorded at claim), the same encryption key
      // file (its public key is on chain), the same database.
      config = {
        database: { url, leasePollMs: 200 },
        encryption: { keyFile: path.join(devnet.dir, "replicas.encryption-key") },
      };
    });

    after(async function () {
      await devnet.stop();
    });

    it("the standby takes over when the lease holder is killed (kill -9) mid-executions: no step lost, nothing sent twice", async function () {
      const a = await devnet.startKeeper(config, "keeper-a");
      const aUrl = String((await a.ready()).url);
      const b = devnet.spawn("keeper-b", "keeper", devnet.keeperConfig(config));
      await b.waitFor((l) => l.event === "keeper-standby", 120_000, "standby line");
      expect(
        b.lines.some((l) => l.event === "keeper-ready"),
        "the standby serves nothing",
      ).to.equal(false);

      const fromBlock = await devnet.connection.ethers.provider.getBlockNumber();
      const workflowId = await devnet.defineWorkflow(laneWorkflow(20, { name: "takeover-20" }));
      const executions: bigint[] = [];
      for (let i = 0; i < 4; i++) executions.push(await devnet.requestExecution(workflowId, { seed: 7 + i }, aUrl));
      // Killed once the work is under way: some steps recorded, not all.
      const recorded = async () => {
        let n = 0;
        for (const id of executions) n += (await stepRecords(devnet, id)).length;
        return n;
      };
      const deadline = Date.now() + 120_000;
      while ((await recorded()) < 8 && Date.now() < deadline) await sleep(100);
      await a.kill9();
      const atKill = await recorded();
      expect(atKill, "steps recorded when the holder died").to.be.within(1, executions.length * 20 - 1);

      keeperUrl = String((await b.ready()).url);
      expect(b.lines.some((l) => l.event === "keeper-lease-taken")).to.equal(true);
      keeper = b;
      const txs = await expectCompletedOnce(devnet, executions, 20, fromBlock + 1);

      // The intent log: the keeper's transactions on chain are exactly those it stored signed before sending them,
      // less those it retired as dropped (a live one may still read "sent" until the keeper sees its receipt).
      const store = new Store(url);
      try {
        const live = store.allTxs().filter((t) => t.state !== "dropped");
        expect(new Set(txs.map((t) => t.hash.toLowerCase()))).to.deep.equal(
          new Set(live.map((t) => t.hash.toLowerCase())),
        );
        expect(new Set(live.map((t) => t.nonce)).size, "one transaction per nonce").to.equal(live.length);
      } finally {
        store.close();
      }
      console.log(
        `      (${txs.length} keeper transactions for ${executions.length} executions of 20 steps; ` +
          `${atKill} steps recorded when keeper-a was killed)`,
      );
    });

    it("completes every execution after kill -9 at random points (10 trials, 20-step workflows) on PostgreSQL", async function () {
      ({ keeper, url: keeperUrl } = await killNineTrials(devnet, { keeper, url: keeperUrl }, () =>
        devnet.startKeeper(config, "keeper-pg"),
      ));
      expect(keeperUrl).to.match(/^http/);
    });

    it("a holder whose database connection is cut logs that it lost the lease and exits at once", async function () {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = " +
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        expect(rows, "the running keeper holds the lease").to.have.length(1);
        await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
      } finally {
        await admin.end();
      }
      const line = await keeper.waitFor((l) => l.event === "keeper-lease-lost", 30_000, "lease-lost line");
      expect(String(line.reason)).to.match(/connection/);
      expect((await keeper.exited).code).to.equal(1);
    });
  });
});
