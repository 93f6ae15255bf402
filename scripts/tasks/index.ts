/**
 * Hardhat tasks for every user action of the core. Declarations only: each action lives in its own file and
 * is imported when the task runs. Every task that sends a transaction takes `--from` (account index or address;
 * default: the first account) and reads the deployment of the connected chain (see scripts/lib/protocol.ts).
 *
 *   npx hardhat agent register --type service-provider --agent-version 1.0.0 --expected-daily-volume 10000
 *   npx hardhat agent show --agent 1
 */
import { emptyTask, overrideTask, task } from "hardhat/config";

const from = {
  name: "from",
  description: "Account index or address to send from (default: first account)",
  defaultValue: "",
} as const;

const workload = { name: "workload", description: "Workload id", defaultValue: "" } as const;

const circuit = { name: "circuit", description: "Circuit name (circuits/circuits.ts)", defaultValue: "" } as const;
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
  defaultValue: "",
} as const;

export const tasks = [
  emptyTask("agent", "Agent registry: register, declare-volume, stake, unstake, withdraw, slash, show, list").build(),
  task(["agent", "register"], "Register the --from account as an agent")
    .addOption(from)
    .addOption({ name: "operator", description: "Human operator address (default: --from)", defaultValue: "" })
    .addOption({
      name: "type",
      description: "service-provider | market-maker | governance | validator",
      defaultValue: "service-provider",
    })
    .addOption({ name: "metadataUri", description: "Metadata URI", defaultValue: "" })
    .addOption({ name: "endpoint", description: "Service endpoint URL", defaultValue: "" })
    .addOption({ name: "agentVersion", description: "Agent software version", defaultValue: "" })
    .addOption({
      name: "capabilities",
      description: "Comma-separated capability labels (<= 31 bytes each)",
      defaultValue: "",
    })
    .addOption({
      name: "expectedDailyVolume",
      description: "Declared daily volume in AITBC (sets the bond)",
      defaultValue: "0",
    })
    .setAction(() => import("./agent/register.js"))
    .build(),
  task(["agent", "declare-volume"], "Declare the --from agent's expected daily volume (its bond must be staked)")
    .addOption(from)
    .addOption({ name: "volume", description: "Expected daily volume in AITBC", defaultValue: "" })
    .setAction(() => import("./agent/declare-volume.js"))
    .build(),
  task(["agent", "stake"], "Stake AITBC as the --from agent (approves the registry if needed)")
    .addOption(from)
    .addOption({ name: "amount", description: "Amount in AITBC", defaultValue: "" })
    .setAction(() => import("./agent/stake.js"))
    .build(),
  task(["agent", "unstake"], "Request an unstake (agent or operator); --amount all exits")
    .addOption(from)
    .addOption({ name: "agentId", description: "Agent id", defaultValue: "" })
    .addOption({ name: "amount", description: "Amount in AITBC, or 'all'", defaultValue: "" })
    .setAction(() => import("./agent/unstake.js"))
    .build(),
  task(["agent", "withdraw"], "Withdraw unbonded stake to the operator (agent or operator)")
    .addOption(from)
    .addOption({ name: "agentId", description: "Agent id", defaultValue: "" })
    .setAction(() => import("./agent/withdraw.js"))
    .build(),
  task(["agent", "slash"], "Slash an agent's stake to the treasury (SLASHER_ROLE)")
    .addOption(from)
    .addOption({ name: "agentId", description: "Agent id", defaultValue: "" })
    .addOption({ name: "amount", description: "Amount in AITBC", defaultValue: "" })
    .addOption({ name: "reason", description: "Why (recorded in the event)", defaultValue: "" })
    .setAction(() => import("./agent/slash.js"))
    .build(),
  task(["agent", "show"], "Show an agent: identity, stake, reputation, constitution, today's usage")
    .addOption({ name: "agent", description: "Agent id or address", defaultValue: "" })
    .setAction(() => import("./agent/show.js"))
    .build(),
  task(["agent", "list"], "List every registered agent: id, address, type, status, stake, reputation")
    .setAction(() => import("./agent/list.js"))
    .build(),

  emptyTask("token", "AITBC: balances (wallet, credits, stake) and transfers").build(),
  task(["token", "balance"], "Show an account's AITBC: wallet, credits claimable in Workflows, agent stake")
    .addOption({ name: "account", description: "Address or account index", defaultValue: "" })
    .setAction(() => import("./token/balance.js"))
    .build(),
  task(["token", "transfer"], "Send AITBC from --from to --to")
    .addOption(from)
    .addOption({ name: "to", description: "Recipient: address or account index", defaultValue: "" })
    .addOption({ name: "amount", description: "Amount in AITBC", defaultValue: "" })
    .setAction(() => import("./token/transfer.js"))
    .build(),

  emptyTask("constitution", "Agent constitutions").build(),
  task(["constitution", "set"], "Set an agent's constitution (its operator only); empty flags keep their value")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", defaultValue: "" })
    .addOption({ name: "maxStake", description: "Max stake in AITBC", defaultValue: "" })
    .addOption({ name: "maxDailyVolume", description: "Max volume per UTC day in AITBC", defaultValue: "" })
    .addOption({ name: "maxGasPerDay", description: "Max gas per UTC day", defaultValue: "" })
    .addOption({ name: "allowed", description: "Allowed action types: all | none | comma list", defaultValue: "" })
    .addOption({
      name: "humanApproval",
      description: "Action types needing a human grant: comma list | none",
      defaultValue: "",
    })
    .setAction(() => import("./constitution/set.js"))
    .build(),

  emptyTask("override", "Human override (GUARDIAN_ROLE): grants, denials, freezes, emergency stop").build(),
  task(["override", "grant"], "Grant an action type to an agent for a duration")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", defaultValue: "" })
    .addOption({ name: "action", description: "Action type name", defaultValue: "" })
    .addOption({ name: "duration", description: "Duration: seconds or 15m / 2h / 7d", defaultValue: "" })
    .setAction(() => import("./override/grant.js"))
    .build(),
  task(["override", "deny"], "Deny an action type to an agent for a duration")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", defaultValue: "" })
    .addOption({ name: "action", description: "Action type name", defaultValue: "" })
    .addOption({ name: "duration", description: "Duration: seconds or 15m / 2h / 7d", defaultValue: "" })
    .setAction(() => import("./override/deny.js"))
    .build(),
  task(["override", "revoke"], "Revoke a grant or denial early")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", defaultValue: "" })
    .addOption({ name: "action", description: "Action type name", defaultValue: "" })
    .setAction(() => import("./override/revoke.js"))
    .build(),
  task(["override", "freeze"], "Freeze an agent (safe mode: it can only exit)")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", defaultValue: "" })
    .addOption({ name: "reason", description: "Why", defaultValue: "" })
    .setAction(() => import("./override/freeze.js"))
    .build(),
  task(["override", "unfreeze"], "Unfreeze an agent")
    .addOption(from)
    .addOption({ name: "agent", description: "Agent address", defaultValue: "" })
    .setAction(() => import("./override/unfreeze.js"))
    .build(),
  task(["override", "stop"], "Emergency stop: every state-changing protocol function reverts")
    .addOption(from)
    .addOption({ name: "reason", description: "Why", defaultValue: "" })
    .setAction(() => import("./override/stop.js"))
    .build(),
  task(["override", "resume"], "End the emergency stop")
    .addOption(from)
    .setAction(() => import("./override/resume.js"))
    .build(),

  emptyTask("receipt", "Compute receipts: sign (attestor) and mint (anyone)").build(),
  task(["receipt", "sign"], "Sign a compute receipt as an attestor and write it to a JSON file")
    .addOption(from)
    .addOption({ name: "provider", description: "Provider address (receives the reward)", defaultValue: "" })
    .addOption({ name: "client", description: "Client address", defaultValue: "" })
    .addOption({ name: "units", description: "Work units", defaultValue: "" })
    .addOption({ name: "work", description: "Job spec: text (hashed) or 0x bytes32", defaultValue: "" })
    .addOption({ name: "result", description: "Result: text (hashed) or 0x bytes32", defaultValue: "" })
    .addOption({ name: "receiptId", description: "Receipt id (default: random)", defaultValue: "" })
    .addOption({ name: "validFor", description: "Validity: seconds or 15m / 2h / 7d", defaultValue: "1d" })
    .addOption({ name: "out", description: "Output JSON file", defaultValue: "" })
    .addOption({ name: "workload", description: "Sign the receipt of this settled workload instead", defaultValue: "" })
    .setAction(() => import("./receipt/sign.js"))
    .build(),
  task(["receipt", "mint"], "Mint AITBC from signed receipt files (several files: one batch)")
    .addOption(from)
    .addOption({ name: "files", description: "Comma-separated signed receipt JSON files", defaultValue: "" })
    .setAction(() => import("./receipt/mint.js"))
    .build(),

  emptyTask("market", "Service marketplace: offers, workloads, bids, results, settlement, disputes").build(),
  task(["market", "list-service"], "List a service offer as the --from provider agent")
    .addOption(from)
    .addOption({ name: "serviceId", description: "Offer id: a label (<= 31 bytes) or 0x bytes32", defaultValue: "" })
    .addOption({ name: "name", description: "Service name (its keccak256 is the service type)", defaultValue: "" })
    .addOption({ name: "price", description: "Price per unit in AITBC", defaultValue: "" })
    .addOption({ name: "capacity", description: "Max units in progress at once", defaultValue: "" })
    .addOption({ name: "model", description: "Model: text (hashed) or 0x bytes32 commitment", defaultValue: "" })
    .addOption({ name: "minAccuracy", description: "Minimum accuracy (basis points)", defaultValue: "0" })
    .setAction(() => import("./market/list-service.js"))
    .build(),
  task(["market", "post"], "Post a workload with escrow as the --from client")
    .addOption(from)
    .addOption({ name: "serviceType", description: "Service name the offers must have", defaultValue: "" })
    .addOption({ name: "model", description: "Model the offers must serve: text or 0x bytes32", defaultValue: "" })
    .addOption({ name: "units", description: "Work units", defaultValue: "" })
    .addOption({ name: "maxPrice", description: "Max price per unit in AITBC", defaultValue: "" })
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
      defaultValue: "",
    })
    .setAction(() => import("./market/post.js"))
    .build(),
  task(["market", "bid"], "Bid on a workload as the --from provider agent")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "serviceId", description: "Your offer's id", defaultValue: "" })
    .addOption({ name: "price", description: "Price per unit in AITBC", defaultValue: "" })
    .addOption({ name: "proposal", description: "Proposal: text (hashed) or 0x bytes32", defaultValue: "" })
    .setAction(() => import("./market/bid.js"))
    .build(),
  task(["market", "award"], "Award a bid (client), or the best bid after the deadline (anyone, no --bid)")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "bid", description: "Bid index (omit for the automatic award)", defaultValue: "" })
    .addOption({
      name: "provider",
      description: "Agent id of the bid's provider, as you read it (default: the bid's provider now)",
      defaultValue: "",
    })
    .setAction(() => import("./market/award.js"))
    .build(),
  task(["market", "submit"], "Sign and submit a result as the assigned --from provider agent")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "result", description: "Result: text (hashed) or 0x bytes32", defaultValue: "" })
    .setAction(() => import("./market/submit.js"))
    .build(),
  task(["market", "accept"], "Accept a result (client) or finalize it after the challenge window (anyone)")
    .addOption(from)
    .addOption(workload)
    .setAction(() => import("./market/settle.js"))
    .build(),
  task(["market", "dispute"], "Reject a submitted result within the challenge window (client)")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "reason", description: "Reason: text (hashed) or 0x bytes32", defaultValue: "" })
    .setAction(() => import("./market/dispute.js"))
    .build(),
  task(["market", "resolve"], "Resolve a dispute (validator agent or guardian)")
    .addOption(from)
    .addOption(workload)
    .addOption({ name: "winner", description: "provider | client", defaultValue: "" })
    .setAction(() => import("./market/resolve.js"))
    .build(),
  task(["market", "admit-validator"], "Admit a validator agent as a dispute resolver (marketplace admin)")
    .addOption(from)
    .addOption({ name: "validator", description: "Validator agent address", defaultValue: "" })
    .addFlag({ name: "revoke", description: "Remove instead" })
    .setAction(() => import("./market/admit-validator.js"))
    .build(),
  task(["market", "cancel"], "Cancel an unawarded workload: the whole escrow back (client)")
    .addOption(from)
    .addOption(workload)
    .setAction(() => import("./market/cancel.js"))
    .build(),
  task(["market", "timeout"], "Slash a provider that missed its deadline; reopen or refund (anyone)")
    .addOption(from)
    .addOption(workload)
    .setAction(() => import("./market/timeout.js"))
    .build(),
  task(["market", "show"], "Show a workload and its bids")
    .addOption(workload)
    .setAction(() => import("./market/show.js"))
    .build(),
  task(["market", "workloads"], "List workloads, newest first (optionally one status and one client)")
    .addOption({
      name: "status",
      description: "open | awarded | submitted | disputed | settled | refunded | cancelled (default: all)",
      defaultValue: "",
    })
    .addOption({ name: "client", description: "Only this client's workloads (address)", defaultValue: "" })
    .setAction(() => import("./market/workloads.js"))
    .build(),

  emptyTask("workflow", "Workflows: define, list, request executions, show status").build(),
  task(["workflow", "define"], "Define a workflow from a JSON specification file")
    .addOption(from)
    .addOption({ name: "file", description: "Workflow JSON (see protocol/workflow-spec.ts)", defaultValue: "" })
    .setAction(() => import("./workflow/define.js"))
    .build(),
  task(["workflow", "list"], "List a workflow you own (price, subscription, access)")
    .addOption(from)
    .addOption({ name: "workflow", description: "Workflow id", defaultValue: "" })
    .addOption({ name: "title", description: "Title", defaultValue: "" })
    .addOption({ name: "description", description: "Description", defaultValue: "" })
    .addOption({ name: "tags", description: "Comma-separated tags", defaultValue: "" })
    .addOption({ name: "price", description: "Price per execution in AITBC", defaultValue: "0" })
    .addOption({ name: "subscription", description: "Price per 30 days in AITBC", defaultValue: "0" })
    .addFlag({ name: "restricted", description: "Only authorised users and subscribers may execute it" })
    .setAction(() => import("./workflow/list.js"))
    .build(),
  task(["workflow", "request"], "Request an execution and escrow its budget")
    .addOption(from)
    .addOption({ name: "workflow", description: "Workflow id", defaultValue: "" })
    .addOption({ name: "inputs", description: "Inputs: text (hashed) or 0x bytes32", defaultValue: "" })
    .addOption({ name: "budget", description: "Budget in AITBC", defaultValue: "" })
    .addOption({ name: "listing", description: "Listing id (omit: owner's direct execution)", defaultValue: "" })
    .addOption({
      name: "keeper",
      description: "The only agent that may claim it (omit: any active agent)",
      defaultValue: "",
    })
    .addOption({ name: "maxFee", description: "Max listing price in AITBC (default: the price now)", defaultValue: "" })
    .setAction(() => import("./workflow/request.js"))
    .build(),
  task(["workflow", "run"], "Post inputs to a keeper, request an execution from it, follow it to the end")
    .addOption(from)
    .addOption({ name: "workflow", description: "Workflow id", defaultValue: "" })
    .addOption({ name: "inputs", description: "JSON file with the execution's inputs", defaultValue: "" })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL (printed when it starts)", defaultValue: "" })
    .addOption({ name: "budget", description: "Budget in AITBC", defaultValue: "" })
    .addOption({ name: "listing", description: "Listing id (omit: owner's direct execution)", defaultValue: "" })
    .addOption({
      name: "keeper",
      description: "Keeper agent address (default: asked from the keeper)",
      defaultValue: "",
    })
    .addOption({ name: "maxFee", description: "Max listing price in AITBC (default: the price now)", defaultValue: "" })
    .addOption({ name: "timeout", description: "Seconds to follow before giving up (default 600)", defaultValue: "" })
    .setAction(() => import("./workflow/run.js"))
    .build(),
  task(["workflow", "follow"], "Follow an execution live, step by step, until it completes or fails")
    .addOption({ ...from, description: "Account that signs the keeper reads (client or granted reader)" })
    .addOption({ name: "execution", description: "Execution id", defaultValue: "" })
    .addOption({
      name: "keeperUrl",
      description: "The keeper's API URL (shows steps done off chain to a reader it allows)",
      defaultValue: "",
    })
    .addOption({ name: "timeout", description: "Seconds to follow before giving up (default 600)", defaultValue: "" })
    .setAction(() => import("./workflow/follow.js"))
    .build(),
  task(["workflow", "grant"], "Let another address read an execution's results from its keeper (the client)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", defaultValue: "" })
    .addOption({ name: "reader", description: "Address that may read the results", defaultValue: "" })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL", defaultValue: "" })
    .addOption({
      name: "duration",
      description: "How long the grant holds (e.g. 3600, 2h, 7d; default 1d)",
      defaultValue: "",
    })
    .setAction(() => import("./workflow/grant.js"))
    .build(),
  task(["workflow", "result"], "Read an execution's results from its keeper (client, granted reader, listing user)")
    .addOption(from)
    .addOption({ name: "execution", description: "Execution id", defaultValue: "" })
    .addOption({ name: "keeperUrl", description: "The keeper's API URL", defaultValue: "" })
    .setAction(() => import("./workflow/result.js"))
    .build(),
  task(["workflow", "show"], "Show an execution's status, steps, cost and receipt")
    .addOption({ name: "execution", description: "Execution id", defaultValue: "" })
    .setAction(() => import("./workflow/show.js"))
    .build(),
  task(["workflow", "claim"], "Claim the --from account's credits in Workflows (step pay, listing fees) to its wallet")
    .addOption(from)
    .setAction(() => import("./workflow/claim.js"))
    .build(),
  emptyTask("zk", "Zero-knowledge circuits: build, check, prove, verify").build(),
  task(["zk", "build"], "Build the circuits whose sources changed (compile, development keys, Solidity verifiers)")
    .addOption({ name: "circuit", description: "Comma-separated circuit names (default: all)", defaultValue: "" })
    .addOption(ptau)
    .addFlag(devPtau)
    .addFlag({ name: "force", description: "Rebuild even if nothing changed" })
    .setAction(() => import("./zk/build.js"))
    .build(),
  task(["zk", "check"], "Check that the committed circuit artifacts match the circuit sources")
    .addOption({ name: "circuit", description: "Comma-separated circuit names (default: all)", defaultValue: "" })
    .addFlag({ name: "deep", description: "Also verify the proving keys against the circuits and the powers of tau" })
    .addOption({
      name: "ptau",
      description: "Powers of tau for --deep (default: the cached development file)",
      defaultValue: process.env.AITBC_PTAU ?? "",
    })
    .addFlag({ name: "production", description: "Fail unless every key is a production key (a sealed ceremony)" })
    .setAction(() => import("./zk/check.js"))
    .build(),
  emptyTask(["zk", "ceremony"], "Multi-party phase 2 of a circuit's setup: init, contribute, verify, seal").build(),
  task(["zk", "ceremony", "init"], "Start a circuit's ceremony: contribution 0 from its r1cs and a powers of tau")
    .addOption(circuit)
    .addOption(ptau)
    .addFlag(devPtau)
    .addOption(ceremonyDir)
    .setAction(() => import("./zk/ceremony-init.js"))
    .build(),
  task(["zk", "ceremony", "contribute"], "Add one participant's randomness: the next key and a transcript entry")
    .addOption(circuit)
    .addOption({ name: "name", description: "Your name as a participant (<= 64 printable ASCII)", defaultValue: "" })
    .addOption({
      name: "entropy",
      description: "Random text of your own (default: the OS random generator; snarkjs adds its own either way)",
      defaultValue: "",
    })
    .addFlag({ name: "promptEntropy", description: "Type your random text at a prompt instead" })
    .addOption(ceremonyDir)
    .setAction(() => import("./zk/ceremony-contribute.js"))
    .build(),
  task(["zk", "ceremony", "verify"], "Verify a ceremony's whole chain (snarkjs) and that it matches its transcript")
    .addOption(circuit)
    .addOption({ ...ptau, description: "The ceremony's powers of tau (default: the development file, if it is one)" })
    .addOption(ceremonyDir)
    .setAction(() => import("./zk/ceremony-verify.js"))
    .build(),
  task(["zk", "ceremony", "seal"], "Apply a public random beacon, verify, install the key, verifier and transcript")
    .addOption(circuit)
    .addOption({ ...ptau, description: "The ceremony's powers of tau (default: the development file, if it is one)" })
    .addOption({
      name: "beacon",
      description: "Public random value, hex (e.g. a future block's hash)",
      defaultValue: "",
    })
    .addOption({ name: "beaconSource", description: "Where the value comes from (recorded)", defaultValue: "" })
    .addOption({ name: "iterations", description: "The beacon is hashed 2^n times (10..63)", defaultValue: "10" })
    .addOption(ceremonyDir)
    .setAction(() => import("./zk/ceremony-seal.js"))
    .build(),
  task(["zk", "prove"], "Prove a circuit input file (signal name -> values) and write a proof file")
    .addOption({ name: "circuit", description: "receipt | workflow | inference", defaultValue: "" })
    .addOption({ name: "input", description: "Circuit input JSON file", defaultValue: "" })
    .addOption({ name: "out", description: "Proof file to write", defaultValue: "" })
    .setAction(() => import("./zk/prove.js"))
    .build(),
  task(["zk", "verify"], "Verify a proof file off-chain, and on-chain with --onchain")
    .addOption({ name: "proof", description: "Proof file (from zk prove)", defaultValue: "" })
    .addFlag({ name: "onchain", description: "Also call the deployed verifier contract" })
    .setAction(() => import("./zk/verify.js"))
    .build(),
  emptyTask("gov", "Governance: propose, vote, delegate, queue, execute, veto; power and proposals").build(),
  task(["gov", "propose"], "Propose a call (--target, --function, --args) or several (--actions) as the --from agent")
    .addOption(from)
    .addOption({
      name: "target",
      description: "Contract key (token, registry, constitution, marketplace, agentVotes, governor, ...) or address",
      defaultValue: "",
    })
    .addOption({
      name: "function",
      description: 'Function signature, e.g. "setMinStake(uint256)" (a name will do for a contract key)',
      defaultValue: "",
    })
    .addOption({
      name: "args",
      description: 'Arguments: comma-separated or a JSON array; integers may be "1500 AITBC"',
      defaultValue: "",
    })
    .addOption({ name: "value", description: "Wei sent with the call (default 0)", defaultValue: "" })
    .addOption({
      name: "actions",
      description: "JSON file: an array of { target, function, args, value } (instead of --target...)",
      defaultValue: "",
    })
    .addOption({ name: "description", description: "What the proposal does and why", defaultValue: "" })
    .setAction(() => import("./governance/propose.js"))
    .build(),
  task(["gov", "vote"], "Vote on a proposal as the --from agent, with its power at the snapshot")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", defaultValue: "" })
    .addOption({ name: "support", description: "for | against | abstain", defaultValue: "" })
    .addOption({ name: "reason", description: "Reason (recorded with the vote)", defaultValue: "" })
    .setAction(() => import("./governance/vote.js"))
    .build(),
  task(["gov", "delegate"], "Delegate the --from agent's votes to an active agent")
    .addOption(from)
    .addOption({ name: "to", description: "Agent address or agent id", defaultValue: "" })
    .setAction(() => import("./governance/delegate.js"))
    .build(),
  task(["gov", "undelegate"], "Take the --from agent's votes back from its delegate")
    .addOption(from)
    .setAction(() => import("./governance/undelegate.js"))
    .build(),
  task(["gov", "queue"], "Queue a succeeded proposal in the timelock (anyone)")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", defaultValue: "" })
    .setAction(() => import("./governance/queue.js"))
    .build(),
  task(["gov", "execute"], "Execute a queued proposal after the timelock delay (anyone)")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", defaultValue: "" })
    .setAction(() => import("./governance/execute.js"))
    .build(),
  task(["gov", "veto"], "Veto (cancel) a proposal that is not final (HumanOverride guardian)")
    .addOption(from)
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", defaultValue: "" })
    .addOption({ name: "reason", description: "Why (recorded in the event)", defaultValue: "" })
    .setAction(() => import("./governance/veto.js"))
    .build(),
  task(["gov", "power"], "Show an account's voting power, delegation and the formula's factors")
    .addOption({ name: "account", description: "Address or agent id (default: first account)", defaultValue: "" })
    .addOption({ name: "proposal", description: "Also show the votes at this proposal's snapshot", defaultValue: "" })
    .setAction(() => import("./governance/power.js"))
    .build(),
  task(["gov", "show"], "Show a proposal: state, votes, quorum, snapshot, deadline, eta, actions")
    .addOption({ name: "proposal", description: "Proposal id, or its number (#N)", defaultValue: "" })
    .setAction(() => import("./governance/show.js"))
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
