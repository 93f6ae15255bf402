import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

import { tasks } from "./scripts/tasks/index.js";

// solc comes from the npm `solc` package (pinned to SOLC_VERSION in package.json): Hardhat loads the
// WASM build from this path and never tries to download a compiler.
const SOLC_VERSION = "0.8.30";
const solcPath = createRequire(import.meta.url).resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  tasks,
  solidity: {
    version: SOLC_VERSION,
    path: solcPath,
    // Contracts and Solidity tests compile separately: `hardhat run` (the demo, the bench) never builds tests.
    splitTestsCompilation: true,
    settings: {
      evmVersion: "prague",
      optimizer: { enabled: true, runs: 10_000 },
    },
  },
  paths: {
    sources: "contracts",
    tests: { solidity: "test/solidity", mocha: "test" },
    ignition: "deploy",
  },
  test: {
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 64, depth: 32, failOnRevert: false },
    },
    mocha: { timeout: 120_000 },
  },
  typechain: { outDir: "typechain-types" },
  networks: {
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    // Any EVM chain over JSON-RPC; secrets come from the environment or Hardhat's keystore.
    custom: {
      type: "http",
      chainType: "l1",
      url: configVariable("AITBC_RPC_URL"),
      accounts: [configVariable("AITBC_PRIVATE_KEY")],
    },
  },
});
