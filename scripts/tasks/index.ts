/**
 * Hardhat tasks for every user action of the core. Declarations only: each action lives in its own file and
 * is imported when the task runs. Every task that sends a transaction takes `--from` (account index, address or the
 * name of one of the network's keystores; default: the first account) and reads the deployment of the connected
 * chain (see scripts/lib/protocol.ts).
 *
 *   npx hardhat agent register --type service-provider --agent-version 1.0.0 --expected-daily-volume 10000
 *   npx hardhat agent show --agent 1
 */
import { emptyTask, overrideTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { cliAction } from "./cli.js";

/** An option with no default: help shows none (cliAction hands the action "" when it is not given). */
const noDefault = { type: ArgumentType.STRING_WITHOUT_DEFAULT, defaultValue: undefined } as const;

const from = {
  name: "from",
  description: "Account index, address or keystore name (key list) to send from (default: first account)",
  ...noDefault,
} as const;

const workload = { name: "workload", description: "Workload id", ...noDefault } as const;

const circuit = { name: "circuit", description: "Circuit name (circuits/circuits.ts)", ...noDefault } as const;
const ptau = {
  name: "ptau",
  description: "Powers-of-tau file listed in circuits/ptau-known.json (default: a local development file)",
  defaultValue: process.env.AITBC_PTAU ?? "",
} as const;
const devPtau = {
  name: "devPtau",
  description: "Accept --ptau though it is not a known ceremony file: the keys are development keys",
} as const;
const ceremonyDir = {
  name: "dir",
  description: "Ceremony folder (default: .cache/ceremony/<circuit>)",
  ...noDefault,
} as const;

export const tasks = [
  emptyTask(
    "agent",
    "Agent registry: register, declare-volume, stake, unstake, withdraw, rotate-key, slash, show, list",
  ).build(),
  task(["agent", "register"], "Register the --from account as an agent")
    .addOption(from)
    .addOption({ name: "operator", description: "Human operator address (not the agent's own)", ...noDefault })
    .addOption({
      name: "type",
      description: "service-provider | market-maker | governance | validator",
      defaultValue: "service-provider",
    })
    .addOption({ name: "metadataUri", description: "Metadata URI", ...noDefault })
    .addOption({ name: "endpoint", description: "Service endpoint URL", ...noDefault })
    .addOption({ name: "agentVersion", description: "Agent software version", ...noDefault })
    .addOption({
      name: "capabilities",
      description: "Comma-separated capability labels (<= 31 bytes each)",
      ...noDefault,
    })
    .addOption({
      name: "expectedDailyVolume",
      description: "Declared daily volume in AITBC (sets the bond)",
      defaultValue: "0",
    })
    .setAction(cliAction(() => import("./agent/register.js")))
    .build(),
  task(["agent", "declare-volume"], "Declare the --from agent's expected daily volume (its bond must be staked)")
    .addOption(from)
    .addOption({ name: "volume", description: "Expected daily volume in AITBC", ...noDefault })
    .setAction(cliAction(() => import("./agent/declare-volume.js")))
    .build(),
  task(["agent", "stake"], "Stake AITBC as the --from agent (checked, then exactly the amount approved)")
    .addOption(from)
    .addOption({ name: "amount", description: "Amount in AITBC", ...noDefault })
    .setAction(cliAction(() => import("./agent/stake.js")))
    .build(),
  task(["agent", "unstake"], "Request an unstake (agent or operator); --amount all exits")
    .addOption(from)
    .addOption({ name: "agentId", description: "Agent id", ...noDefault })
    .addOption({ name: "amount", description: "Amount in AITBC, or 'all'", ...noDefault })
    .setAction(cliAction(() => import("./agent/unstake.js")))
    .build(),
  task(["agent", "withdraw"], "Withdraw unbonded stake to the operator (agent or operator)")
    .addOption(from)
    .addOption({ name: "agentId", description: "Agent id", ...noDefault })
    .setAction(cliAction(() => import("./agent/withdraw.js")))
    .build(),
  task(["agent", "rotate-key"], "Move an agent to a new key (its operator); the old key is retired for good")
    .addOption({ ...from, description: "The agent's operator" })
    .addOption({ name: "agentId", description: "Agent id", ...noDefault })
    .addOption({ name: "newKey", description: "The agent's new address (a fresh key)", ...noDefault })
    .setAction(cliAction(() => import("./agent/rotate-key.js")))
    .build(),
  task(["agent", "slash"], "Slash an agent's stake to the treasury (SLASHER_ROLE)")
    .addOption(from)
    .addOption({ name: "agentId", description: "Agent id", ...noDefault })
    .addOption({ name: "amount", description: "Amount in AITBC", ...noDefault })
    .addOption({ name: "reason", description: "Why (recorded in the event)", ...noDefault })
    .setAction(cliAction(() => import("./agent/slash.js")))
    .build(),
  task(["agent", "show"], "Show an agent: identity, stake, reputation, constitution, today's usage")
    .addOption({ name: "agent", description: "Agent id or address", ...noDefault })
    .setAction(cliAction(() => import("./agent/show.js")))
    .build(),
  task(["agent", "list"], "List every registered agent: id, address, type, status, stake, reputation")
    .setAction(cliAction(() => import("./agent/list.js")))
    .build(),
  task(["agent", "update-profile"], "Change the --from agent's profile; empty flags keep their value")
    .addOption(from)
    .addOption({ name: "metadataUri", description: "Metadata URI", ...noDefault })
    .addOption({ name: "endpoint", description: "Service endpoint URL", ...noDefault })
    .addOption({ name: "agentVersion", description: "Agent software version", ...noDefault })
    .addOption({
      name: "capabilities",
      description: "Comma-separated capability labels (<= 31 bytes each)",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./agent/update-profile.js")))
    .build(),
  task(["agent", "sync"], "Bring agents' bonded volume (constitution) and voting power up to date (anyone)")
    .addOption(from)
    .addOption({ name: "agents", description: "Comma-separated agent ids", ...noDefault })
    .setAction(cliAction(() => import("./agent/sync.js")))
    .build(),
  task(["agent", "announce"], "Announce the --from agent to ERC-8004 indexers (AgentIdentity.register), once")
    .addOption(from)
    .setAction(cliAction(() => import("./agent/announce.js")))
    .build(),
  task(["agent", "set-metadata"], "Set an agent's ERC-8004 metadata entry (the agent or its operator)")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent id", ...noDefault })
    .addOption({ name: "key", description: "Metadata key (not agentWallet)", ...noDefault })
    .addOption({ name: "value", description: "0x hex bytes, or text (stored as UTF-8)", ...noDefault })
    .setAction(cliAction(() => import("./agent/set-metadata.js")))
    .build(),

  emptyTask("role", "Contract roles (AccessControl) by name: grant, revoke").build(),
  task(["role", "grant"], "Grant a role of a protocol contract (the role's admin)")
    .addOption(from)
    .addOption({
      name: "contract",
      description: "token, registry, marketplace, workflows, humanOverride, ...",
      ...noDefault,
    })
    .addOption({ name: "role", description: "Role name: slasher, SLASHER_ROLE, admin, ...", ...noDefault })
    .addOption({ name: "account", description: "Address or account index", ...noDefault })
    .setAction(cliAction(() => import("./role/grant.js")))
    .build(),
  task(["role", "revoke"], "Revoke a role of a protocol contract (the role's admin)")
    .addOption(from)
    .addOption({
      name: "contract",
      description: "token, registry, marketplace, workflows, humanOverride, ...",
      ...noDefault,
    })
    .addOption({ name: "role", description: "Role name: slasher, SLASHER_ROLE, admin, ...", ...noDefault })
    .addOption({ name: "account", description: "Address or account index", ...noDefault })
    .setAction(cliAction(() => import("./role/revoke.js")))
    .build(),

  emptyTask("chain", "The connected chain: advance a local chain's time; sweep a contract's excess tokens").build(),
  task(["chain", "advance"], "Move a local chain's time forward (--by 1d, or --to a date) and mine a block")
    .addOption({ name: "by", description: "Duration: seconds or 15m / 2h / 7d", ...noDefault })
    .addOption({ name: "to", description: "Date, e.g. 2030-01-31T12:00:00Z", ...noDefault })
    .setAction(cliAction(() => import("./chain/advance.js")))
    .build(),
  task(["chain", "sweep-excess"], "Send tokens a contract holds beyond its accounting to the treasury (anyone)")
    .addOption(from)
    .addOption({ name: "contract", description: "registry | marketplace | workflows", ...noDefault })
    .setAction(cliAction(() => import("./chain/sweep-excess.js")))
    .build(),

  emptyTask("key", "Named keystores of a network (Web3 Secret Storage v3): new, import, list").build(),
  task(["key", "new"], "Make a key in a new named keystore of --network (password: AITBC_KEYSTORE_PASSWORD)")
    .addOption({ name: "name", description: "Keystore name (required), e.g. guardian", ...noDefault })
    .addFlag({ name: "light", description: "Cheap scrypt (N = 2^12): throwaway keys and tests only" })
    .setAction(cliAction(() => import("./key/new.js")))
    .build(),
  task(["key", "import"], "Encrypt the key in AITBC_IMPORT_KEY into a new named keystore of --network")
    .addOption({ name: "name", description: "Keystore name (required), e.g. deployer", ...noDefault })
    .addFlag({ name: "light", description: "Cheap scrypt (N = 2^12): throwaway keys and tests only" })
    .setAction(cliAction(() => import("./key/import.js")))
    .build(),
  task(["key", "list"], "List the named keystores of --network (names and addresses)")
    .setAction(cliAction(() => import("./key/list.js")))
    .build(),
  emptyTask("audit", "Audit trail: every action on the protocol's contracts, by the key that signed it").build(),
  task(["audit", "log"], "Every action in a block range (default: the latest 10,000 blocks): who, when, what")
    .addOption({ name: "agent", description: "Only this agent's actions: id or any of its keys", ...noDefault })
    .addOption({ name: "key", description: "Only transactions this key signed", ...noDefault })
    .addOption({
      name: "fromBlock",
      description: "First block (default: 10,000 blocks before --to-block)",
      ...noDefault,
    })
    .addOption({ name: "toBlock", description: "Last block (default: the latest)", ...noDefault })
    .setAction(cliAction(() => import("./audit/log.js")))
    .build(),
  emptyTask("token", "AITBC: balances (wallet, credits, stake) and transfers").build(),
  task(["token", "balance"], "Show an account's AITBC: wallet, credits claimable in Workflows, agent stake")
    .addOption({ name: "account", description: "Address or account index", ...noDefault })
    .setAction(cliAction(() => import("./token/balance.js")))
    .build(),
  task(["token", "transfer"], "Send AITBC from --from to --to")
    .addOption(from)
    .addOption({ name: "to", description: "Recipient: address or account index", ...noDefault })
    .addOption({ name: "amount", description: "Amount in AITBC", ...noDefault })
    .setAction(cliAction(() => import("./token/transfer.js")))
    .build(),

  emptyTask("constitution", "Agent constitutions").build(),
  task(["constitution", "set"], "Set an agent's constitution (its operator only); empty flags keep their value")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", ...noDefault })
    .addOption({ name: "maxStake", description: "Max stake in AITBC", ...noDefault })
    .addOption({ name: "maxDailyVolume", description: "Max volume per UTC day in AITBC", ...noDefault })
    .addOption({ name: "maxGasPerDay", description: "Max gas per UTC day", ...noDefault })
    .addOption({ name: "allowed", description: "Allowed action types: all | none | comma list", ...noDefault })
    .addOption({
      name: "humanApproval",
      description: "Action types needing a human grant: comma list | none",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./constitution/set.js")))
    .build(),

  emptyTask("override", "Human override (GUARDIAN_ROLE): grants, denials, freezes, emergency stop").build(),
  task(["override", "grant"], "Grant an action type to an agent for a duration")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", ...noDefault })
    .addOption({ name: "action", description: "Action type name", ...noDefault })
    .addOption({ name: "duration", description: "Duration: seconds or 15m / 2h / 7d", ...noDefault })
    .setAction(cliAction(() => import("./override/grant.js")))
    .build(),
  task(["override", "deny"], "Deny an action type to an agent for a duration")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", ...noDefault })
    .addOption({ name: "action", description: "Action type name", ...noDefault })
    .addOption({ name: "duration", description: "Duration: seconds or 15m / 2h / 7d", ...noDefault })
    .setAction(cliAction(() => import("./override/deny.js")))
    .build(),
  task(["override", "revoke"], "Revoke a grant or denial early")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", ...noDefault })
    .addOption({ name: "action", description: "Action type name", ...noDefault })
    .setAction(cliAction(() => import("./override/revoke.js")))
    .build(),
  task(["override", "freeze"], "Freeze an agent (safe mode: it can only exit)")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", ...noDefault })
    .addOption({ name: "reason", description: "Why", ...noDefault })
    .setAction(cliAction(() => import("./override/freeze.js")))
    .build(),
  task(["override", "unfreeze"], "Unfreeze an agent")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", ...noDefault })
    .setAction(cliAction(() => import("./override/unfreeze.js")))
    .build(),
  task(["override", "stop"], "Emergency stop: every state-changing protocol function reverts")
    .addOption(from)
    .addOption({ name: "reason", description: "Why", ...noDefault })
    .setAction(cliAction(() => import("./override/stop.js")))
    .build(),
  task(["override", "resume"], "End the emergency stop")
    .addOption(from)
    .setAction(cliAction(() => import("./override/resume.js")))
    .build(),
  task(["override", "list"], "Show the emergency stop, frozen agents, overrides in force, and the override history")
    .setAction(cliAction(() => import("./override/list.js")))
    .build(),

  emptyTask("receipt", "Compute receipts: sign or publish a root (attestor), mint or mint privately (anyone)").build(),
  task(["receipt", "sign"], "Sign a compute receipt as an attestor and write it to a JSON file")
    .addOption(from)
    .addOption({ name: "provider", description: "Provider address (receives the reward)", ...noDefault })
    .addOption({ name: "client", description: "Client address", ...noDefault })
    .addOption({ name: "units", description: "Work units", ...noDefault })
    .addOption({ name: "work", description: "Job spec: text (hashed) or 0x bytes32", ...noDefault })
    .addOption({ name: "result", description: "Result: text (hashed) or 0x bytes32", ...noDefault })
    .addOption({ name: "receiptId", description: "Receipt id (default: random)", ...noDefault })
    .addOption({ name: "validFor", description: "Validity: seconds or 15m / 2h / 7d", defaultValue: "1d" })
    .addOption({ name: "out", description: "Output JSON file", ...noDefault })
    .addOption({ name: "workload", description: "Sign the receipt of this settled workload instead", ...noDefault })
    .setAction(cliAction(() => import("./receipt/sign.js")))
    .build(),
  task(["receipt", "mint"], "Mint AITBC from signed receipt files (several files: one batch)")
    .addOption(from)
    .addOption({ name: "files", description: "Comma-separated signed receipt JSON files", ...noDefault })
    .setAction(cliAction(() => import("./receipt/mint.js")))
    .build(),
  task(["receipt", "publish-root"], "Commit settled workloads' receipts to the attestor's tree and publish its root")
    .addOption(from)
    .addOption({ name: "workloads", description: "Comma-separated settled workload ids", ...noDefault })
    .addOption({ name: "dir", description: "The tree's directory (tree.json, receipt-<id>.json)", ...noDefault })
    .setAction(cliAction(() => import("./receipt/publish-root.js")))
    .build(),
  task(["receipt", "mint-private"], "Mint a committed receipt as proven notes, one per address, unlinked to it")
    .addOption(from)
    .addOption({ name: "file", description: "receipt-<id>.json from receipt publish-root", ...noDefault })
    .addOption({ name: "to", description: "Comma-separated recipients, one per note (smallest first)", ...noDefault })
    .addOption({ name: "denomination", description: "Mint only the note of 2^k units (k)", ...noDefault })
    .setAction(cliAction(() => import("./receipt/mint-private.js")))
    .build(),

  emptyTask("market", "Service marketplace: offers, workloads, bids, results, settlement, disputes").build(),
  task(["market", "list-service"], "List a service offer as the --from provider agent")
    .addOption(from)
    .addOption({ name: "serviceId", description: "Offer id: a label (<= 31 bytes) or 0x bytes32", ...noDefault })
    .addOption({ name: "name", description: "Service name (its keccak256 is the service type)", ...noDefault })
    .addOption({ name: "price", description: "Price per unit in AITBC", ...noDefault })
    .addOption({ name: "capacity", description: "Max units in progress at once", ...noDefault })
    .addOption({ name: "model", description: "Model: text (hashed) or 0x bytes32 commitment", ...noDefault })
    .addOption({ name: "minAccuracy", description: "Minimum accuracy (basis points)", defaultValue: "0" })
    .setAction(cliAction(() => import("./market/list-service.js")))
    .build(),
  task(["market", "update-service"], "Change the --from provider's offer; empty flags keep their value")
    .addOption(from)
    .addOption({ name: "serviceId", description: "Offer id: a label (<= 31 bytes) or 0x bytes32", ...noDefault })
    .addOption({ name: "name", description: "Service name", ...noDefault })
    .addOption({ name: "price", description: "Price per unit in AITBC", ...noDefault })
    .addOption({ name: "capacity", description: "Max units in progress at once", ...noDefault })
    .addOption({ name: "model", description: "Model: text (hashed) or 0x bytes32 commitment", ...noDefault })
    .addOption({ name: "minAccuracy", description: "Minimum accuracy (basis points)", ...noDefault })
    .setAction(cliAction(() => import("./market/update-service.js")))
    .build(),
  task(["market", "delist-service"], "Withdraw the --from provider's offer (no new bids through it)")
    .addOption(from)
    .addOption({ name: "serviceId", description: "Offer id: a label (<= 31 bytes) or 0x bytes32", ...noDefault })
    .setAction(cliAction(() => import("./market/delist-service.js")))
    .build(),
  task(["market", "services"], "List the service offers (optionally one provider's; --all: delisted too)")
    .addOption({ name: "provider", description: "Provider agent id or address", ...noDefault })
    .addFlag({ name: "all", description: "Also the delisted offers" })
    .setAction(cliAction(() => import("./market/services.js")))
    .build(),
  task(["market", "post"], "Post a workload with escrow as the --from client")
    .addOption(from)
    .addOption({ name: "serviceType", description: "Service name the offers must have", ...noDefault })
    .addOption({ name: "model", description: "Model the offers must serve: text or 0x bytes32", ...noDefault })
    .addOption({ name: "units", description: "Work units", ...noDefault })
    .addOption({ name: "maxPrice", description: "Max price per unit in AITBC", ...noDefault })
    .addOption({ name: "bidWindow", description: "Bidding window: seconds or 15m / 2h / 7d", defaultValue: "1h" })
    .addOption({ name: "executionWindow", description: "Execution window after bidding", defaultValue: "1h" })
    .addFlag({ name: "reopen", description: "Reopen for bids (instead of refunding) when the provider times out" })
    .addOption({
      name: "verification",
      description: "basic | zk (the result then needs an inference proof for --model on --input-hash)",
      defaultValue: "basic",
    })
    .addOption({
      name: "inputHash",
      description: "Commitment to your input (0x bytes32; zk: Poseidon of the features and your secret blind)",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./market/post.js")))
    .build(),
  task(["market", "bid"], "Bid on a workload as the --from provider agent")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "serviceId", description: "Your offer's id", ...noDefault })
    .addOption({ name: "price", description: "Price per unit in AITBC", ...noDefault })
    .addOption({ name: "proposal", description: "Proposal: text (hashed) or 0x bytes32", ...noDefault })
    .setAction(cliAction(() => import("./market/bid.js")))
    .build(),
  task(["market", "award"], "Award a bid (client), or the best bid after the deadline (anyone, no --bid)")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "bid", description: "Bid index (omit for the automatic award)", ...noDefault })
    .addOption({
      name: "provider",
      description: "Agent id of the bid's provider, as you read it (default: the bid's provider now)",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./market/award.js")))
    .build(),
  task(["market", "submit"], "Sign and submit a result as the assigned --from provider agent")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "result", description: "Result: text (hashed) or 0x bytes32", ...noDefault })
    .setAction(cliAction(() => import("./market/submit.js")))
    .build(),
  task(["market", "accept"], "Accept a result (client) or finalize it after the challenge window (anyone)")
    .addOption(from)
    .addOption(workload)
    .setAction(cliAction(() => import("./market/settle.js")))
    .build(),
  task(["market", "dispute"], "Reject a submitted result within the challenge window (client)")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "reason", description: "Reason: text (hashed) or 0x bytes32", ...noDefault })
    .setAction(cliAction(() => import("./market/dispute.js")))
    .build(),
  task(["market", "resolve"], "Resolve a dispute (validator agent or guardian)")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "winner", description: "provider | client", ...noDefault })
    .setAction(cliAction(() => import("./market/resolve.js")))
    .build(),
  task(["market", "admit-validator"], "Admit a validator agent as a dispute resolver (marketplace admin)")
    .addOption(from)
    .addOption({ name: "validator", description: "Validator agent address", ...noDefault })
    .addFlag({ name: "revoke", description: "Remove instead" })
    .setAction(cliAction(() => import("./market/admit-validator.js")))
    .build(),
  task(["market", "cancel"], "Cancel an unawarded workload: the whole escrow back (client)")
    .addOption(from)
    .addOption(workload)
    .setAction(cliAction(() => import("./market/cancel.js")))
    .build(),
  task(["market", "timeout"], "Slash a provider that missed its deadline; reopen or refund (anyone)")
    .addOption(from)
    .addOption(workload)
    .setAction(cliAction(() => import("./market/timeout.js")))
    .build(),
  task(["market", "expire-dispute"], "End a dispute nobody resolved in time: the whole escrow back (anyone)")
    .addOption(from)
    .addOption(workload)
    .setAction(cliAction(() => import("./market/expire-dispute.js")))
    .build(),
  task(["market", "show"], "Show a workload and its bids")
    .addOption(workload)
    .setAction(cliAction(() => import("./market/show.js")))
    .build(),
  task(["market", "workloads"], "List workloads, newest first (optionally one status and one client)")
    .addOption({
      name: "status",
      description: "open | awarded | submitted | disputed | settled | refunded | cancelled (default: all)",
      ...noDefault,
    })
    .addOption({ name: "client", description: "Only this client's workloads (address)", ...noDefault })
    .setAction(cliAction(() => import("./market/workloads.js")))
    .build(),

  emptyTask("workflow", "Workflows: define, list, request executions, show status").build(),
  task(["workflow", "define"], "Define a workflow from a JSON specification file")
    .addOption(from)
    .addOption({ name: "file", description: "Workflow JSON (see protocol/workflow-spec.ts)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/define.js")))
    .build(),
  task(["workflow", "list"], "List a workflow you own (price, subscription, access)")
    .addOption(from)
    .addOption({ name: "workflow", description: "Workflow id", ...noDefault })
    .addOption({ name: "title", description: "Title", ...noDefault })
    .addOption({ name: "description", description: "Description", ...noDefault })
    .addOption({ name: "tags", description: "Comma-separated tags", ...noDefault })
    .addOption({ name: "price", description: "Price per execution in AITBC", defaultValue: "0" })
    .addOption({ name: "subscription", description: "Price per 30 days in AITBC", defaultValue: "0" })
    .addFlag({ name: "restricted", description: "Only authorised users and subscribers may execute it" })
    .setAction(cliAction(() => import("./workflow/list.js")))
    .build(),
  task(["workflow", "request"], "Request an execution and escrow its budget")
    .addOption(from)
    .addOption({ name: "workflow", description: "Workflow id", ...noDefault })
    .addOption({ name: "inputs", description: "Inputs: text (hashed) or 0x bytes32", ...noDefault })
    .addOption({ name: "budget", description: "Budget in AITBC", ...noDefault })
    .addOption({ name: "listing", description: "Listing id (omit: owner's direct execution)", ...noDefault })
    .addOption({
      name: "keeper",
      description: "The only agent that may claim it (omit: any active agent)",
      ...noDefault,
    })
    .addOption({ name: "maxFee", description: "Max listing price in AITBC (default: the price now)", ...noDefault })
    .addOption({
      name: "keeperFee",
      description: "Most the keeper may take from the budget as its fee, AITBC (default 0)",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./workflow/request.js")))
    .build(),
  task(["workflow", "executions"], "List executions, newest first (optionally an account's, as client or keeper)")
    .addOption({ name: "account", description: "Address or account index (default: everyone's)", ...noDefault })
    .addOption({ name: "as", description: "client | keeper | any (default: any)", ...noDefault })
    .addOption({ name: "status", description: "pending | running | completed | failed (default: all)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/executions.js")))
    .build(),
  task(["workflow", "cancel"], "Cancel an execution: pending, or running with a stalled keeper (the client)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .setAction(cliAction(() => import("./workflow/cancel.js")))
    .build(),
  task(["workflow", "expire"], "End a running execution past its maximum execution time (anyone)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .setAction(cliAction(() => import("./workflow/expire.js")))
    .build(),
  task(["workflow", "subscribe"], "Subscribe to a listing for 30 days (pays its subscription price)")
    .addOption(from)
    .addOption({ name: "listing", description: "Listing id", ...noDefault })
    .addOption({ name: "maxPrice", description: "Max price in AITBC (default: the price now)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/subscribe.js")))
    .build(),
  task(["workflow", "rate"], "Rate a completed execution of a listing, 1 to 5 (its client, once)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .addOption({ name: "rating", description: "1 to 5", ...noDefault })
    .setAction(cliAction(() => import("./workflow/rate.js")))
    .build(),
  task(["workflow", "update-listing"], "Change a listing you own; empty flags keep their value")
    .addOption(from)
    .addOption({ name: "listing", description: "Listing id", ...noDefault })
    .addOption({ name: "title", description: "Title", ...noDefault })
    .addOption({ name: "description", description: "Description", ...noDefault })
    .addOption({ name: "tags", description: "Comma-separated tags", ...noDefault })
    .addOption({ name: "price", description: "Price per execution in AITBC", ...noDefault })
    .addOption({ name: "subscription", description: "Price per 30 days in AITBC", ...noDefault })
    .addOption({ name: "access", description: "public | restricted", ...noDefault })
    .addOption({ name: "active", description: "yes | no (no: off sale)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/update-listing.js")))
    .build(),
  task(["workflow", "access"], "Authorise a user on a restricted listing you own (--revoke: remove)")
    .addOption(from)
    .addOption({ name: "listing", description: "Listing id", ...noDefault })
    .addOption({ name: "user", description: "Address or account index", ...noDefault })
    .addFlag({ name: "revoke", description: "Remove the authorisation instead" })
    .setAction(cliAction(() => import("./workflow/access.js")))
    .build(),
  task(["workflow", "run"], "Post inputs to a keeper, request an execution, follow it, print the result")
    .addOption(from)
    .addOption({ name: "workflow", description: "Workflow id", ...noDefault })
    .addOption({ name: "inputs", description: "JSON file with the execution's inputs", ...noDefault })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL (printed when it starts)", ...noDefault })
    .addOption({ name: "budget", description: "Budget in AITBC", ...noDefault })
    .addOption({ name: "listing", description: "Listing id (omit: owner's direct execution)", ...noDefault })
    .addOption({
      name: "keeper",
      description: "Keeper agent address (default: asked from the keeper)",
      ...noDefault,
    })
    .addOption({ name: "maxFee", description: "Max listing price in AITBC (default: the price now)", ...noDefault })
    .addOption({
      name: "keeperFee",
      description: "Most the keeper may take from the budget as its fee, AITBC (default 0)",
      ...noDefault,
    })
    .addOption({ name: "timeout", description: "Seconds to follow before giving up (default 600)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/run.js")))
    .build(),
  task(["workflow", "follow"], "Follow an execution live until it completes or fails, then print its result")
    .addOption({ ...from, description: "Account that signs the keeper reads (client or granted reader)" })
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .addOption({
      name: "keeperUrl",
      description: "The keeper's API URL (shows steps done off chain to a reader it allows)",
      ...noDefault,
    })
    .addOption({ name: "timeout", description: "Seconds to follow before giving up (default 600)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/follow.js")))
    .build(),
  task(["workflow", "grant"], "Let another address read an execution's results from its keeper (the client)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .addOption({ name: "reader", description: "Address that may read the results", ...noDefault })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL", ...noDefault })
    .addOption({
      name: "duration",
      description: "How long the grant holds (e.g. 3600, 2h, 7d; default 1d)",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./workflow/grant.js")))
    .build(),
  task(["workflow", "revoke"], "Revoke an address's grants to read an execution's results, at once (the client)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .addOption({ name: "reader", description: "Address whose grants are revoked", ...noDefault })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL", ...noDefault })
    .setAction(cliAction(() => import("./workflow/revoke.js")))
    .build(),
  task(["workflow", "result"], "Read an execution's results from its keeper (client, granted reader, listing user)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL", ...noDefault })
    .setAction(cliAction(() => import("./workflow/result.js")))
    .build(),
  task(["workflow", "show"], "Show an execution's status, steps, cost, receipt and (with --keeper-url) its result")
    .addOption({ ...from, description: "Account that reads the result from the keeper (client or granted reader)" })
    .addOption({ name: "execution", description: "Execution id", ...noDefault })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL (prints the result)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/show.js")))
    .build(),
  task(["workflow", "claim"], "Claim the --from account's credits in Workflows (step pay, listing fees) to its wallet")
    .addOption(from)
    .setAction(cliAction(() => import("./workflow/claim.js")))
    .build(),
  task(["workflow", "move-credits"], "Move a rotated agent's credits from its retired key to its current key (anyone)")
    .addOption(from)
    .addOption({ name: "key", description: "The retired key (address)", ...noDefault })
    .setAction(cliAction(() => import("./workflow/move-credits.js")))
    .build(),
  emptyTask("zk", "Zero-knowledge circuits: build, check, prove, verify").build(),
  task(["zk", "build"], "Build the circuits whose sources changed (compile, development keys, Solidity verifiers)")
    .addOption({ name: "circuit", description: "Comma-separated circuit names (default: all)", ...noDefault })
    .addOption(ptau)
    .addFlag(devPtau)
    .addFlag({ name: "force", description: "Rebuild even if nothing changed" })
    .setAction(cliAction(() => import("./zk/build.js")))
    .build(),
  task(["zk", "check"], "Check that the committed circuit artifacts match the circuit sources")
    .addOption({ name: "circuit", description: "Comma-separated circuit names (default: all)", ...noDefault })
    .addFlag({ name: "deep", description: "Also verify the proving keys against the circuits and the powers of tau" })
    .addOption({
      name: "ptau",
      description: "Powers of tau for --deep (default: the cached development file)",
      defaultValue: process.env.AITBC_PTAU ?? "",
    })
    .addFlag({ name: "production", description: "Fail unless every key is a production key (a sealed ceremony)" })
    .setAction(cliAction(() => import("./zk/check.js")))
    .build(),
  emptyTask(["zk", "ceremony"], "Multi-party phase 2 of a circuit's setup: init, contribute, verify, seal").build(),
  task(["zk", "ceremony", "init"], "Start a circuit's ceremony: contribution 0 from its r1cs and a powers of tau")
    .addOption(circuit)
    .addOption(ptau)
    .addFlag(devPtau)
    .addOption(ceremonyDir)
    .setAction(cliAction(() => import("./zk/ceremony-init.js")))
    .build(),
  task(["zk", "ceremony", "contribute"], "Add one participant's randomness: the next key and a transcript entry")
    .addOption(circuit)
    .addOption({ name: "name", description: "Your name as a participant (<= 64 printable ASCII)", ...noDefault })
    .addOption({
      name: "entropy",
      description: "Random text of your own (default: the OS random generator; snarkjs adds its own either way)",
      ...noDefault,
    })
    .addFlag({ name: "promptEntropy", description: "Type your random text at a prompt instead" })
    .addOption(ceremonyDir)
    .setAction(cliAction(() => import("./zk/ceremony-contribute.js")))
    .build(),
  task(["zk", "ceremony", "verify"], "Verify a ceremony's whole chain (snarkjs) and that it matches its transcript")
    .addOption(circuit)
    .addOption({ ...ptau, description: "The ceremony's powers of tau (default: the development file, if it is one)" })
    .addOption(ceremonyDir)
    .setAction(cliAction(() => import("./zk/ceremony-verify.js")))
    .build(),
  task(["zk", "ceremony", "seal"], "Apply a public random beacon, verify, install the key, verifier and transcript")
    .addOption(circuit)
    .addOption({ ...ptau, description: "The ceremony's powers of tau (default: the development file, if it is one)" })
    .addOption({
      name: "beacon",
      description: "Public random value, hex (e.g. a future block's hash)",
      ...noDefault,
    })
    .addOption({ name: "beaconSource", description: "Where the value comes from (recorded)", ...noDefault })
    .addOption({ name: "iterations", description: "The beacon is hashed 2^n times (10..63)", defaultValue: "10" })
    .addOption(ceremonyDir)
    .setAction(cliAction(() => import("./zk/ceremony-seal.js")))
    .build(),
  task(["zk", "prove"], "Prove a circuit input file (signal name -> values) and write a proof file")
    .addOption({ name: "circuit", description: "receipt | workflow | inference", ...noDefault })
    .addOption({ name: "input", description: "Circuit input JSON file", ...noDefault })
    .addOption({ name: "out", description: "Proof file to write", ...noDefault })
    .setAction(cliAction(() => import("./zk/prove.js")))
    .build(),
  task(["zk", "verify"], "Verify a proof file off-chain, and on-chain with --onchain")
    .addOption({ name: "proof", description: "Proof file (from zk prove)", ...noDefault })
    .addFlag({ name: "onchain", description: "Also call the deployed verifier contract" })
    .setAction(cliAction(() => import("./zk/verify.js")))
    .build(),
  emptyTask("gov", "Governance: propose, vote, delegate, queue, execute, veto; power and proposals").build(),
  task(["gov", "propose"], "Propose a call (--target, --function, --args) or several (--actions) as the --from agent")
    .addOption(from)
    .addOption({
      name: "target",
      description: "Contract key (token, registry, constitution, marketplace, agentVotes, governor, ...) or address",
      ...noDefault,
    })
    .addOption({
      name: "function",
      description: 'Function signature, e.g. "setMinStake(uint256)" (a name will do for a contract key)',
      ...noDefault,
    })
    .addOption({
      name: "args",
      description: 'Arguments: comma-separated or a JSON array; integers may be "1500 AITBC"',
      ...noDefault,
    })
    .addOption({ name: "value", description: "Wei sent with the call (default 0)", ...noDefault })
    .addOption({
      name: "actions",
      description: "JSON file: an array of { target, function, args, value } (instead of --target...)",
      ...noDefault,
    })
    .addOption({ name: "description", description: "What the proposal does and why", ...noDefault })
    .setAction(cliAction(() => import("./governance/propose.js")))
    .build(),
  task(["gov", "vote"], "Vote on a proposal as the --from agent, with its power at the snapshot")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", ...noDefault })
    .addOption({ name: "support", description: "for | against | abstain", ...noDefault })
    .addOption({ name: "reason", description: "Reason (recorded with the vote)", ...noDefault })
    .setAction(cliAction(() => import("./governance/vote.js")))
    .build(),
  task(["gov", "delegate"], "Delegate the --from agent's votes to an active agent")
    .addOption(from)
    .addOption({ name: "to", description: "Agent address or agent id", ...noDefault })
    .setAction(cliAction(() => import("./governance/delegate.js")))
    .build(),
  task(["gov", "undelegate"], "Take the --from agent's votes back from its delegate")
    .addOption(from)
    .setAction(cliAction(() => import("./governance/undelegate.js")))
    .build(),
  task(["gov", "queue"], "Queue a succeeded proposal in the timelock (anyone)")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", ...noDefault })
    .setAction(cliAction(() => import("./governance/queue.js")))
    .build(),
  task(["gov", "execute"], "Execute a queued proposal after the timelock delay (anyone)")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", ...noDefault })
    .setAction(cliAction(() => import("./governance/execute.js")))
    .build(),
  task(["gov", "veto"], "Veto (cancel) a proposal that is not final (HumanOverride guardian)")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", ...noDefault })
    .addOption({ name: "reason", description: "Why (recorded in the event)", ...noDefault })
    .setAction(cliAction(() => import("./governance/veto.js")))
    .build(),
  task(["gov", "power"], "Show an account's voting power, delegation and the formula's factors")
    .addOption({ name: "account", description: "Address or agent id (default: first account)", ...noDefault })
    .addOption({ name: "proposal", description: "Also show the votes at this proposal's snapshot", ...noDefault })
    .setAction(cliAction(() => import("./governance/power.js")))
    .build(),
  task(["gov", "show"], "Show a proposal: state, votes, quorum, snapshot, deadline, eta, actions")
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", ...noDefault })
    .setAction(cliAction(() => import("./governance/show.js")))
    .build(),
  task(["gov", "proposals"], "List proposals, newest first: state, voting window, tally, eta (optionally one state)")
    .addOption({
      name: "state",
      description: "pending | active | succeeded | queued | executed | ... (default: all)",
      ...noDefault,
    })
    .setAction(cliAction(() => import("./governance/proposals.js")))
    .build(),

  // Ignition's deploy, guarded: verifier keys reach a chain other than a local one only as production keys.
  overrideTask(["ignition", "deploy"])
    .addFlag({
      name: "allowDevKeys",
      description:
        "Deploy development verifier keys to a non-local chain anyway (anyone who made them can forge proofs)",
    })
    .setAction(() => import("./zk/deploy-guard.js"))
    .build(),
];
