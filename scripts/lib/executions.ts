/**
 * The client's side of a workflow execution: hand the inputs to a keeper (content-addressed: the keeper answers
 * with their hash, which goes on chain as the request's inputsHash), then follow the execution live, from the
 * chain (steps recorded, status) and, when a keeper URL is known, from the keeper (steps done off chain: at the
 * full and zk levels nothing is recorded until the transcript is proven).
 */
import { readFileSync } from "node:fs";

import type { Workflows } from "../../typechain-types/index.js";
import { aitbc } from "./format.js";
import { EXECUTION_STATUSES } from "../../protocol/enums.js";

/** Posts `inputs` to the keeper's API; returns their hash (bytes32). */
export async function postInputs(keeperUrl: string, inputs: unknown): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${keeperUrl.replace(/\/+$/, "")}/v1/inputs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(inputs),
    });
  } catch (error) {
    throw new Error(`keeperUrl: cannot reach ${keeperUrl} (${(error as Error).message})`);
  }
  const body = (await response.json()) as { inputsHash?: string; error?: { message: string } };
  if (!response.ok || body.inputsHash === undefined) {
    throw new Error(`keeper refused the inputs: ${body.error?.message ?? `status ${response.status}`}`);
  }
  return body.inputsHash;
}

export function readInputsFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`inputs: cannot read JSON from ${file} (${(error as Error).message})`);
  }
}

export interface Progress {
  status: (typeof EXECUTION_STATUSES)[number];
  stepCount: number;
  recorded: number;
  /** Steps done off chain, as the keeper reports (undefined without a keeper URL). */
  done?: number;
  spent: bigint;
  budget: bigint;
  keeperState?: string;
  reason?: string | null;
}

async function keeperView(
  keeperUrl: string,
  executionId: bigint,
): Promise<{ state: string; reason: string | null; steps: unknown[] } | undefined> {
  try {
    const response = await fetch(`${keeperUrl.replace(/\/+$/, "")}/v1/executions?id=${executionId}`);
    if (!response.ok) return undefined;
    return (await response.json()) as { state: string; reason: string | null; steps: unknown[] };
  } catch {
    return undefined;
  }
}

export async function progressOf(workflows: Workflows, executionId: bigint, keeperUrl?: string): Promise<Progress> {
  const [status, stepsDone, stepCount, , , spent, budget] = await workflows.getExecutionStatus(executionId);
  const keeper = keeperUrl ? await keeperView(keeperUrl, executionId) : undefined;
  return {
    status: EXECUTION_STATUSES[Number(status)] ?? "none",
    stepCount: Number(stepCount),
    recorded: Number(stepsDone),
    done: keeper?.steps.length,
    spent,
    budget,
    keeperState: keeper?.state,
    reason: keeper?.reason,
  };
}

export function progressLine(executionId: bigint, p: Progress): string {
  const width = 20;
  const done = Math.max(p.done ?? 0, p.recorded);
  const bar = (n: number) => Math.round((n / Math.max(1, p.stepCount)) * width);
  const recorded = bar(p.recorded);
  const ran = Math.max(recorded, bar(done));
  const graph = `${"#".repeat(recorded)}${"+".repeat(ran - recorded)}${".".repeat(width - ran)}`;
  const offChain = p.done === undefined ? "" : `, ${p.done} run`;
  const keeper = p.keeperState ? ` (keeper: ${p.keeperState})` : "";
  return `execution #${executionId} [${graph}] ${p.recorded}/${p.stepCount} recorded${offChain}; ${p.status}${keeper}; spent ${aitbc(p.spent)} of ${aitbc(p.budget)}`;
}

/**
 * Polls until the execution completes or fails (or `timeoutMs` passes), calling `onChange` whenever the progress
 * line changes. Returns the last progress.
 */
export async function followExecution(
  workflows: Workflows,
  executionId: bigint,
  options: {
    keeperUrl?: string;
    intervalMs?: number;
    timeoutMs?: number;
    onChange?: (line: string, p: Progress) => void;
  } = {},
): Promise<Progress> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let last = "";
  for (;;) {
    const p = await progressOf(workflows, executionId, options.keeperUrl);
    const line = progressLine(executionId, p);
    if (line !== last) {
      options.onChange?.(line, p);
      last = line;
    }
    if (p.status === "completed" || p.status === "failed") return p;
    if (Date.now() > deadline)
      throw new Error(`execution #${executionId}: not finished within ${options.timeoutMs ?? 600_000} ms (${line})`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
