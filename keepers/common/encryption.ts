/**
 * An agent's encryption key pair (protocol/sealed.ts): a random 32-byte seed in a key file, created on first start
 * (mode 0600, never overwritten), from which the X25519 key pair is derived (HPKE DeriveKeyPair). The public key is
 * published on chain with the agent's identity (registration.ts `publishEncryptionKey`); the seed is never logged.
 * Losing the file loses what was sealed to the key (the keeper's stored inputs and results); a new key is published
 * on the next start.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { encryptionKeysFrom, newEncryptionSeed, type EncryptionKeys } from "../../protocol/sealed.js";
import type { Logger } from "./log.js";

/** The key pair of the seed in `file` (config `encryption.keyFile`), creating the file with a fresh seed if absent. */
export async function loadEncryptionKeys(file: string, logger: Logger): Promise<EncryptionKeys> {
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new Error(`encryption.keyFile: cannot read ${file} (${(error as Error).message})`);
  }
  let created = false;
  if (text === undefined) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    text = `${newEncryptionSeed()}\n`;
    // "wx": two processes starting at once never overwrite each other's seed.
    writeFileSync(file, text, { mode: 0o600, flag: "wx" });
    created = true;
  }
  const seed = text.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(seed))
    throw new Error(`encryption.keyFile: ${file} must hold one 0x-prefixed 32-byte hex seed`);
  const keys = await encryptionKeysFrom(seed as `0x${string}`);
  logger.info(
    { event: created ? "encryption-key-created" : "encryption-key-loaded", file, publicKey: keys.publicKey },
    created ? "encryption key created" : "encryption key loaded",
  );
  return keys;
}
