/**
 * What the provider's server needs from a backend (the thing that actually runs a step): which (stepType, model)
 * it serves and at what price, and `run`. Backends throw `HttpError`s (keepers/common/http.ts): a bad input is
 * a 400 naming the input field (`input.features[2]`), an upstream failure a 502; anything else is a 500.
 */
import type { Hex } from "viem";

import { Prover } from "../../../circuits/lib/prover.js";
import { HttpError } from "../../common/http.js";
import type { StepTypeName } from "../../../protocol/enums.js";
import type { Json } from "../../../protocol/values.js";

export const BACKEND_KINDS = ["iris", "data", "openai"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** An inference proof as the step API carries it (protocol/steps.ts stepResponseSchema.proof). */
export interface StepProof {
  inputHash: string;
  outputHash: string;
  proof: { a: [string, string]; b: [[string, string], [string, string]]; c: [string, string] };
  millis: number;
}

export interface RunContext {
  /** Aborted when the step's time limit passes or the client goes away. */
  signal: AbortSignal;
  /** The keeper asked for an inference proof. */
  proof: boolean;
  /** The execution's secret blind (protocol/values.ts): a proof's input and output commitments are taken under it. */
  blind: bigint;
}

export interface Backend {
  /** The service name (config `services[i].name`, the on-chain offer's serviceName). */
  readonly name: string;
  readonly kind: BackendKind;
  readonly stepType: StepTypeName;
  /** What a step's `model` must equal (the offer's modelHash). */
  readonly model: Hex;
  /** Wei per step. */
  readonly price: bigint;
  /** Steps of this service that may run at once. */
  readonly capacity: number;
  /** Whether `run` can prove its output (`proof: true` requests go to it only). */
  readonly provable: boolean;
  run(input: Json, ctx: RunContext): Promise<{ output: Json; proof?: StepProof }>;
  close(): Promise<void>;
}

/**
 * What backends share within one node: ONE warm Prover (snarkjs keeps a curve with worker threads per process,
 * and the witness calculator and proving key are worth loading once), created on first use.
 */
export class SharedResources {
  #prover: Prover | undefined;

  get prover(): Prover {
    this.#prover ??= new Prover();
    return this.#prover;
  }

  async close(): Promise<void> {
    const prover = this.#prover;
    this.#prover = undefined;
    if (prover) await prover.close();
  }
}

/** A 400 naming the bad input field: the message starts with the field, as everywhere else. */
export function badInput(field: string, message: string): HttpError {
  return new HttpError(400, "bad-input", `${field}: ${message}`, { field });
}

/**
 * Re-raises an Error from the circuits' reference code (messages start with the field: `features[2]: ...`) as a
 * badInput under `prefix` (`input.features[2]: ...`); a message without a field names `prefix` itself.
 */
export function asBadInput(error: unknown, prefix: string, rename: Record<string, string> = {}): HttpError {
  if (error instanceof HttpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = /^([A-Za-z_][\w]*)((?:\[\d+\]|\.\w+)*)(?: \([^)]*\))?: (.*)$/s.exec(message);
  if (!match) return badInput(prefix, message);
  const [, head = "", rest = "", text = ""] = match;
  const field = `${rename[head] ?? `${prefix}.${head}`}${rest}`;
  return badInput(field, text);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export async function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  signal.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
