/**
 * The `zk ceremony init | contribute | verify | seal` tasks on the command line (real `hardhat` processes) in a
 * sandbox of the repository: circuits/, contracts/ and the TypeScript the tasks run are copies there (the layout is
 * found from circuits/lib's real path), so `seal` installs its key, verification key, verifier and transcript in the
 * sandbox and never in the clone. The sandbox's circuits/circuits.ts lists one more circuit, the trusted-setup tests'
 * two-constraint `product` (test/helpers/ceremony.ts), with a 2^8 powers of tau made here by snarkjs standing for the
 * public file (`--dev-ptau`: the key is a development key): the repository's smallest circuit (inference, ~2,500
 * constraints, a 2^12 powers of tau) took over 10 minutes of setup alone on the shared machine. The ceremony's rules
 * (tampered transcripts, swapped keys, one participant) are tested in process (test/zk/TrustedSetupCeremony.test.ts);
 * this file checks the tasks: their flags, what they print and what they install.
 */
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";

import { releaseCurve } from "../../circuits/lib/prover.js";
import { blake2b, makePtau, PRODUCT, PRODUCT_SOURCE } from "../helpers/ceremony.js";
import { readerEnv, ROOT } from "../helpers/docs.js";

const exec = promisify(execFile);
const BEACON = "0x5b1f0a8d6c3e2f4a9b7c1d0e3f2a4b6c8d9e0f1a2b3c4d5e6f708192a3b4c5d6";
/** What `seal` installs for the test circuit, from the repository's root. */
const INSTALLED = [
  "circuits/build/product/product.zkey",
  "circuits/build/product/verification_key.json",
  "circuits/build/product/transcript.json",
  "contracts/zk/verifiers/ProductVerifier.sol",
];
const MANIFEST = "circuits/build/manifest.json";

describe("zk ceremony tasks on the command line (a test circuit, in a sandbox)", function () {
  this.timeout(600_000);
  let base: string;
  let sandbox: string;
  let ptau: string;
  let dir: string;
  let manifestHash: string;

  /** `npx hardhat zk ceremony <args>` in the sandbox; resolves with stdout, rejects with the process's error. */
  const ceremony = async (...args: string[]): Promise<string> => {
    const cli = path.join(sandbox, "node_modules", "hardhat", "dist", "src", "cli.js");
    const { stdout } = await exec(process.execPath, [cli, "zk", "ceremony", ...args, "--dir", dir], {
      cwd: sandbox,
      env: readerEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  };

  before(async function () {
    base = mkdtempSync(path.join(os.tmpdir(), "aitbc-ceremony-tasks-"));
    sandbox = path.join(base, "aitbc");
    mkdirSync(sandbox);
    const copied = ["circuits", "contracts", "scripts", "protocol", "hardhat.config.ts"];
    // Hardhat's own outputs stay apart (no task here builds; a build would not write into the clone).
    const apart = [".git", ".cache", "cache", "artifacts", ...copied];
    for (const entry of readdirSync(ROOT))
      if (!apart.includes(entry)) symlinkSync(path.join(ROOT, entry), path.join(sandbox, entry));
    for (const entry of copied) cpSync(path.join(ROOT, entry), path.join(sandbox, entry), { recursive: true });
    // The test circuit joins the sandbox's list of circuits (its copy of circuits/circuits.ts) with its source.
    const list = path.join(sandbox, "circuits", "circuits.ts");
    const source = readFileSync(list, "utf8");
    const end = "\n];\n\nexport function circuitSpec";
    if (!source.includes(end)) throw new Error("circuits/circuits.ts: the end of CIRCUITS moved (test sandbox)");
    writeFileSync(list, source.replace(end, `\n  ${JSON.stringify(PRODUCT)},${end}`));
    writeFileSync(path.join(sandbox, "circuits", "src", PRODUCT.file), PRODUCT_SOURCE);
    manifestHash = blake2b(path.join(ROOT, MANIFEST));
    ptau = await makePtau(base, "pot8_test.ptau", 8);
    dir = path.join(base, "ceremony");
  });

  after(async function () {
    rmSync(base, { recursive: true, force: true });
    // makePtau ran snarkjs here: its curve's worker threads would keep the mocha process alive after the run.
    await releaseCurve();
  });

  it("init, two contributions, verify and seal: the sealed key, verifier and transcript are installed in the sandbox", async function () {
    const init = await ceremony("init", "--circuit", "product", "--ptau", ptau, "--dev-ptau");
    expect(init).to.match(
      /^product: ceremony started in .*: contribution 0 is product_0000\.zkey, \d+ constraints, powers of tau .*pot8_test\.ptau \(DEVELOPMENT: the keys will be development keys\)\./m,
    );

    const alice = await ceremony(
      "contribute",
      "--circuit",
      "product",
      "--name",
      "alice",
      "--entropy",
      "alice's dice: 4 1 6 3 6 2 5 5",
    );
    expect(alice).to.match(/^product: contribution #1 by alice written to .*product_0001\.zkey/m);
    const aliceHash = /^Publish your contribution hash: (\S+)$/m.exec(alice)?.[1];
    expect(aliceHash, alice).to.be.a("string");
    const bob = await ceremony("contribute", "--circuit", "product", "--name", "bob");
    expect(bob).to.match(/^product: contribution #2 by bob written to .*product_0002\.zkey/m);

    const verified = await ceremony("verify", "--circuit", "product", "--ptau", ptau);
    expect(verified).to.match(/the contribution chain verifies .* 2 contribution\(s\), not sealed yet\./);
    expect(verified).to.match(/^ {2}#1 alice \S+ /m);
    expect(verified).to.match(/^ {2}#2 bob \S+ /m);
    expect(verified).to.include(aliceHash);

    const sealed = await ceremony(
      "seal",
      "--circuit",
      "product",
      "--ptau",
      ptau,
      "--beacon",
      BEACON,
      "--beacon-source",
      "a test beacon",
    );
    expect(sealed).to.match(/^product: sealed with the beacon of a test beacon and verified/m);
    expect(sealed).to.include("ProductVerifier.sol and transcript.json installed, manifest updated.");

    // Installed in the sandbox: the key, verification key, verifier and transcript (naming both participants and
    // the beacon), and the manifest's entry; nothing in the clone.
    for (const file of INSTALLED) expect(existsSync(path.join(sandbox, file)), `${file} in the sandbox`).to.equal(true);
    const transcript = JSON.parse(readFileSync(path.join(sandbox, INSTALLED[2] ?? ""), "utf8")) as {
      contributions: { participant: string }[];
      beacon?: { source: string };
    };
    expect(transcript.contributions.map((c) => c.participant)).to.deep.equal(["alice", "bob"]);
    expect(transcript.beacon?.source).to.equal("a test beacon");
    const manifest = JSON.parse(readFileSync(path.join(sandbox, MANIFEST), "utf8")) as object;
    expect(manifest).to.have.property("product");
    expect(readFileSync(path.join(sandbox, INSTALLED[3] ?? ""), "utf8")).to.include("contract ProductVerifier");
    for (const file of INSTALLED) expect(existsSync(path.join(ROOT, file)), `${file} in the clone`).to.equal(false);
    expect(blake2b(path.join(ROOT, MANIFEST)), "the clone's manifest").to.equal(manifestHash);
  });

  it("a bad flag fails with a message naming it, before any work", async function () {
    const failed = await ceremony(
      "contribute",
      "--circuit",
      "product",
      "--name",
      "carol",
      "--entropy",
      "x",
      "--prompt-entropy",
    ).then(
      () => expect.fail("the task succeeded"),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.include("--entropy and --prompt-entropy: give one");
  });
});
