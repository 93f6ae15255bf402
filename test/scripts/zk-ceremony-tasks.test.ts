/**
 * The `zk ceremony init | contribute | verify | seal` tasks on the command line (real `hardhat` processes), on the
 * repository's smallest circuit (inference, ~2,500 constraints) in a sandbox of the repository: circuits/, contracts/
 * and the TypeScript the tasks run are copies there (the layout is found from circuits/lib's real path), so `seal`
 * installs its key, verification key, verifier and transcript in the sandbox and never in the clone. A 2^12 powers
 * of tau made here by snarkjs stands for the public file (`--dev-ptau`: the key is a development key). The
 * ceremony's rules (tampered transcripts, swapped keys, one participant) are tested in process on a tiny circuit
 * (test/zk/TrustedSetupCeremony.test.ts); this file checks the tasks: their flags, what they print and install.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";

import { blake2b, makePtau } from "../helpers/ceremony.js";
import { readerEnv, ROOT } from "../helpers/docs.js";

const exec = promisify(execFile);
const BEACON = "0x5b1f0a8d6c3e2f4a9b7c1d0e3f2a4b6c8d9e0f1a2b3c4d5e6f708192a3b4c5d6";
/** What `seal` installs for the inference circuit, from the repository's root. */
const INSTALLED = [
  "circuits/build/inference/inference.zkey",
  "circuits/build/inference/verification_key.json",
  "circuits/build/inference/transcript.json",
  "circuits/build/manifest.json",
  "contracts/zk/verifiers/InferenceVerifier.sol",
];

describe("zk ceremony tasks on the command line (inference circuit, in a sandbox)", function () {
  this.timeout(600_000);
  let base: string;
  let sandbox: string;
  let ptau: string;
  let dir: string;
  const cloneHashes = new Map<string, string>();

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
    for (const file of INSTALLED) cloneHashes.set(file, blake2b(path.join(ROOT, file)));
    ptau = await makePtau(base, "pot12_test.ptau", 12);
    dir = path.join(base, "ceremony");
  });

  after(function () {
    rmSync(base, { recursive: true, force: true });
  });

  it("init, two contributions, verify and seal: the sealed key, verifier and transcript are installed in the sandbox", async function () {
    const init = await ceremony("init", "--circuit", "inference", "--ptau", ptau, "--dev-ptau");
    expect(init).to.match(
      /^inference: ceremony started in .*: contribution 0 is inference_0000\.zkey, \d+ constraints, powers of tau .*pot12_test\.ptau \(DEVELOPMENT: the keys will be development keys\)\./m,
    );

    const alice = await ceremony(
      "contribute",
      "--circuit",
      "inference",
      "--name",
      "alice",
      "--entropy",
      "alice's dice",
    );
    expect(alice).to.match(/^inference: contribution #1 by alice written to .*inference_0001\.zkey/m);
    const aliceHash = /^Publish your contribution hash: (\S+)$/m.exec(alice)?.[1];
    expect(aliceHash, alice).to.be.a("string");
    const bob = await ceremony("contribute", "--circuit", "inference", "--name", "bob");
    expect(bob).to.match(/^inference: contribution #2 by bob written to .*inference_0002\.zkey/m);

    const verified = await ceremony("verify", "--circuit", "inference", "--ptau", ptau);
    expect(verified).to.match(/the contribution chain verifies .* 2 contribution\(s\), not sealed yet\./);
    expect(verified).to.match(/^ {2}#1 alice \S+ /m);
    expect(verified).to.match(/^ {2}#2 bob \S+ /m);
    expect(verified).to.include(aliceHash);

    const sealed = await ceremony(
      "seal",
      "--circuit",
      "inference",
      "--ptau",
      ptau,
      "--beacon",
      BEACON,
      "--beacon-source",
      "a test beacon",
    );
    expect(sealed).to.match(/^inference: sealed with the beacon of a test beacon and verified/m);
    expect(sealed).to.include("InferenceVerifier.sol and transcript.json installed, manifest updated.");

    // Installed in the sandbox: a new key and verifier, the transcript naming both participants and the beacon.
    for (const file of INSTALLED)
      expect(blake2b(path.join(sandbox, file)), `${file} in the sandbox`).to.not.equal(cloneHashes.get(file));
    const transcript = JSON.parse(readFileSync(path.join(sandbox, INSTALLED[2] ?? ""), "utf8")) as {
      contributions: { participant: string }[];
      beacon?: { source: string };
    };
    expect(transcript.contributions.map((c) => c.participant)).to.deep.equal(["alice", "bob"]);
    expect(transcript.beacon?.source).to.equal("a test beacon");
    // And nothing changed in the clone.
    for (const file of INSTALLED)
      expect(blake2b(path.join(ROOT, file)), `${file} in the clone`).to.equal(cloneHashes.get(file));
  });

  it("a bad flag fails with a message naming it, before any work", async function () {
    const failed = await ceremony(
      "contribute",
      "--circuit",
      "inference",
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
