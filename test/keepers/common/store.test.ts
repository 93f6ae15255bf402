/**
 * The keeper's store on SQLite, the embedded default (the behaviour in test/helpers/store-behaviour.ts, also run on
 * PostgreSQL by test/e2e/keeper-replicas.test.ts), and what only SQLite does: a file in a folder not made yet.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import { expect } from "chai";

import { Store } from "../../../keepers/common/store.js";
import { shouldBehaveLikeAStore } from "../../helpers/store-behaviour.js";

let dir: string | undefined;

shouldBehaveLikeAStore({
  name: "SQLite",
  fresh: () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "aitbc-store-"));
    return Promise.resolve(path.join(dir, "nested", "keeper.db"));
  },
  cleanup: () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  },
  uniqueKeyError: /UNIQUE constraint failed: txs\.key/,
});

describe("keepers: Store on SQLite, files and migrations", function () {
  let root: string;
  beforeEach(function () {
    root = mkdtempSync(path.join(os.tmpdir(), "aitbc-store-"));
  });
  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it("creates the database's folder", function () {
    const file = path.join(root, "a", "b", "keeper.db");
    const store = new Store(file);
    expect(store.dialect).to.equal("sqlite");
    store.close();
    expect(existsSync(file)).to.equal(true);
  });

  it("migrates a database made before schema versions, and refuses one from a newer keeper", function () {
    const file = path.join(root, "keeper.db");
    const old = new DatabaseSync(file);
    old.exec("CREATE TABLE flags (name TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO flags VALUES ('x', '1');");
    old.close();
    const store = new Store(file);
    expect(store.flag("x")).to.equal("1");
    store.addExecution({ executionId: 1n, workflowId: 2n, level: 0, inputsHash: "0x01", state: "claimed" });
    store.close();
    const db = new DatabaseSync(file);
    expect(db.prepare("SELECT version FROM schema_version").all()).to.deep.equal([{ version: 1 }]);
    db.exec("INSERT INTO schema_version (version) VALUES (99)");
    db.close();
    expect(() => new Store(file)).to.throw(/schema is at version 99, newer than this keeper's 1: run a newer keeper/);
  });
});
