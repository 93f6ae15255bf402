/**
 * The provider's earnings: step costs the keepers record are credited to it in Workflows (`creditsOf`, claimable);
 * `claimCredits` pays them out (a CreditsClaimed event each time). The claimer claims on a schedule (config
 * `credits.claimSchedule`, six-field cron) once the claimable amount reaches `credits.minClaim` (so gas is not spent
 * on dust), and keeps the figures /v1/info and the metrics show: claimable now, claimed in total (every
 * CreditsClaimed of this address since `fromBlock`), claimed by this run.
 */
import cron, { type ScheduledTask } from "node-cron";
import { formatUnits, type LocalAccount } from "viem";

import { workflowsAbi } from "../../protocol/abi.js";
import { walletFor, type ChainContext } from "../common/chain.js";
import { RepeatedLog, type Logger } from "../common/log.js";
import { revertReason } from "../common/registration.js";
import type { ProviderMetrics } from "./metrics.js";

/** What /v1/info shows (wei as decimal strings, and the same in AITBC). */
export interface EarningsView {
  claimable: string;
  claimed: string;
  claimableAitbc: string;
  claimedAitbc: string;
  lastClaimAt: string | null;
}

export interface CreditClaimerOptions {
  chain: ChainContext;
  account: LocalAccount;
  metrics: ProviderMetrics;
  logger: Logger;
  /** Claim only when at least this much is claimable (wei). */
  minClaim: bigint;
  /** Where to start counting CreditsClaimed events (default 0). */
  fromBlock?: bigint;
}

export class CreditClaimer {
  #claimable = 0n;
  #claimed = 0n;
  #scannedTo: bigint;
  #lastClaimAt: Date | null = null;
  #task: ScheduledTask | undefined;
  readonly #o: CreditClaimerOptions;
  readonly #logger: Logger;
  readonly #repeated: RepeatedLog;

  constructor(options: CreditClaimerOptions) {
    this.#o = options;
    this.#scannedTo = (options.fromBlock ?? 0n) - 1n;
    this.#logger = options.logger.child({ module: "earnings" });
    this.#repeated = new RepeatedLog(this.#logger);
  }

  /** Reads the claimable credits and the claims since the last read; updates the metrics. */
  async refresh(): Promise<EarningsView> {
    const { publicClient, addresses } = this.#o.chain;
    const account = this.#o.account.address;
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    if (head > this.#scannedTo) {
      const logs = await publicClient.getContractEvents({
        address: addresses.workflows,
        abi: workflowsAbi,
        eventName: "CreditsClaimed",
        args: { account },
        fromBlock: this.#scannedTo + 1n,
        toBlock: head,
      });
      for (const log of logs) this.#claimed += log.args.amount ?? 0n;
      this.#scannedTo = head;
    }
    this.#claimable = await publicClient.readContract({
      address: addresses.workflows,
      abi: workflowsAbi,
      functionName: "creditsOf",
      args: [account],
      blockNumber: head,
    });
    this.#o.metrics.creditsClaimable.set(Number(formatUnits(this.#claimable, 18)));
    this.#o.metrics.creditsClaimed.set(Number(formatUnits(this.#claimed, 18)));
    return this.view();
  }

  view(): EarningsView {
    return {
      claimable: this.#claimable.toString(),
      claimed: this.#claimed.toString(),
      claimableAitbc: formatUnits(this.#claimable, 18),
      claimedAitbc: formatUnits(this.#claimed, 18),
      lastClaimAt: this.#lastClaimAt?.toISOString() ?? null,
    };
  }

  /** Claims when at least minClaim is claimable (simulated first); returns the amount claimed (0 when not). */
  async claim(): Promise<bigint> {
    await this.refresh();
    const amount = this.#claimable;
    if (amount === 0n || amount < this.#o.minClaim) return 0n;
    const { chain, account } = this.#o;
    const wallet = walletFor(chain, account);
    try {
      const { request } = await chain.publicClient.simulateContract({
        account,
        address: chain.addresses.workflows,
        abi: workflowsAbi,
        functionName: "claimCredits",
      });
      const hash = await wallet.writeContract(request);
      const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`claimCredits: transaction ${hash} reverted`);
      this.#lastClaimAt = new Date();
      this.#o.metrics.creditClaims.inc({ outcome: "ok" });
      await this.refresh();
      this.#logger.info(
        { event: "credits-claimed", amount: amount.toString(), aitbc: formatUnits(amount, 18), hash },
        `claimed ${formatUnits(amount, 18)} AITBC of credits`,
      );
      return amount;
    } catch (error) {
      this.#o.metrics.creditClaims.inc({ outcome: "failed" });
      const err = revertReason(error);
      this.#repeated.log("warn", `claim:${err}`, { err }, "claiming credits failed; will retry on schedule");
      return 0n;
    }
  }

  /** Claims on `schedule` (six-field cron); refreshes the figures at start. */
  start(schedule: string): void {
    this.#task = cron.schedule(
      schedule,
      async () => {
        await this.claim();
      },
      { noOverlap: true },
    );
    this.refresh().catch((error: unknown) => {
      this.#logger.warn({ err: revertReason(error) }, "reading the credits failed");
    });
  }

  async stop(): Promise<void> {
    await this.#task?.stop();
  }
}
