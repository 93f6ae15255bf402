import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

import { tasks } from "./scripts/tasks/index.js";

// solc comes from the npm `solc` package (pinned to SOLC_VERSION in package.json): Hardhat loads the
// WASM build from this path and never tries to download a compiler.
const SOLC_VERSION = "0.8.30";
const solcPath = createRequire(import.meta.url).resolve("solc/soljson.js");
const settings = (runs: number) => ({ evmVersion: "prague", optimizer: { enabled: true, runs } });

// AITBC_SIGNER: the `custom` network's account from a named keystore (scripts/tasks/signer-hook.ts).
const aitbcSigner = {
  id: "aitbc-signer",
  hookHandlers: { configurationVariables: () => import("./scripts/tasks/signer-hook.js") },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, aitbcSigner],
  tasks,
  solidity: {
    compilers: [{ version: SOLC_VERSION, path: solcPath, settings: settings(10_000) }],
    // The three largest contracts trade some runtime gas for bytecode size, to stay under EIP-170's 24 KiB; the
    // marketplace and Workflows, nearest the limit, optimise for size alone (runs 1, through the IR).
    overrides: {
      "contracts/market/ServiceMarketplace.sol": {
        version: SOLC_VERSION,
        path: solcPath,
        settings: { ...settings(1), viaIR: true },
      },
      "contracts/workflows/Workflows.sol": {
        version: SOLC_VERSION,
        path: solcPath,
        settings: { ...settings(1), viaIR: true },
      },
      "contracts/governance/AITBCGovernor.sol": { version: SOLC_VERSION, path: solcPath, settings: settings(200) },
    },
    // Contracts and Solidity tests compile separately: `hardhat run` (the demo, the bench) never builds tests.
    splitTestsCompilation: true,
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
    // Any EVM chain over JSON-RPC. Its account: a named keystore (AITBC_SIGNER=<name>, see `key new / import`);
    // a plain AITBC_PRIVATE_KEY is accepted on a local chain only.
    custom: {
      type: "http",
      chainType: "l1",
      url: configVariable("AITBC_RPC_URL"),
      accounts: [configVariable("AITBC_PRIVATE_KEY")],
    },
  },
});
