import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { AGENT_STATUSES } from "../../../protocol/enums.js";
import { aitbc } from "../../lib/format.js";
import type { IAgentVotes } from "../../../typechain-types/index.js";
import { runTask } from "../context.js";
import { agentLabel, proposalName, resolveAccount, resolveProposal, votes, when } from "./common.js";

interface Args {
  account: string;
  proposal: string;
}

type Tier = IAgentVotes.TierStructOutput;

/** The value of the last tier whose threshold is at most `x` (AgentVotes._tierValue), and the tier after it. */
function tierAt(tiers: Tier[], x: bigint): { value: bigint; threshold?: bigint; next?: Tier } {
  let current: Tier | undefined;
  for (const t of tiers) {
    if (t.threshold > x) return { value: current?.value ?? 0n, threshold: current?.threshold, next: t };
    current = t;
  }
  return { value: current?.value ?? 0n, threshold: current?.threshold };
}

/** 12500 bps → "1.25×". */
const times = (bps: bigint) => `${Number(bps) / 10_000}×`;

/**
 * An account's voting power (default: the first account): votes held, its own power and where it is delegated,
 * the inputs of the formula (stake, reputation, activity) and the schedule's factors, and with --proposal its
 * votes at that proposal's snapshot.
 */
export default async function power(args: Args, hre: HardhatRuntimeEnvironment): Promise<string> {
  return runTask(hre, "", async ({ signer, protocol }) => {
    const account =
      args.account.trim() === "" ? signer.address : await resolveAccount(protocol, "account", args.account);
    const proposal = args.proposal.trim() === "" ? undefined : await resolveProposal(protocol, args.proposal);
    const { agentVotes, registry, governor } = protocol;
    const agentId = await registry.agentIdOf(account);
    const delegatee = await agentVotes.delegates(account);
    const own = await agentVotes.powerOf(account);
    const lines = [
      `${account} (${agentId === 0n ? "not an agent: no power of its own" : `agent #${agentId}`})`,
      `  votes           ${votes(await agentVotes.getVotes(account))} (its own unless delegated, and those delegated to it)`,
    ];
    if (agentId !== 0n) {
      const delegatedTo =
        delegatee === "0x0000000000000000000000000000000000000000" || delegatee === account
          ? "itself"
          : `${delegatee} (${await agentLabel(protocol, delegatee)})`;
      const stake = await registry.stakeOf(agentId);
      const reputation = await registry.reputationOf(agentId);
      const status = await registry.statusOf(agentId);
      const activity = await agentVotes.activityOf(account);
      const s = await agentVotes.schedule();
      const m = tierAt(s.stakeMultiplierBps, stake);
      const r = tierAt(s.reputationBonusPct, reputation);
      const a = tierAt(s.activityBonusPct, activity);
      const computed = await agentVotes.computePower(stake, reputation, activity);
      const exiting = AGENT_STATUSES[Number(status)] === "exiting";
      const next = [
        m.next && `stake ${aitbc(m.next.threshold)} → ${times(m.next.value)}`,
        r.next && `reputation ${r.next.threshold} → +${r.next.value}%`,
        a.next && `activity ${a.next.threshold} → +${a.next.value}%`,
      ].filter((x): x is string => typeof x === "string");
      lines.push(
        `  own power       ${votes(own)}, delegated to ${delegatedTo}`,
        `  status          ${AGENT_STATUSES[Number(status)] ?? status}${exiting ? " (no power while exiting)" : ""}`,
        `  stake           ${aitbc(stake)}`,
        `  reputation      ${reputation} / 1000`,
        `  activity        ${activity} vote${activity === 1n ? "" : "s"} cast`,
        `  formula         ${aitbc(stake)} staked × ${votes(s.base)} per AITBC` +
          ` × ${times(m.value)} (stake${m.threshold === undefined ? " below the first tier" : ` ≥ ${aitbc(m.threshold)}`})` +
          ` × ${100n + r.value}% (reputation${r.threshold === undefined ? "" : ` ≥ ${r.threshold}`})` +
          ` × ${100n + a.value}% (activity${a.threshold === undefined ? "" : ` ≥ ${a.threshold}`})` +
          ` = ${votes(exiting ? 0n : computed)}`,
        `  next tiers      ${next.length === 0 ? "-" : next.join("; ")}`,
      );
      if (!exiting && computed !== own) {
        lines.push(`  note            recorded power differs from the schedule's: sync updates it (agentVotes.sync)`);
      }
    }
    if (proposal) {
      const snapshot = await governor.proposalSnapshot(proposal.id);
      if (snapshot < (await agentVotes.clock())) {
        const past = await agentVotes.getPastVotes(account, snapshot);
        const voted = await governor.hasVoted(proposal.id, account);
        lines.push(
          `  at snapshot     ${votes(past)} on ${proposalName(proposal)} (${when(snapshot)}); ${voted ? "voted" : "not voted"}`,
        );
      } else {
        lines.push(`  at snapshot     ${proposalName(proposal)}'s snapshot is ${when(snapshot)}: not reached yet`);
      }
    }
    const text = lines.join("\n");
    console.log(text);
    return text;
  });
}
