/**
 * Signing keys, for the daemons and the tasks: a plain private key, accepted on a local chain only, or an encrypted
 * keystore in the Web3 Secret Storage format (version 3: scrypt + AES-128-CTR + a keccak MAC), read and written by
 * ethers' implementation of the format. No key is ever logged; a wrong password or a damaged file stops the start
 * with the field named.
 *
 * Named keystores for the tasks live in `<AITBC_KEYSTORE_DIR or ~/.aitbc/keystores>/<network>/<name>.json`, so the
 * same name ("guardian") is a different key on each network.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { decryptKeystoreJson, encryptKeystoreJson, isKeystoreJson, Wallet } from "ethers";
import { z } from "zod";

import { ConfigError, hexKey } from "./config.js";

/** Chains where plain keys are fine: Hardhat's and the common development nodes'. */
export const LOCAL_CHAIN_IDS: ReadonlySet<number> = new Set([31337, 1337]);

/** The environment variable a keystore's password is read from when no password file is named. */
export const PASSWORD_ENV = "AITBC_KEYSTORE_PASSWORD";

type Hex = `0x${string}`;

/** Where a daemon's key comes from (its config's `agent` fields). */
export interface KeySource {
  privateKey?: Hex | undefined;
  keystore?: string | undefined;
  passwordFile?: string | undefined;
}

/** The config fields of a key source, for a daemon's `agent` object; `keySourceRule` checks exactly one is set. */
export const keySourceFields = {
  /** A plain key: accepted on a local chain only. */
  privateKey: hexKey.optional(),
  /** A Web3 Secret Storage (v3) file; its password from `passwordFile` or AITBC_KEYSTORE_PASSWORD. */
  keystore: z.string().min(1).optional(),
  passwordFile: z.string().min(1).optional(),
};

export function keySourceRule(agent: KeySource, ctx: z.RefinementCtx): void {
  const has = (v: unknown) => v !== undefined;
  if (has(agent.privateKey) === has(agent.keystore))
    ctx.addIssue({
      code: "custom",
      path: ["agent", has(agent.privateKey) ? "keystore" : "privateKey"],
      message: "give exactly one of agent.privateKey (local chains only) and agent.keystore",
    });
  if (has(agent.passwordFile) && !has(agent.keystore))
    ctx.addIssue({ code: "custom", path: ["agent", "passwordFile"], message: "only with agent.keystore" });
}

/**
 * The daemon's private key, once the chain is known: a plain key only on a local chain; a keystore decrypted with
 * its password. Errors are ConfigErrors naming the field.
 */
export async function loadAgentKey(source: KeySource, chainId: number, env: NodeJS.ProcessEnv): Promise<Hex> {
  if (source.privateKey !== undefined) {
    if (!LOCAL_CHAIN_IDS.has(chainId))
      throw new ConfigError(
        `agent.privateKey: a plain key is accepted on a local chain only (this is chain ${chainId}); ` +
          `use agent.keystore (npx hardhat key import)`,
      );
    return source.privateKey;
  }
  const file = source.keystore ?? "";
  const password = readPassword(env, source.passwordFile, "agent.passwordFile");
  return (await decryptKeystoreFile(file, password, "agent.keystore")).privateKey;
}

/** A keystore's password: from a file (first line) or the environment; empty is refused. */
export function readPassword(env: NodeJS.ProcessEnv, passwordFile: string | undefined, field: string): string {
  let password: string | undefined;
  if (passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, "utf8").split(/\r?\n/)[0];
    } catch (error) {
      throw new ConfigError(`${field}: cannot read ${passwordFile} (${(error as Error).message})`);
    }
  } else password = env[PASSWORD_ENV];
  if (password === undefined || password === "")
    throw new ConfigError(
      passwordFile !== undefined
        ? `${field}: ${passwordFile} is empty`
        : `${PASSWORD_ENV}: the keystore's password is not set (or name a password file)`,
    );
  return password;
}

/** Decrypts a keystore file; `field` names where the file came from in error messages. */
export async function decryptKeystoreFile(
  file: string,
  password: string,
  field: string,
): Promise<{ address: Hex; privateKey: Hex }> {
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`${field}: cannot read ${file} (${(error as Error).message})`);
  }
  if (!isKeystoreJson(json)) throw new ConfigError(`${field}: ${file} is not a Web3 Secret Storage (v3) keystore`);
  try {
    const account = await decryptKeystoreJson(json, password);
    return { address: account.address as Hex, privateKey: account.privateKey as Hex };
  } catch (error) {
    const reason = /password/i.test((error as Error).message) ? "wrong password" : (error as Error).message;
    throw new ConfigError(`${field}: cannot decrypt ${file}: ${reason}`);
  }
}

/** The folder of a network's named keystores. */
export function keystoreDir(env: NodeJS.ProcessEnv, network: string): string {
  const root = env.AITBC_KEYSTORE_DIR ?? path.join(os.homedir(), ".aitbc", "keystores");
  return path.join(root, network);
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A named keystore's file; the name is checked so that it cannot leave the folder. */
export function keystoreFile(env: NodeJS.ProcessEnv, network: string, name: string): string {
  if (!NAME.test(name))
    throw new ConfigError(`--name: "${name}" is not a keystore name (lowercase letters, digits, - and _; <= 64)`);
  return path.join(keystoreDir(env, network), `${name}.json`);
}

/**
 * Encrypts a key into a new named keystore (mode 0600 in a 0700 folder); refuses to overwrite one. Scrypt's cost is
 * ethers' default (N = 2^17) unless `light` (N = 2^12: tests only).
 */
export async function writeKeystore(
  file: string,
  privateKey: Hex,
  password: string,
  options: { light?: boolean } = {},
): Promise<Hex> {
  if (existsSync(file)) throw new ConfigError(`--name: ${file} exists; keystores are never overwritten`);
  const address = new Wallet(privateKey).address as Hex;
  const json = await encryptKeystoreJson(
    { address, privateKey },
    password,
    options.light === true ? { scrypt: { N: 1 << 12 } } : {},
  );
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, json, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return address;
}

/** A network's named keystores: name and address (read from the file, not decrypted). */
export function listKeystores(env: NodeJS.ProcessEnv, network: string): { name: string; address: string }[] {
  const dir = keystoreDir(env, network);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      let address = "?";
      try {
        const parsed = JSON.parse(readFileSync(path.join(dir, f), "utf8")) as { address?: unknown };
        if (typeof parsed.address === "string") address = `0x${parsed.address.replace(/^0x/, "")}`;
      } catch {
        address = "(not a keystore)";
      }
      return { name: f.slice(0, -".json".length), address };
    });
}
