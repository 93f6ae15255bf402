/**
 * The keeper's governance voter (keepers/keeper/voter.ts): the policy over a proposal's decoded actions (rules,
 * bounds, default) and the reason that names the deciding rule; the voter's duty against a scripted chain
 * (idempotent on hasVoted, safety refusal, skip, cursor, mined revert); and a real vote on the AITBCGovernor on an
 * in-process chain, through the TxSender and the SafetyMonitor.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { pino } from "pino";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  encodeFunctionData,
  parseEventLogs,
  toFunctionSelector,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { FUTURE_IDS, type Addresses } from "../../../protocol/addresses.js";
import { SUPPORT_CODES } from "../../../protocol/enums.js";
import { ACTION_TYPES } from "../../../protocol/actions.js";
import { constitutionAbi, governorAbi, marketplaceAbi, registryAbi, tokenAbi } from "../../../protocol/abi.js";
import { keeperConfigSchema, type GovernanceConfig } from "../../../keepers/keeper/config.js";
import { KeeperMetrics } from "../../../keepers/keeper/metrics.js";
import { SafetyError, SafetyMonitor } from "../../../keepers/common/safety.js";
import { Store } from "../../../keepers/common/store.js";
import { TxRevertedError, TxSender, type SendRequest, type TxOutcome } from "../../../keepers/common/txs.js";
import { CURSOR_FLAG, GovernanceVoter, voteKey, type VoterChain } from "../../../keepers/keeper/voter.js";
import { PolicyEvaluator, type ProposalAction } from "../../../keepers/keeper/policy.js";
import { DEFAULT_GOVERNANCE } from "../../../deploy/modules/Governance.js";
import { registerAndStake, requiredStakeFor } from "../../helpers/agents.js";
import { AITBC, deployProtocol } from "../../../scripts/lib/deploy.js";
import { AGENT_KEY } from "../../helpers/keepers.js";

const KEY: Hex = `0x${"11".repeat(32)}`;
/** A deployment's addresses for the pure tests: distinct, recognisable. */
const ADDRESSES = Object.fromEntries(
  Object.keys(FUTURE_IDS).map((key, i) => [key, `0x${(i + 1).toString(16).padStart(2, "0").repeat(20)}`]),
) as Addresses;
const OUTSIDE: Address = "0x00000000000000000000000000000000000000ee";

/** The governance section as the keeper's config schema reads it. */
function policy(section: Record<string, unknown>): GovernanceConfig {
  const config = keeperConfigSchema.parse({
    rpc: { urls: ["http://127.0.0.1:8545"] },
    agent: { privateKey: KEY },
    governance: { enabled: true, ...section },
  });
  if (!config.governance) throw new Error("no governance section");
  return config.governance;
}

const EXAMPLE_RULES = [
  {
    name: "min-stake-range",
    target: "registry",
    function: "setMinStake",
    params: { minStake: { min: "500 AITBC", max: "5000 AITBC" } },
    vote: "for",
    otherwise: "against",
  },
  // No `otherwise`: out of bounds falls through to the next rule, then the default.
  {
    name: "bond-range",
    target: "registry",
    function: "setBondBps",
    params: { bondBps: { min: 500, max: 2000 } },
    vote: "for",
  },
  {
    name: "market-fees",
    target: "marketplace",
    function: "setParameters",
    params: { protocolFeeBps: { max: 500 }, challengeWindow_: { min: 3600 } },
    vote: "for",
    otherwise: "against",
  },
  { name: "votes-hook", target: "registry", function: "setVotes", params: { 0: { eq: "agentVotes" } }, vote: "for" },
  {
    name: "daily-volume",
    function: "setDefaults",
    params: { "defaults.maxDailyVolume": { max: "200000 AITBC" } },
    vote: "abstain",
  },
  { name: "no-role-changes", function: "grantRole", vote: "against" },
  {
    name: "token-by-selector",
    target: "token",
    function: toFunctionSelector("function transfer(address,uint256)"),
    vote: "abstain",
  },
  { name: "outside-by-signature", target: OUTSIDE, function: "poke(uint256)", vote: "for" },
];

const registryCall = (functionName: "setMinStake" | "setBondBps", value: bigint): ProposalAction => ({
  target: ADDRESSES.registry,
  value: 0n,
  calldata: encodeFunctionData({ abi: registryAbi, functionName, args: [value] }),
});
const minStake = (aitbc: bigint) => registryCall("setMinStake", aitbc * AITBC);
const setVotes = (votes: Address): ProposalAction => ({
  target: ADDRESSES.registry,
  value: 0n,
  calldata: encodeFunctionData({ abi: registryAbi, functionName: "setVotes", args: [votes] }),
});
const marketParameters = (fee: bigint, window: bigint): ProposalAction => ({
  target: ADDRESSES.marketplace,
  value: 0n,
  calldata: encodeFunctionData({ abi: marketplaceAbi, functionName: "setParameters", args: [fee, window, 1000n] }),
});
const grantRole = (target: Address): ProposalAction => ({
  target,
  value: 0n,
  calldata: encodeFunctionData({
    abi: registryAbi,
    functionName: "grantRole",
    args: [`0x${"00".repeat(32)}`, OUTSIDE],
  }),
});
const setDefaults = (maxDailyVolume: bigint): ProposalAction => ({
  target: ADDRESSES.constitution,
  value: 0n,
  calldata: encodeFunctionData({
    abi: constitutionAbi,
    functionName: "setDefaults",
    args: [{ maxStake: 1n, maxDailyVolume, maxGasPerDay: 1, allowedActions: 1, humanApprovalActions: 0 }],
  }),
});

describe("keepers: governance voter", function () {
  describe("the policy (PolicyEvaluator)", function () {
    const evaluator = new PolicyEvaluator(policy({ rules: EXAMPLE_RULES, default: "abstain" }), ADDRESSES);

    const cases: { name: string; actions: ProposalAction[]; support: string; rule: string; reason: RegExp }[] = [
      {
        name: "a bound that holds: the rule's vote",
        actions: [minStake(3000n)],
        support: "for",
        rule: "min-stake-range",
        reason:
          /^for \(rule "min-stake-range"\): registry\.setMinStake\(3000000000000000000000\): minStake 3000000000000000000000 within \[500000000000000000000, 5000000000000000000000\]$/,
      },
      {
        name: "the bounds are inclusive",
        actions: [minStake(5000n)],
        support: "for",
        rule: "min-stake-range",
        reason: /within/,
      },
      {
        name: "above max: otherwise",
        actions: [minStake(9000n)],
        support: "against",
        rule: "min-stake-range",
        reason:
          /^against \(rule "min-stake-range"\): .*minStake 9000000000000000000000 above max 5000000000000000000000$/,
      },
      {
        name: "below min: otherwise",
        actions: [minStake(100n)],
        support: "against",
        rule: "min-stake-range",
        reason: /minStake 100000000000000000000 below min 500000000000000000000$/,
      },
      {
        name: "out of bounds without otherwise: falls through to the default, saying which rule did not hold",
        actions: [registryCall("setBondBps", 5000n)],
        support: "abstain",
        rule: "default",
        reason:
          /^abstain \(default: no rule matches\): registry\.setBondBps\(5000\): no rule matches \(rule "bond-range": bondBps 5000 above max 2000\)$/,
      },
      {
        name: "two bounds, both hold",
        actions: [marketParameters(300n, 7200n)],
        support: "for",
        rule: "market-fees",
        reason: /protocolFeeBps 300 <= 500, challengeWindow_ 7200 >= 3600$/,
      },
      {
        name: "two bounds, the second breaks",
        actions: [marketParameters(300n, 60n)],
        support: "against",
        rule: "market-fees",
        reason: /challengeWindow_ 60 below min 3600$/,
      },
      {
        name: "an address parameter equal to a contract key",
        actions: [setVotes(ADDRESSES.agentVotes)],
        support: "for",
        rule: "votes-hook",
        reason: /registry\.setVotes\(agentVotes\): 0 agentVotes = "agentVotes"/,
      },
      {
        name: "an address parameter that is not the key",
        actions: [setVotes(OUTSIDE)],
        support: "abstain",
        rule: "default",
        reason: /rule "votes-hook": 0 0x0+ee is not agentVotes/i,
      },
      {
        name: "a struct field by path",
        actions: [setDefaults(100_000n * AITBC)],
        support: "abstain",
        rule: "daily-volume",
        reason:
          /^abstain \(rule "daily-volume"\): constitution\.setDefaults\(\{maxStake: 1, .*defaults\.maxDailyVolume 100000000000000000000000 <= 200000000000000000000000$/,
      },
      {
        name: "a rule without target matches the function on any protocol contract",
        actions: [grantRole(ADDRESSES.marketplace)],
        support: "against",
        rule: "no-role-changes",
        reason: /^against \(rule "no-role-changes"\): marketplace\.grantRole\(0x0+…, 0x0+ee\): matches$/i,
      },
      {
        name: "a rule by selector",
        actions: [
          {
            target: ADDRESSES.token,
            value: 0n,
            calldata: encodeFunctionData({ abi: tokenAbi, functionName: "transfer", args: [OUTSIDE, 5n] }),
          },
        ],
        support: "abstain",
        rule: "token-by-selector",
        reason: /token\.transfer\(0x0+ee, 5\): matches/i,
      },
      {
        name: "a rule by signature on a contract without ABI",
        actions: [{ target: OUTSIDE, value: 0n, calldata: `${toFunctionSelector("poke(uint256)")}${"00".repeat(32)}` }],
        support: "for",
        rule: "outside-by-signature",
        reason: /0x0+ee\.0x[0-9a-f]{8}\(…\): matches/i,
      },
      {
        name: "an unknown contract: the default",
        actions: [{ target: OUTSIDE, value: 0n, calldata: "0x" }],
        support: "abstain",
        rule: "default",
        reason: /^abstain \(default: no rule matches\): 0x0+ee.*: no rule matches$/i,
      },
      {
        name: "an action that sends ether: against",
        actions: [{ target: OUTSIDE, value: 5n, calldata: "0x" }],
        support: "against",
        rule: "default",
        reason: /^against \(default: no rule matches\): 0x0+ee\{value: 5\}\(\): sends 5 wei, which no rule covers$/i,
      },
      {
        name: "several actions, all allowed: for, naming every rule",
        actions: [minStake(1000n), marketParameters(100n, 3600n)],
        support: "for",
        rule: "min-stake-range, market-fees",
        reason:
          /^for \(rules "min-stake-range", "market-fees"\): #0 registry\.setMinStake.*; #1 marketplace\.setParameters/,
      },
      {
        name: "several actions, one against: against, naming that action",
        actions: [minStake(1000n), minStake(6000n)],
        support: "against",
        rule: "min-stake-range",
        reason: /^against \(rule "min-stake-range", action #1 of 2\): registry\.setMinStake\(6000000000000000000000\)/,
      },
      {
        name: "several actions, one unmatched: the default (abstain) beats for",
        actions: [minStake(1000n), registryCall("setBondBps", 1n)],
        support: "abstain",
        rule: "default",
        reason: /^abstain \(default: no rule matches, action #1 of 2\)/,
      },
    ];
    for (const c of cases) {
      it(c.name, function () {
        const decision = evaluator.decide(c.actions);
        expect(decision.support, decision.reason).to.equal(c.support);
        expect(decision.rule).to.equal(c.rule);
        expect(decision.reason).to.match(c.reason);
        expect(decision.actions).to.have.length(c.actions.length);
      });
    }

    it("the default decides unmatched actions: against, or skip (which beats abstain but not against)", function () {
      const against = new PolicyEvaluator(policy({ rules: EXAMPLE_RULES, default: "against" }), ADDRESSES);
      expect(against.decide([registryCall("setBondBps", 1n)]).reason).to.match(/^against \(default: no rule matches\)/);
      const skip = new PolicyEvaluator(policy({ rules: EXAMPLE_RULES, default: "skip" }), ADDRESSES);
      expect(skip.decide([registryCall("setBondBps", 1n)]).support).to.equal("skip");
      expect(skip.decide([minStake(1000n), registryCall("setBondBps", 1n)]).support).to.equal("skip");
      expect(skip.decide([minStake(9000n), registryCall("setBondBps", 1n)]).support).to.equal("against");
      expect(skip.decide([setDefaults(1n), registryCall("setBondBps", 1n)]).support).to.equal("skip");
      // The default section: no rules, skip.
      expect(new PolicyEvaluator(policy({}), ADDRESSES).decide([minStake(1000n)]).support).to.equal("skip");
    });

    it("the first matching rule decides", function () {
      const first = new PolicyEvaluator(
        policy({
          rules: [
            { name: "never-grant-on-registry", target: "registry", function: "grantRole", vote: "against" },
            { name: "grant-anywhere", function: "grantRole", vote: "abstain" },
          ],
        }),
        ADDRESSES,
      );
      expect(first.decide([grantRole(ADDRESSES.registry)]).rule).to.equal("never-grant-on-registry");
      expect(first.decide([grantRole(ADDRESSES.marketplace)]).rule).to.equal("grant-anywhere");
    });

    it("votes against an action that sends ether, whatever the rules say", function () {
      const paying = { ...minStake(1000n), value: 1n };
      const decision = evaluator.decide([paying]);
      expect(decision.support).to.equal("against");
      expect(decision.reason).to.match(/sends 1 wei, which no rule covers/);
    });

    it("clips the reason to 1000 characters", function () {
      const many = Array.from({ length: 40 }, () => marketParameters(1n, 4000n));
      const decision = evaluator.decide(many);
      expect(decision.support).to.equal("for");
      expect(decision.reason).to.have.length(1000);
      expect(decision.reason.endsWith("…")).to.be.true;
    });
  });

  describe("the voter against a scripted chain", function () {
    const PROPOSAL = 77n;
    const ME: Address = "0x00000000000000000000000000000000000000aa";

    interface Script {
      state: number;
      voted: boolean;
      proposals: { id: bigint; actions: ProposalAction[] }[];
    }

    function harness(options: { default?: string; refuse?: SafetyError; revert?: TxRevertedError } = {}) {
      const script: Script = { state: 1, voted: false, proposals: [{ id: PROPOSAL, actions: [minStake(1000n)] }] };
      const reads: string[] = [];
      const chain = {
        readContract: ({ functionName, args }: { functionName: string; args?: readonly unknown[] }) => {
          reads.push(functionName);
          switch (functionName) {
            case "proposalCount":
              return Promise.resolve(BigInt(script.proposals.length));
            case "proposalDetailsAt": {
              const p = script.proposals[Number(args?.[0])];
              if (!p) throw new Error("no such proposal");
              return Promise.resolve([
                p.id,
                p.actions.map((a) => a.target),
                p.actions.map((a) => a.value),
                p.actions.map((a) => a.calldata),
                `0x${"00".repeat(32)}`,
              ]);
            }
            case "state":
              return Promise.resolve(script.state);
            case "hasVoted":
              expect(args?.[1]).to.equal(ME);
              return Promise.resolve(script.voted);
            default:
              throw new Error(`unexpected read ${functionName}`);
          }
        },
      } as unknown as VoterChain;
      const sends: SendRequest[] = [];
      const retired: string[] = [];
      const txs = {
        send: (request: SendRequest): Promise<TxOutcome> => {
          sends.push(request);
          if (options.revert) return Promise.reject(options.revert);
          script.voted = true;
          return Promise.resolve({
            key: request.key,
            hash: `0x${"ab".repeat(32)}`,
            nonce: 0,
            blockNumber: 12n,
            gasUsed: 90_000n,
            status: "success",
            fresh: true,
          });
        },
        retire: (key: string) => {
          retired.push(key);
          return true;
        },
      };
      const checks: { actionType: number; label: string }[] = [];
      const recorded: number[] = [];
      const safety = {
        check: (action: { actionType: number; label: string }) => {
          checks.push(action);
          return options.refuse ? Promise.reject(options.refuse) : Promise.resolve();
        },
        record: (action: { actionType: number }) => {
          recorded.push(action.actionType);
        },
      };
      const lines: Record<string, unknown>[] = [];
      const logger = pino(
        { level: "debug" },
        { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
      );
      const store = new Store(":memory:");
      const metrics = new KeeperMetrics({ defaultMetrics: false });
      const voter = new GovernanceVoter({
        publicClient: chain,
        addresses: ADDRESSES,
        account: ME,
        policy: policy({ rules: EXAMPLE_RULES, default: options.default ?? "abstain" }),
        txs,
        safety,
        store,
        logger,
        metrics,
      });
      return { script, reads, sends, retired, checks, recorded, lines, store, metrics, voter };
    }

    it("votes once on an Active proposal: safety check, castVoteWithReason under vote:<id>, recorded", async function () {
      const h = harness();
      const [outcome] = await h.voter.run();
      expect(outcome).to.include({ kind: "voted", support: "for", rule: "min-stake-range", fresh: true });
      expect(h.checks).to.deep.equal([
        { actionType: ACTION_TYPES.govern, value: 0n, gasEstimate: 300_000n, label: "vote:77" },
      ]);
      expect(h.sends).to.have.length(1);
      const send = h.sends[0];
      expect(send?.key).to.equal(voteKey(PROPOSAL));
      expect(send?.address).to.equal(ADDRESSES.governor);
      expect(send?.functionName).to.equal("castVoteWithReason");
      expect(send?.args?.slice(0, 2)).to.deep.equal([PROPOSAL, SUPPORT_CODES.for]);
      expect(send?.args?.[2]).to.match(/^for \(rule "min-stake-range"\): registry\.setMinStake/);
      expect(h.recorded).to.deep.equal([ACTION_TYPES.govern]);
      expect(h.voter.voteRecord(PROPOSAL)).to.include({ support: "for", rule: "min-stake-range", blockNumber: "12" });
      expect(h.store.flag(CURSOR_FLAG)).to.equal("1");
      const vote = h.lines.find((l) => l.event === "vote");
      expect(vote).to.include({ proposalId: "77", support: "for", rule: "min-stake-range" });
      expect(await h.metrics.metrics()).to.include('aitbc_keeper_votes_total{support="for"} 1');

      // Idempotent: the next run starts past the settled proposal; from the start, hasVoted says no.
      expect(await h.voter.run()).to.deep.equal([]);
      h.store.setFlag(CURSOR_FLAG, undefined);
      expect(await h.voter.run()).to.deep.equal([{ kind: "already-voted", proposalId: PROPOSAL }]);
      expect(h.sends).to.have.length(1);
    });

    it("already voted on chain (outside this store): no safety check, no transaction, recorded", async function () {
      const h = harness();
      h.script.voted = true;
      expect(await h.voter.run()).to.deep.equal([{ kind: "already-voted", proposalId: PROPOSAL }]);
      expect(h.sends).to.deep.equal([]);
      expect(h.checks).to.deep.equal([]);
      expect(h.voter.voteRecord(PROPOSAL)).to.include({ support: "unknown", hash: null });
      expect(h.store.flag(CURSOR_FLAG)).to.equal("1");
    });

    it("a safety refusal: no vote, logged, the proposal is tried again next run", async function () {
      const h = harness({ refuse: new SafetyError("emergency-stop", "the protocol is stopped") });
      const [outcome] = await h.voter.run();
      expect(outcome).to.deep.include({ kind: "refused", safety: "emergency-stop" });
      expect(h.sends).to.deep.equal([]);
      expect(h.recorded).to.deep.equal([]);
      expect(h.voter.voteRecord(PROPOSAL)).to.be.undefined;
      expect(h.store.flag(CURSOR_FLAG)).to.be.undefined;
      expect(h.lines.find((l) => l.event === "vote-refused")).to.include({ safety: "emergency-stop", support: "for" });
      expect(await h.metrics.metrics()).to.include('aitbc_keeper_votes_total{support="for"} 0');
      await h.voter.run();
      expect(h.checks).to.have.length(2);
    });

    it("waits while Pending; leaves final proposals alone; moves the cursor only past settled ones", async function () {
      const h = harness();
      h.script.state = 0; // Pending
      expect(await h.voter.run()).to.deep.equal([{ kind: "not-active", proposalId: PROPOSAL, state: "pending" }]);
      expect(h.store.flag(CURSOR_FLAG)).to.be.undefined;
      expect(h.reads).to.not.include("hasVoted");
      h.script.state = 3; // Defeated
      expect(await h.voter.run()).to.deep.equal([{ kind: "not-active", proposalId: PROPOSAL, state: "defeated" }]);
      expect(h.store.flag(CURSOR_FLAG)).to.equal("1");
      expect(h.sends).to.deep.equal([]);
      // A reorg rewinds the cursor.
      h.voter.onReorg();
      expect(h.store.flag(CURSOR_FLAG)).to.be.undefined;
    });

    it("default skip: no vote, logged once; the cursor stays", async function () {
      const h = harness({ default: "skip" });
      h.script.proposals = [{ id: PROPOSAL, actions: [registryCall("setBondBps", 1n)] }];
      expect((await h.voter.run())[0]).to.include({ kind: "skipped" });
      await h.voter.run();
      expect(h.sends).to.deep.equal([]);
      expect(h.checks).to.deep.equal([]);
      expect(h.lines.filter((l) => l.event === "vote-skipped")).to.have.length(1);
      expect(h.store.flag(CURSOR_FLAG)).to.be.undefined;
    });

    it("a mined revert frees the key for the next run; nothing is recorded", async function () {
      const revert = new TxRevertedError({
        key: "vote:77",
        errorName: "GovernorUnexpectedProposalState",
        hash: `0x${"cd".repeat(32)}`,
        blockNumber: 9n,
      });
      const h = harness({ revert });
      expect((await h.voter.run())[0]).to.include({ kind: "failed" });
      expect(h.retired).to.deep.equal(["vote:77"]);
      expect(h.recorded).to.deep.equal([]);
      expect(h.voter.voteRecord(PROPOSAL)).to.be.undefined;
    });

    it("logs a new proposal with the vote the policy intends", function () {
      const h = harness();
      const decision = h.voter.onProposalCreated({
        proposalId: 5n,
        proposer: OUTSIDE,
        targets: [ADDRESSES.registry],
        values: [0n],
        calldatas: [minStake(9000n).calldata],
        voteStart: 100n,
        voteEnd: 200n,
        description: "Raise the minimum stake\n\nbecause",
      });
      expect(decision.support).to.equal("against");
      expect(h.lines.find((l) => l.event === "proposal")).to.include({
        proposalId: "5",
        title: "Raise the minimum stake",
        intended: "against",
        rule: "min-stake-range",
      });
    });
  });

  describe("on a real chain (in-process Hardhat network, the protocol's Ignition deployment)", function () {
    this.timeout(120_000);

    it("votes on an Active proposal with its reason, once; a safety refusal (emergency stop) casts nothing", async function () {
      const conn = await network.create();
      const core = await deployProtocol(conn);
      const { agent, agent2, operator, governor, registry, humanOverride, guardian } = core;
      const stake = requiredStakeFor(0n);
      await registerAndStake(core, agent, operator, stake);
      await registerAndStake(core, agent2, operator, stake);
      await conn.networkHelpers.time.increase(1);

      const rpc = custom(
        {
          request: ({ method, params }: { method: string; params?: unknown }): Promise<unknown> =>
            conn.provider.request({ method, params: params as unknown[] }),
        },
        { retryCount: 0 },
      );
      const chain = defineChain({
        id: Number(await conn.provider.request({ method: "eth_chainId", params: [] })),
        name: "hardhat",
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } },
      });
      const publicClient = createPublicClient({ chain, transport: rpc, pollingInterval: 20 });
      const account = privateKeyToAccount(AGENT_KEY);
      expect(account.address).to.equal(agent.address);
      const walletClient = createWalletClient({ account, chain, transport: rpc });
      const addresses = Object.fromEntries(
        await Promise.all(
          Object.entries(core)
            .filter(([key]) => key in ADDRESSES)
            .map(async ([key, contract]) => [key, await (contract as { getAddress(): Promise<string> }).getAddress()]),
        ),
      ) as Addresses;
      const store = new Store(":memory:");
      const logger = pino({ level: "silent" });
      const txs = new TxSender({
        publicClient,
        walletClient,
        store,
        logger,
        pollingIntervalMs: 20,
        errorAbi: governorAbi,
      });
      await txs.start();
      const safety = new SafetyMonitor({
        publicClient,
        addresses,
        agent: account.address,
        store,
        logger,
        rules: { expectedActionTypes: [ACTION_TYPES.govern] },
      });
      const voter = new GovernanceVoter({
        publicClient,
        addresses,
        account: account.address,
        policy: policy({ rules: EXAMPLE_RULES, default: "abstain" }),
        txs,
        safety,
        store,
        logger,
      });

      // Two proposals by agent2: one within the policy's bounds, one above them.
      const propose = async (aitbc: bigint, description: string) => {
        const calldata = registry.interface.encodeFunctionData("setMinStake", [aitbc * AITBC]);
        const target = await registry.getAddress();
        await (await governor.connect(agent2).propose([target], [0n], [calldata], description)).wait();
        return governor.getProposalId([target], [0n], [calldata], conn.ethers.id(description));
      };
      const within = await propose(2000n, "Minimum stake 2000 AITBC");
      const above = await propose(8000n, "Minimum stake 8000 AITBC");

      // Pending: nothing to do yet.
      expect((await voter.run()).map((o) => o.kind)).to.deep.equal(["not-active", "not-active"]);
      await conn.networkHelpers.time.increase(DEFAULT_GOVERNANCE.votingDelay + 1n);

      // An emergency stop: the safety monitor refuses, no transaction.
      await (await humanOverride.connect(guardian).emergencyStop("drill")).wait();
      const refused = await voter.run();
      expect(refused.map((o) => o.kind)).to.deep.equal(["refused", "refused"]);
      expect(store.allTxs()).to.deep.equal([]);
      expect(await governor.hasVoted(within, agent.address)).to.be.false;
      await (await humanOverride.connect(guardian).resume()).wait();

      const outcomes = await voter.run();
      expect(outcomes.map((o) => (o.kind === "voted" ? o.support : o.kind))).to.deep.equal(["for", "against"]);
      expect(await governor.hasVoted(within, agent.address)).to.be.true;
      expect(await governor.hasVoted(above, agent.address)).to.be.true;
      const [againstVotes, forVotes] = await governor.proposalVotes(within);
      expect(forVotes).to.be.above(0n);
      expect(againstVotes).to.equal(0n);

      // The reason is on chain, in VoteCast.
      const first = outcomes[0];
      if (first?.kind !== "voted") throw new Error("no vote");
      const receipt = await publicClient.getTransactionReceipt({ hash: first.hash });
      const [cast] = parseEventLogs({ abi: governorAbi, eventName: "VoteCast", logs: receipt.logs });
      expect(cast?.args.voter).to.equal(agent.address);
      expect(cast?.args.support).to.equal(SUPPORT_CODES.for);
      expect(cast?.args.reason).to.match(
        /^for \(rule "min-stake-range"\): registry\.setMinStake\(2000000000000000000000\): minStake 2000000000000000000000 within/,
      );
      const second = outcomes[1];
      expect(second?.kind === "voted" ? second.reason : "").to.match(
        /minStake 8000000000000000000000 above max 5000000000000000000000$/,
      );

      // Idempotent: again from the start, hasVoted answers; still two transactions.
      store.setFlag(CURSOR_FLAG, undefined);
      expect((await voter.run()).map((o) => o.kind)).to.deep.equal(["already-voted", "already-voted"]);
      expect(store.allTxs().map((t) => t.key)).to.deep.equal([voteKey(within), voteKey(above)]);
      expect(store.actionCount()).to.equal(2);
      store.close();
    });
  });
});
