/**
 * The direction of dependencies, enforced by `npm run lint` (dependency-cruiser):
 *
 *   circuits/ -> protocol/ -> keepers/common/ -> keepers/keeper/, keepers/provider/, agents/ (-> keepers/cli.ts)
 *   (agents/ also runs the provider's backends, keepers/provider/backends/)
 *   deploy/ (Ignition modules) -> protocol/
 *   scripts/lib/ -> scripts/tasks/, scripts/bench/, scripts/zk/, scripts/*.ts      (on top of the product)
 *   sim/ (the economy simulation) on agents/, protocol/, deploy/, keepers/common/, scripts/lib/  (on top)
 *   test/                                                                             (on top of everything)
 *
 * The product (circuits, protocol, deploy, keepers, agents) never imports sim/, scripts/ or test/; nothing outside test/
 * imports test/; the two daemons never import each other; no import cycles anywhere. test/lint/dependencies.test.ts
 * shows each rule refusing a wrong import. Paths are relative to the folder depcruise runs in (the repository).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "An import cycle: split the shared part into a module both sides import.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "test-only-from-test",
      comment: "Only tests import test/ (scripts and the product never do).",
      severity: "error",
      from: { pathNot: "^test/" },
      to: { path: "^test/" },
    },
    {
      name: "scripts-only-from-scripts-and-test",
      comment:
        "scripts/ sits on top of the product: only scripts/, sim/ (its lib), tests and hardhat.config.ts import it.",
      severity: "error",
      from: { pathNot: "^(scripts/|sim/|test/|hardhat\\.config\\.ts$)" },
      to: { path: "^scripts/" },
    },
    {
      name: "sim-on-top",
      comment: "sim/ (the economy simulation) sits on top of the product: only tests import it.",
      severity: "error",
      from: { pathNot: "^(sim/|test/)" },
      to: { path: "^sim/" },
    },
    {
      name: "sim-uses-the-libraries",
      comment:
        "sim/ runs the product (agents/, protocol/, deploy/, keepers/common/) and scripts/lib/; never the daemons, " +
        "tasks or benches.",
      severity: "error",
      from: { path: "^sim/" },
      to: { path: "^(keepers/(?!common/)|scripts/(?!lib/))" },
    },
    {
      name: "scripts-lib-is-a-library",
      comment: "scripts/lib/ serves tasks, benches, the demo and the tour; it never imports them.",
      severity: "error",
      from: { path: "^scripts/lib/" },
      to: { path: "^scripts/", pathNot: "^scripts/lib/" },
    },
    {
      name: "circuits-stand-alone",
      comment: "circuits/ (sources, list, prover, JS references) depends on nothing else in the repository.",
      severity: "error",
      from: { path: "^circuits/" },
      to: { path: "^(protocol|keepers|deploy|scripts|test|typechain-types)/" },
    },
    {
      name: "protocol-is-neutral",
      comment: "protocol/ is the shared layer: it imports only circuits/ and itself (no daemon, no ethers types).",
      severity: "error",
      from: { path: "^protocol/" },
      to: { path: "^(keepers|deploy|scripts|test|typechain-types)/" },
    },
    {
      name: "deploy-on-protocol",
      comment: "Ignition modules import only the protocol layer and each other.",
      severity: "error",
      from: { path: "^deploy/" },
      to: { path: "^(keepers|scripts|test|typechain-types)/" },
    },
    {
      name: "keepers-common-below-daemons",
      comment: "keepers/common/ is shared by every daemon and agent: it never imports one of them.",
      severity: "error",
      from: { path: "^keepers/common/" },
      to: { path: "^(keepers/(?!common/)|agents/|deploy/|typechain-types/)" },
    },
    {
      name: "daemons-apart",
      comment: "A daemon imports keepers/common/ and protocol/, never another daemon (move the shared part down).",
      severity: "error",
      from: { path: "^keepers/(keeper|provider)/" },
      to: { path: "^(keepers/(?!common/|$1/)|agents/|deploy/|typechain-types/)" },
    },
    {
      name: "agents-on-common",
      comment:
        "agents/ builds on protocol/ and keepers/common/, and runs the provider's backends; never the keeper or the " +
        "provider node itself.",
      severity: "error",
      from: { path: "^agents/" },
      to: { path: "^(keepers/(?!common/|provider/backends/|provider/config\\.ts$)|deploy/|typechain-types/)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|artifacts|cache|typechain-types|circuits/build|coverage|\\.tools|\\.cache)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".cjs", ".json"] },
  },
};
