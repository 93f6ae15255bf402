/**
 * The keeper's lease: which replica acts for the keeper agent when several share one PostgreSQL database.
 *
 * Guarantees:
 * - At most one replica acts at a time: a replica starts acting (sends transactions, runs executions, serves the
 *   API) only once it holds the lease, a session advisory lock on its one database connection (store-postgres.ts).
 * - The lease expires with its holder: the server releases it when the holder's connection closes (a crash, a
 *   kill -9, a lost host after the TCP keepalives), and a standby polling every `pollMs` takes it.
 * - A holder that loses its connection (hence the lease) stops at once (`lost` is called): it cannot write anyway,
 *   every call on the store throws, and it must not go on sending while another replica takes over.
 * - The replica that takes over resumes from the database exactly as a restarted keeper does: every transaction is
 *   stored signed before it is broadcast (common/txs.ts), so what the dead holder signed is re-sent with the same
 *   nonce and bytes, never as a second transaction; every provider answer is stored before it is recorded, so no
 *   step is lost.
 * With SQLite (one process per file) the lease is always free.
 */
import { setTimeout as sleep } from "node:timers/promises";

import type { Logger } from "../common/log.js";
import type { Store } from "../common/store.js";

export const KEEPER_LEASE = "keeper";

/** Waits until this process holds the keeper's lease; then `lost` is called if it ever loses it. */
export async function takeKeeperLease(options: {
  store: Store;
  logger: Logger;
  pollMs: number;
  lost: (reason: string) => void;
}): Promise<void> {
  const log = options.logger.child({ module: "lease" });
  const since = Date.now();
  let waiting = false;
  while (!options.store.tryLease(KEEPER_LEASE)) {
    if (!waiting) {
      log.info({ event: "keeper-standby", pollMs: options.pollMs }, "standby: another replica holds the keeper lease");
      waiting = true;
    }
    await sleep(options.pollMs);
  }
  if (waiting)
    log.warn({ event: "keeper-lease-taken", waitedMs: Date.now() - since }, "took the keeper lease: taking over");
  options.store.onLost(options.lost);
}
