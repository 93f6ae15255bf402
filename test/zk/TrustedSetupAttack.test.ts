/**
 * Found in review ("Trust boundaries"): whoever runs `zk build` could forge any proof. Its phase 2 was one local
 * contribution, also on the documented production path (`--ptau` with a ceremony file), and snarkjs keys fix
 * gamma to the generator, so whoever knows delta forges any statement: the review rebuilt the receipt keys over a
 * stand-in ceremony file, recovered delta from the build's randomness and minted 10,000,000 AITBC with no receipt
 * behind it, and `zk check` (also `--deep`) passed.
 *
 * These tests are the attack's steps, on the small test circuit (test/helpers/ceremony.ts) and on the committed
 * keys: a one-contribution key must not pass as a production key, a powers of tau nobody can check must not pass
 * as a ceremony file, and such keys must not reach a public network.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import hre from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { TaskArguments } from "hardhat/types/tasks";

import { releaseCurve } from "../../circuits/lib/prover.js";
import { closeServer } from "../../keepers/common/http.js";
import { devAccount, serveRpc } from "../../scripts/lib/devnet.js";
import ignitionDeployGuarded from "../../scripts/tasks/zk/deploy-guard.js";
import { guardDeployment } from "../../scripts/zk/deploy-guard.js";
import { manifestPath } from "../../scripts/zk/layout.js";
import { buildCircuits, checkCircuits } from "../../scripts/zk/pipeline.js";
import { makePtau, PRODUCT, productLayout, rejection } from "../helpers/ceremony.js";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..", "..");
const HARDHAT = path.join(ROOT, "node_modules/hardhat/dist/src/cli.js");

describe("Trusted setup: the review's attack", function () {
  this.timeout(300_000);
  const tmp = path.join(os.tmpdir(), `aitbc-setup-attack-${process.pid}`);
  let known: string;
  let standIn: string;

  before(async function () {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    // `known` stands for a public ceremony file (the test layout's table lists it); `standIn` is any other file.
    known = await makePtau(tmp, "known.ptau");
    standIn = await makePtau(tmp, "stand-in.ptau");
  });
  after(async function () {
    await releaseCurve();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("a key with one contribution (what zk build makes) is refused as a production key: needs >= 2 contributions", async function () {
    const layout = productLayout([known]);
    await buildCircuits({ ptau: known }, layout);
    expect(await rejection(checkCircuits({ production: true }, layout))).to.match(
      /product: .*1 contribution.*needs >= 2/,
    );
    // A development key still checks out for local work (zk check warns), and is refused on a public chain.
    await checkCircuits({}, layout);
    const toSepolia = { layout, circuits: [PRODUCT], chainId: 11155111n, networkName: "sepolia" };
    expect(await rejection(guardDeployment({ ...toSepolia, allowDevKeys: false }))).to.match(
      /product \(ProductVerifier\): 1 contribution.*needs >= 2.*--allow-dev-keys/s,
    );
    expect(await guardDeployment({ ...toSepolia, allowDevKeys: true })).to.have.length(2);
    expect(await guardDeployment({ ...toSepolia, chainId: 31337n, allowDevKeys: false })).to.deep.equal([]);
  });

  it("a powers of tau that is not in the known table is refused as a ceremony file", async function () {
    const layout = productLayout([known]);
    expect(await rejection(buildCircuits({ ptau: standIn }, layout))).to.match(
      /stand-in\.ptau.*not a known public ceremony file.*ptau-known\.json/,
    );
  });

  it("a stand-in powers of tau passed as development is recorded as development", async function () {
    const layout = productLayout([known]);
    await buildCircuits({ ptau: standIn, devPtau: true }, layout);
    const manifest = JSON.parse(readFileSync(manifestPath(layout), "utf8")) as Record<
      string,
      { ptau: { development: boolean } }
    >;
    expect(manifest.product?.ptau.development).to.equal(true);
  });

  describe("deployment of the committed keys (development keys: a development powers of tau, some one contribution)", function () {
    const deploymentId = `setup-attack-${process.pid}`;
    let url: string;
    let close: (() => Promise<void>) | undefined;

    before(async function () {
      const connection = await hre.network.create({ network: "default", override: { chainId: 11155111 } });
      const served = await serveRpc(connection);
      url = served.url;
      close = async () => {
        await closeServer(served.server);
        await connection.close();
      };
    });
    after(async function () {
      await close?.();
      rmSync(path.join(ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
    });

    const deploy = (extra: string[]) =>
      run(
        process.execPath,
        [
          HARDHAT,
          "ignition",
          "deploy",
          "deploy/modules/Zk.ts",
          "--network",
          "custom",
          "--deployment-id",
          deploymentId,
          ...extra,
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            AITBC_RPC_URL: url,
            AITBC_PRIVATE_KEY: devAccount(0).privateKey,
            HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "1",
          },
        },
      );

    it("is refused on a network other than a local one (chain 11155111), naming the circuit and why", async function () {
      let failure: { stderr?: string; stdout?: string } | undefined;
      try {
        await deploy([]);
      } catch (error) {
        failure = error as { stderr?: string; stdout?: string };
      }
      expect(failure, "the deployment went through").to.not.equal(undefined);
      const output = `${failure?.stdout ?? ""}${failure?.stderr ?? ""}`;
      for (const [circuit, contract] of [
        ["receipt", "ReceiptVerifier"],
        ["workflow", "WorkflowVerifier"],
        ["inference", "InferenceVerifier"],
      ] as const) {
        // Each development key is named with every reason: a key made by zk build also has too few contributions.
        const transcript = path.join(ROOT, "circuits", "build", circuit, "transcript.json");
        const contributions = existsSync(transcript) ? "" : "1 contribution .*needs >= 2.*";
        expect(output, output).to.match(
          new RegExp(`${circuit} \\(${contract}\\): ${contributions}.*development powers of tau`),
        );
      }
      expect(output).to.match(/refusing to deploy development verifier keys to custom \(chain 11155111\)/);
      expect(output).to.match(/--allow-dev-keys/);
    });

    it("the guard's flag: --allow-dev-keys lets the deployment run, with a loud warning; a module without verifiers is not checked", async function () {
      // The override's action with a chain that answers 11155111 (the subprocess above shows the real wiring;
      // a real deployment would first compile the contracts with the production profile, minutes on CI).
      const chainQueries: string[] = [];
      const fakeHre = {
        network: {
          create: () =>
            Promise.resolve({
              networkName: "sepolia",
              provider: {
                request: ({ method }: { method: string }) => {
                  chainQueries.push(method);
                  return Promise.resolve("0xaa36a7");
                },
              },
              close: () => Promise.resolve(),
            }),
        },
      } as unknown as HardhatRuntimeEnvironment;
      const superRuns: unknown[] = [];
      const runSuper = (args: TaskArguments) => {
        superRuns.push(args);
        return Promise.resolve("deployed");
      };
      const zk = { modulePath: "deploy/modules/Zk.ts" };
      expect(await rejection(ignitionDeployGuarded({ ...zk, allowDevKeys: false }, fakeHre, runSuper))).to.match(
        /refusing to deploy development verifier keys to sepolia \(chain 11155111\)/,
      );
      expect(superRuns).to.have.length(0);
      const warnings: string[] = [];
      const warn = console.warn;
      console.warn = (message: string) => warnings.push(message);
      try {
        expect(await ignitionDeployGuarded({ ...zk, allowDevKeys: true }, fakeHre, runSuper)).to.equal("deployed");
      } finally {
        console.warn = warn;
      }
      expect(warnings.join("\n")).to.match(/DEPLOYING DEVELOPMENT VERIFIER KEYS to sepolia \(chain 11155111\)/);
      expect(superRuns).to.have.length(1);
      chainQueries.length = 0;
      const core = { modulePath: "deploy/modules/Core.ts", allowDevKeys: false };
      expect(await ignitionDeployGuarded(core, fakeHre, runSuper)).to.equal("deployed");
      expect(chainQueries, "no verifier: nothing to check").to.deep.equal([]);
    });

    it("is not refused on a local chain (31337), where the committed keys serve for development", async function () {
      const local = {
        network: {
          create: () =>
            Promise.resolve({
              networkName: "localhost",
              provider: { request: () => Promise.resolve("0x7a69") },
              close: () => Promise.resolve(),
            }),
        },
      } as unknown as HardhatRuntimeEnvironment;
      const runs: unknown[] = [];
      const runSuper = (args: TaskArguments) => {
        runs.push(args);
        return Promise.resolve("deployed");
      };
      const args = { modulePath: "deploy/modules/Protocol.ts", allowDevKeys: false };
      expect(await ignitionDeployGuarded(args, local, runSuper)).to.equal("deployed");
      expect(runs).to.deep.equal([args]);
    });
  });
});
