/**
 * What the task tests share: the protocol deployed with an addresses file for AITBC_ADDRESSES, the connection's
 * accounts by index (what `--from` takes), tasks run as a script runs them, and AITBC handed out through a receipt
 * the attestor signs (the only way new AITBC exists).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import hre from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";

import { deployProtocol } from "../../scripts/lib/deploy.js";
import { writeAddresses } from "../../scripts/lib/protocol.js";
import { runTaskById } from "../../scripts/tasks/cli.js";

/** A task by id, its failure thrown. */
export const run = (id: string[], args: Record<string, unknown>) => runTaskById(hre, id, args);

/** The protocol on `connection`, its addresses in `<dir>/deployed_addresses.json`, and `index(account)` for --from. */
export async function deployForTasks(connection: NetworkConnection, dir: string) {
  const core = await deployProtocol(connection);
  const file = path.join(dir, "deployed_addresses.json");
  await writeAddresses(file, core);
  const signers = await connection.ethers.getSigners();
  const index = (s: { address: string }) => String(signers.findIndex((x) => x.address === s.address));
  return { ...core, file, dir, index };
}

export type TasksFixture = Awaited<ReturnType<typeof deployForTasks>>;

/** A fresh folder for a test file's files. */
export const tasksDir = (name: string) => mkdtempSync(path.join(tmpdir(), `aitbc-${name}-`));

/** The attestor signs a receipt for `units` of `who`'s work and the client mints it: `units` AITBC to `who`. */
export async function payByReceipt(f: TasksFixture, who: { address: string }, units: string): Promise<void> {
  const out = path.join(f.dir, `pay-${who.address}-${units}-${Date.now()}.json`);
  await run(["receipt", "sign"], {
    from: f.index(f.attestor),
    provider: who.address,
    client: f.client.address,
    units,
    work: "w",
    result: "r",
    receiptId: "",
    validFor: "1h",
    out,
  });
  await run(["receipt", "mint"], { from: f.index(f.client), files: out });
}
