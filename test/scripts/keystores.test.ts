/**
 * Keys kept in keystores (keepers/common/keys.ts, the `key` tasks, --from <name>, AITBC_SIGNER): Web3 Secret
 * Storage v3 files made and read by ethers' implementation; plain keys accepted on a local chain only, by the tasks,
 * by `ignition deploy` and by the daemons; every bad input named.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import { Wallet } from "ethers";
import hre from "hardhat";

import {
  decryptKeystoreFile,
  keystoreFile,
  listKeystores,
  loadAgentKey,
  writeKeystore,
} from "../../keepers/common/keys.js";
import { loadKeeperConfig } from "../../keepers/keeper/config.js";
import { AITBC } from "../../scripts/lib/deploy.js";
import { devAccount } from "../../scripts/lib/devnet.js";
import { deployForTasks, payByReceipt, run } from "../helpers/tasks.js";

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..", "..");
const HARDHAT = path.join(ROOT, "node_modules/hardhat/dist/src/cli.js");
const PASSWORD = "correct horse battery staple";
const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const; // Hardhat's account 1

const connection = await hre.network.getOrCreate();
const { networkHelpers } = connection;

const freePort = () =>
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

describe("Keystores", function () {
  this.timeout(300_000);
  let dir: string;
  const saved = new Map(
    ["AITBC_KEYSTORE_DIR", "AITBC_KEYSTORE_PASSWORD", "AITBC_IMPORT_KEY", "AITBC_ADDRESSES"].map((k) => [
      k,
      process.env[k],
    ]),
  );
  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "aitbc-keys-"));
    process.env.AITBC_KEYSTORE_DIR = dir;
    process.env.AITBC_KEYSTORE_PASSWORD = PASSWORD;
  });
  afterEach(function () {
    for (const [k, v] of saved) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the format (keepers/common/keys.ts)", function () {
    it("writes a v3 keystore (0600) that ethers and the reader both open, and never overwrites one", async function () {
      const file = keystoreFile(process.env, "custom", "alice");
      const address = await writeKeystore(file, KEY, PASSWORD, { light: true });
      expect(address).to.equal(new Wallet(KEY).address);
      const json = JSON.parse(readFileSync(file, "utf8")) as { version: number; Crypto?: { kdf: string } };
      expect(json.version).to.equal(3);
      expect(json.Crypto?.kdf).to.equal("scrypt"); // ethers writes "Crypto", as the v3 definition's example
      expect(readFileSync(file, "utf8")).to.not.contain(KEY.slice(2));
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect((await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), PASSWORD)).address).to.equal(address);
      expect(await decryptKeystoreFile(file, PASSWORD, "agent.keystore")).to.deep.equal({ address, privateKey: KEY });
      await expect(writeKeystore(file, KEY, PASSWORD, { light: true })).to.be.rejectedWith(
        /--name: .*alice\.json exists; keystores are never overwritten/,
      );
      expect(listKeystores(process.env, "custom")).to.deep.equal([{ name: "alice", address: address.toLowerCase() }]);
    });

    it("names the field for a wrong password, a file that is not a keystore, a missing file and a bad name", async function () {
      const file = keystoreFile(process.env, "custom", "alice");
      await writeKeystore(file, KEY, PASSWORD, { light: true });
      await expect(decryptKeystoreFile(file, "wrong", "agent.keystore")).to.be.rejectedWith(
        /^agent\.keystore: cannot decrypt .*alice\.json: wrong password$/,
      );
      const junk = path.join(dir, "junk.json");
      writeFileSync(junk, JSON.stringify({ hello: 1 }));
      await expect(decryptKeystoreFile(junk, PASSWORD, "agent.keystore")).to.be.rejectedWith(
        /agent\.keystore: .*junk\.json is not a Web3 Secret Storage \(v3\) keystore/,
      );
      await expect(decryptKeystoreFile(path.join(dir, "none.json"), PASSWORD, "agent.keystore")).to.be.rejectedWith(
        /agent\.keystore: cannot read .*none\.json/,
      );
      expect(() => keystoreFile(process.env, "custom", "../../etc/passwd")).to.throw(
        '--name: "../../etc/passwd" is not a keystore name',
      );
    });
  });

  describe("daemons (agent.privateKey / agent.keystore)", function () {
    const base = { rpc: { urls: ["http://127.0.0.1:8545"] } };

    it("take exactly one key source, and a password file only with a keystore", function () {
      const file = path.join(dir, "keeper.json");
      const check = (agent: Record<string, unknown>) => {
        writeFileSync(file, JSON.stringify({ ...base, agent }));
        return () => loadKeeperConfig(file, {});
      };
      expect(check({})).to.throw(/agent\.privateKey: give exactly one of agent\.privateKey .* and agent\.keystore/);
      expect(check({ privateKey: KEY, keystore: "k.json" })).to.throw(
        /agent\.keystore: give exactly one of agent\.privateKey/,
      );
      expect(check({ privateKey: KEY, passwordFile: "p" })).to.throw(/agent\.passwordFile: only with agent\.keystore/);
      expect(check({ keystore: "k.json" })().agent.keystore).to.equal("k.json");
      expect(check({ privateKey: KEY })().agent.privateKey).to.equal(KEY);
    });

    it("accept a plain key on a local chain only; read a keystore with its password from the environment or a file", async function () {
      expect(await loadAgentKey({ privateKey: KEY }, 31337, {})).to.equal(KEY);
      await expect(loadAgentKey({ privateKey: KEY }, 11155111, {})).to.be.rejectedWith(
        "agent.privateKey: a plain key is accepted on a local chain only (this is chain 11155111); use agent.keystore",
      );
      const keystore = keystoreFile(process.env, "custom", "keeper");
      await writeKeystore(keystore, KEY, PASSWORD, { light: true });
      expect(await loadAgentKey({ keystore }, 11155111, { AITBC_KEYSTORE_PASSWORD: PASSWORD })).to.equal(KEY);
      const passwordFile = path.join(dir, "password");
      writeFileSync(passwordFile, `${PASSWORD}\n`);
      expect(await loadAgentKey({ keystore, passwordFile }, 11155111, {})).to.equal(KEY);
      await expect(loadAgentKey({ keystore }, 11155111, {})).to.be.rejectedWith(
        "AITBC_KEYSTORE_PASSWORD: the keystore's password is not set (or name a password file)",
      );
      await expect(loadAgentKey({ keystore }, 11155111, { AITBC_KEYSTORE_PASSWORD: "nope" })).to.be.rejectedWith(
        /agent\.keystore: cannot decrypt .*: wrong password/,
      );
      writeFileSync(passwordFile, "");
      await expect(loadAgentKey({ keystore, passwordFile }, 11155111, {})).to.be.rejectedWith(
        /agent\.passwordFile: .*password is empty/,
      );
    });
  });

  describe("tasks (key new / import / list, --from <name>)", function () {
    it("a named keystore signs a task: key import, key list, then token transfer --from <name>", async function () {
      const core = await deployForTasks(connection, dir);
      process.env.AITBC_ADDRESSES = core.file;
      const alice = Wallet.createRandom();
      process.env.AITBC_IMPORT_KEY = alice.privateKey;
      const imported = (await run(["key", "import"], { name: "alice", light: true })) as string;
      expect(imported).to.contain(`alice (default): ${alice.address}`);
      const made = (await run(["key", "new"], { name: "bob", light: true })) as string;
      expect(made).to.match(/^bob \(default\): 0x[0-9a-fA-F]{40}/);
      const listed = (await run(["key", "list"], {})) as string;
      expect(listed).to.contain(`alice            ${alice.address.toLowerCase()}`);
      expect(listed).to.contain("bob ");
      await expect(run(["key", "import"], { name: "alice", light: true })).to.be.rejectedWith(/exists/);
      process.env.AITBC_IMPORT_KEY = "not a key";
      await expect(run(["key", "import"], { name: "carol", light: true })).to.be.rejectedWith(
        "AITBC_IMPORT_KEY must hold the private key to import",
      );
      await expect(run(["key", "new"], { name: "Bad Name", light: true })).to.be.rejectedWith(
        '--name: "Bad Name" is not a keystore name',
      );

      // Fund alice (ETH for gas; AITBC through a receipt the attestor signs for her work), then send by name.
      await networkHelpers.setBalance(alice.address, 10n ** 18n);
      await payByReceipt(core, alice, "5");
      expect(await core.token.balanceOf(alice.address)).to.equal(5n * AITBC);
      const outsider = Wallet.createRandom().address;
      await run(["token", "transfer"], { from: "alice", to: outsider, amount: "2" });
      expect(await core.token.balanceOf(outsider)).to.equal(2n * AITBC);
      process.env.AITBC_KEYSTORE_PASSWORD = "wrong";
      await expect(run(["token", "transfer"], { from: "alice", to: outsider, amount: "1" })).to.be.rejectedWith(
        /--from: cannot decrypt .*alice\.json: wrong password/,
      );
      await expect(run(["token", "transfer"], { from: "nobody", to: outsider, amount: "1" })).to.be.rejectedWith(
        '--from: "nobody" is not an account index, an address or a keystore of default',
      );
    });
  });

  describe("a chain other than a local one (a hardhat node process with chain id 11155111)", function () {
    let url: string;
    let node: ChildProcess | undefined;
    const deploymentId = `keystores-${process.pid}`;
    before(async function () {
      const port = await freePort();
      node = spawn(process.execPath, [HARDHAT, "node", "--chain-id", "11155111", "--port", String(port)], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      url = `http://127.0.0.1:${port}`;
      // Both pipes are read to the end: a node whose log fills a pipe stops answering.
      await new Promise<void>((resolve, reject) => {
        let out = "";
        const read = (chunk: Buffer) => {
          if (out.length < 10_000) out += chunk.toString();
          if (out.includes("JSON-RPC server at")) resolve();
        };
        node?.stdout?.on("data", read);
        node?.stderr?.on("data", read);
        node?.on("exit", (code) => {
          reject(new Error(`hardhat node exited (${code}): ${out}`));
        });
      });
    });
    after(function () {
      node?.kill();
      rmSync(path.join(ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
    });

    /** The CLI as an operator runs it: without the test runner's HH_TEST (with it, Hardhat's keystore waits). */
    const hardhat = (args: string[], env: Record<string, string>) => {
      const operatorEnv = { ...process.env };
      delete operatorEnv.HH_TEST;
      return exec(process.execPath, [HARDHAT, ...args, "--network", "custom"], {
        cwd: ROOT,
        env: { ...operatorEnv, AITBC_RPC_URL: url, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "1", ...env },
      });
    };
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        return `${e.stdout ?? ""}${e.stderr ?? ""}`;
      }
      throw new Error("the command went through");
    };

    it("refuses a plain AITBC_PRIVATE_KEY in tasks and in ignition deploy", async function () {
      const plain = { AITBC_PRIVATE_KEY: devAccount(0).privateKey, AITBC_KEYSTORE_DIR: dir };
      expect(await failure(hardhat(["token", "balance", "--account", devAccount(1).address], plain))).to.contain(
        "--from: a plain key (AITBC_PRIVATE_KEY) is accepted on a local chain only (this is chain 11155111)",
      );
      expect(
        await failure(
          hardhat(["ignition", "deploy", "deploy/modules/Core.ts", "--deployment-id", deploymentId], plain),
        ),
      ).to.contain("AITBC_PRIVATE_KEY: a plain key is accepted on a local chain only (this is chain 11155111)");
    });

    it("takes the network's account from a keystore (AITBC_SIGNER); a wrong password stops before any call", async function () {
      const env = { AITBC_KEYSTORE_DIR: dir, AITBC_KEYSTORE_PASSWORD: PASSWORD };
      const { stdout: imported } = await hardhat(["key", "import", "--name", "deployer", "--light"], {
        ...env,
        AITBC_IMPORT_KEY: devAccount(0).privateKey,
      });
      expect(imported).to.contain(`deployer (custom): ${devAccount(0).address}`);
      // With the keystore's key as the account, the task gets past the signer to the deployment (none on this chain).
      const missing = await failure(
        hardhat(["token", "balance", "--account", devAccount(1).address], { ...env, AITBC_SIGNER: "deployer" }),
      );
      expect(missing).to.match(/no AITBC deployment .*11155111|11155111.*deployment/i);
      expect(missing).to.not.contain("plain key");
      expect(missing).to.not.contain("AITBC_PRIVATE_KEY"); // Hardhat found the variable: the keystore gave it
      expect(
        await failure(
          hardhat(["token", "balance", "--account", devAccount(1).address], {
            ...env,
            AITBC_SIGNER: "deployer",
            AITBC_KEYSTORE_PASSWORD: "wrong",
          }),
        ),
      ).to.match(/AITBC_SIGNER: cannot decrypt .*deployer\.json: wrong password/);
    });
  });
});
