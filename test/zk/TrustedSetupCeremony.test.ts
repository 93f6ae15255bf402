/**
 * The multi-party phase 2 (scripts/zk/ceremony.ts, `zk ceremony init | contribute | verify | seal`) end to end on
 * the small test circuit with a 2^8 powers of tau made here: the sealed key proves and verifies a statement and
 * passes `zk check --production` (and `--deep`); a transcript tampered with after the fact (a contribution hash
 * changed, a contribution removed) fails `zk ceremony verify`, as do keys swapped under it; a seal needs two
 * participants; a ceremony over a development powers of tau makes a development key.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import * as snarkjs from "snarkjs";

import { releaseCurve } from "../../circuits/lib/prover.js";
import {
  ceremonyFiles,
  contribute,
  readKeyContributions,
  verifyCeremony,
  type Transcript,
} from "../../scripts/zk/ceremony.js";
import { guardDeployment } from "../../scripts/zk/deploy-guard.js";
import { artifacts, manifestPath, transcriptPath, verifierPath, type ZkLayout } from "../../scripts/zk/layout.js";
import { checkCircuits, initCircuitCeremony, sealCircuitCeremony } from "../../scripts/zk/pipeline.js";
import { makePtau, PRODUCT, productLayout, rejection } from "../helpers/ceremony.js";

const BEACON = "0x5b1f0a8d6c3e2f4a9b7c1d0e3f2a4b6c8d9e0f1a2b3c4d5e6f708192a3b4c5d6";

describe("Trusted setup: a multi-party ceremony", function () {
  this.timeout(300_000);
  const tmp = path.join(os.tmpdir(), `aitbc-ceremony-test-${process.pid}`);
  let known: string;
  let standIn: string;
  let layout: ZkLayout;
  let dir: string;

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the file's shape
  const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
  const writeJson = (file: string, value: unknown): void => {
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  };
  /** A copy of the sealed ceremony folder, to tamper with. */
  const copyOfCeremony = (name: string): string => {
    const copy = path.join(tmp, name);
    cpSync(dir, copy, { recursive: true });
    return copy;
  };

  before(async function () {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    known = await makePtau(tmp, "known.ptau");
    standIn = await makePtau(tmp, "stand-in.ptau");
    layout = productLayout([known]);
    dir = path.join(tmp, "ceremony");

    // The ceremony, as its coordinator and participants run it (the tasks call exactly these).
    const t0 = await initCircuitCeremony(layout, "product", { dir, ptau: known });
    expect(t0.contributions).to.deep.equal([]);
    expect(t0.ptau.known).to.equal("known.ptau");
    await contribute({ circuit: "product", dir, participant: "alice", entropy: { kind: "os" } });
    const bob = await contribute({
      circuit: "product",
      dir,
      participant: "bob",
      entropy: { kind: "passed", text: "bob's dice: 4 1 6 6 2 3 5 1 1 4" },
    });
    expect(bob.index).to.equal(2);
    const beforeSeal = await verifyCeremony(layout, { circuit: "product", dir, ptau: known });
    expect(beforeSeal).to.include({ participants: 2, sealed: false });
    await sealCircuitCeremony(layout, "product", {
      dir,
      ptau: known,
      beacon: BEACON,
      iterationsExp: 10,
      source: "test: a fixed value standing for a future block hash",
    });
  });
  after(async function () {
    await releaseCurve();
    rmSync(tmp, { recursive: true, force: true });
    rmSync(layout.root, { recursive: true, force: true });
  });

  describe("end to end", function () {
    it("records each step in the transcript, chained, and the key holds the same contributions", async function () {
      const t = readJson<Transcript>(transcriptPath(layout, "product"));
      expect(t.contributions.map((c) => [c.index, c.participant, c.entropy])).to.deep.equal([
        [1, "alice", "os"],
        [2, "bob", "passed"],
      ]);
      expect(t.contributions[0]?.previousHash).to.equal(null);
      expect(t.contributions[1]?.previousHash).to.equal(t.contributions[0]?.hash);
      expect(t.contributions[0]?.inputZkey).to.equal(t.initial.zkey);
      expect(t.beacon).to.include({
        value: BEACON.slice(2),
        iterationsExp: 10,
        previousHash: t.contributions[1]?.hash,
      });
      const inKey = await readKeyContributions(artifacts(layout, "product").zkey);
      expect(inKey).to.deep.equal([
        { type: 0, name: "alice" },
        { type: 0, name: "bob" },
        { type: 1, name: "beacon", beacon: { value: BEACON.slice(2), iterationsExp: 10 } },
      ]);
      const manifest = readJson<Record<string, { files: Record<string, string> }>>(manifestPath(layout));
      expect(Object.keys(manifest.product?.files ?? {})).to.include("circuits/build/product/transcript.json");
      expect(readFileSync(verifierPath(layout, PRODUCT), "utf8")).to.match(
        /Phase 2: ceremony of 2 participants sealed with a random beacon/,
      );
    });

    it("the final key proves a statement (snarkjs groth16 fullProve) that verifies, and no other", async function () {
      const files = artifacts(layout, "product");
      const { proof, publicSignals } = await snarkjs.groth16.fullProve({ a: 3, b: 11, c: 33 }, files.wasm, files.zkey);
      expect(publicSignals).to.deep.equal(["33"]);
      const vkey = readJson<Record<string, unknown>>(files.vkey);
      expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).to.equal(true);
      expect(await snarkjs.groth16.verify(vkey, ["34"], proof)).to.equal(false);
    });

    it("passes zk check as a production key, also --deep, and the deployment guard lets it through", async function () {
      await checkCircuits({ production: true }, layout);
      await checkCircuits({ production: true, deep: true, ptau: known }, layout);
      const warnings = await guardDeployment({
        layout,
        circuits: [PRODUCT],
        chainId: 1n,
        networkName: "mainnet",
        allowDevKeys: false,
      });
      expect(warnings).to.deep.equal([]);
    });

    it("verifies the sealed ceremony in its folder too", async function () {
      expect(await verifyCeremony(layout, { circuit: "product", dir, ptau: known })).to.include({
        participants: 2,
        sealed: true,
      });
    });
  });

  describe("tampering, caught", function () {
    it("a contribution hash changed (and the chain patched to match) fails zk ceremony verify", async function () {
      const copy = copyOfCeremony("changed-hash");
      const file = ceremonyFiles(copy, "product").transcript;
      const t = readJson<Transcript>(file);
      const forged = "ab".repeat(64);
      if (t.contributions[1] === undefined || t.beacon === null) throw new Error("unexpected transcript");
      t.contributions[1].hash = forged;
      t.beacon.previousHash = forged;
      writeJson(file, t);
      expect(await rejection(verifyCeremony(layout, { circuit: "product", dir: copy, ptau: known }))).to.match(
        /product: contributions\[1\]\.hash is not the hash snarkjs computes for contribution #2/,
      );
    });

    it("a contribution hash changed alone breaks the chain of previous hashes", async function () {
      const copy = copyOfCeremony("changed-hash-alone");
      const file = ceremonyFiles(copy, "product").transcript;
      const t = readJson<Transcript>(file);
      if (t.contributions[0] === undefined) throw new Error("unexpected transcript");
      t.contributions[0].hash = "cd".repeat(64);
      writeJson(file, t);
      expect(await rejection(verifyCeremony(layout, { circuit: "product", dir: copy, ptau: known }))).to.match(
        /contributions\[1\]\.previousHash does not match the hash of the step before it/,
      );
    });

    it("a contribution removed from the transcript (chain patched) fails zk ceremony verify", async function () {
      const copy = copyOfCeremony("removed");
      const file = ceremonyFiles(copy, "product").transcript;
      const t = readJson<Transcript>(file);
      const [alice, bob] = t.contributions;
      if (alice === undefined || bob === undefined || t.beacon === null) throw new Error("unexpected transcript");
      t.contributions = [bob];
      bob.index = 1;
      bob.previousHash = null;
      bob.inputZkey = t.initial.zkey;
      writeJson(file, t);
      expect(await rejection(verifyCeremony(layout, { circuit: "product", dir: copy, ptau: known }))).to.match(
        /the key holds 3 contribution\(s\), the transcript records 1 and a beacon/,
      );
    });

    it("the committed transcript edited, manifest hash and all, fails zk check (removal) and zk check --deep (hash)", async function () {
      const committed = transcriptPath(layout, "product");
      const original = readFileSync(committed, "utf8");
      const manifestFile = manifestPath(layout);
      const manifest = readFileSync(manifestFile, "utf8");
      const rewrite = async (edit: (t: Transcript) => void): Promise<void> => {
        const t = JSON.parse(original) as Transcript;
        edit(t);
        writeJson(committed, t);
        const { createHash } = await import("node:crypto");
        const m = JSON.parse(manifest) as Record<string, { files: Record<string, string> }>;
        const files = m.product?.files ?? {};
        files["circuits/build/product/transcript.json"] = createHash("sha256")
          .update(readFileSync(committed))
          .digest("hex");
        writeJson(manifestFile, m);
      };
      try {
        await rewrite((t) => {
          t.contributions = t.contributions.slice(0, 1);
          if (t.beacon !== null && t.contributions[0] !== undefined) {
            t.beacon.previousHash = t.contributions[0].hash;
            t.beacon.inputZkey = t.contributions[0].zkey;
          }
        });
        expect(await rejection(checkCircuits({}, layout))).to.match(/the key holds 3 contribution\(s\)/);

        await rewrite((t) => {
          if (t.contributions[1] === undefined || t.beacon === null) return;
          t.contributions[1].hash = "ef".repeat(64);
          t.beacon.previousHash = t.contributions[1].hash;
        });
        await checkCircuits({}, layout); // the names and count still match what the key holds...
        expect(await rejection(checkCircuits({ deep: true, ptau: known }, layout))).to.match(
          /contributions\[1\]\.hash is not the hash snarkjs computes/, // ...snarkjs's hashes do not
        );
      } finally {
        writeFileSync(committed, original);
        writeFileSync(manifestFile, manifest);
      }
    });

    it("a key swapped under the transcript is refused before anyone contributes to it", async function () {
      const copy = copyOfCeremony("swapped");
      const files = ceremonyFiles(copy, "product");
      // The coordinator passes on the initial key as if it were bob's: the transcript names another file.
      cpSync(files.zkey(0), files.final);
      expect(await rejection(verifyCeremony(layout, { circuit: "product", dir: copy, ptau: known }))).to.match(
        /is not the key the transcript ends with/,
      );
    });

    it("verify needs the ceremony's powers of tau", async function () {
      expect(await rejection(verifyCeremony(layout, { circuit: "product", dir, ptau: standIn }))).to.match(
        /stand-in\.ptau is not the powers of tau of the ceremony \(known\.ptau/,
      );
    });
  });

  describe("rules", function () {
    it("a seal needs two distinct participants, and a sealed ceremony takes no more contributions", async function () {
      const solo = path.join(tmp, "solo");
      await initCircuitCeremony(layout, "product", { dir: solo, ptau: known });
      await contribute({ circuit: "product", dir: solo, participant: "mallory", entropy: { kind: "os" } });
      await contribute({ circuit: "product", dir: solo, participant: "mallory", entropy: { kind: "os" } });
      const sealing = { dir: solo, ptau: known, beacon: BEACON, iterationsExp: 10, source: "test" };
      expect(await rejection(sealCircuitCeremony(layout, "product", sealing))).to.match(
        /product: 1 contribution\(s\) from distinct participants; a seal needs >= 2/,
      );
      expect(
        await rejection(contribute({ circuit: "product", dir, participant: "carol", entropy: { kind: "os" } })),
      ).to.match(/the ceremony is sealed; no more contributions/);
    });

    it("bad input names the flag: participant name, beacon value, iterations, source, a second init", async function () {
      const d = copyOfCeremony("input");
      const files = ceremonyFiles(d, "product");
      const t = readJson<Transcript>(files.transcript);
      t.beacon = null;
      writeJson(files.transcript, t);
      expect(
        await rejection(contribute({ circuit: "product", dir: d, participant: " x", entropy: { kind: "os" } })),
      ).to.match(/--name: 1 to 64 printable ASCII characters/);
      expect(
        await rejection(
          contribute({ circuit: "product", dir: d, participant: "x", entropy: { kind: "passed", text: "short" } }),
        ),
      ).to.match(/--entropy: give at least 16 characters/);
      const seal = (over: object) =>
        sealCircuitCeremony(layout, "product", {
          dir: d,
          ptau: known,
          beacon: BEACON,
          iterationsExp: 10,
          source: "test",
          ...over,
        });
      expect(await rejection(seal({ beacon: "0xabc" }))).to.match(/--beacon: 1 to 255 bytes of lower-case hex/);
      expect(await rejection(seal({ iterationsExp: 9 }))).to.match(/--iterations: an exponent from 10 to 63/);
      expect(await rejection(seal({ source: " " }))).to.match(/--beacon-source: say where the beacon value comes from/);
      expect(await rejection(initCircuitCeremony(layout, "product", { dir, ptau: known }))).to.match(
        /a ceremony is already in progress here/,
      );
      expect(await rejection(initCircuitCeremony(layout, "nope", { dir: d, ptau: known }))).to.match(
        /unknown circuit "nope" \(known: product\)/,
      );
    });

    it("a ceremony over a powers of tau that is not known is refused, or with devPtau makes a development key", async function () {
      const other = productLayout([known]);
      try {
        const d = path.join(tmp, "dev");
        expect(await rejection(initCircuitCeremony(other, "product", { dir: d, ptau: standIn }))).to.match(
          /stand-in\.ptau is not a known public ceremony file/,
        );
        await initCircuitCeremony(other, "product", { dir: d, ptau: standIn, devPtau: true });
        await contribute({ circuit: "product", dir: d, participant: "alice", entropy: { kind: "os" } });
        await contribute({ circuit: "product", dir: d, participant: "bob", entropy: { kind: "os" } });
        await sealCircuitCeremony(other, "product", {
          dir: d,
          ptau: standIn,
          beacon: BEACON,
          iterationsExp: 10,
          source: "t",
        });
        await checkCircuits({}, other);
        expect(await rejection(checkCircuits({ production: true }, other))).to.match(
          /product: not a production key: made over a development powers of tau \(stand-in\.ptau\)/,
        );
      } finally {
        rmSync(other.root, { recursive: true, force: true });
      }
    });
  });
});
